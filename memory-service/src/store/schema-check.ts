import type { Knex } from '@picard/service-kit';

/**
 * Stops start-up when the stored vectors have another width than the configured model produces:
 * every search would fail, and mixing models makes similarities meaningless.
 */
export async function assertEmbeddingDimensions(
  knex: Knex,
  schema: string,
  expected: number,
  model: string,
): Promise<void> {
  const res = await knex.raw<{ rows: { type: string | null }[] }>(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a
      WHERE a.attrelid = to_regclass(?) AND a.attname = 'embedding' AND NOT a.attisdropped`,
    [`"${schema}".memories`],
  );
  const type = res.rows[0]?.type;
  if (!type) throw new Error(`table ${schema}.memories has no embedding column`);
  const found = Number(/^vector\((\d+)\)$/.exec(type)?.[1]);
  if (found !== expected) {
    throw new Error(
      `the memory database stores ${found}-dimensional embeddings (${schema}.memories.embedding is ${type}), ` +
        `but the embedding model "${model}" produces ${expected} dimensions. ` +
        'Set EMBEDDING_PROVIDER/EMBEDDING_MODEL (and EMBEDDING_DIMENSIONS) back to what the data was embedded with; ' +
        're-embedding existing memories comes with issue #5.',
    );
  }
}

/** pgvector >= 0.8 can keep scanning the HNSW index until a filtered search has enough rows. */
export async function supportsIterativeScan(knex: Knex): Promise<{ version: string; iterative: boolean }> {
  const res = await knex.raw<{ rows: { extversion: string }[] }>(
    "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
  );
  const version = res.rows[0]?.extversion ?? '0';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return { version, iterative: major > 0 || minor >= 8 };
}
