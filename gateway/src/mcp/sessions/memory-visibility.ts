import { callerMetadata, callUnary, DomainError, type Caller } from '@picard/service-kit';
import type { ServiceClients } from '../../clients/service-clients.js';

/**
 * Whether memory-service shows this memory to this caller now: asked as the caller, so its one
 * visibility rule decides. A memory the caller may not see answers like one that does not exist.
 */
export async function maySeeMemory(
  clients: ServiceClients,
  caller: Caller,
  memoryId: string,
): Promise<boolean> {
  const memory = clients.memory;
  try {
    await callUnary(memory.getMemory.bind(memory), { memoryId }, callerMetadata(caller));
    return true;
  } catch (err) {
    if (err instanceof DomainError && (err.code === 'not_found' || err.code === 'permission_denied'))
      return false;
    throw err;
  }
}
