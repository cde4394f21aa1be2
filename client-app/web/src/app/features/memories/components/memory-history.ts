import { DatePipe } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  effect,
  inject,
  input,
  output,
  signal,
  untracked,
} from '@angular/core';
import type { BffError, Memory, MemoryVersion } from '@contract/bff-api';
import { ErrorMessage } from '../../../core/errors/error-message';
import { toBffError } from '../../../core/errors/bff-error';
import { ConfirmPanel } from '../../../shared/confirm/confirm-panel';
import { MarkdownView } from '../../../shared/markdown/markdown-view';
import { OwnerName } from '../../../shared/memory/owner-name';
import { PermissionBadge } from '../../../shared/memory/permission-badge';
import { MemoriesService } from '../services/memories.service';

/**
 * The earlier versions of one of the user's own memories (get_memory_history), newest first, a page
 * at a time, each with a restore (restore_memory) when the user may write. Only the owner is shown
 * this: Picard refuses anyone else, and the page asks only for the owner's memories.
 */
@Component({
  selector: 'app-memory-history',
  imports: [DatePipe, ErrorMessage, ConfirmPanel, MarkdownView, PermissionBadge],
  templateUrl: './memory-history.html',
  styleUrl: './memory-history.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MemoryHistoryPanel {
  private readonly service = inject(MemoriesService);
  protected readonly owners = inject(OwnerName);

  readonly memory = input.required<Memory>();
  readonly canRestore = input(false);
  /** The memory as the restore left it (the page shows it in place of the old one). */
  readonly restored = output<{ memory: Memory; version: number }>();

  protected readonly versions = signal<MemoryVersion[]>([]);
  protected readonly currentVersion = signal<number | null>(null);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly loading = signal(true);
  protected readonly loadingMore = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly confirming = signal<number | null>(null);
  protected readonly restoring = signal(false);

  constructor() {
    // A new state of the memory (a restore, or another memory) starts the history afresh.
    effect(() => {
      const m = this.memory();
      untracked(() => void this.load(m.id));
    });
  }

  private async load(id: string): Promise<void> {
    this.loading.set(true);
    this.failure.set(null);
    try {
      const page = await this.service.history(id);
      this.versions.set(page.versions);
      this.currentVersion.set(page.current_version);
      this.nextCursor.set(page.next_cursor);
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected async more(): Promise<void> {
    const cursor = this.nextCursor();
    if (!cursor) return;
    this.loadingMore.set(true);
    try {
      const page = await this.service.history(this.memory().id, cursor);
      this.versions.update((v) => [...v, ...page.versions]);
      this.nextCursor.set(page.next_cursor);
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loadingMore.set(false);
    }
  }

  protected async restore(version: number): Promise<void> {
    const m = this.memory();
    this.restoring.set(true);
    this.failure.set(null);
    try {
      const memory = await this.service.restore(m.id, version, m.updated_at);
      this.confirming.set(null);
      this.restored.emit({ memory, version });
    } catch (err) {
      this.failure.set(toBffError(err));
      this.confirming.set(null);
    } finally {
      this.restoring.set(false);
    }
  }

  protected changeLabel(v: MemoryVersion): string {
    if (v.change === 'restore') return `restored version ${v.restored_version}`;
    return v.change === 'permissions' ? 'sharing changed' : 'edited';
  }
}
