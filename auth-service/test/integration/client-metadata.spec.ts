import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DomainError } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import {
  ClientMetadataFetcher,
  classifyAddress,
  isAddressAllowed,
  isClientMetadataUrl,
  type ClientMetadataFetcherOptions,
} from '../../src/client-metadata/index.js';
import { pinnedGet } from '../../src/client-metadata/pinned-get.js';

// A real HTTP server on loopback serves the documents; hits counts requests per path.
const hits = new Map<string, number>();
let server: http.Server;
let base = '';
const url = (path: string) => `${base}${path}`;
const doc = (path: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    client_id: url(path),
    client_name: 'Test App',
    redirect_uris: ['http://127.0.0.1:7777/callback'],
    ...extra,
  });
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

type Handler = (res: http.ServerResponse, path: string) => void;
const json =
  (body: (path: string) => string, headers: http.OutgoingHttpHeaders = {}): Handler =>
  (res, path) =>
    void res.writeHead(200, { ...JSON_TYPE, ...headers }).end(body(path));
const withDoc = (extra: Record<string, unknown>) => json((p) => doc(p, extra));

const routes: Record<string, Handler> = {
  '/ok': json(
    (p) => doc(p, { grant_types: ['authorization_code', 'refresh_token'], scope: 'memories:read' }),
    { 'cache-control': 'max-age=120' },
  ),
  '/short-ttl': json((p) => doc(p), { 'cache-control': 'public, max-age=5' }),
  '/no-cache-header': json((p) => doc(p)),
  '/unnamed': json((p) => JSON.stringify({ client_id: url(p), redirect_uris: ['https://app.example/cb'] })),
  '/mismatch': json(() => doc('/someone-else')),
  '/bad-redirects': withDoc({ redirect_uris: ['https://app.example/cb', 'http://app.example/cb'] }),
  '/fragment-redirect': withDoc({ redirect_uris: ['https://app.example/cb#x'] }),
  '/relative-redirect': withDoc({ redirect_uris: ['/cb'] }),
  '/no-redirects': withDoc({ redirect_uris: [] }),
  '/secret': withDoc({ client_secret: 'shh' }),
  '/basic-auth': withDoc({ token_endpoint_auth_method: 'client_secret_basic' }),
  '/long-name': withDoc({ client_name: 'x'.repeat(201) }),
  '/big-declared': json(() => ' '.repeat(100_000)),
  '/not-json': json(() => '{"client_id": '),
  '/big': (res) => {
    // chunked, no content-length: the cap must stop the stream itself
    res.writeHead(200, JSON_TYPE);
    for (let i = 0; i < 200; i++) res.write(' '.repeat(1024));
    res.end('{}');
  },
  // Neither slow route ever finishes (afterAll closes the connections): only the fetcher's own timeout ends the wait.
  '/slow-headers': () => undefined,
  '/slow-body': (res) => void res.writeHead(200, JSON_TYPE).write('{"client_id":'),
  '/html': (res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
  '/redirect': (res) => void res.writeHead(302, { location: url('/ok') }).end(),
};

function route(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = req.url ?? '';
  hits.set(path, (hits.get(path) ?? 0) + 1);
  const handler = routes[path];
  if (handler) handler(res, path);
  else res.writeHead(404).end();
}

const fetcher = (opts: Partial<ClientMetadataFetcherOptions> = {}) =>
  new ClientMetadataFetcher({ logger: testLogger(), allowLoopback: true, ...opts });

async function refusal(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect(err).toMatchObject({ code: 'invalid_argument', field: 'client_id' });
  expect((err as Error).message).toMatch(message);
}

beforeAll(async () => {
  server = http.createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('ClientMetadataFetcher against a loopback server (allowLoopback)', () => {
  it('resolves a valid document', async () => {
    const client = await fetcher().resolve(url('/ok'));
    expect(client).toEqual({
      clientId: url('/ok'),
      clientName: 'Test App',
      redirectUris: ['http://127.0.0.1:7777/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      scope: 'memories:read',
    });
    const unnamed = await fetcher().resolve(url('/unnamed'));
    expect(unnamed).toMatchObject({ clientName: '127.0.0.1', grantTypes: ['authorization_code'] });
  });

  it('refuses a document whose client_id is not the URL', async () => {
    await refusal(
      fetcher().resolve(url('/mismatch')),
      /^client metadata document at http:\/\/127\.0\.0\.1:\d+\/mismatch names client_id ".*\/someone-else", not the URL/,
    );
  });

  it('refuses bad redirect URIs, naming the entry', async () => {
    await refusal(
      fetcher().resolve(url('/bad-redirects')),
      /is invalid: redirect_uris\[1\] must use https, or http on a loopback host/,
    );
    await refusal(
      fetcher().resolve(url('/fragment-redirect')),
      /redirect_uris\[0\] must not contain a fragment/,
    );
    await refusal(fetcher().resolve(url('/relative-redirect')), /redirect_uris\[0\] is not an absolute URL/);
    await refusal(
      fetcher().resolve(url('/no-redirects')),
      /redirect_uris must list at least one redirect URI/,
    );
  });

  it('refuses secrets, shared-secret auth methods and over-long names', async () => {
    await refusal(fetcher().resolve(url('/secret')), /must not contain client_secret/);
    await refusal(fetcher().resolve(url('/basic-auth')), /token_endpoint_auth_method must be "none"/);
    await refusal(fetcher().resolve(url('/long-name')), /client_name must be at most 200 characters/);
  });

  it('aborts a body larger than maxBytes', async () => {
    await refusal(fetcher({ maxBytes: 4096 }).resolve(url('/big')), /\/big is larger than 4096 bytes$/);
    await refusal(fetcher({ maxBytes: 4096 }).resolve(url('/big-declared')), /is larger than 4096 bytes$/);
  });

  it('times out a slow server (headers and body)', async () => {
    // The server never answers either request, so a refusal at all is the timeout's doing.
    await refusal(
      fetcher({ timeoutMs: 300 }).resolve(url('/slow-headers')),
      /\/slow-headers is not reachable: timeout after 300 ms$/,
    );
    await refusal(
      fetcher({ timeoutMs: 300 }).resolve(url('/slow-body')),
      /is not reachable: timeout after 300 ms$/,
    );
    expect(hits.get('/slow-headers')).toBe(1);
    expect(hits.get('/slow-body')).toBe(1);
  });

  it('refuses non-JSON content types and malformed JSON', async () => {
    await refusal(fetcher().resolve(url('/html')), /is not JSON \(content-type "text\/html"\)/);
    await refusal(fetcher().resolve(url('/not-json')), /is not valid JSON$/);
  });

  it('does not follow redirects', async () => {
    hits.delete('/ok');
    await refusal(
      fetcher().resolve(url('/redirect')),
      /answered with a redirect \(HTTP 302\), which is not followed/,
    );
    expect(hits.get('/ok')).toBeUndefined();
  });

  it('caches for max-age, clamped to [min, max], and shares one fetch between concurrent callers', async () => {
    let clock = 1_000_000;
    const f = fetcher({ now: () => clock });
    const hitsAfter = async (path: string, advanceMs: number, via = f) => {
      clock += advanceMs;
      await via.resolve(url(path));
      return hits.get(path);
    };
    ['/ok', '/short-ttl', '/no-cache-header'].forEach((p) => hits.delete(p));
    await Promise.all([f.resolve(url('/ok')), f.resolve(url('/ok'))]);
    expect(await hitsAfter('/ok', 0)).toBe(1);
    expect(await hitsAfter('/ok', 119_000)).toBe(1);
    expect(await hitsAfter('/ok', 2_000)).toBe(2); // past max-age=120
    // max-age=5 is raised to the 60 s minimum
    expect(await hitsAfter('/short-ttl', 0)).toBe(1);
    expect(await hitsAfter('/short-ttl', 30_000)).toBe(1);
    expect(await hitsAfter('/short-ttl', 31_000)).toBe(2);
    // no Cache-Control: the configured default
    const g = fetcher({ now: () => clock, cacheTtlSeconds: { min: 10, max: 100, default: 50 } });
    expect(await hitsAfter('/no-cache-header', 0, g)).toBe(1);
    expect(await hitsAfter('/no-cache-header', 49_000, g)).toBe(1);
    expect(await hitsAfter('/no-cache-header', 2_000, g)).toBe(2);
  });

  it('remembers a failure for 30 s, then tries again', async () => {
    let clock = 5_000_000;
    const f = fetcher({ now: () => clock });
    hits.delete('/html');
    for (const _ of [1, 2]) await refusal(f.resolve(url('/html')), /is not JSON/);
    expect(hits.get('/html')).toBe(1);
    clock += 31_000;
    await refusal(f.resolve(url('/html')), /is not JSON/);
    expect(hits.get('/html')).toBe(2);
  });

  it('evicts the least recently used entry past maxCacheEntries', async () => {
    const f = fetcher({ maxCacheEntries: 1 });
    hits.delete('/ok');
    await f.resolve(url('/ok'));
    await f.resolve(url('/unnamed'));
    await f.resolve(url('/ok'));
    expect(hits.get('/ok')).toBe(2);
  });
});

describe('pinnedGet', () => {
  it('connects to the checked address and never asks DNS again (no rebinding window)', async () => {
    const port = (server.address() as AddressInfo).port;
    const pinned = new URL(`http://rebinding-target.invalid:${port}/unnamed`);
    const got = await pinnedGet(pinned, {
      addresses: [{ address: '127.0.0.1', family: 4 }],
      remainingMs: 2000,
      timeoutMs: 2000,
      maxBytes: 4096,
    });
    expect(JSON.parse(got.body.toString())).toMatchObject({ redirect_uris: ['https://app.example/cb'] });
  });
});

describe('ClientMetadataFetcher in production mode (allowLoopback=false)', () => {
  it('refuses loopback before any request reaches the server', async () => {
    hits.clear();
    const f = fetcher({ allowLoopback: false });
    const port = (server.address() as AddressInfo).port;
    await refusal(
      f.resolve(`https://127.0.0.1:${port}/ok`),
      /resolves to a private address \(127\.0\.0\.1: loopback\)/,
    );
    await refusal(
      f.resolve(`https://localhost:${port}/ok`),
      /resolves to a private address \((127\.0\.0\.1|::1): loopback\)/,
    );
    await refusal(f.resolve(url('/ok')), /^client_id ".*" must use the https scheme$/);
    expect(hits.size).toBe(0);
  });

  it('refuses private and special literal hosts, and http to a public host even in development', async () => {
    await refusal(
      fetcher({ allowLoopback: false }).resolve('https://10.1.2.3/client.json'),
      /private address \(10\.1\.2\.3: private\)/,
    );
    await refusal(
      fetcher({ allowLoopback: false }).resolve('https://[::ffff:169.254.169.254]/x'),
      /private address \(::ffff:a9fe:a9fe: link-local\)/,
    );
    await refusal(
      fetcher().resolve('http://93.184.215.14/client.json'),
      /uses http, which is allowed only for loopback hosts/,
    );
  });
});

describe('isClientMetadataUrl', () => {
  it.each([
    ['https://app.example/oauth/client.json', true],
    ['https://app.example:8443/c', true],
    ['http://app.example/client.json', false],
    ['https://app.example', false],
    ['https://app.example/', false],
    ['https://app.example/client.json#frag', false],
    ['https://user:pw@app.example/client.json', false],
    ['https://user@app.example/client.json', false],
    ['https://app.example/a/../client.json', false],
    ['https://app.example/./client.json', false],
    ['https://app.example/a/%2E%2e/client.json', false],
    ['https://app.example/client.json?v=1', false],
    ['https:///client.json', false],
    ['https://app.example\\client.json', false],
    [' https://app.example/client.json', false],
    ['3fa85f64-5717-4562-b3fc-2c963f66afa6', false],
  ])('%s → %s', (clientId, expected) => {
    expect(isClientMetadataUrl(clientId)).toBe(expected);
  });

  it('accepts http only when asked to (the fetcher still insists on loopback)', () =>
    expect(isClientMetadataUrl('http://127.0.0.1:8080/c.json', { allowHttp: true })).toBe(true));
});

describe('address classification', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('allows loopback only when asked to', () => {
    expect(isAddressAllowed('127.0.0.1')).toBe(false);
    expect(isAddressAllowed('127.0.0.1', { allowLoopback: true })).toBe(true);
    expect(isAddressAllowed('::ffff:127.0.0.1', { allowLoopback: true })).toBe(true);
    expect(isAddressAllowed('10.0.0.1', { allowLoopback: true })).toBe(false);
    expect(isAddressAllowed('8.8.8.8')).toBe(true);
  });
});
