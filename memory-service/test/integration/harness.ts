import { randomBytes } from 'node:crypto';
import { memoryPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  createGrpcClient,
  DomainError,
  loadConfig,
  newId,
  readStream,
  type EventBus,
  type Knex,
} from '@picard/service-kit';
import {
  openTestDatabase,
  openTestEventBus,
  testLogger,
  uniqueSchema,
  type TestDatabase,
  withInternalKey,
  testTokens,
} from '@picard/service-kit/testing';
import {
  embeddingConfigSchema,
  startEmbeddingService,
  type EmbeddingServiceHandle,
} from '@picard/embedding-service';
import { Metadata } from '@grpc/grpc-js';
import { memoryConfigSchema } from '../../src/config.js';
import { startMemoryService, type MemoryServiceHandle } from '../../src/index.js';

export const MAX_TEXT = 500;
export const READ = 'memories:read';
export const WRITE = 'memories:write';

/** A real embedding-service (offline model) and memory-service on loopback, over the test DB and bus. */
/**
 * `env` adds to (or overrides) memory-service's configuration; `withoutBus` leaves events in the
 * outbox (suites writing thousands of rows keep them off the bus other suites listen on).
 */
export async function startStack(env: Record<string, string> = {}, opts: { withoutBus?: boolean } = {}) {
  const schema = uniqueSchema('memory');
  const logger = testLogger();
  const db: TestDatabase = await openTestDatabase();
  const bus: EventBus = await openTestEventBus('memory-test');
  const encryptionKey = { id: 'k1', key: randomBytes(32) };
  const embedding: EmbeddingServiceHandle = await startEmbeddingService({
    config: loadConfig(embeddingConfigSchema, withInternalKey({})),
    logger,
    grpcHost: '127.0.0.1',
    grpcPort: 0,
  });
  const memory: MemoryServiceHandle = await startMemoryService({
    config: loadConfig(
      memoryConfigSchema,
      withInternalKey({
        MEMORY_ENCRYPTION_KEYS: `k1:${encryptionKey.key.toString('base64')}`,
        MEMORY_MAX_TEXT_CHARS: String(MAX_TEXT),
        ...env,
      }),
    ),
    logger,
    database: db.target,
    schema,
    bus: opts.withoutBus ? undefined : bus,
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    embeddingAddress: embedding.grpc.address,
  });
  const client = createGrpcClient(memoryPb.MemoryServiceClient, memory.grpc.address, testTokens());
  return {
    schema,
    db,
    logger,
    encryptionKey,
    bus,
    embedding,
    memory,
    knex: memory.knex as Knex,
    client,
    async stop() {
      client.close();
      await memory.stop();
      await embedding.stop();
      await bus.close();
      await db.cleanup(schema);
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** A user's view of the memory API; `scopes` and `metadata` let tests strip identity. */
export function userApi(
  client: memoryPb.MemoryServiceClient,
  opts: { scopes?: string[]; metadata?: Metadata; userId?: string } = {},
) {
  const userId = opts.userId ?? newId();
  const md = () =>
    opts.metadata ?? callerMetadata({ userId, scopes: opts.scopes ?? [READ, WRITE], clientId: newId() });
  const c = client;
  return {
    userId,
    submit: (memory: Partial<memoryPb.NewMemory>) =>
      callUnary(
        c.submitMemory.bind(c),
        {
          memory: {
            text: '',
            permission: memoryPb.Permission.PERMISSION_PRIVATE,
            tags: [],
            sharedWith: undefined,
            ...memory,
          },
        },
        md(),
      ),
    retrieve: (req: Partial<memoryPb.RetrieveMemoriesRequest> = {}) =>
      callUnary(c.retrieveMemories.bind(c), { limit: 0, cursor: '', ...req }, md()),
    query: (query: string, limit = 0, req: Partial<memoryPb.QueryMemoryRequest> = {}) =>
      callUnary(
        c.queryMemory.bind(c),
        { query, limit, permission: 0, tags: [], anyTags: [], hybrid: false, mode: 0, ...req },
        md(),
      ),
    get: (memoryId: string) => callUnary(c.getMemory.bind(c), { memoryId }, md()),
    remove: (memoryId: string) => callUnary(c.deleteMemory.bind(c), { memoryId }, md()),
    share: (memoryId: string, permission: memoryPb.Permission, users: string[] = []) =>
      callUnary(
        c.modifyPermissions.bind(c),
        { memoryId, permission, sharedWith: { users, groups: [] } },
        md(),
      ),
    shareWith: (
      memoryId: string,
      permission: memoryPb.Permission,
      sharedWith: Partial<memoryPb.SharedWith>,
    ) =>
      callUnary(
        c.modifyPermissions.bind(c),
        { memoryId, permission, sharedWith: { users: [], groups: [], ...sharedWith } },
        md(),
      ),
    modify: (memoryId: string, req: Partial<memoryPb.ModifyPermissionsRequest>) =>
      callUnary(
        c.modifyPermissions.bind(c),
        { memoryId, permission: PRIVATE, sharedWith: { users: [], groups: [] }, ...req },
        md(),
      ),
    submitMany: (memories: Partial<memoryPb.NewMemory>[], validateOnly = false) =>
      callUnary(
        c.submitMemories.bind(c),
        {
          validateOnly,
          memories: memories.map((m) => ({
            text: '',
            permission: PRIVATE,
            tags: [],
            sharedWith: undefined,
            ...m,
          })),
        },
        md(),
      ),
    removeMany: (memoryIds: string[]) => callUnary(c.deleteMemories.bind(c), { memoryIds }, md()),
    createGroup: (name: string) => callUnary(c.createGroup.bind(c), { name }, md()),
    renameGroup: (groupId: string, name: string) => callUnary(c.renameGroup.bind(c), { groupId, name }, md()),
    deleteGroup: (groupId: string) => callUnary(c.deleteGroup.bind(c), { groupId }, md()),
    addMember: (groupId: string, userId: string) =>
      callUnary(c.addGroupMember.bind(c), { groupId, userId }, md()),
    removeMember: (groupId: string, userId: string) =>
      callUnary(c.removeGroupMember.bind(c), { groupId, userId }, md()),
    listGroups: () => callUnary(c.listGroups.bind(c), {}, md()),
    exportAs: (format: string, includeHistory = false) =>
      callUnary(c.exportMemories.bind(c), { format, includeHistory }, md()),
    history: (memoryId: string, req: Partial<memoryPb.GetMemoryHistoryRequest> = {}) =>
      callUnary(c.getMemoryHistory.bind(c), { memoryId, limit: 0, cursor: '', ...req }, md()),
    restore: (memoryId: string, version: number, req: Partial<memoryPb.RestoreMemoryRequest> = {}) =>
      callUnary(c.restoreMemory.bind(c), { memoryId, version, ...req }, md()),
    importFrom: async (format: string, data: string, importId = '') => {
      const progress: memoryPb.ImportMemoriesProgress[] = [];
      for await (const p of readStream<memoryPb.ImportMemoriesProgress>(
        c.importMemories({ format, data, importId }, md()),
      ))
        progress.push(p);
      return progress;
    },
    /** Starts an import and walks away (cancels the call) once `stopAt` memories are reported stored. */
    importAbandoned: async (format: string, data: string, importId: string, stopAt: number) => {
      const call = c.importMemories({ format, data, importId }, md());
      for await (const p of readStream<memoryPb.ImportMemoriesProgress>(call)) {
        if (p.imported >= stopAt) {
          call.cancel();
          return p.imported;
        }
      }
      throw new Error(`the import finished before ${stopAt} memories`);
    },
    activity: (userId?: string) => callUnary(c.getActivity.bind(c), { userId }, md()),
    summary: () => callUnary(c.getAdminSummary.bind(c), {}, md()),
    update: (memoryId: string, req: Partial<memoryPb.UpdateMemoryRequest> = {}) =>
      callUnary(
        c.updateMemory.bind(c),
        { memoryId, clearExpirationDate: false, tags: [], replaceTags: false, ...req },
        md(),
      ),
    list: (req: Partial<memoryPb.GetMemoriesRequest> = {}) =>
      callUnary(
        c.getMemories.bind(c),
        { permission: 0, tags: [], expired: 0, sort: '', order: '', limit: 0, cursor: '', ...req },
        md(),
      ),
  };
}

export async function failure(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

export async function countRows(knex: Knex, table = 'memories'): Promise<number> {
  const [row] = await knex(table).count<{ n: string }[]>({ n: '*' });
  return Number(row!.n);
}

export const PRIVATE = memoryPb.Permission.PERMISSION_PRIVATE;
export const PUBLIC = memoryPb.Permission.PERMISSION_PUBLIC;
export const SHARED = memoryPb.Permission.PERMISSION_SHARED;

/** Waits until the bus delivered an event on `subject` about `memoryId`. */
export async function eventFor(
  events: { subject: string; payload: unknown }[],
  subject: string,
  memoryId: string,
) {
  const match = () =>
    events.find((e) => e.subject === subject && (e.payload as { memory_id: string }).memory_id === memoryId);
  for (let i = 0; i < 150 && !match(); i++) await new Promise((r) => setTimeout(r, 30));
  return match();
}
