import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface CachedAnswer {
  answer: string;
  citations: string[];
}

export interface AnswerKeyParts {
  ownerId: string;
  prompt: string;
  /** Changes whenever the persona (and so the prompt or model) changes. */
  personaVersion: string;
  model: string;
  /** What the caller may see of the owner's memories for this prompt. */
  memories: { id: string; updatedAt?: Date }[];
}

/**
 * Generated answers, LRU-bounded. The key holds the visible-memory set, so two callers who see
 * the same memories share an answer and a caller who sees more never gets an answer built from
 * less (or the reverse). Events about a user's memories drop that user's entries as well, which
 * covers changes the key cannot show (a deletion or a permission change leaves no updated_at).
 */
export class AnswerCache {
  private readonly entries: LRUCache<string, { ownerId: string; value: CachedAnswer }>;

  constructor(maxEntries = 500) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  static key(p: AnswerKeyParts): string {
    const memories = p.memories
      .map((m) => `${m.id}@${m.updatedAt?.getTime() ?? 0}`)
      .sort()
      .join(',');
    return createHash('sha256')
      .update(JSON.stringify([p.ownerId, p.prompt, p.personaVersion, p.model, memories]))
      .digest('hex');
  }

  get(key: string): CachedAnswer | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, ownerId: string, value: CachedAnswer): void {
    this.entries.set(key, { ownerId, value });
  }

  invalidateUser(ownerId: string): number {
    // Collected first: deleting while walking the cache's list is not something it promises to allow.
    const keys = [...this.entries.entries()].filter(([, e]) => e.ownerId === ownerId).map(([k]) => k);
    for (const key of keys) this.entries.delete(key);
    return keys.length;
  }

  get size(): number {
    return this.entries.size;
  }
}
