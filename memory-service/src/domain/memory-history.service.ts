import { assertUuid, DomainError, invalid, type Caller } from '@picard/service-kit';
import { MEMORY_LIMITS, type memoryPb } from '@picard/proto';
import { decodeHistoryCursor, encodeHistoryCursor } from '../store/cursor.js';
import type { MemoryHistoryStore, VersionRow } from '../store/memory-history.store.js';
import type { LockedMemory, MemoryStore } from '../store/memory.store.js';
import type { MemoryCipher } from './memory-cipher.js';
import type { MemoryRecord, MemoryVersionRecord } from './memory.model.js';
import { checkUnchangedSince, ownerOnly, ownerRefusal, type MemoryService } from './memory.service.js';
import { checkLimit, requireScope, SCOPE_READ, SCOPE_WRITE } from './memory.validation.js';

export interface MemoryHistoryServiceDeps {
  memories: MemoryService;
  store: MemoryStore;
  history: MemoryHistoryStore;
  cipher: MemoryCipher;
  /** MEMORY_HISTORY_MAX_VERSIONS, named when a restore asks for a version no longer kept. */
  maxVersions: number;
}

export interface HistoryPage {
  memoryId: string;
  currentVersion: number;
  versions: MemoryVersionRecord[];
  nextCursor?: string;
}

/**
 * The history of a memory: its earlier versions, kept by every change (MemoryStore.change), read and
 * restored by the owner alone. Whoever else may see the memory today (a share, a group, public) sees
 * only its current text: an earlier version may have said what the owner later took back, or been
 * private before it was shared. To someone who cannot see the memory it does not exist.
 */
export class MemoryHistoryService {
  constructor(private readonly deps: MemoryHistoryServiceDeps) {}

  async page(caller: Caller, req: memoryPb.GetMemoryHistoryRequest): Promise<HistoryPage> {
    requireScope(caller, SCOPE_READ);
    const id = assertUuid('memory_id', req.memoryId);
    const limit = checkLimit(req.limit, MEMORY_LIMITS.historyPage);
    const before = req.cursor ? decodeHistoryCursor(req.cursor, id) : undefined;
    const facts = await this.ownFacts(caller, id, 'read the history of');
    const rows = await this.deps.history.page(id, limit + 1, before);
    const page = rows.slice(0, limit);
    return {
      memoryId: id,
      currentVersion: facts.version,
      versions: page.map((r) => this.reveal(r)),
      nextCursor: rows.length > limit ? encodeHistoryCursor(id, page.at(-1)!.version) : undefined,
    };
  }

  /**
   * Makes `version` current again: its text, permission and shares, and tags. The expiration date
   * stays as it is now: it is the memory's lifetime, not its content, and a restore must neither make
   * a memory vanish (an old, passed expiry) nor outlive the date its owner set last. The state the
   * restore replaces goes to the history like any change's, so a restore can itself be undone.
   */
  async restore(caller: Caller, req: memoryPb.RestoreMemoryRequest): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const id = assertUuid('memory_id', req.memoryId);
    if (!Number.isInteger(req.version) || req.version < 1)
      throw invalid(
        'version',
        'version must be a positive integer (a version number from get_memory_history)',
      );
    const version = req.version;
    const facts = await this.ownFacts(caller, id, 'restore');
    if (version === facts.version)
      throw invalid(
        'version',
        `version ${version} is the current version of memory ${id}: nothing to restore`,
      );
    const old = await this.deps.history.find(id, version);
    if (!old) {
      const pruned = version < facts.version - this.deps.maxVersions;
      throw new DomainError(
        'not_found',
        pruned
          ? `version ${version} of memory ${id} is no longer kept: its history keeps the last ${this.deps.maxVersions} versions (its current version is ${facts.version})`
          : `memory ${id} has no version ${version} (its current version is ${facts.version})`,
        'version',
      );
    }
    const groupIds = await this.deps.memories.groupsOf(caller.userId);
    const gone = old.sharedWith.groups.find((g) => !groupIds.includes(g));
    if (gone) {
      throw invalid(
        'version',
        `version ${version} is shared with group ${gone}, which is not among the groups you own or belong to now`,
      );
    }
    const text = this.deps.cipher.open(id, old.sealed);
    // Embed before opening the transaction; an unreachable embedder leaves the text pending.
    const [embedding] = await this.deps.memories.embedOrPending([text]);
    const row = await this.deps.store.change(id, ownerOnly(caller, groupIds, id, 'restore'), (now) => ({
      ...checkUnchangedSince(now, req.expectedUpdatedAt),
      ...this.deps.memories.newText(id, now.userId, text, embedding!),
      permission: old.permission,
      sharedWith: old.sharedWith,
      tags: old.tags,
      history: { by: caller.userId, change: 'restore', restoredVersion: version },
      event: restoredEvent(id, now, old),
    }));
    this.deps.memories.written(caller);
    return (await this.deps.memories.revealAll(caller, [row]))[0]!;
  }

  /** Decrypts a history row for its owner (only the owner's rows ever reach here). */
  reveal(r: VersionRow): MemoryVersionRecord {
    return {
      version: r.version,
      text: this.deps.cipher.open(r.memoryId, r.sealed),
      permission: r.permission,
      sharedWith: { users: [...r.sharedWith.users], groups: [...r.sharedWith.groups] },
      tags: r.tags,
      expirationDate: r.expirationDate,
      updatedAt: r.updatedAt,
      changedAt: r.changedAt,
      changedBy: r.changedBy,
      change: r.change,
      restoredVersion: r.restoredVersion,
    };
  }

  /** The memory's facts when the caller owns it; otherwise not_found (cannot see it) or permission_denied. */
  private async ownFacts(caller: Caller, id: string, verb: string): Promise<LockedMemory> {
    const facts = await this.deps.store.facts(id);
    if (facts?.userId === caller.userId) return facts;
    const groupIds = facts ? await this.deps.memories.groupsOf(caller.userId) : [];
    throw ownerRefusal(caller, groupIds, id, verb, facts)!;
  }
}

/**
 * A restore that changes who may see the memory says so (`memory.permission_changed`), as
 * modify_permissions does; otherwise it is an update. Either tells persona caches to forget.
 */
function restoredEvent(id: string, now: LockedMemory, old: VersionRow) {
  const occurred_at = new Date().toISOString();
  if (old.permission !== now.permission) {
    return {
      subject: 'memory.permission_changed' as const,
      payload: {
        memory_id: id,
        user_id: now.userId,
        permission: old.permission,
        previous_permission: now.permission,
        occurred_at,
      },
    };
  }
  return {
    subject: 'memory.updated' as const,
    payload: { memory_id: id, user_id: now.userId, permission: now.permission, occurred_at },
  };
}
