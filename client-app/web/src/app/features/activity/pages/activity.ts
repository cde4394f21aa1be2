import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import type { Activity as ActivityData, BffError } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { BarChart } from '../components/bar-chart';
import type { Bar } from '../components/chart-geometry';
import { searchesByDay } from '../components/chart-geometry';
import { LineChart } from '../components/line-chart';
import { AdminPanel } from '../components/admin-panel';

export function permissionBars(
  counts: { private: number; public: number; shared: number } | undefined,
): Bar[] {
  return [
    { label: 'Private', value: counts?.private ?? 0 },
    { label: 'Public', value: counts?.public ?? 0 },
    { label: 'Shared', value: counts?.shared ?? 0 },
  ];
}

@Component({
  selector: 'app-activity',
  imports: [DatePipe, ErrorMessage, BarChart, LineChart, AdminPanel],
  templateUrl: './activity.html',
  styleUrl: './activity.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Activity implements OnInit {
  private readonly bff = inject(BffClient);
  protected readonly session = inject(SessionStore);

  protected readonly activity = signal<ActivityData | null>(null);
  protected readonly loading = signal(true);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly bars = computed(() => permissionBars(this.activity()?.memories_by_permission));
  protected readonly total = computed(() => this.bars().reduce((sum, b) => sum + b.value, 0));
  protected readonly byDay = computed(() => searchesByDay(this.activity()));

  async ngOnInit(): Promise<void> {
    try {
      this.activity.set(await this.bff.tool('get_activity', {}));
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loading.set(false);
    }
  }
}
