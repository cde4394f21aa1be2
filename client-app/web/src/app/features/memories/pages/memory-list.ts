import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import type { BffError, Memory } from '@contract/bff-api';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { UserDirectory } from '../../../core/users/user-directory';
import { ConfirmPanel } from '../../../shared/confirm/confirm-panel';
import { TagInput } from '../../../shared/forms/tag-input';
import { MemoryCard } from '../../../shared/memory/memory-card';
import { OwnerName } from '../../../shared/memory/owner-name';
import { MemoriesService } from '../services/memories.service';
import { DEFAULT_FILTERS, type MemoryFilters, toMemoryQuery } from '../services/memory-filters';

type Pending = { kind: 'one'; memory: Memory } | { kind: 'many'; ids: string[] } | null;

@Component({
  selector: 'app-memory-list',
  imports: [FormsModule, RouterLink, ErrorMessage, ConfirmPanel, TagInput, MemoryCard],
  templateUrl: './memory-list.html',
  styleUrl: './memory-list.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MemoryList implements OnInit {
  private readonly service = inject(MemoriesService);
  private readonly directory = inject(UserDirectory);
  protected readonly session = inject(SessionStore);
  protected readonly owners = inject(OwnerName);

  protected filters: MemoryFilters = { ...DEFAULT_FILTERS, tags: [] };
  protected readonly filtersOpen = signal(false);
  protected readonly memories = signal<Memory[]>([]);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly loading = signal(false);
  protected readonly loadingMore = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly status = signal<string | null>(null);
  protected readonly selected = signal<ReadonlySet<string>>(new Set());
  protected readonly pending = signal<Pending>(null);
  protected readonly deleting = signal(false);
  protected readonly fieldAtFault = fieldAtFault;

  protected readonly ownIds = computed(() =>
    this.memories()
      .filter((m) => this.owners.isMine(m.user_id))
      .map((m) => m.id),
  );
  protected readonly allOwnSelected = computed(
    () => this.ownIds().length > 0 && this.ownIds().every((id) => this.selected().has(id)),
  );

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    this.loading.set(true);
    this.failure.set(null);
    this.selected.set(new Set());
    try {
      const page = await this.service.list(toMemoryQuery(this.filters, this.session.user()?.picard_user_id));
      this.memories.set(page.memories);
      this.nextCursor.set(page.next_cursor);
      void this.directory.resolveIds(page.memories.map((m) => m.user_id));
    } catch (err) {
      this.failure.set(toBffError(err));
      this.memories.set([]);
      this.nextCursor.set(null);
    } finally {
      this.loading.set(false);
    }
  }

  async loadMore(): Promise<void> {
    const cursor = this.nextCursor();
    if (!cursor) return;
    this.loadingMore.set(true);
    this.failure.set(null);
    try {
      const page = await this.service.list(
        toMemoryQuery(this.filters, this.session.user()?.picard_user_id, cursor),
      );
      const seen = new Set(this.memories().map((m) => m.id));
      this.memories.update((list) => [...list, ...page.memories.filter((m) => !seen.has(m.id))]);
      this.nextCursor.set(page.next_cursor);
      void this.directory.resolveIds(page.memories.map((m) => m.user_id));
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loadingMore.set(false);
    }
  }

  protected reset(): void {
    this.filters = { ...DEFAULT_FILTERS, tags: [] };
    void this.load();
  }

  protected setSelected(id: string, on: boolean): void {
    const next = new Set(this.selected());
    if (on) next.add(id);
    else next.delete(id);
    this.selected.set(next);
  }

  protected toggleAll(on: boolean): void {
    this.selected.set(on ? new Set(this.ownIds()) : new Set());
  }

  protected askDeleteSelected(): void {
    this.pending.set({ kind: 'many', ids: [...this.selected()] });
  }

  protected async confirmDelete(): Promise<void> {
    const pending = this.pending();
    if (!pending) return;
    this.deleting.set(true);
    this.failure.set(null);
    try {
      let gone: string[];
      if (pending.kind === 'one') {
        await this.service.delete(pending.memory.id);
        gone = [pending.memory.id];
      } else {
        gone = (await this.service.deleteMany(pending.ids)).deleted_ids;
      }
      const goneSet = new Set(gone);
      this.memories.update((list) => list.filter((m) => !goneSet.has(m.id)));
      this.selected.set(new Set());
      this.status.set(gone.length === 1 ? 'Memory deleted.' : `${gone.length} memories deleted.`);
      this.pending.set(null);
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.deleting.set(false);
    }
  }
}
