import { describe, expect, it } from '@jest/globals';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { createLogger } from '@picard/service-kit';
import { SessionRegistry, type McpSession } from './session-registry.js';
import { SessionSubscriptions } from './session-subscriptions.js';

const ALICE = '0b8f7a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const BOB = '1c9e8b5f-2d3e-4f60-9bac-1d2e3f4a5b6c';

/** A real SDK server and transport per session; only the clock is ours. */
async function session(id: string, userId: string, lastSeenMs: number): Promise<McpSession> {
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => id });
  const server = new McpServer({ name: 'test', version: '1' });
  await server.connect(transport);
  return {
    id,
    userId,
    clientId: 'client-1',
    transport,
    server,
    subscriptions: new SessionSubscriptions(10),
    token: 'token',
    lastSeenMs,
    openStreams: 0,
  };
}

function registry(now: { ms: number }, perUser = 16) {
  const sessions = new SessionRegistry({
    ttlMs: 60_000,
    perUser,
    logger: createLogger('test', 'silent'),
    now: () => now.ms,
  });
  return sessions;
}

describe('SessionRegistry', () => {
  it('closes sessions idle for the TTL, not those with an open event stream or recent use', async () => {
    const clock = { ms: 1_000_000 };
    const sessions = registry(clock);
    const idle = await session('idle', ALICE, clock.ms);
    const streaming = await session('streaming', ALICE, clock.ms);
    const recent = await session('recent', ALICE, clock.ms);
    for (const s of [idle, streaming, recent]) await sessions.add(s);
    streaming.openStreams = 1;
    clock.ms += 59_999;
    expect(await sessions.sweep()).toBe(0);
    recent.lastSeenMs = clock.ms;
    clock.ms += 1;
    expect(await sessions.sweep()).toBe(1);
    expect(
      sessions
        .all()
        .map((s) => s.id)
        .sort(),
    ).toEqual(['recent', 'streaming']);
    clock.ms += 60_000;
    expect(await sessions.sweep()).toBe(1);
    expect(sessions.all().map((s) => s.id)).toEqual(['streaming']);
  });

  it('does not serve a session past its TTL, even before the sweep comes by', async () => {
    const clock = { ms: 0 };
    const sessions = registry(clock);
    await sessions.add(await session('s1', ALICE, 0));
    const alice = { userId: ALICE, clientId: 'client-1', scopes: [] };
    clock.ms = 59_999;
    expect(sessions.find('s1', alice)?.id).toBe('s1');
    clock.ms = 60_000;
    expect(sessions.find('s1', alice)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('finds a session only for the user and client it is bound to', async () => {
    const clock = { ms: 0 };
    const sessions = registry(clock);
    await sessions.add(await session('s1', ALICE, 0));
    expect(sessions.find('s1', { userId: ALICE, clientId: 'client-1', scopes: [] })?.id).toBe('s1');
    expect(sessions.find('s1', { userId: ALICE.toUpperCase(), clientId: 'client-1', scopes: [] })?.id).toBe(
      's1',
    );
    expect(sessions.find('s1', { userId: BOB, clientId: 'client-1', scopes: [] })).toBeUndefined();
    expect(sessions.find('s1', { userId: ALICE, clientId: 'client-2', scopes: [] })).toBeUndefined();
    expect(sessions.find('s1', undefined)).toBeUndefined();
    expect(sessions.find('nope', { userId: ALICE, clientId: 'client-1', scopes: [] })).toBeUndefined();
  });

  it("closes a user's least recently used session past the per-user cap, leaving other users alone", async () => {
    const clock = { ms: 0 };
    const sessions = registry(clock, 2);
    await sessions.add(await session('a1', ALICE, 10));
    await sessions.add(await session('b1', BOB, 5));
    await sessions.add(await session('a2', ALICE, 30));
    await sessions.add(await session('a3', ALICE, 40));
    expect(sessions.forUser(ALICE).map((s) => s.id)).toEqual(['a2', 'a3']);
    expect(sessions.forUser(BOB).map((s) => s.id)).toEqual(['b1']);
  });
});
