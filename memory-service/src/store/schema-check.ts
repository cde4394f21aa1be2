import type { Knex } from '@picard/service-kit';

/** pgvector >= 0.8 can keep scanning the HNSW index until a filtered search has enough rows. */
export async function supportsIterativeScan(knex: Knex): Promise<{ version: string; iterative: boolean }> {
  const res = await knex.raw<{ rows: { extversion: string }[] }>(
    "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
  );
  const version = res.rows[0]?.extversion ?? '0';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return { version, iterative: major > 0 || minor >= 8 };
}
