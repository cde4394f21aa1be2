import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, input, model } from '@angular/core';
import { RouterLink } from '@angular/router';
import type { Memory } from '@contract/bff-api';
import { MarkdownView } from '../markdown/markdown-view';
import { OwnerName } from './owner-name';
import { PermissionBadge } from './permission-badge';

/** One memory: its sanitized Markdown, permission, tags, expiry and owner; actions are projected. */
@Component({
  selector: 'app-memory-card',
  imports: [DatePipe, RouterLink, MarkdownView, PermissionBadge],
  templateUrl: './memory-card.html',
  styleUrl: './memory-card.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MemoryCard {
  private readonly owners = inject(OwnerName);

  readonly memory = input.required<Memory>();
  /** 0-1 similarity for search results; a percent bar when given. */
  readonly similarity = input<number | null>(null);
  /** Shows a checkbox bound to `selected`. */
  readonly selectable = input(false);
  readonly selected = model(false);
  readonly linkToDetail = input(true);

  protected readonly owner = computed(() => this.owners.of(this.memory().user_id));
  protected readonly expired = computed(() => {
    const exp = this.memory().expiration_date;
    return !!exp && new Date(exp).getTime() <= Date.now();
  });
  protected readonly percent = computed(() => {
    const s = this.similarity();
    return s === null ? null : Math.round(Math.max(0, Math.min(1, s)) * 100);
  });
  protected readonly sharedCount = computed(() => {
    const w = this.memory().shared_with;
    return (w?.users?.length ?? 0) + (w?.groups?.length ?? 0);
  });
}
