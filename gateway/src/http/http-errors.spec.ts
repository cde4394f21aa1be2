import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  DomainError,
  ERROR_CODES,
  RateLimitedError,
  toServiceError,
  type ErrorCode,
} from '@picard/service-kit';
import { z, ZodError } from 'zod';
import { BatchError } from '../mcp/tools/batch-error.js';
import { fromZodError, handled } from './http-errors.js';

/** A gRPC failure as a client sees it: what a service's edge sent (toServiceError), or gRPC's own. */
const grpcFailure = (sent: Partial<ServiceError>): ServiceError =>
  Object.assign(new Error(sent.details ?? 'grpc failure'), {
    metadata: new Metadata(),
    details: '',
    ...sent,
  }) as ServiceError;

/**
 * The HTTP face of the error model, through a real express app on loopback: each route throws one
 * kind of failure and `handled` answers it.
 */
describe('gateway HTTP error mapping (handled / sendError)', () => {
  const logged: unknown[] = [];
  let server: Server;
  let base = '';
  let thrown: () => unknown;

  beforeAll(async () => {
    const app = express();
    app.locals.logger = { error: (obj: unknown) => logged.push(obj) };
    app.get(
      '/fail',
      handled(async () => {
        throw thrown();
      }),
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const answer = async (err: () => unknown) => {
    thrown = err;
    logged.length = 0;
    const res = await fetch(`${base}/fail`);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  it.each(
    Object.entries(ERROR_CODES).filter(([code]) => code !== 'internal') as [ErrorCode, { http: number }][],
  )('a DomainError %s is answered with its HTTP status, code, message and field', async (code, { http }) => {
    const res = await answer(() => new DomainError(code, `it went ${code}`, 'some.field'));
    expect(res.status).toBe(http);
    expect(res.body).toEqual({ error: code, message: `it went ${code}`, field: 'some.field' });
    expect(logged).toHaveLength(0);
  });

  it('leaves out field when the error names none', async () => {
    const res = await answer(() => new DomainError('not_found', 'memory 1 not found'));
    expect(res.body).toEqual({ error: 'not_found', message: 'memory 1 not found' });
  });

  it('a rate limit adds Retry-After', async () => {
    const res = await answer(() => new RateLimitedError('slow down', 42));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('42');
    expect(res.body).toEqual({ error: 'resource_exhausted', message: 'slow down' });
  });

  it('a service error keeps the code, field and Retry-After the service sent', async () => {
    const sent = toServiceError(new DomainError('invalid_argument', 'text: too long', 'text'));
    expect(await answer(() => grpcFailure(sent))).toMatchObject({
      status: 400,
      body: { error: 'invalid_argument', message: 'text: too long', field: 'text' },
    });
    const limited = await answer(() => grpcFailure(toServiceError(new RateLimitedError('later', 7))));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
  });

  it("gRPC's own failures (no code of ours) hide their details behind a logged error id", async () => {
    const res = await answer(() =>
      grpcFailure({
        code: status.UNAVAILABLE,
        details: 'No connection established. Last error: connect ECONNREFUSED 10.0.0.7:50051',
      }),
    );
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('unavailable');
    expect(res.body.message).toMatch(/^a service is unavailable \(error id [0-9a-f-]{36}\)$/);
    expect(JSON.stringify(res.body)).not.toContain('10.0.0.7');
    const id = /error id ([0-9a-f-]{36})/.exec(String(res.body.message))![1];
    expect(logged).toEqual([expect.objectContaining({ errorId: id })]);
  });

  it('a thrown Error is a generic 500 with an error id; its message reaches only the log', async () => {
    const res = await answer(() => new Error('SELECT * FROM secrets failed'));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: 'internal',
      message: expect.stringMatching(/^internal error \(error id [0-9a-f-]{36}\)$/),
    });
    expect(logged).toHaveLength(1);
    expect((logged[0] as { err: Error }).err.message).toBe('SELECT * FROM secrets failed');
  });

  it('an internal error a service already reported keeps its id and is not logged again', async () => {
    const sent = toServiceError(
      new DomainError('internal', 'internal error (error id abc)', undefined, { errorId: 'abc' }),
    );
    const res = await answer(() => grpcFailure(sent));
    expect(res).toMatchObject({
      status: 500,
      body: { error: 'internal', message: 'internal error (error id abc)' },
    });
    expect(logged).toHaveLength(0);
  });

  it('a refused batch lists its item errors', async () => {
    const errors = [
      { index: 1, field: 'memories[1].text', code: 'invalid_argument', message: 'text is empty' },
    ];
    const res = await answer(() => new BatchError('1 of 2 memories are invalid; nothing was stored', errors));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_argument',
      message: '1 of 2 memories are invalid; nothing was stored',
      errors,
    });
  });
});

describe('fromZodError', () => {
  const schema = z.object({ limit: z.number().int(), tags: z.array(z.string()) }).strict();
  const zodError = (input: unknown): ZodError => {
    const r = schema.safeParse(input);
    if (r.success) throw new Error('expected a failure');
    return r.error;
  };

  it('names the path of the first issue, under the prefix when there is one', () => {
    const err = fromZodError(zodError({ limit: 'ten', tags: [] }), 'data');
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'invalid_argument', field: 'data.limit' });
    expect(err.message).toMatch(/^data\.limit: /);
    expect(fromZodError(zodError({ limit: 1, tags: [3] })).field).toBe('tags.0');
  });

  it('names an unknown key itself', () => {
    const err = fromZodError(zodError({ limit: 1, tags: [], permision: 'x' }), 'data');
    expect(err).toMatchObject({
      field: 'data.permision',
      message: 'data.permision: unknown field "permision"',
    });
  });

  it('falls back to "body" when the whole input is wrong', () => {
    expect(fromZodError(zodError('not an object')).field).toBe('body');
  });
});
