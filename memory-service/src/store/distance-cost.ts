import type { Knex, Logger } from '@picard/service-kit';

/**
 * The planner cost of one cosine distance between two stored vectors.
 *
 * pgvector leaves its distance functions at PostgreSQL's default (COST 1, a cheap operator), so the
 * planner believes that computing the exact distance to thousands of rows and sorting them costs
 * little more than reading them, and for most searches it picks a bitmap scan plus a sort over the
 * HNSW index. Measured at 10,000 memories (four users, a quarter public, a viewer seeing 44 %): the
 * exact plan took 21 ms on PostgreSQL and 30-50 ms in PGlite, the HNSW plan 3-5 ms and 9-16 ms.
 * A 512-d distance, with the vector read out of TOAST, really costs hundreds of cheap operators.
 * With 1000 the planner takes the index for everything visible and for an owner holding a quarter
 * of the table, and still scans exactly when a filter leaves a few hundred rows (2-5 % of the
 * table), where the exact answer is both cheaper and complete; 300 still chose the exact scan for
 * the quarter, 3000 chose as 1000 did. The plan test pins these choices.
 */
export const DISTANCE_COST = 1000;

/**
 * Sets the cost on the cosine distance of `vector` (the operator the HNSW index serves). Run at
 * every start rather than as a migration: the setting lives on the extension's function, which a
 * restore or an extension update recreates without it. Needs the extension's owner (the role that
 * created it, as our migrations do); without that right, searches stay correct, only slower.
 */
export async function calibrateDistanceCost(knex: Knex, logger: Logger): Promise<void> {
  const fn = 'public.cosine_distance(public.vector, public.vector)';
  try {
    const res = await knex.raw<{ rows: { procost: number | string }[] }>(
      `SELECT procost FROM pg_proc WHERE oid = '${fn}'::regprocedure`,
    );
    if (Number(res.rows[0]?.procost) === DISTANCE_COST) return;
    await knex.raw(`ALTER FUNCTION ${fn} COST ${DISTANCE_COST}`);
  } catch (err) {
    // Two instances starting at once may race on the catalog row; the other one has set it.
    logger.warn(
      { err },
      `could not set the planner cost of pgvector's cosine distance; searches may skip the HNSW index. ` +
        `As the extension's owner run: ALTER FUNCTION ${fn} COST ${DISTANCE_COST}`,
    );
  }
}
