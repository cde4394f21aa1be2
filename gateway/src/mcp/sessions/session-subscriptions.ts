import type { SubscribableResource } from './subscribable-resource.js';

/** How many memory ids one subscription remembers as seen (see `knownVisible`). */
const KNOWN_VISIBLE_CAP = 1000;

export interface ResourceSubscription {
  /** The URI as the client wrote it: notifications name it exactly so. */
  uri: string;
  resource: SubscribableResource;
  /**
   * Memories the subscriber could see when last checked. A deleted memory cannot be checked any more;
   * its deletion is told only to subscriptions that saw it (or to its owner).
   */
  knownVisible: Set<string>;
}

export type AddOutcome = 'added' | 'already' | 'full';

/** One session's resource subscriptions, at most `max` of them. */
export class SessionSubscriptions {
  private readonly byUri = new Map<string, ResourceSubscription>();

  constructor(readonly max: number) {}

  add(uri: string, resource: SubscribableResource, visible: Iterable<string>): AddOutcome {
    const known = this.byUri.get(uri);
    if (known) {
      for (const id of visible) remember(known, id);
      return 'already';
    }
    if (this.byUri.size >= this.max) return 'full';
    const subscription: ResourceSubscription = { uri, resource, knownVisible: new Set() };
    for (const id of visible) remember(subscription, id);
    this.byUri.set(uri, subscription);
    return 'added';
  }

  remove(uri: string): boolean {
    return this.byUri.delete(uri);
  }

  get size(): number {
    return this.byUri.size;
  }

  /** The subscriptions a change to this memory of this owner concerns. */
  concerning(memoryId: string, ownerId: string): ResourceSubscription[] {
    const found: ResourceSubscription[] = [];
    for (const s of this.byUri.values()) {
      if (s.resource.kind === 'memory' ? s.resource.memoryId === memoryId : s.resource.userId === ownerId)
        found.push(s);
    }
    return found;
  }
}

export function remember(s: ResourceSubscription, memoryId: string): void {
  s.knownVisible.delete(memoryId);
  s.knownVisible.add(memoryId);
  // A Set iterates in insertion order: the first is the one least recently seen.
  if (s.knownVisible.size > KNOWN_VISIBLE_CAP) s.knownVisible.delete(s.knownVisible.values().next().value!);
}
