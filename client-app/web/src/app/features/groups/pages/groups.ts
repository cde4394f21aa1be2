import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import type { BffError, Group } from '@contract/bff-api';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { UserDirectory } from '../../../core/users/user-directory';
import { GroupCard } from '../components/group-card';
import { GroupsService } from '../services/groups.service';

@Component({
  selector: 'app-groups',
  imports: [ErrorMessage, GroupCard],
  templateUrl: './groups.html',
  styleUrl: './groups.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Groups implements OnInit {
  private readonly service = inject(GroupsService);
  private readonly directory = inject(UserDirectory);
  protected readonly session = inject(SessionStore);

  protected readonly groups = signal<Group[]>([]);
  protected readonly loading = signal(true);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly createFailure = signal<BffError | null>(null);
  protected readonly name = signal('');
  protected readonly creating = signal(false);
  protected readonly status = signal<string | null>(null);
  protected readonly fieldAtFault = fieldAtFault;

  async ngOnInit(): Promise<void> {
    try {
      const groups = await this.service.list();
      this.groups.set(groups);
      void this.directory.resolveIds(groups.flatMap((g) => g.member_ids));
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected async create(): Promise<void> {
    const name = this.name().trim();
    if (!name) {
      this.createFailure.set({ error: 'invalid_argument', field: 'name', message: 'Give the group a name.' });
      return;
    }
    this.creating.set(true);
    this.createFailure.set(null);
    try {
      const group = await this.service.create(name);
      this.groups.update((list) => [group, ...list]);
      this.name.set('');
      this.status.set(`Group "${group.name}" created.`);
    } catch (err) {
      this.createFailure.set(toBffError(err));
    } finally {
      this.creating.set(false);
    }
  }

  protected replace(group: Group): void {
    this.groups.update((list) => list.map((g) => (g.id === group.id ? group : g)));
    void this.directory.resolveIds(group.member_ids);
  }

  protected drop(id: string): void {
    const gone = this.groups().find((g) => g.id === id);
    this.groups.update((list) => list.filter((g) => g.id !== id));
    this.status.set(gone ? `You are no longer in "${gone.name}".` : null);
  }
}
