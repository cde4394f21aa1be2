import type { DatabaseTarget } from '@picard/service-kit';

export interface SearchFilter {
  viewer: string;
  /** Only this user's memories (query_memory's user_id). */
  owner?: string;
  tag?: string;
  limit: number;
}

/**
 * The statement memory-service runs for query_memory (the visibility rule with user and group
 * shares, expiry, the optional filters), run directly so the database's share of the time and the
 * index's recall can be measured on their own.
 */
function statement(schema: string, f: SearchFilter) {
  const s = `"${schema}"`;
  const where = [
    'm.embedding IS NOT NULL',
    `(m.user_id = $2 OR m.permission = 'public' OR (m.permission = 'shared' AND EXISTS (
        SELECT 1 FROM ${s}.memory_shares sh WHERE sh.memory_id = m.id AND (
          (sh.principal_type = 'user' AND sh.principal_id = $2) OR
          (sh.principal_type = 'group' AND sh.principal_id IN (SELECT group_id FROM ${s}.group_members WHERE user_id = $2))))))`,
    '(m.expiration_date IS NULL OR m.expiration_date > now())',
  ];
  const params: unknown[] = [f.viewer];
  if (f.owner) where.push(`m.user_id = $${params.push(f.owner) + 1}`);
  if (f.tag) where.push(`m.tags @> ARRAY[$${params.push(f.tag) + 1}]::text[]`);
  return {
    sql: `SELECT m.id FROM ${s}.memories AS m WHERE ${where.join(' AND ')} ORDER BY m.embedding <=> $1::vector LIMIT ${f.limit}`,
    params,
  };
}

async function run(
  db: DatabaseTarget,
  settings: string[],
  sql: string,
  params: unknown[],
): Promise<string[]> {
  if (db.kind === 'pglite') {
    return db.pglite.transaction(async (tx) => {
      for (const s of settings) await tx.exec(s);
      return (await tx.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
    });
  }
  const { default: pg } = await import('pg');
  pool ??= new pg.Pool({ connectionString: db.url, max: 4 });
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    for (const s of settings) await c.query(s);
    const ids = (await c.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
    await c.query('COMMIT');
    return ids;
  } finally {
    c.release();
  }
}
let pool: import('pg').Pool | undefined;

/** HNSW search with iterative scan, as the service runs it, at a given ef_search. */
export function searchAt(
  db: DatabaseTarget,
  schema: string,
  vector: number[],
  f: SearchFilter & { efSearch: number },
) {
  const { sql, params } = statement(schema, f);
  const settings = [
    `SET LOCAL hnsw.ef_search = ${Math.trunc(f.efSearch)}`,
    'SET LOCAL hnsw.iterative_scan = relaxed_order',
  ];
  return run(db, settings, sql, [`[${vector.join(',')}]`, ...params]);
}

/** The exact answer: the same statement with index scans disabled, so every visible row is compared. */
export function exactSearch(db: DatabaseTarget, schema: string, vector: number[], f: SearchFilter) {
  const { sql, params } = statement(schema, f);
  const settings = ['SET LOCAL enable_indexscan = off', 'SET LOCAL enable_bitmapscan = off'];
  return run(db, settings, sql, [`[${vector.join(',')}]`, ...params]);
}

export async function closeSql(): Promise<void> {
  await pool?.end();
  pool = undefined;
}
