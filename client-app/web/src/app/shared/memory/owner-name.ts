import { Injectable, inject } from '@angular/core';
import { SessionStore } from '../../core/session/session-store';
import { UserDirectory } from '../../core/users/user-directory';

/** How an owner is shown: "you", their username once resolved, else a short id. */
@Injectable({ providedIn: 'root' })
export class OwnerName {
  private readonly session = inject(SessionStore);
  private readonly users = inject(UserDirectory);

  of(userId: string): string {
    const me = this.session.user()?.picard_user_id;
    if (me && me.toLowerCase() === userId.toLowerCase()) return 'you';
    const name = this.users.nameOf(userId);
    if (name) return name;
    return name === null ? 'a former user' : `user ${userId.slice(0, 8)}`;
  }

  isMine(userId: string): boolean {
    const me = this.session.user()?.picard_user_id;
    return !!me && me.toLowerCase() === userId.toLowerCase();
  }
}
