import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentials, Metadata, type Client } from '@grpc/grpc-js';
import { authPb, embeddingPb, memoryPb, personaPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  ConfigError,
  DomainError,
  INTERNAL_TOKEN_HEADER,
  InternalTokens,
  loadConfig,
  type Caller,
} from '@picard/service-kit';
import { authConfigSchema } from '@picard/auth-service';
import { embeddingConfigSchema } from '@picard/embedding-service';
import { memoryConfigSchema } from '@picard/memory-service';
import { personaConfigSchema } from '@picard/persona-service';
import { gatewayConfigSchema } from '@picard/gateway';
import {
  callTool,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from '../support/test-stack.js';

const SECRET = 'My safe code is 4471, do not tell anyone';

/**
 * Item 2 of issue #11: whoever reaches a gRPC port (another container, the private network) used
 * to be believed about who they are (x-user-id metadata). Now every call must carry a token the
 * gateway (or a service acting for a user) signed for exactly that service, valid for a minute.
 * The attacker here talks to each service's real port with a plain gRPC client, no interceptor.
 */
describe('security item 2: internal gRPC trusts only signed identities', () => {
  let t: TestStack;
  let victim: UserToken;
  let memoryId: string;
  const raw: Client[] = [];

  /** A client without the signing interceptor: whatever metadata the test builds goes out as is. */
  function rawClient<C extends Client>(
    Ctor: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => C,
    address: string,
  ) {
    const c = new Ctor(address, credentials.createInsecure());
    raw.push(c);
    return c;
  }
  const tokenMetadata = (caller: Caller | undefined, token: string) => {
    const md = caller ? callerMetadata(caller) : new Metadata();
    md.set(INTERNAL_TOKEN_HEADER, token);
    return md;
  };
  const victimCaller = (): Caller => ({
    userId: victim.user_id,
    scopes: ['memories:read', 'memories:write'],
    clientId: 'forged',
  });

  /** The four forgeries, each aimed at `audience` (a gRPC service name) on behalf of `caller`. */
  async function forgeries(caller: Caller | undefined, audience: string): Promise<[string, Metadata][]> {
    const key = t.stack.internalKey;
    const otherKey = randomBytes(32).toString('base64url');
    const elsewhere =
      audience === 'picard.v1.PersonaService' ? 'picard.v1.MemoryService' : 'picard.v1.PersonaService';
    const expired = new InternalTokens({ key, issuer: 'gateway', now: () => Date.now() - 5 * 60_000 });
    return [
      ['unsigned caller metadata', caller ? callerMetadata(caller) : new Metadata()],
      [
        'a token signed with another key',
        tokenMetadata(
          caller,
          await new InternalTokens({ key: otherKey, issuer: 'gateway' }).sign(caller, audience),
        ),
      ],
      [
        "a token for another service's audience",
        tokenMetadata(caller, await new InternalTokens({ key, issuer: 'gateway' }).sign(caller, elsewhere)),
      ],
      ['an expired token', tokenMetadata(caller, await expired.sign(caller, audience))],
    ];
  }
  const signed = async (caller: Caller | undefined, audience: string) =>
    tokenMetadata(
      caller,
      await new InternalTokens({ key: t.stack.internalKey, issuer: 'gateway' }).sign(caller, audience),
    );

  async function expectRefused(call: Promise<unknown>, what: string) {
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect({ what, code: err instanceof DomainError ? err.code : String(err) }).toEqual({
      what,
      code: 'unauthenticated',
    });
  }

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    victim = await userToken(t, client, 'victoria');
    const res = await callTool(t, victim.access_token, 'submit_memory', {
      text: SECRET,
      permission: 'private',
    });
    expect(res.status).toBe(200);
    memoryId = (res.json.result as { id: string }).id;
  });
  afterAll(async () => {
    for (const c of raw) c.close();
    await t?.stop();
  });

  it('memory-service refuses forged identities for a private memory, and serves a signed one', async () => {
    const c = rawClient(memoryPb.MemoryServiceClient, t.stack.addresses.memory);
    for (const [what, md] of await forgeries(victimCaller(), 'picard.v1.MemoryService')) {
      await expectRefused(callUnary(c.getMemory.bind(c), { memoryId }, md), `memory: ${what}`);
      // The history holds what the memory once said: its calls are guarded alike.
      await expectRefused(
        callUnary(c.getMemoryHistory.bind(c), { memoryId, limit: 0, cursor: '' }, md),
        `history: ${what}`,
      );
      await expectRefused(
        callUnary(c.restoreMemory.bind(c), { memoryId, version: 1 }, md),
        `restore: ${what}`,
      );
    }
    const got = await callUnary(
      c.getMemory.bind(c),
      { memoryId },
      await signed(victimCaller(), 'picard.v1.MemoryService'),
    );
    expect(got.text).toBe(SECRET);
    const history = await callUnary(
      c.getMemoryHistory.bind(c),
      { memoryId, limit: 0, cursor: '' },
      await signed(victimCaller(), 'picard.v1.MemoryService'),
    );
    expect(history).toMatchObject({ memoryId, currentVersion: 1, versions: [] });
  });

  it('a token verified before still speaks only for its own caller, whatever caller headers come with it', async () => {
    const c = rawClient(memoryPb.MemoryServiceClient, t.stack.addresses.memory);
    const intruder: Caller = { userId: randomUUID(), scopes: ['memories:read'], clientId: 'intruder' };
    const token = (await signed(intruder, 'picard.v1.MemoryService')).get(INTERNAL_TOKEN_HEADER)[0] as string;
    // The first call verifies the token, the second finds it remembered (InternalTokens): both as the intruder.
    for (const attempt of ['verified', 'remembered']) {
      const md = tokenMetadata(victimCaller(), token);
      const err = await callUnary(c.getMemory.bind(c), { memoryId }, md).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ attempt, code: err instanceof DomainError ? err.code : String(err) }).toEqual({
        attempt,
        code: 'not_found',
      });
    }
  });

  it('auth-service refuses forged identities for a user record, and serves a signed one', async () => {
    const c = rawClient(authPb.AuthServiceClient, t.stack.addresses.auth);
    for (const [what, md] of await forgeries(victimCaller(), 'picard.v1.AuthService')) {
      await expectRefused(callUnary(c.getUser.bind(c), { userId: victim.user_id }, md), `auth: ${what}`);
    }
    // Calls without a caller are not open either: the token proves the call comes from Picard.
    for (const [what, md] of await forgeries(undefined, 'picard.v1.AuthService')) {
      await expectRefused(callUnary(c.getJwks.bind(c), {}, md), `auth, no caller: ${what}`);
    }
    const user = await callUnary(
      c.getUser.bind(c),
      { userId: victim.user_id },
      await signed(victimCaller(), 'picard.v1.AuthService'),
    );
    expect(user.username).toBe('victoria');
  });

  it("persona-service refuses forged identities asking a user's persona, and answers a signed one", async () => {
    const c = rawClient(personaPb.PersonaServiceClient, t.stack.addresses.persona);
    const q = { userId: victim.user_id, prompt: 'What is my safe code?', limit: 5 };
    for (const [what, md] of await forgeries(victimCaller(), 'picard.v1.PersonaService')) {
      await expectRefused(callUnary(c.queryUser.bind(c), q, md), `persona: ${what}`);
    }
    // The signed call goes through persona-service on to memory-service, which also demands a token.
    const answer = await callUnary(
      c.queryUser.bind(c),
      q,
      await signed(victimCaller(), 'picard.v1.PersonaService'),
    );
    expect(answer.memories.map((m) => m.text)).toContain(SECRET);
  });

  it('embedding-service refuses unsigned calls', async () => {
    const c = rawClient(embeddingPb.EmbeddingServiceClient, t.stack.addresses.embedding);
    for (const [what, md] of await forgeries(undefined, 'picard.v1.EmbeddingService')) {
      await expectRefused(callUnary(c.getModelInfo.bind(c), {}, md), `embedding: ${what}`);
    }
    expect(
      (await callUnary(c.getModelInfo.bind(c), {}, await signed(undefined, 'picard.v1.EmbeddingService')))
        .dimensions,
    ).toBeGreaterThan(0);
  });

  it('gateway traffic still carries the caller', async () => {
    const res = await callTool(t, victim.access_token, 'get_memory', { memory_id: memoryId });
    expect(res.status).toBe(200);
    expect(res.json.result.text).toBe(SECRET);
  });

  it('binds gRPC to loopback by default and requires INTERNAL_TOKEN_KEY outside the embedded stack', async () => {
    const key = { INTERNAL_TOKEN_KEY: t.stack.internalKey };
    const memoryKeys = { MEMORY_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}` };
    expect(loadConfig(authConfigSchema, key).AUTH_GRPC_HOST).toBe('127.0.0.1');
    expect(loadConfig(embeddingConfigSchema, key).EMBEDDING_GRPC_HOST).toBe('127.0.0.1');
    expect(loadConfig(memoryConfigSchema, { ...key, ...memoryKeys }).MEMORY_GRPC_HOST).toBe('127.0.0.1');
    expect(loadConfig(personaConfigSchema, key).PERSONA_GRPC_HOST).toBe('127.0.0.1');
    for (const schema of [
      authConfigSchema,
      embeddingConfigSchema,
      personaConfigSchema,
      gatewayConfigSchema,
    ]) {
      expect(() => loadConfig(schema, {})).toThrow(ConfigError);
      expect(() => loadConfig(schema, {})).toThrow(/INTERNAL_TOKEN_KEY: is required/);
      expect(() => loadConfig(schema, { INTERNAL_TOKEN_KEY: 'short' })).toThrow(
        /INTERNAL_TOKEN_KEY=\(hidden\): must be at least 32/,
      );
    }
    // The image advertises only the gateway: `docker run -P` must not publish a gRPC port.
    const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile.match(/^EXPOSE .*$/gm)).toEqual(['EXPOSE 8001']);
  });
});
