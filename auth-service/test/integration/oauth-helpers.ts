import { createHash, randomBytes } from 'node:crypto';
import type { authPb } from '@picard/proto';
import type { Harness } from './harness.js';

/** RFC 7636: S256 challenge = base64url(sha256(verifier)). */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface OAuthResult {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Calls Token/Revoke/Introspect the way the gateway relays a form POST. */
export async function oauth(
  h: Harness,
  method: 'token' | 'revoke' | 'introspect',
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<OAuthResult> {
  const res = await h.call<authPb.OAuthResponse>(method, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    query: {},
    body,
  });
  return {
    status: res.status,
    headers: res.headers,
    body: JSON.parse(res.bodyJson) as Record<string, unknown>,
  };
}

export const basic = (id: string, secret: string) => ({
  Authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

/**
 * Basic the way openid-client (oauth4webapi) sends it: each part application/x-www-form-urlencoded
 * (RFC 6749 §2.3.1), which also escapes `-`, `_`, `.`, `~` and the like that encodeURIComponent keeps.
 */
export const formEncoded = (s: string) =>
  encodeURIComponent(s).replace(/[-_.!~*'()]|%20/g, (c) =>
    c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

export const basicFormEncoded = (id: string, secret: string) => ({
  Authorization: `Basic ${Buffer.from(`${formEncoded(id)}:${formEncoded(secret)}`).toString('base64')}`,
});

export const params = (url: string) => Object.fromEntries(new URL(url).searchParams);

export const jwtPayload = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
