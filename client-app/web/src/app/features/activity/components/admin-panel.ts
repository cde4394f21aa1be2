import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import type { AdminSummary, BffError } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { toBffError } from '../../../core/errors/bff-error';
import { BarChart } from './bar-chart';

export interface AdminUserRow {
  id: string;
  username: string;
  email: string;
  is_admin: boolean;
  active: boolean;
  created_at: string;
}
export interface AdminClientRow {
  client_id: string;
  client_name: string;
  scopes: string[];
  first_party: boolean;
  created_at: string;
}

/** The gateway's JSON is passed through as is: take the list under `key`, or the value if it is one. */
export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const inner = (body as Record<string, unknown> | null)?.[key];
  return Array.isArray(inner) ? (inner as T[]) : [];
}

export function cursorOf(body: unknown): string | null {
  const c = (body as { next_cursor?: unknown } | null)?.next_cursor;
  return typeof c === 'string' && c ? c : null;
}

/** Admins only: the deployment's summary, its users (paged) and its OAuth clients. */
@Component({
  selector: 'app-admin-panel',
  imports: [DatePipe, ErrorMessage, BarChart],
  templateUrl: './admin-panel.html',
  styleUrl: './admin-panel.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AdminPanel implements OnInit {
  private readonly bff = inject(BffClient);

  protected readonly summary = signal<AdminSummary | null>(null);
  protected readonly users = signal<AdminUserRow[]>([]);
  protected readonly usersCursor = signal<string | null>(null);
  protected readonly clients = signal<AdminClientRow[]>([]);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly loadingUsers = signal(false);
  protected readonly bars = computed(() => {
    const s = this.summary()?.memories_by_permission;
    return [
      { label: 'Private', value: s?.private ?? 0 },
      { label: 'Public', value: s?.public ?? 0 },
      { label: 'Shared', value: s?.shared ?? 0 },
    ];
  });

  async ngOnInit(): Promise<void> {
    const results = await Promise.allSettled([
      this.bff.adminSummary(),
      this.bff.adminClients(),
      this.moreUsers(),
    ]);
    if (results[0].status === 'fulfilled') this.summary.set(results[0].value);
    if (results[1].status === 'fulfilled')
      this.clients.set(listOf<AdminClientRow>(results[1].value, 'clients'));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) this.failure.set(toBffError((failed as PromiseRejectedResult).reason));
  }

  async moreUsers(): Promise<void> {
    this.loadingUsers.set(true);
    try {
      const body = await this.bff.adminUsers(50, this.usersCursor() ?? undefined);
      this.users.update((list) => [...list, ...listOf<AdminUserRow>(body, 'users')]);
      this.usersCursor.set(cursorOf(body));
    } finally {
      this.loadingUsers.set(false);
    }
  }

  protected async loadMoreUsers(): Promise<void> {
    try {
      await this.moreUsers();
    } catch (err) {
      this.failure.set(toBffError(err));
    }
  }
}
