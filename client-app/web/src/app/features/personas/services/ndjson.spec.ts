import { describe, expect, it } from '@jest/globals';
import { TextDecoder as NodeTextDecoder, TextEncoder as NodeTextEncoder } from 'node:util';
import { NdjsonLineError, readNdjson, type ByteReader } from './ndjson';

const encoder = new NodeTextEncoder();
const decoder = () => new NodeTextDecoder() as unknown as TextDecoder;

function reader(chunks: (string | Uint8Array)[]): ByteReader & { released: boolean } {
  const queue = chunks.map((c) => (typeof c === 'string' ? encoder.encode(c) : c));
  return {
    released: false,
    async read() {
      const value = queue.shift();
      return value ? { done: false, value } : { done: true };
    },
    releaseLock() {
      this.released = true;
    },
  };
}

async function all<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of gen) out.push(v);
  return out;
}

describe('readNdjson', () => {
  it('yields one value per line, joining lines split across chunks', async () => {
    const r = reader([
      '{"type":"delta","te',
      'xt":"Hel"}\n{"type":"delta","text":"lo"}\n',
      '\n{"type":"result"',
      ',"result":{"answer":"Hello"}}\n',
    ]);
    expect(await all(readNdjson(r, decoder()))).toEqual([
      { type: 'delta', text: 'Hel' },
      { type: 'delta', text: 'lo' },
      { type: 'result', result: { answer: 'Hello' } },
    ]);
    expect(r.released).toBe(true);
  });

  it('keeps a multi-byte character split between chunks whole', async () => {
    const bytes = encoder.encode('{"type":"delta","text":"café ☕"}\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of ☕
    const r = reader([bytes.slice(0, cut), bytes.slice(cut)]);
    expect(await all(readNdjson(r, decoder()))).toEqual([{ type: 'delta', text: 'café ☕' }]);
  });

  it('reads a last line without a newline, and CRLF endings', async () => {
    expect(await all(readNdjson(reader(['{"a":1}\r\n{"a":2}']), decoder()))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('fails on a line that is not JSON, after yielding the good ones', async () => {
    const gen = readNdjson(reader(['{"a":1}\nnot json\n']), decoder());
    await expect(gen.next()).resolves.toEqual({ value: { a: 1 }, done: false });
    await expect(gen.next()).rejects.toBeInstanceOf(NdjsonLineError);
  });
});
