import { describe, expect, it } from '@jest/globals';
import { publicError } from './errors.js';
import { isConnectionLost } from './connection-lost.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

/** The real PostgreSQL restart is in e2e/cluster/faults.spec.ts; these are the shapes it produced. */
describe('a lost database connection is `unavailable`, not an internal error', () => {
  it.each([
    [
      'a restart cutting open connections',
      pgError('57P01', 'terminating connection due to administrator command'),
    ],
    ['a server that is down', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['one starting up', pgError('57P03', 'the database system is starting up')],
    [
      'a pool that could not connect in time',
      new Error('Knex: Timeout acquiring a connection. The pool is probably full.'),
    ],
    ['a wrapped cause', new Error('query failed', { cause: pgError('08006', 'connection failure') })],
  ])('%s', (_, err) => {
    expect(isConnectionLost(err)).toBe(true);
    const shown = publicError(err);
    expect(shown.error.code).toBe('unavailable');
    expect(shown.error.message).toMatch(/^a service is unavailable \(error id [0-9a-f-]{36}\)$/);
    expect(shown.log).toBe(true);
  });

  it('leaves other failures internal', () => {
    for (const err of [
      pgError('23505', 'duplicate key'),
      pgError('42P01', 'relation does not exist'),
      new TypeError('x is undefined'),
    ]) {
      expect(isConnectionLost(err)).toBe(false);
      expect(publicError(err).error.code).toBe('internal');
    }
  });
});
