import http from 'node:http';
import type { FuzzRequest } from './fuzz-request.js';
import { basic } from '../support/test-stack.js';
import type { World } from './world.js';

export interface Reply {
  status: number;
  contentType: string;
  body: Buffer;
}

/** The Authorization (or, for the authorization pages, Cookie) header a well-behaved caller sends. */
function credentialsOf(world: World, r: FuzzRequest): Record<string, string> {
  const raw = r.credentials;
  const header = r.identity === 'session' ? 'cookie' : 'authorization';
  if (raw === 'none') return {};
  if (raw !== 'proper') return { [header]: raw.raw };
  switch (r.identity) {
    case 'user':
      return { authorization: `Bearer ${world.fuzzer.access_token}` };
    case 'disposable':
      return { authorization: `Bearer ${world.disposableToken()}` };
    case 'admin':
      return { authorization: `Bearer ${world.adminToken}` };
    case 'client':
      return { authorization: basic(world.clients.operator.client_id, world.clients.operator.client_secret) };
    case 'session':
      return { cookie: world.session.cookie };
    case 'none':
      return {};
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * Sends the request as it is (node:http, not fetch, so paths with broken escapes and raw bytes
 * reach the gateway unchanged). A connection dropped before any status line is an error: the
 * gateway owes every request an answer.
 */
export function send(world: World, r: FuzzRequest, timeoutMs = 60_000): Promise<Reply> {
  const url = new URL(world.t.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        headers: {
          ...r.headers,
          ...credentialsOf(world, r),
          ...(r.body ? { 'content-length': String(r.body.length) } : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // Writing a large body the gateway already refused (413) may fail after its answer: the answer counts.
    req.on('error', reject);
    req.end(r.body);
  });
}

export const closeConnections = () => agent.destroy();
