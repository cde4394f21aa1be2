import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

interface StoredEvent {
  seq: number;
  streamId: StreamId;
  message: JSONRPCMessage;
}

const EVENT_ID = /^(\d{1,15})\.(.{1,100})$/;

/**
 * The replay buffer of one MCP session, for a client that reconnects with `Last-Event-ID`.
 *
 * The SDK 2.x packages ship only the `EventStore` interface; the 1.x package's `InMemoryEventStore`
 * is an example that keeps every event forever in one store shared by all sessions. This one
 * belongs to a single session (an event id from another session finds nothing of this one's) and
 * keeps the last `capacity` messages. Event ids carry their stream and a sequence number, so a
 * client whose last event was already dropped still resumes its stream with what is left.
 */
export class BoundedEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private seq = 0;

  constructor(private readonly capacity: number) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const seq = ++this.seq;
    this.events.push({ seq, streamId, message });
    if (this.events.length > this.capacity) this.events.shift();
    return `${seq}.${streamId}`;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.parse(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const last = this.parse(lastEventId);
    if (!last) throw new Error('unknown event id');
    for (const e of [...this.events]) {
      // Priming events (empty messages) only give the client an id to resume from.
      if (e.streamId !== last.streamId || e.seq <= last.seq || Object.keys(e.message).length === 0) continue;
      await send(`${e.seq}.${e.streamId}`, e.message);
    }
    return last.streamId;
  }

  get size(): number {
    return this.events.length;
  }

  /** An id this store could have given out (a sequence number it reached), else undefined. */
  private parse(eventId: EventId): { seq: number; streamId: StreamId } | undefined {
    const match = EVENT_ID.exec(eventId);
    if (!match) return undefined;
    const seq = Number(match[1]);
    return seq >= 1 && seq <= this.seq ? { seq, streamId: match[2]! } : undefined;
  }
}
