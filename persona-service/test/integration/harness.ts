import { randomBytes } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { memoryPb, personaPb } from '@picard/proto';
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
  withInternalKey,
  testTokens,
} from '@picard/service-kit/testing';
import { embeddingConfigSchema, startEmbeddingService } from '@picard/embedding-service';
import { memoryConfigSchema, startMemoryService } from '@picard/memory-service';
import { personaConfigSchema, startPersonaService } from '../../src/index.js';

export const READ = 'memories:read';
export const WRITE = 'memories:write';
export const {
  PERMISSION_PRIVATE: PRIVATE,
  PERMISSION_PUBLIC: PUBLIC,
  PERMISSION_SHARED: SHARED,
} = memoryPb.Permission;

/**
 * The real chain persona-service depends on: embedding-service (offline model, loaded once per
 * file), memory-service and persona-service on loopback, over the test databases and bus.
 */
export async function startPersonaStack(personaEnv: Record<string, string> = {}) {
  const logger = testLogger();
  const [memoryDb, personaDb] = await Promise.all([openTestDatabase(), openTestDatabase()]);
  const bus: EventBus = await openTestEventBus('persona-test');
  const schemas = { memory: uniqueSchema('memory'), persona: uniqueSchema('persona') };
  const grpc = { grpcHost: '127.0.0.1', grpcPort: 0 };
  const embedding = await startEmbeddingService({
    config: loadConfig(embeddingConfigSchema, withInternalKey({})),
    logger,
    ...grpc,
  });
  const memory = await startMemoryService({
    config: loadConfig(
      memoryConfigSchema,
      withInternalKey({
        MEMORY_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      }),
    ),
    logger,
    database: memoryDb.target,
    schema: schemas.memory,
    bus,
    embeddingAddress: embedding.grpc.address,
    ...grpc,
  });
  const persona = await startPersonaService({
    config: loadConfig(personaConfigSchema, withInternalKey(personaEnv)),
    logger,
    database: personaDb.target,
    schema: schemas.persona,
    bus,
    memoryAddress: memory.grpc.address,
    ...grpc,
  });
  const memoryClient = createGrpcClient(memoryPb.MemoryServiceClient, memory.grpc.address, testTokens());
  const personaClient = createGrpcClient(personaPb.PersonaServiceClient, persona.grpc.address, testTokens());
  return {
    bus,
    memoryKnex: memory.knex as Knex,
    memoryClient,
    personaClient,
    async stop() {
      personaClient.close();
      memoryClient.close();
      await persona.stop();
      await memory.stop();
      await embedding.stop();
      await bus.close();
      await memoryDb.cleanup(schemas.memory);
      await personaDb.cleanup(schemas.persona);
    },
  };
}

export type PersonaStack = Awaited<ReturnType<typeof startPersonaStack>>;

export type Query = Partial<personaPb.QueryUserRequest>;

/** One user of the stack: their memories, persona and questions, with their identity attached. */
export function userOf(stack: PersonaStack, scopes = [READ, WRITE]) {
  const userId = newId();
  const md = (s = scopes): Metadata => callerMetadata({ userId, scopes: s, clientId: newId() });
  const { memoryClient: m, personaClient: p } = stack;
  const request = (q: Query): personaPb.QueryUserRequest => ({ userId: '', prompt: '', limit: 0, ...q });
  return {
    userId,
    md,
    remember: (text: string, permission = PUBLIC, sharedWith: string[] = [], tags: string[] = []) =>
      callUnary(
        m.submitMemory.bind(m),
        { memory: { text, permission, tags, sharedWith: { users: sharedWith, groups: [] } } },
        md(),
      ),
    persona: (patch: Partial<personaPb.UpdatePersonaRequest>) =>
      callUnary(p.updatePersona.bind(p), { tags: [], replaceTags: false, ...patch }, md()),
    ask: (q: Query, metadata = md()) => callUnary(p.queryUser.bind(p), request(q), metadata),
    /** remember_conversation; unset fields take their proto defaults. */
    rememberConversation: (
      req: Partial<personaPb.RememberConversationRequest> &
        Pick<personaPb.RememberConversationRequest, 'messages'>,
      metadata = md(),
    ) =>
      callUnary(
        p.rememberConversation.bind(p),
        { permission: 0, tags: [], sharedWith: undefined, ...req },
        metadata,
      ),
    /** The user's own memories (first 100), as memory-service returns them. */
    mine: async () =>
      (await callUnary(m.retrieveMemories.bind(m), { limit: 100, cursor: '' }, md())).memories,
    /** The streamed answer: every chunk, and the result the last one carries. */
    askStream: async (q: Query, metadata = md()) => {
      const chunks: personaPb.QueryUserChunk[] = [];
      for await (const c of readStream(p.queryUserStream(request(q), metadata))) chunks.push(c);
      return { chunks, deltas: chunks.map((c) => c.delta).join(''), result: chunks.at(-1)?.result };
    },
  };
}

/** Makes a memory expired behind memory-service's back (the API refuses past dates). */
export async function expire(stack: PersonaStack, memoryId: string): Promise<void> {
  await stack
    .memoryKnex('memories')
    .where({ id: memoryId })
    .update({ expiration_date: new Date(Date.now() - 1000) });
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
