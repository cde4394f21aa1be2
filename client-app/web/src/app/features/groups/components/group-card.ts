import { ChangeDetectionStrategy, Component, computed, inject, input, output, signal } from '@angular/core';
import type { BffError, Group } from '@contract/bff-api';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { ErrorMessage } from '../../../core/errors/error-message';
import { SessionStore } from '../../../core/session/session-store';
import { UserDirectory } from '../../../core/users/user-directory';
import { ConfirmPanel } from '../../../shared/confirm/confirm-panel';
import { OwnerName } from '../../../shared/memory/owner-name';
import { GroupsService } from '../services/groups.service';

type Confirm =
  { kind: 'delete' } | { kind: 'leave' } | { kind: 'remove'; userId: string; name: string } | null;

/** One group: members by username; the owner renames, adds, removes and deletes; members leave. */
@Component({
  selector: 'app-group-card',
  imports: [ErrorMessage, ConfirmPanel],
  templateUrl: './group-card.html',
  styleUrl: './group-card.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class GroupCard {
  private readonly service = inject(GroupsService);
  private readonly directory = inject(UserDirectory);
  protected readonly session = inject(SessionStore);
  protected readonly owners = inject(OwnerName);

  readonly group = input.required<Group>();
  readonly changed = output<Group>();
  readonly removed = output<string>();

  protected readonly renaming = signal(false);
  protected readonly newName = signal('');
  protected readonly memberName = signal('');
  protected readonly busy = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly status = signal<string | null>(null);
  protected readonly confirm = signal<Confirm>(null);
  protected readonly fieldAtFault = fieldAtFault;

  protected readonly isOwner = computed(() => this.owners.isMine(this.group().owner_id));
  protected readonly members = computed(() => {
    this.directory.names();
    const g = this.group();
    return g.member_ids.map((id) => ({ id, name: this.owners.of(id), owner: id === g.owner_id }));
  });

  protected startRename(): void {
    this.newName.set(this.group().name);
    this.renaming.set(true);
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.failure.set(null);
    this.status.set(null);
    try {
      await action();
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.busy.set(false);
    }
  }

  protected rename(): Promise<void> {
    const name = this.newName().trim();
    if (!name) {
      this.failure.set({ error: 'invalid_argument', field: 'name', message: 'A group needs a name.' });
      return Promise.resolve();
    }
    return this.run(async () => {
      this.changed.emit(await this.service.rename(this.group().id, name));
      this.renaming.set(false);
      this.status.set('Renamed.');
    });
  }

  protected addMember(): Promise<void> {
    const username = this.memberName().trim();
    if (!username) {
      this.failure.set({
        error: 'invalid_argument',
        field: 'user_id',
        message: 'Type the username of the person to add.',
      });
      return Promise.resolve();
    }
    return this.run(async () => {
      const { found } = await this.directory.findByUsernames([username]);
      const user = found[0];
      if (!user) {
        this.failure.set({ error: 'not_found', field: 'user_id', message: `No user named "${username}".` });
        return;
      }
      const group = await this.service.addMember(this.group().id, user.user_id);
      this.changed.emit(group);
      this.memberName.set('');
      this.status.set(`Added ${user.username}.`);
    });
  }

  protected confirmed(): Promise<void> {
    const c = this.confirm();
    const group = this.group();
    const me = this.session.user()?.picard_user_id ?? '';
    return this.run(async () => {
      if (c?.kind === 'delete') {
        await this.service.delete(group.id);
        this.removed.emit(group.id);
      } else if (c?.kind === 'leave') {
        await this.service.removeMember(group.id, me);
        this.removed.emit(group.id);
      } else if (c?.kind === 'remove') {
        this.changed.emit(await this.service.removeMember(group.id, c.userId));
        this.status.set(`Removed ${c.name}.`);
      }
      this.confirm.set(null);
    });
  }

  protected confirmTitle(c: NonNullable<Confirm>): string {
    if (c.kind === 'delete') return `Delete the group "${this.group().name}"?`;
    if (c.kind === 'leave') return `Leave "${this.group().name}"?`;
    return `Remove ${c.name} from "${this.group().name}"?`;
  }
}
