import fc from 'fast-check';
import type { FuzzRequest } from './fuzz-request.js';
import type { Identity } from './targets.js';
import type { World } from './world.js';

/** What a Streamable HTTP client sends with every POST besides its token and Content-Type. */
export const MCP_HEADERS = {
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

/** Authorization values that should all be refused: absent, malformed, forged, tampered, or another identity's. */
export function brokenCredentials(
  world: World,
  identity: Identity,
): fc.Arbitrary<FuzzRequest['credentials']> {
  if (identity === 'session') {
    return fc.oneof(
      fc.constant('none' as const),
      fc
        .constantFrom(
          'picard_session=%E0%A4%A; picard_csrf=%ZZ; picard_sid=x',
          'picard_session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA',
          `picard_sid=${'a'.repeat(32)}`,
        )
        .map((raw) => ({ raw })),
    );
  }
  const tampered = (token: string) =>
    fc
      .nat({ max: token.length - 1 })
      .map((i) => `Bearer ${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`);
  return fc.oneof(
    fc.constant('none' as const),
    fc
      .oneof(
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'Bearer  a b',
          'bearer',
          'Token abc',
          'Basic',
          'Basic !!!',
          'Basic Og==',
          'Basic bm8tY29sb24=',
          'Bearer a.b.c',
          'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        ),
        fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((s) => `Bearer ${s}`),
        fc.base64String({ maxLength: 6000 }).map((s) => `Bearer ${s}`),
        tampered(world.fuzzer.access_token),
        tampered(world.adminToken),
        // Another identity's valid credentials: a user's token on admin routes, a client's Basic on bearer routes.
        fc.constant(
          `Bearer ${identity === 'admin' ? world.fuzzer.access_token : world.revokee.refresh_token}`,
        ),
      )
      .map((raw) => ({ raw })),
  );
}

/** Path parameters that do not decode, traverse, or are far too long. */
export const brokenPathParam = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      '%',
      '%zz',
      '%E0%A4%A',
      '%00',
      '..',
      '%2e%2e',
      '%2F',
      '.',
      '%C0%AF',
      '%FF%FE',
      'a'.repeat(5000),
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  );

/** Query strings that do not decode, repeat or nest parameters, or are very long. */
export const brokenQuery = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      'a=%zz',
      'limit=%E0%A4%A',
      'limit=1&limit=2',
      'limit[]=1',
      'limit=-1',
      'limit=1e400',
      'cursor[a]=1',
      '=&=&',
      '%',
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 6000 }).map((s) => `cursor=${encodeURIComponent(s)}`),
  );

/** Headers of the Streamable HTTP transport gone wrong: Accept, protocol version, Origin, a stray session. */
export const brokenMcpHeaders = (): fc.Arbitrary<Record<string, string>> =>
  fc.oneof(
    fc
      .constantFrom('application/json', 'text/event-stream', '*/*', 'text/html', '')
      .map((accept) => ({ ...MCP_HEADERS, accept })),
    fc
      .oneof(
        fc.constantFrom('1999-01-01', '2025-11-25 ', 'latest'),
        fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
      )
      .map((v) => ({ ...MCP_HEADERS, 'mcp-protocol-version': v })),
    fc
      .constantFrom('https://evil.example', 'null', 'http://localhost.evil.example')
      .map((origin) => ({ ...MCP_HEADERS, origin })),
    fc.uuid().map((id) => ({ ...MCP_HEADERS, 'mcp-session-id': id })),
  );
