import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { credentials } from '@grpc/grpc-js';
import { memoryPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  DomainError,
  INTERNAL_TOKEN_HEADER,
  InternalTokens,
  loadConfig,
  type Logger,
} from '@picard/service-kit';
import { gatewayConfigSchema, startGateway, type GatewayHandle } from '@picard/gateway';
import { pino } from 'pino';
import {
  bearer,
  callTool,
  post,
  queryDb,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from '../support/test-stack.js';

const GENERIC = /^internal error \(error id ([0-9a-f-]{36})\)$/;
const UNAVAILABLE = /^a service is unavailable \(error id ([0-9a-f-]{36})\)$/;

/**
 * Item 11 (errors) of issue #11: a failure that is not a domain error (a database error, a refused
 * connection) must reach REST, MCP and gRPC clients as a generic message with a correlation id,
 * never with its internal text (SQL, table names, internal addresses); the log line with the full
 * error carries the same id, so an operator finds it from what a user reports.
 */
describe('security item 11: internal errors reach clients generic, with a logged correlation id', () => {
  let t: TestStack;
  let user: UserToken;
  let memoryId: string;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = (service: string): Logger => pino({ level: 'info', base: { service } }, sink);
  /** The log line carrying `errorId`, which must hold the full error. */
  const loggedWith = (errorId: string) => lines.find((l) => l.errorId === errorId && l.err !== undefined);

  const mcpCall = async (url: string, name: string, args: Record<string, unknown>) => {
    const client = new Client({ name: 'e2e-errors', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: bearer(user.access_token) },
      }),
    );
    try {
      return (await client.callTool({ name, arguments: args })) as {
        isError?: boolean;
        content: { text: string }[];
      };
    } finally {
      await client.close();
    }
  };

  beforeAll(async () => {
    t = await startTestStack({}, { logger });
    user = await userToken(t, await registerClient(t), 'erin');
    const res = await callTool(t, user.access_token, 'submit_memory', {
      text: 'Stored before the failure',
      permission: 'private',
    });
    memoryId = (res.json.result as { id: string }).id;
    // A database failure memory-service cannot anticipate: its table is gone.
    await queryDb(t, 'memory', (s) => `ALTER TABLE ${s}.memories RENAME TO memories_gone`);
  });
  afterAll(async () => {
    await queryDb(t, 'memory', (s) => `ALTER TABLE ${s}.memories_gone RENAME TO memories`).catch(
      () => undefined,
    );
    await t?.stop();
  });

  it('a database failure: generic over REST, MCP and gRPC, the id in the log line with the full error', async () => {
    const rest = await callTool(t, user.access_token, 'get_memory', { memory_id: memoryId });
    expect(rest.status).toBe(500);
    expect(rest.json.error).toBe('internal');
    expect(rest.json.message).toMatch(GENERIC);
    expect(rest.text).not.toMatch(/memories|relation|select/i);
    const restId = GENERIC.exec(rest.json.message as string)![1]!;
    expect(JSON.stringify(loggedWith(restId))).toMatch(/memories/);

    const mcp = await mcpCall(t.url, 'get_memory', { memory_id: memoryId });
    expect(mcp.isError).toBe(true);
    const text = mcp.content[0]!.text;
    expect(text).toMatch(/^internal: internal error \(error id [0-9a-f-]{36}\)$/);
    expect(loggedWith(/error id ([0-9a-f-]{36})/.exec(text)![1]!)).toBeDefined();

    const grpc = new memoryPb.MemoryServiceClient(t.stack.addresses.memory, credentials.createInsecure());
    try {
      const md = callerMetadata({ userId: user.user_id, scopes: ['memories:read'], clientId: 'e2e' });
      md.set(
        INTERNAL_TOKEN_HEADER,
        await new InternalTokens({ key: t.stack.internalKey, issuer: 'e2e' }).sign(
          { userId: user.user_id, scopes: ['memories:read'], clientId: 'e2e' },
          'picard.v1.MemoryService',
        ),
      );
      const err = await callUnary(grpc.getMemory.bind(grpc), { memoryId }, md).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).message).toMatch(GENERIC);
      expect((err as DomainError).errorId).toBe(GENERIC.exec((err as DomainError).message)![1]);
      expect(loggedWith((err as DomainError).errorId!)).toMatchObject({
        service: 'memory-service',
        msg: 'call failed',
      });
    } finally {
      grpc.close();
    }
  });

  it('an unreachable service: no internal address reaches the client, the log line has it', async () => {
    // A second gateway whose persona-service address refuses connections.
    const gateway: GatewayHandle = await startGateway({
      config: loadConfig(gatewayConfigSchema, { ...t.env, INTERNAL_TOKEN_KEY: t.stack.internalKey }),
      logger: logger('gateway-2'),
      bus: t.bus,
      addresses: { ...t.stack.addresses, persona: '127.0.0.1:1' },
      port: 0,
    });
    try {
      const url = `http://127.0.0.1:${gateway.port}`;
      const rest = await post(
        `${url}/api/tools`,
        { tool: 'query_user', data: { user_id: user.user_id, prompt: 'hello' } },
        bearer(user.access_token),
      );
      expect(rest.status).toBe(503);
      expect(rest.json.message).toMatch(UNAVAILABLE);
      expect(rest.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|No connection/);
      const logged = loggedWith(UNAVAILABLE.exec(rest.json.message as string)![1]!);
      expect(logged).toMatchObject({ service: 'gateway-2' });
      expect(JSON.stringify(logged)).toMatch(/127\.0\.0\.1:1/);

      const mcp = await mcpCall(url, 'query_user', { user_id: user.user_id, prompt: 'hello' });
      expect(mcp.isError).toBe(true);
      expect(mcp.content[0]!.text).toMatch(
        /^unavailable: a service is unavailable \(error id [0-9a-f-]{36}\)$/,
      );
    } finally {
      await gateway.stop();
    }
  });
});
