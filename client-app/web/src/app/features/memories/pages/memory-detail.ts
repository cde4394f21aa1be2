import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import type { BffError, Group, Memory } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { UserDirectory } from '../../../core/users/user-directory';
import { ConfirmPanel } from '../../../shared/confirm/confirm-panel';
import { MemoryCard } from '../../../shared/memory/memory-card';
import { OwnerName } from '../../../shared/memory/owner-name';
import { MemoryHistoryPanel } from '../components/memory-history';
import { MemoriesService } from '../services/memories.service';

/**
 * /memories/:id: one memory, passed in navigation state by the page that linked here (lists,
 * search results, persona citations), else found by paging get_memories. Its owner also sees its
 * history and may restore an earlier version.
 */
@Component({
  selector: 'app-memory-detail',
  imports: [DatePipe, RouterLink, ErrorMessage, ConfirmPanel, MemoryCard, MemoryHistoryPanel],
  templateUrl: './memory-detail.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MemoryDetail implements OnInit {
  private readonly service = inject(MemoriesService);
  private readonly bff = inject(BffClient);
  private readonly router = inject(Router);
  private readonly directory = inject(UserDirectory);
  protected readonly session = inject(SessionStore);
  protected readonly owners = inject(OwnerName);

  readonly id = input.required<string>();

  protected readonly memory = signal<Memory | null>(null);
  protected readonly groups = signal<Group[]>([]);
  protected readonly loading = signal(true);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly saved = signal(false);
  protected readonly restoredVersion = signal<number | null>(null);
  protected readonly confirming = signal(false);
  protected readonly deleting = signal(false);
  protected readonly mine = computed(() => {
    const m = this.memory();
    return !!m && this.owners.isMine(m.user_id);
  });
  protected readonly sharedUsers = computed(() => {
    this.directory.names();
    return (this.memory()?.shared_with?.users ?? []).map((id) => this.owners.of(id));
  });
  protected readonly sharedGroups = computed(() => {
    const byId = new Map(this.groups().map((g) => [g.id, g.name]));
    return (this.memory()?.shared_with?.groups ?? []).map((id) => byId.get(id) ?? `group ${id.slice(0, 8)}`);
  });

  async ngOnInit(): Promise<void> {
    const state = (this.router.currentNavigation()?.extras.state ?? history.state) as
      { memory?: Memory; saved?: boolean } | undefined;
    try {
      const passed = state?.memory?.id === this.id() ? state.memory : undefined;
      const memory = passed ?? (await this.service.findById(this.id(), this.session.user()?.picard_user_id));
      this.saved.set(!!passed && !!state?.saved);
      this.memory.set(memory);
      if (!memory) {
        this.failure.set({
          error: 'not_found',
          message: 'That memory was not found, or you may not see it (it may have been deleted or unshared).',
        });
        return;
      }
      void this.directory.resolveIds([memory.user_id, ...(memory.shared_with?.users ?? [])]);
      if (memory.shared_with?.groups?.length) {
        this.bff.tool('list_groups', {}).then(
          (r) => this.groups.set(r.groups),
          () => undefined,
        );
      }
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected onRestored(event: { memory: Memory; version: number }): void {
    this.memory.set(event.memory);
    this.saved.set(false);
    this.restoredVersion.set(event.version);
  }

  protected async delete(): Promise<void> {
    const m = this.memory();
    if (!m) return;
    this.deleting.set(true);
    try {
      await this.service.delete(m.id);
      await this.router.navigateByUrl('/memories');
    } catch (err) {
      this.failure.set(toBffError(err));
      this.confirming.set(false);
    } finally {
      this.deleting.set(false);
    }
  }
}
