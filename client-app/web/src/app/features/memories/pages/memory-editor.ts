import { ChangeDetectionStrategy, Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import type { BffError, Group, Memory } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { UserDirectory } from '../../../core/users/user-directory';
import { TagInput } from '../../../shared/forms/tag-input';
import { MarkdownView } from '../../../shared/markdown/markdown-view';
import { PermissionPicker } from '../components/permission-picker';
import { MemoriesService } from '../services/memories.service';
import {
  MEMORY_LIMITS,
  type MemoryDraft,
  buildEdit,
  buildSubmit,
  draftFromMemory,
  emptyDraft,
  validateDraft,
} from '../services/memory-form';

/** /memories/new and /memories/:id/edit: Markdown with a live sanitized preview, permission, tags, expiry. */
@Component({
  selector: 'app-memory-editor',
  imports: [RouterLink, ErrorMessage, TagInput, MarkdownView, PermissionPicker],
  templateUrl: './memory-editor.html',
  styleUrl: './memory-editor.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MemoryEditor implements OnInit {
  private readonly memories = inject(MemoriesService);
  private readonly bff = inject(BffClient);
  private readonly router = inject(Router);
  private readonly directory = inject(UserDirectory);
  protected readonly session = inject(SessionStore);

  /** The route's :id when editing. */
  readonly id = input<string>();

  protected readonly draft = signal<MemoryDraft>(emptyDraft());
  protected readonly original = signal<Memory | null>(null);
  protected readonly groups = signal<Group[]>([]);
  protected readonly loading = signal(false);
  protected readonly saving = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly loadFailure = signal<BffError | null>(null);
  protected readonly tab = signal<'write' | 'preview'>('write');
  protected readonly limits = MEMORY_LIMITS;
  protected readonly fieldAtFault = fieldAtFault;
  protected readonly isEdit = computed(() => !!this.id());
  protected readonly remaining = computed(() => MEMORY_LIMITS.text - this.draft().text.length);

  async ngOnInit(): Promise<void> {
    void this.loadGroups();
    const id = this.id();
    if (!id) return;
    this.loading.set(true);
    try {
      const passed = (this.router.currentNavigation()?.extras.state ?? history.state)?.['memory'] as
        Memory | undefined;
      const memory =
        passed?.id === id ? passed : await this.memories.findById(id, this.session.user()?.picard_user_id);
      if (!memory) {
        this.loadFailure.set({
          error: 'not_found',
          message: 'That memory was not found among yours; it may have been deleted.',
        });
        return;
      }
      if (memory.user_id.toLowerCase() !== this.session.user()?.picard_user_id.toLowerCase()) {
        this.loadFailure.set({ error: 'permission_denied', message: 'Only its owner can edit this memory.' });
        return;
      }
      await this.directory.resolveIds(memory.shared_with?.users ?? []);
      this.original.set(memory);
      this.draft.set(
        draftFromMemory(memory, (uid) => this.directory.nameOf(uid) ?? `user ${uid.slice(0, 8)}`),
      );
    } catch (err) {
      this.loadFailure.set(toBffError(err));
    } finally {
      this.loading.set(false);
    }
  }

  private async loadGroups(): Promise<void> {
    try {
      const { groups } = await this.bff.tool('list_groups', {});
      this.groups.set(groups);
    } catch {
      // The picker says "no groups"; sharing with people still works.
    }
  }

  protected patch(change: Partial<MemoryDraft>): void {
    this.draft.update((d) => ({ ...d, ...change }));
    const f = this.failure();
    if (f?.field && Object.keys(change).some((k) => fieldAtFault(f, fieldOf(k)))) this.failure.set(null);
  }

  async save(): Promise<void> {
    const draft = this.draft();
    const problem = validateDraft(draft);
    this.failure.set(problem);
    if (problem) {
      document.getElementById(`memory-${fieldOf(problem.field ?? 'text')}`)?.focus();
      return;
    }
    this.saving.set(true);
    try {
      let saved: Memory;
      const original = this.original();
      if (original) {
        const { update, permissions } = buildEdit(original, draft);
        saved = original;
        if (update) saved = await this.memories.update(update);
        if (permissions) saved = await this.memories.modifyPermissions(permissions);
      } else {
        saved = await this.memories.submit(buildSubmit(draft));
      }
      await this.router.navigate(['/memories', saved.id], { state: { memory: saved, saved: true } });
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.saving.set(false);
    }
  }
}

/** The draft key for a tool field name. */
function fieldOf(key: string): string {
  if (key === 'expiry') return 'expiration_date';
  if (key === 'users' || key === 'groupIds') return 'shared_with';
  return key;
}
