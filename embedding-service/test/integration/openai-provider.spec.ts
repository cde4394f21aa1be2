import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { testLogger, withInternalKey } from '@picard/service-kit/testing';
import {
  embeddingConfigSchema,
  startEmbeddingService,
  type EmbeddingServiceHandle,
} from '../../src/index.js';
import { configFrom, embeddingClient, failure } from './helpers.js';

interface Seen {
  authorization?: string;
  path?: string;
  body: { model: string; input: string[]; dimensions: number; encoding_format?: string };
}

/** A stand-in for an OpenAI-compatible server on loopback; `mode` picks how it answers. */
function fakeOpenAi() {
  const seen: Seen[] = [];
  let mode: 'ok' | 'fail' | 'silent' = 'ok';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Seen['body'];
      seen.push({ authorization: req.headers.authorization, path: req.url, body });
      if (mode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }));
      }
      const reply = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            model: body.model,
            // Not unit length on purpose (3-4-5), and out of order: the provider must fix both.
            data: body.input
              .map((_, i) => ({
                object: 'embedding',
                index: i,
                embedding: Array.from({ length: body.dimensions }, (_, d) =>
                  d === 0 ? 3 : d === 1 ? 4 + i : 0,
                ),
              }))
              .reverse(),
            usage: { prompt_tokens: 1, total_tokens: 1 },
          }),
        );
      };
      // A silent server never answers (afterAll closes its connections): only the client's timeout ends a call.
      if (mode !== 'silent') reply();
    });
  });
  return {
    server,
    seen,
    setMode: (m: typeof mode) => (mode = m),
    listen: () =>
      new Promise<number>((r) =>
        server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)),
      ),
  };
}

describe('embedding-service with the openai provider', () => {
  const fake = fakeOpenAi();
  let service: EmbeddingServiceHandle;
  let api: ReturnType<typeof embeddingClient>;

  beforeAll(async () => {
    const port = await fake.listen();
    service = await startEmbeddingService({
      config: configFrom({
        EMBEDDING_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-test-123',
        OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
        EMBEDDING_MODEL: 'text-embedding-3-small',
        EMBEDDING_DIMENSIONS: '8',
        EMBEDDING_TIMEOUT_MS: '300',
      }),
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
    });
    api = embeddingClient(service.grpc.address);
  });

  afterAll(async () => {
    api.client.close();
    await service.stop();
    fake.server.closeAllConnections();
    await new Promise((r) => fake.server.close(r));
  });

  it('sends the exact request and returns unit vectors in input order', async () => {
    fake.seen.length = 0;
    const res = await api.embed(['alpha', 'beta']);
    expect(fake.seen).toHaveLength(1);
    expect(fake.seen[0]).toEqual({
      authorization: 'Bearer sk-test-123',
      path: '/v1/embeddings',
      body: {
        model: 'text-embedding-3-small',
        input: ['alpha', 'beta'],
        dimensions: 8,
        encoding_format: 'float',
      },
    });
    expect(res.model).toBe('text-embedding-3-small');
    expect(res.dimensions).toBe(8);
    expect(res.vectors[0]!.values.slice(0, 2).map((x) => +x.toFixed(5))).toEqual([0.6, 0.8]);
    const second = res.vectors[1]!.values;
    expect(second[1]! / second[0]!).toBeCloseTo(5 / 3, 5);
    expect(await api.info()).toEqual({ provider: 'openai', model: 'text-embedding-3-small', dimensions: 8 });
  });

  it('serves the offline model and other OpenAI models on request (for re-embedding)', async () => {
    const offline = await api.embed(['hello'], 'universal-sentence-encoder-lite');
    expect([offline.model, offline.dimensions, offline.vectors[0]!.values.length]).toEqual([
      'universal-sentence-encoder-lite',
      512,
      512,
    ]);
    fake.seen.length = 0;
    const other = await api.embed(['x'], 'text-embedding-3-large', 4);
    expect(fake.seen[0]!.body).toMatchObject({
      model: 'text-embedding-3-large',
      dimensions: 4,
      input: ['x'],
    });
    expect([other.model, other.dimensions, other.vectors[0]!.values.length]).toEqual([
      'text-embedding-3-large',
      4,
      4,
    ]);
  });

  it('turns a server error into unavailable, after the client retried', async () => {
    fake.setMode('fail');
    fake.seen.length = 0;
    const err = await failure(api.embed(['gamma']));
    fake.setMode('ok');
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/^embedding provider openai failed: /);
    expect(fake.seen).toHaveLength(3);
  });

  it('turns a slow server into unavailable once the timeout passes', async () => {
    fake.setMode('silent');
    fake.seen.length = 0;
    const err = await failure(api.embed(['delta']));
    fake.setMode('ok');
    expect(err.code).toBe('unavailable');
    // Plain Node says "Request timed out."; under jest's VM realm the client cannot recognise the
    // AbortError and says "Connection error."; the server answered none of the three attempts, so
    // each one ended by the client's timeout.
    expect(err.message).toMatch(/^embedding provider openai failed: (Request timed out|Connection error)/);
    expect(fake.seen).toHaveLength(3);
  });

  it('does not cache failures', async () => {
    const res = await api.embed(['gamma']);
    expect(res.cached).toBe(0);
    expect(res.vectors).toHaveLength(1);
  });

  it('refuses openai without an API key, naming OPENAI_API_KEY', () => {
    expect(() =>
      loadConfig(embeddingConfigSchema, withInternalKey({ EMBEDDING_PROVIDER: 'openai' })),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig(embeddingConfigSchema, withInternalKey({ EMBEDDING_PROVIDER: 'openai' })),
    ).toThrow(/OPENAI_API_KEY/);
    expect(() => loadConfig(embeddingConfigSchema, withInternalKey({ EMBEDDING_PROVIDER: 'magic' }))).toThrow(
      /EMBEDDING_PROVIDER/,
    );
  });
});
