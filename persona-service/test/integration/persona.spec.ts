import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { personaPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  createGrpcClient,
  DomainError,
  loadConfig,
  newId,
  readStream,
  type EventBus,
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
import { personaConfigSchema, startPersonaService, type PersonaServiceHandle } from '../../src/index.js';

const READ_WRITE = ['memories:read', 'memories:write'];

describe('persona-service over gRPC', () => {
  const schema = uniqueSchema('persona');
  let db: TestDatabase;
  let bus: EventBus;
  let handle: PersonaServiceHandle;
  let client: personaPb.PersonaServiceClient;

  beforeAll(async () => {
    db = await openTestDatabase();
    bus = await openTestEventBus('persona-test');
    handle = await startPersonaService({
      // Port 1: nothing listens there, so QueryUser's dependency is reliably down.
      config: loadConfig(personaConfigSchema, withInternalKey({ MEMORY_GRPC_ADDR: '127.0.0.1:1' })),
      database: db.target,
      schema,
      bus,
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
    });
    client = createGrpcClient(personaPb.PersonaServiceClient, handle.grpc.address, testTokens());
  });

  afterAll(async () => {
    client?.close();
    await handle?.stop();
    await bus?.close();
    await db?.cleanup(schema);
  });

  const as = (userId: string, scopes = READ_WRITE) => callerMetadata({ userId, scopes, clientId: newId() });
  const get = (userId: string, md: Metadata = as(newId())) =>
    callUnary(client.getPersona.bind(client), { userId }, md);
  const update = (patch: Partial<personaPb.UpdatePersonaRequest>, md: Metadata) =>
    callUnary(client.updatePersona.bind(client), { tags: [], replaceTags: false, ...patch }, md);
  const drain = async (stream: ClientReadableStream<personaPb.QueryUserChunk>) => {
    for await (const _chunk of readStream(stream)) void _chunk;
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: unknown) => err as DomainError,
    );

  it('returns the defaults for a user who never saved a persona', async () => {
    const userId = newId();
    const persona = await get(userId);
    expect(persona).toEqual({
      userId,
      displayName: '',
      description: '',
      tone: 'friendly',
      tags: [],
      model: 'offline',
      temperature: 0.3,
      maxTokens: 512,
      memoryLimit: 10,
      listed: false,
      updatedAt: undefined,
    });
  });

  it('stores an update of the caller\u2019s own persona and returns it from GetPersona', async () => {
    const userId = newId();
    const before = Date.now();
    const updated = await update(
      {
        displayName: 'Ada',
        tone: 'precise',
        temperature: 1.25,
        maxTokens: 4096,
        memoryLimit: 50,
        tags: ['math', ' poetry '],
      },
      as(userId),
    );
    expect(updated).toMatchObject({
      userId,
      displayName: 'Ada',
      description: '',
      tone: 'precise',
      tags: ['math', 'poetry'],
    });
    expect(updated.updatedAt!.getTime()).toBeGreaterThanOrEqual(before - 5000);

    // A partial update keeps the rest; tags are appended unless replace_tags says otherwise.
    await update({ description: 'Analyst', tags: ['math', 'engines'] }, as(userId));
    const read = await get(userId);
    expect(read).toMatchObject({
      userId,
      displayName: 'Ada',
      description: 'Analyst',
      tone: 'precise',
      tags: ['math', 'poetry', 'engines'],
      model: 'offline',
      temperature: 1.25,
      maxTokens: 4096,
      memoryLimit: 50,
    });

    const replaced = await update({ tags: ['only'], replaceTags: true }, as(userId));
    expect(replaced).toMatchObject({ tags: ['only'], model: 'offline' });
    // An empty model goes back to the deployment default.
    expect((await update({ model: '' }, as(userId))).model).toBe('offline');
  });

  it('only ever updates the caller\u2019s own persona', async () => {
    const owner = newId();
    const other = newId();
    await update({ displayName: 'Owner' }, as(owner));
    const own = await update({ displayName: 'Intruder' }, as(other));
    expect(own.userId).toBe(other);
    expect((await get(owner)).displayName).toBe('Owner');
    expect((await get(other)).displayName).toBe('Intruder');
  });

  it.each<[string, Partial<personaPb.UpdatePersonaRequest>]>([
    ['display_name', { displayName: 'x'.repeat(101) }],
    ['display_name', { displayName: 'nul\u0000byte' }],
    ['description', { description: 'x'.repeat(1001) }],
    ['tone', { tone: 'x'.repeat(101) }],
    ['tone', { tone: '   ' }],
    ['model', { model: 'm'.repeat(101) }],
    ['temperature', { temperature: -0.1 }],
    ['temperature', { temperature: 2.01 }],
    ['temperature', { temperature: Number.NaN }],
    ['max_tokens', { maxTokens: 0 }],
    ['max_tokens', { maxTokens: 4097 }],
    ['memory_limit', { memoryLimit: 0 }],
    ['memory_limit', { memoryLimit: 51 }],
    ['tags[1]', { tags: ['ok', ''] }],
    ['tags[0]', { tags: ['t'.repeat(51)] }],
    ['tags', { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }],
  ])('refuses a bad %s and writes nothing', async (field, patch) => {
    const userId = newId();
    await update({ displayName: 'Before' }, as(userId));
    const err = await failure(update({ tone: 'changed', ...patch }, as(userId)));
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('invalid_argument');
    expect(err.field).toBe(field);
    expect(await get(userId)).toMatchObject({ displayName: 'Before', tone: 'friendly' });
  });

  it('accepts the boundary values', async () => {
    const p = await update(
      {
        displayName: 'é'.repeat(100),
        description: 'd'.repeat(1000),
        tone: 't'.repeat(100),
        temperature: 0,
        maxTokens: 1,
        memoryLimit: 1,
      },
      as(newId()),
    );
    expect(p).toMatchObject({ temperature: 0, maxTokens: 1, memoryLimit: 1 });
    expect(p.displayName).toHaveLength(100);
  });

  it('refuses more than 20 tags once merged with the stored ones', async () => {
    const userId = newId();
    await update({ tags: Array.from({ length: 15 }, (_, i) => `a${i}`) }, as(userId));
    const err = await failure(update({ tags: Array.from({ length: 6 }, (_, i) => `b${i}`) }, as(userId)));
    expect([err.code, err.field]).toEqual(['invalid_argument', 'tags']);
    expect((await get(userId)).tags).toHaveLength(15);
  });

  it('refuses a malformed user_id', async () => {
    for (const userId of ['', 'not-a-uuid', '00000000-0000-1000-8000-000000000000']) {
      const err = await failure(get(userId));
      expect([err.code, err.field]).toEqual(['invalid_argument', 'user_id']);
    }
  });

  it('refuses calls without identity metadata', async () => {
    const none = new Metadata();
    expect((await failure(get(newId(), none))).code).toBe('unauthenticated');
    expect((await failure(update({ displayName: 'x' }, none))).code).toBe('unauthenticated');
    const bad = callerMetadata({ userId: 'not-a-uuid', scopes: READ_WRITE, clientId: newId() });
    expect((await failure(update({ displayName: 'x' }, bad))).code).toBe('unauthenticated');
    const stream = client.queryUserStream({ userId: newId(), prompt: 'hi', limit: 0 }, none);
    expect((await failure(drain(stream))).code).toBe('unauthenticated');
  });

  it('refuses calls without the needed scope', async () => {
    const userId = newId();
    expect((await failure(get(userId, as(newId(), ['memories:write'])))).code).toBe('permission_denied');
    expect((await failure(update({ displayName: 'x' }, as(userId, ['memories:read'])))).code).toBe(
      'permission_denied',
    );
    expect((await get(userId)).displayName).toBe('');
  });

  it('answers QueryUser with unavailable while memory-service cannot be reached', async () => {
    const owner = newId();
    const req = { userId: owner, prompt: 'hi', limit: 0 };
    const err = await failure(callUnary(client.queryUser.bind(client), req, as(owner)));
    expect(err.code).toBe('unavailable');
    const streamErr = await failure(drain(client.queryUserStream(req, as(owner))));
    expect(streamErr.code).toBe('unavailable');
  });
});
