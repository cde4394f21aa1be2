import { ChangeDetectionStrategy, Component, inject, input, model, signal } from '@angular/core';
import type { Group, Permission } from '@contract/bff-api';
import { toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { UserDirectory } from '../../../core/users/user-directory';
import type { SharedUser } from '../services/memory-form';

/**
 * Private, public, or shared with chosen people (named by exact username, resolved through
 * lookup_users) and groups (from list_groups).
 */
@Component({
  selector: 'app-permission-picker',
  templateUrl: './permission-picker.html',
  styleUrl: './permission-picker.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PermissionPicker {
  private readonly directory = inject(UserDirectory);
  private readonly session = inject(SessionStore);

  readonly permission = model<Permission>('private');
  readonly users = model<SharedUser[]>([]);
  readonly groupIds = model<string[]>([]);
  readonly groups = input<Group[]>([]);
  readonly invalid = input(false);

  protected readonly username = signal('');
  protected readonly resolving = signal(false);
  protected readonly status = signal<{ kind: 'error' | 'ok'; text: string } | null>(null);

  protected readonly options: { value: Permission; label: string; hint: string }[] = [
    { value: 'private', label: 'Private', hint: 'Only you' },
    { value: 'public', label: 'Public', hint: 'Everyone signed in to Picard' },
    { value: 'shared', label: 'Shared', hint: 'People and groups you choose' },
  ];

  protected onUsernameKey(event: KeyboardEvent): void {
    if (event.key === 'Enter') {
      event.preventDefault();
      void this.addPeople();
    }
  }

  /** Resolves the typed username(s) (comma-separated) and adds the ones that exist. */
  async addPeople(): Promise<void> {
    const names = this.username()
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (names.length === 0) {
      this.status.set({ kind: 'error', text: 'Type a username first.' });
      return;
    }
    this.resolving.set(true);
    this.status.set(null);
    try {
      const { found, unknown } = await this.directory.findByUsernames(names);
      const me = this.session.user()?.picard_user_id?.toLowerCase();
      const current = this.users();
      const added: string[] = [];
      let self = false;
      const next = [...current];
      for (const u of found) {
        if (u.user_id.toLowerCase() === me) {
          self = true;
          continue;
        }
        if (next.some((x) => x.user_id === u.user_id)) continue;
        next.push({ user_id: u.user_id, username: u.username });
        added.push(u.username);
      }
      this.users.set(next);
      const problems: string[] = [];
      if (unknown.length) problems.push(unknown.map((n) => `No user named "${n}".`).join(' '));
      if (self) problems.push('That is you: your own memories are always visible to you.');
      if (problems.length) {
        this.status.set({ kind: 'error', text: problems.join(' ') });
        this.username.set(unknown.join(', '));
      } else {
        this.status.set({ kind: 'ok', text: added.length ? `Added ${added.join(', ')}.` : 'Already added.' });
        this.username.set('');
      }
    } catch (err) {
      this.status.set({ kind: 'error', text: toBffError(err).message });
    } finally {
      this.resolving.set(false);
    }
  }

  protected removeUser(id: string): void {
    this.users.set(this.users().filter((u) => u.user_id !== id));
  }

  protected toggleGroup(id: string, on: boolean): void {
    const rest = this.groupIds().filter((g) => g !== id);
    this.groupIds.set(on ? [...rest, id] : rest);
  }
}
