import { createHash } from 'node:crypto';
import type { Knex } from '@picard/service-kit';

interface PgConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `query` as a named prepared statement on a pooled node-postgres connection: each connection
 * parses a statement once (node-postgres remembers which names it prepared) instead of on every
 * call, ~0.2 ms of PostgreSQL per search. The name is the SQL's hash, so statements that differ
 * in shape (filters) never share one. Only for a bounded set of shapes: a connection keeps every
 * statement it prepared until it closes.
 */
export async function runPrepared(knex: Knex, query: Knex.QueryBuilder): Promise<unknown[]> {
  const { sql, bindings } = query.toSQL().toNative();
  const name = `picard_${createHash('sha1').update(sql).digest('base64url')}`;
  const connection = (await knex.client.acquireConnection()) as PgConnection;
  try {
    return (await connection.query({ name, text: sql, values: bindings })).rows;
  } finally {
    await knex.client.releaseConnection(connection);
  }
}
