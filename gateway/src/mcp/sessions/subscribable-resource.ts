import { isUuid } from '@picard/service-kit';

/** Longer URIs are refused before they are looked at (no subscribable URI comes near it). */
export const MAX_RESOURCE_URI_CHARS = 256;

/** A resource a session may subscribe to; ids lower-cased, as events carry them. */
export type SubscribableResource =
  { kind: 'memory'; memoryId: string } | { kind: 'user-memories'; userId: string };

const MEMORY = /^memories:\/\/([^/?#]+)$/;
const USER_MEMORIES = /^users:\/\/([^/?#]+)\/memories$/;

/**
 * `memories://{memory_id}` or `users://{user_id}/memories` with UUIDs, else undefined. Exact
 * matches only (no query, fragment or extra path), so a subscription names one resource.
 */
export function parseSubscribableResource(uri: string): SubscribableResource | undefined {
  if (uri.length > MAX_RESOURCE_URI_CHARS) return undefined;
  const memory = MEMORY.exec(uri)?.[1];
  if (memory !== undefined)
    return isUuid(memory) ? { kind: 'memory', memoryId: memory.toLowerCase() } : undefined;
  const user = USER_MEMORIES.exec(uri)?.[1];
  if (user !== undefined)
    return isUuid(user) ? { kind: 'user-memories', userId: user.toLowerCase() } : undefined;
  return undefined;
}
