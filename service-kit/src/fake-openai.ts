import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback OpenAI-compatible HTTP server for tests: the one stand-in the project allows, because
 * it replaces a paid outside API. It records every request so a test can check exactly what was
 * sent (model, messages, what was quoted), and answers per mode:
 *   ok   canned chat completions (also as `stream: true` server-sent events) and embeddings;
 *   fail an HTTP error (500 by default) with an OpenAI-shaped error body;
 *   slow  the ok answer after `slowMs`, so clients' timeouts fire;
 *   stall the response starts (status, headers, a first streamed delta) and then never goes on,
 *         for the timeouts that must cover a stream after it started.
 */
export type FakeOpenAiMode = 'ok' | 'fail' | 'slow' | 'stall';

export interface FakeOpenAiRequest {
  method: string;
  /** Path as received, e.g. "/v1/chat/completions". */
  path: string;
  authorization?: string;
  /** The parsed JSON body (undefined when the body was not JSON). */
  body: unknown;
}

/** Chat request body fields tests look at most; the whole body is in `body`. */
export interface FakeChatBody {
  model: string;
  messages: { role: string; content: string }[];
  stream?: boolean;
  temperature?: number;
  max_tokens?: number;
}

export type FakeReply = string | ((body: FakeChatBody) => string);

export interface FakeOpenAiOptions {
  mode?: FakeOpenAiMode;
  reply?: FakeReply;
  /** Delay of the `slow` mode (default 2000 ms). */
  slowMs?: number;
  /** HTTP status of the `fail` mode (default 500). */
  failStatus?: number;
  /** Characters per streamed delta (default 8), so a reply arrives in several chunks. */
  chunkChars?: number;
}

export interface FakeOpenAi {
  /** Base URL to give an OpenAI client, ending in /v1. */
  url: string;
  requests: FakeOpenAiRequest[];
  /** The bodies of the chat completion requests received so far. */
  chatRequests(): FakeChatBody[];
  setMode(mode: FakeOpenAiMode, opts?: { slowMs?: number; failStatus?: number }): void;
  setReply(reply: FakeReply): void;
  /** Forgets recorded requests and goes back to the options given at start. */
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_FAKE_REPLY = 'This is a canned reply from the fake OpenAI server.';

/** Deterministic unit vector for a text, so equal texts embed equally. */
function fakeVector(text: string, dimensions: number): number[] {
  const bytes: number[] = [];
  for (let i = 0; bytes.length < dimensions; i++) {
    bytes.push(...createHash('sha256').update(`${i}:${text}`).digest());
  }
  const v = bytes.slice(0, dimensions).map((b) => b / 255 - 0.5);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const requests: FakeOpenAiRequest[] = [];
  let mode: FakeOpenAiMode = options.mode ?? 'ok';
  let reply: FakeReply = options.reply ?? DEFAULT_FAKE_REPLY;
  let slowMs = options.slowMs ?? 2000;
  let failStatus = options.failStatus ?? 500;
  const chunkChars = options.chunkChars ?? 8;
  let counter = 0;

  const chat = (res: ServerResponse, body: FakeChatBody) => {
    const text = typeof reply === 'function' ? reply(body) : reply;
    const id = `chatcmpl-fake-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      if (mode === 'stall') return res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      return json(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [
          { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    if (mode === 'stall') return res.write(chunk({ content: text.slice(0, chunkChars) }, null));
    for (let i = 0; i < text.length; i += chunkChars)
      res.write(chunk({ content: text.slice(i, i + chunkChars) }, null));
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  };

  const embeddings = (
    res: ServerResponse,
    body: { model: string; input: string | string[]; dimensions?: number },
  ) => {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    json(res, 200, {
      object: 'list',
      model: body.model,
      data: inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: fakeVector(text, body.dimensions ?? 8),
      })),
      usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
    });
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const path = req.url ?? '';
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      const answer = () => {
        if (res.destroyed) return;
        if (mode === 'fail') {
          return json(res, failStatus, {
            error: { message: 'the fake upstream failed', type: 'server_error', code: null },
          });
        }
        if (req.method === 'POST' && path.endsWith('/chat/completions'))
          return chat(res, body as FakeChatBody);
        if (req.method === 'POST' && path.endsWith('/embeddings')) return embeddings(res, body as never);
        json(res, 404, {
          error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' },
        });
      };
      if (mode === 'slow') setTimeout(answer, slowMs).unref();
      else answer();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () =>
      requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as FakeChatBody),
    setMode(next, opts = {}) {
      mode = next;
      if (opts.slowMs !== undefined) slowMs = opts.slowMs;
      if (opts.failStatus !== undefined) failStatus = opts.failStatus;
    },
    setReply(next) {
      reply = next;
    },
    reset() {
      requests.length = 0;
      mode = options.mode ?? 'ok';
      reply = options.reply ?? DEFAULT_FAKE_REPLY;
      slowMs = options.slowMs ?? 2000;
      failStatus = options.failStatus ?? 500;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
