import { createHash } from 'node:crypto';

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
  private readonly entries = new Map<string, { ownerId: string; value: CachedAnswer }>();

  constructor(private readonly maxEntries = 500) {}

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
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  set(key: string, ownerId: string, value: CachedAnswer): void {
    this.entries.delete(key);
    this.entries.set(key, { ownerId, value });
    while (this.entries.size > this.maxEntries)
      this.entries.delete(this.entries.keys().next().value as string);
  }

  invalidateUser(ownerId: string): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.ownerId === ownerId) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.entries.size;
  }
}
