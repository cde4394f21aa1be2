import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { parseConfig, startBff, type RunningBff } from '../src/index.js';
import { secretOrGenerated, newKey } from '../src/secrets.js';
import { openBffTestDatabase } from './support/bff-harness.js';

/** What needs no Picard: the SPA, headers behind a TLS proxy, configuration, generated secrets. */
describe('BFF: web serving and configuration', () => {
  let web: string;
  let bff: RunningBff;
  let db: Awaited<ReturnType<typeof openBffTestDatabase>>;
  beforeAll(async () => {
    web = await mkdtemp(path.join(tmpdir(), 'bff-web-'));
    await writeFile(
      path.join(web, 'index.html'),
      '<!doctype html><html><head><style nonce="__CSP_NONCE__">b{}</style></head>' +
        '<body><app-root ngCspNonce="__CSP_NONCE__"></app-root><script src="main-ABCD1234.js"></script></body></html>',
    );
    await writeFile(path.join(web, 'main-ABCD1234.js'), 'console.log(1)');
    await writeFile(path.join(web, 'favicon.ico'), 'icon');
    db = await openBffTestDatabase();
    bff = await startBff({
      env: {},
      database: db.target,
      config: {
        CLIENT_PORT: 0,
        CLIENT_HOST: '127.0.0.1',
        CLIENT_PUBLIC_URL: 'https://web.example',
        CLIENT_TRUST_PROXY: 'loopback',
        PICARD_URL: 'http://127.0.0.1:9',
        PICARD_PUBLIC_URL: 'https://picard.example',
        CLIENT_DATABASE_SCHEMA: db.schema,
        CLIENT_TOKEN_KEY: randomBytes(32).toString('base64'),
        CLIENT_SESSION_SECRET: randomBytes(32).toString('hex'),
        CLIENT_WEB_DIR: web,
        LOG_LEVEL: 'silent',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await bff?.stop();
    await db?.cleanup();
    await rm(web, { recursive: true, force: true });
  });

  it('serves index.html for app routes with the request nonce, uncached; hashed assets cached for a year', async () => {
    for (const route of ['/', '/memories/123', '/login?error=x']) {
      const res = await request(bff.url).get(route);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-cache');
      const nonce = /'nonce-([^']+)'/.exec(res.headers['content-security-policy'] as string)![1]!;
      expect(res.text).toContain(`ngCspNonce="${nonce}"`);
      expect(res.text).toContain(`<style nonce="${nonce}">`);
      expect(res.text).not.toContain('__CSP_NONCE__');
    }
    const a = await request(bff.url).get('/');
    const b = await request(bff.url).get('/');
    expect(a.headers['content-security-policy']).not.toBe(b.headers['content-security-policy']);
    const js = await request(bff.url).get('/main-ABCD1234.js');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await request(bff.url).get('/favicon.ico')).headers['cache-control']).toBe('no-cache');
    const health = await request(bff.url).get('/bff/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.headers['set-cookie']).toBeUndefined();
    const api = await request(bff.url).get('/bff/unknown');
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toContain('application/json');
    const csp = a.headers['content-security-policy'] as string;
    expect(csp).toContain("form-action 'self' https://picard.example");
    expect(csp).toContain('upgrade-insecure-requests');
    expect(a.headers['strict-transport-security']).toBeDefined();
    expect(a.headers['x-frame-options']).toBe('DENY');
    expect(a.headers['x-content-type-options']).toBe('nosniff');
  });

  it('marks cookies Secure on https (behind a trusted proxy)', async () => {
    const res = await request(bff.url).get('/bff/session').set('X-Forwarded-Proto', 'https');
    const cookies = res.headers['set-cookie'] as unknown as string[];
    const sid = cookies.find((c) => c.startsWith('picard_web.sid='))!;
    const xsrf = cookies.find((c) => c.startsWith('XSRF-TOKEN='))!;
    expect(sid).toMatch(/; Secure/);
    expect(sid).toMatch(/HttpOnly/);
    expect(xsrf).toMatch(/; Secure/);
    expect(xsrf).not.toMatch(/HttpOnly/);
    expect(res.body).toEqual({ authenticated: false, picard_sign_in_available: false });
  });

  it('names the variable at fault in a bad configuration', () => {
    const bad = (env: Record<string, string>, name: string) => expect(() => parseConfig(env)).toThrow(name);
    bad({ CLIENT_PORT: 'eighty' }, 'CLIENT_PORT');
    bad({ PICARD_URL: 'ftp://x' }, 'PICARD_URL');
    bad({ CLIENT_TOKEN_KEY: 'c2hvcnQ=' }, 'CLIENT_TOKEN_KEY');
    bad({ CLIENT_DATABASE_URL: 'mysql://x' }, 'CLIENT_DATABASE_URL');
    bad({ CLIENT_DATABASE_URL: 'postgres://localhost/x' }, 'CLIENT_TOKEN_KEY');
    bad({ PICARD_CLIENT_ID: 'abc' }, 'PICARD_CLIENT_SECRET');
    bad({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
    bad({ CLIENT_AUTO_REGISTER: 'yes' }, 'CLIENT_AUTO_REGISTER');
    const ok = parseConfig({ CLIENT_PORT: '8123' });
    expect(ok).toMatchObject({
      publicUrl: 'http://localhost:8123',
      redirectUri: 'http://localhost:8123/bff/auth/picard/callback',
      PICARD_URL: 'http://localhost:8001',
      issuer: 'http://localhost:8001',
      secureCookies: false,
      trustProxy: false,
    });
    expect(ok.CLIENT_WEB_DIR.endsWith(path.join('client-app', 'web', 'dist', 'browser'))).toBe(true);
  });

  it('generates an embedded secret once, readable by its owner only, and reuses it', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'bff-data-')), 'nested');
    await mkdir(dir, { recursive: true });
    const first = await secretOrGenerated({
      value: undefined,
      dataDir: dir,
      file: 'token-key',
      generate: newKey,
    });
    const again = await secretOrGenerated({
      value: undefined,
      dataDir: dir,
      file: 'token-key',
      generate: newKey,
    });
    expect(again).toBe(first);
    expect(Buffer.from(first, 'base64')).toHaveLength(32);
    expect((await stat(path.join(dir, 'token-key'))).mode & 0o777).toBe(0o600);
    expect(await secretOrGenerated({ value: 'given', dataDir: dir, file: 'x', generate: newKey })).toBe(
      'given',
    );
    await rm(path.dirname(dir), { recursive: true, force: true });
  });
});
