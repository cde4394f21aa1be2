import { describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { DomainError } from './errors.js';
import { createLogger } from './logger.js';
import { isNotUpYet, waitForDependency } from './dependency-wait.js';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const logger = createLogger('test', 'silent');
  for (const level of ['info', 'warn'] as const)
    logger[level] = ((obj: Record<string, unknown>, msg: string) =>
      lines.push({ level, obj, msg })) as unknown as typeof logger.warn;
  return { logger, lines };
}

describe('waitForDependency', () => {
  it('retries a dependency that is not up yet with growing pauses, logs it, and reports when it is up', async () => {
    const { logger, lines } = recordingLogger();
    const pauses: number[] = [];
    const waiting: (string | undefined)[] = [];
    let calls = 0;
    const value = await waitForDependency(
      'auth-service',
      async () => {
        if (++calls < 6) throw refused();
        return 'ready';
      },
      {
        logger,
        initialDelayMs: 100,
        maxDelayMs: 1000,
        sleep: async (ms) => void pauses.push(ms),
        onWaiting: (w) => waiting.push(w),
      },
    );
    expect(value).toBe('ready');
    expect(pauses).toEqual([100, 200, 400, 800, 1000]);
    expect(waiting).toEqual(['auth-service', undefined]);
    expect(lines[0]).toMatchObject({ level: 'warn', obj: { dependency: 'auth-service', attempt: 1 } });
    expect(lines[0]!.msg).toMatch(/waiting for auth-service/);
    expect(lines.at(-1)).toMatchObject({ level: 'info', obj: { attempts: 6 }, msg: 'auth-service is up' });
  });

  it('logs a long wait about every 30 s, not every attempt', async () => {
    const { logger, lines } = recordingLogger();
    let calls = 0;
    await waitForDependency(
      'PostgreSQL',
      async () => {
        if (++calls < 40) throw refused();
      },
      { logger, initialDelayMs: 5000, maxDelayMs: 5000, sleep: async () => undefined },
    );
    // 39 failures 5 s apart: ~195 s of waiting, one line per 30 s.
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(7);
  });

  it('throws a failure that waiting cannot fix at once', async () => {
    const { logger } = recordingLogger();
    let calls = 0;
    const wrongPassword = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    await expect(
      waitForDependency(
        'PostgreSQL',
        async () => {
          calls++;
          throw wrongPassword;
        },
        { logger, sleep: async () => undefined },
      ),
    ).rejects.toBe(wrongPassword);
    expect(calls).toBe(1);
  });

  it('stops waiting when the service is shut down', async () => {
    const { logger } = recordingLogger();
    const stop = new AbortController();
    let calls = 0;
    await expect(
      waitForDependency(
        'NATS',
        async () => {
          if (++calls === 3) stop.abort();
          throw refused();
        },
        { logger, sleep: async () => undefined, signal: stop.signal },
      ),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect(calls).toBe(3);
  });
});

describe('isNotUpYet', () => {
  it('knows refused connections, unavailable gRPC services and wrapped causes; not configuration errors', () => {
    expect(isNotUpYet(refused())).toBe(true);
    expect(isNotUpYet(Object.assign(new Error('14 UNAVAILABLE'), { code: status.UNAVAILABLE }))).toBe(true);
    expect(isNotUpYet(new Error('gateway could not start', { cause: refused() }))).toBe(true);
    expect(isNotUpYet(new AggregateError([refused()], 'all failed'))).toBe(true);
    expect(isNotUpYet(new DomainError('unavailable', 'embedding-service unreachable'))).toBe(true);
    expect(isNotUpYet(Object.assign(new Error('14 UNAUTHENTICATED'), { code: status.UNAUTHENTICATED }))).toBe(
      false,
    );
    expect(isNotUpYet(new DomainError('invalid_argument', 'bad'))).toBe(false);
    expect(isNotUpYet(Object.assign(new Error('no such database'), { code: '3D000' }))).toBe(false);
    expect(isNotUpYet(new Error('boom'))).toBe(false);
  });
});
