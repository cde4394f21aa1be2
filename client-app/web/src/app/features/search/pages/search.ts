import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import type { BffError, Permission, ScoredMemory } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import type { BffToolInput } from '../../../core/api/tool-types';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { UserDirectory } from '../../../core/users/user-directory';
import { TagInput } from '../../../shared/forms/tag-input';
import { MemoryCard } from '../../../shared/memory/memory-card';

export interface SearchForm {
  query: string;
  mode: NonNullable<BffToolInput<'query_memory'>['mode']>;
  limit: number;
  /** Percent, 0-100; null for no minimum. */
  minSimilarity: number | null;
  permission: Permission | '';
  tags: string[];
}

export function toQueryInput(f: SearchForm): BffToolInput<'query_memory'> {
  const input: BffToolInput<'query_memory'> = { query: f.query.trim(), limit: f.limit };
  // Hybrid is Picard's default; only the other modes need saying.
  if (f.mode !== 'hybrid') input.mode = f.mode;
  if (f.minSimilarity !== null && !Number.isNaN(f.minSimilarity))
    input.min_similarity = f.minSimilarity / 100;
  if (f.permission) input.permission = f.permission;
  if (f.tags.length) input.tags = [...f.tags];
  return input;
}

/** /search: query_memory by meaning and words (hybrid), by meaning only, or by words only; similarity shown. */
@Component({
  selector: 'app-search',
  imports: [FormsModule, ErrorMessage, TagInput, MemoryCard],
  templateUrl: './search.html',
  styleUrl: './search.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Search {
  private readonly bff = inject(BffClient);
  private readonly directory = inject(UserDirectory);

  protected form: SearchForm = {
    query: '',
    mode: 'hybrid',
    limit: 10,
    minSimilarity: null,
    permission: '',
    tags: [],
  };
  protected readonly results = signal<ScoredMemory[] | null>(null);
  protected readonly searching = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly fieldAtFault = fieldAtFault;

  async search(): Promise<void> {
    if (!this.form.query.trim()) {
      this.failure.set({
        error: 'invalid_argument',
        field: 'query',
        message: 'Type what you are looking for.',
      });
      return;
    }
    this.searching.set(true);
    this.failure.set(null);
    try {
      const { memories } = await this.bff.tool('query_memory', toQueryInput(this.form));
      this.results.set(memories);
      void this.directory.resolveIds(memories.map((m) => m.user_id));
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.searching.set(false);
    }
  }
}
