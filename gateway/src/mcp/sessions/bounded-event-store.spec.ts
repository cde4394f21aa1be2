import { describe, expect, it } from '@jest/globals';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { BoundedEventStore } from './bounded-event-store.js';

const note = (n: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/resources/updated',
  params: { uri: `memories://${n}` },
});

async function replay(store: BoundedEventStore, lastEventId: string) {
  const sent: [string, JSONRPCMessage][] = [];
  const streamId = await store.replayEventsAfter(lastEventId, {
    send: async (id, message) => {
      sent.push([id, message]);
    },
  });
  return { streamId, sent };
}

describe('BoundedEventStore (one MCP session, Last-Event-ID resumption)', () => {
  it('replays what came after the given event on that stream only, skipping priming events', async () => {
    const store = new BoundedEventStore(10);
    const first = await store.storeEvent('_GET_stream', note(1));
    await store.storeEvent('request-stream', note(2));
    await store.storeEvent('_GET_stream', {} as JSONRPCMessage);
    const third = await store.storeEvent('_GET_stream', note(3));
    expect(await store.getStreamIdForEventId(first)).toBe('_GET_stream');
    const { streamId, sent } = await replay(store, first);
    expect(streamId).toBe('_GET_stream');
    expect(sent).toEqual([[third, note(3)]]);
  });

  it('keeps only the last `capacity` messages; a client behind them gets what is left', async () => {
    const store = new BoundedEventStore(3);
    const first = await store.storeEvent('_GET_stream', note(1));
    for (let n = 2; n <= 6; n++) await store.storeEvent('_GET_stream', note(n));
    expect(store.size).toBe(3);
    const { sent } = await replay(store, first);
    expect(sent.map(([, m]) => (m as unknown as { params: { uri: string } }).params.uri)).toEqual([
      'memories://4',
      'memories://5',
      'memories://6',
    ]);
  });

  it('knows no id it never gave out (another session, a made-up or malformed one)', async () => {
    const store = new BoundedEventStore(3);
    await store.storeEvent('_GET_stream', note(1));
    for (const id of ['2._GET_stream', '0._GET_stream', 'abc', '', '1', `1.${'x'.repeat(200)}`]) {
      expect(await store.getStreamIdForEventId(id)).toBeUndefined();
      await expect(replay(store, id)).rejects.toThrow('unknown event id');
    }
  });
});
