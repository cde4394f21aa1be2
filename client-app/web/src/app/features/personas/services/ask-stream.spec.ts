import { describe, expect, it, jest } from '@jest/globals';
import { TextEncoder as NodeTextEncoder } from 'node:util';
import type { AskEvent } from '@contract/bff-api';
import { askEvents, xsrfToken, type FetchLike } from './ask-stream';

function ndjsonResponse(lines: string[]): Response {
  const chunks = lines.map((l) => new NodeTextEncoder().encode(l));
  return {
    ok: true,
    status: 200,
    body: {
      getReader: () => ({
        read: async () => {
          const value = chunks.shift();
          return value ? { done: false, value } : { done: true, value: undefined };
        },
        releaseLock: () => undefined,
      }),
    },
  } as unknown as Response;
}

async function all(gen: AsyncGenerator<AskEvent>): Promise<AskEvent[]> {
  const out: AskEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

describe('xsrfToken', () => {
  it('reads the XSRF-TOKEN cookie', () => {
    expect(xsrfToken('a=1; XSRF-TOKEN=abc%3D%3D; b=2')).toBe('abc==');
    expect(xsrfToken('a=1')).toBeNull();
  });
});

describe('askEvents', () => {
  it('POSTs the question with the XSRF header and yields the streamed events', async () => {
    const fetchFn = jest.fn<FetchLike>(async () =>
      ndjsonResponse([
        '{"type":"delta","text":"Try "}\n{"type":"delta","text":"the fish"}\n',
        '{"type":"result","result":{"answer":"Try the fish","generated":true,"citations":["m1"],"memories":[]}}\n',
      ]),
    );
    const events = await all(askEvents(fetchFn, 'user/1', { prompt: 'Where to eat?' }, 'XSRF-TOKEN=tok'));
    expect(events.map((e) => e.type)).toEqual(['delta', 'delta', 'result']);
    const [url, init] = fetchFn.mock.calls[0]!;
    expect(url).toBe('/bff/personas/user%2F1/ask');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['X-XSRF-TOKEN']).toBe('tok');
    expect(init.credentials).toBe('same-origin');
    expect(JSON.parse(init.body as string)).toEqual({ prompt: 'Where to eat?' });
  });

  it("turns an HTTP error into one error event carrying the BFF's message", async () => {
    const fetchFn: FetchLike = async () =>
      ({
        ok: false,
        status: 429,
        body: null,
        json: async () => ({ error: 'rate_limited', message: 'Slow down.' }),
      }) as unknown as Response;
    expect(await all(askEvents(fetchFn, 'u', { prompt: 'q' }, ''))).toEqual([
      { type: 'error', error: { error: 'rate_limited', message: 'Slow down.' } },
    ]);
  });

  it('turns a network failure and a broken line into error events', async () => {
    const down: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect((await all(askEvents(down, 'u', { prompt: 'q' }, '')))[0]).toMatchObject({
      type: 'error',
      error: { error: 'network' },
    });
    const broken: FetchLike = async () => ndjsonResponse(['{"type":"delta","text":"a"}\n{oops\n']);
    const events = await all(askEvents(broken, 'u', { prompt: 'q' }, ''));
    expect(events[0]).toEqual({ type: 'delta', text: 'a' });
    expect(events[1]).toMatchObject({ type: 'error', error: { error: 'stream_failed' } });
  });
});
