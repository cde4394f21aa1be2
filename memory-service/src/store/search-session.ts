/** The HNSW settings every memory-service connection starts with (see `searchSessionSql`). */
export interface SearchSession {
  efSearch: number;
  /** Whether `hnsw.iterative_scan` is relaxed_order (pgvector 0.8 and later). */
  iterativeScan: boolean;
  /**
   * The connections are node-postgres ones (PostgreSQL, not PGlite): query vectors go in pgvector's
   * binary form (vector-param.ts) and the searches as named prepared statements (prepared.ts).
   */
  nodePostgres: boolean;
}

/**
 * The statement that gives a new connection the search settings a typical query needs, so such a
 * search is one statement instead of a transaction of four (BEGIN, SET LOCAL, the search, COMMIT:
 * four round trips, and knex's transaction bookkeeping on the event loop). Searches needing a wider
 * scan still SET LOCAL their own. Before pgvector 0.8 there is no iterative scan and the setting
 * is dropped (the session then matches `iterativeScan: false`); any other failure is an error.
 * Prepared statements are planned for each call's own values (plan_cache_mode): one plan for any
 * viewer would walk the HNSW graph even for a user with 20 memories, whose exact scan costs a
 * fraction of that (the plan test's sparse case).
 */
export function searchSessionSql(efSearch: number): string {
  return `DO $$
BEGIN
  PERFORM set_config('hnsw.ef_search', '${Math.trunc(efSearch)}', false);
  PERFORM set_config('plan_cache_mode', 'force_custom_plan', false);
  BEGIN
    PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', false);
  EXCEPTION WHEN undefined_object OR invalid_parameter_value OR invalid_name THEN NULL;
  END;
END $$`;
}
