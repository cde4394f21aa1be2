import knexFactory from 'knex';
import { openDatabase, type DatabaseTarget, type Knex } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import { MemoryStore, type SearchFilter as StoreFilter } from '../memory-service/src/store/memory.store.js';
import { searchSessionSql } from '../memory-service/src/store/search-session.js';
import { DEFAULT_EF_SEARCH as SERVICE_EF_SEARCH } from '../memory-service/src/config.js';

export interface SearchFilter {
  viewer: string;
  /** Only this user's memories (query_memory's user_id). */
  owner?: string;
  tag?: string;
  limit: number;
}

/**
 * The search statement memory-service runs for query_memory, built by its own store (visibility
 * with user and group shares, expiry, the filters) and run directly on the service's database, so
 * the database's share of the time and the index's recall are measured on their own.
 *
 * On PostgreSQL it runs through a pool of its own. An embedded PGlite has one session, which the
 * service's knex shares: a second knex's BEGIN / SET LOCAL could be cut short by the service's own
 * transactions (its timers keep running), silently dropping the iterative scan. There the statement
 * is only built by the store and runs inside PGlite's own transaction, which nothing interleaves with.
 */
let open: { target: DatabaseTarget; schema: string; knex: Knex; store: MemoryStore } | undefined;

async function storeFor(target: DatabaseTarget, schema: string): Promise<MemoryStore> {
  if (open?.target === target && open.schema === schema) return open.store;
  await closeSql();
  const pglite = target.kind === 'pglite';
  const knex = pglite
    ? knexFactory({ client: 'pg' }) // builds SQL only; never connects
    : // No migrations: the service already made the tables; this is a second pool on them, whose
      // connections start as the service's do.
      await openDatabase({
        target,
        schema,
        migrations: [],
        logger: testLogger(),
        poolMax: 4,
        onConnect: searchSessionSql(SERVICE_EF_SEARCH),
      });
  const session = { efSearch: SERVICE_EF_SEARCH, iterativeScan: true, nodePostgres: !pglite };
  open = { target, schema, knex, store: new MemoryStore(knex, undefined, session) };
  return open.store;
}

const storeFilter = (f: SearchFilter): StoreFilter => ({
  ...(f.owner ? { userId: f.owner } : {}),
  ...(f.tag ? { tags: [f.tag] } : {}),
});

/** The store's search statement for `f`, run in one transaction after `settings` (SET LOCAL each). */
async function runSearch(
  target: DatabaseTarget,
  schema: string,
  vector: number[],
  f: SearchFilter,
  settings: Record<string, string>,
): Promise<string[]> {
  const store = await storeFor(target, schema);
  const tune = Object.entries(settings).map(([name, value]) => ({
    sql: 'SELECT set_config(?, ?, true)',
    bindings: [name, value],
  }));
  if (target.kind === 'pglite') {
    const statement = store
      .searchQuery(store.knex, { userId: f.viewer }, vector, f.limit, storeFilter(f))
      .toSQL()
      .toNative();
    return target.pglite.transaction(async (tx) => {
      await tx.query("SELECT set_config('search_path', $1, true)", [`"${schema}", public`]);
      for (const t of tune) await tx.query('SELECT set_config($1, $2, true)', t.bindings);
      const { rows } = await tx.query<{ id: string }>(statement.sql, statement.bindings as unknown[]);
      return rows.map((r) => r.id);
    });
  }
  return store.knex.transaction(async (trx) => {
    for (const t of tune) await trx.raw(t.sql, t.bindings);
    const rows = (await store.searchQuery(trx, { userId: f.viewer }, vector, f.limit, storeFilter(f))) as {
      id: string;
    }[];
    return rows.map((r) => r.id);
  });
}

/**
 * The vector statement as memory-service runs a search with its default settings, the database's
 * own share of a query: on PostgreSQL one round trip (a statement prepared once per connection, on
 * a connection that already has the search settings, the vector in binary); on PGlite inside the
 * session the service already set up. `searchAt` instead SETs its settings in a transaction of its
 * own (four more round trips), which measured ~0.6-1.5 ms slower than the service's own statement.
 */
export async function searchAsService(
  target: DatabaseTarget,
  schema: string,
  vector: number[],
  f: SearchFilter,
): Promise<string[]> {
  const store = await storeFor(target, schema);
  if (target.kind === 'pglite') return runSearch(target, schema, vector, f, {});
  const options = { limit: f.limit, efSearch: SERVICE_EF_SEARCH, iterativeScan: true };
  return (await store.search({ userId: f.viewer }, vector, options, storeFilter(f))).map((r) => r.id);
}

/** HNSW search with iterative scan at a given ef_search, as the store's `search` tunes it. */
export function searchAt(
  db: DatabaseTarget,
  schema: string,
  vector: number[],
  f: SearchFilter & { efSearch: number },
): Promise<string[]> {
  return runSearch(db, schema, vector, f, {
    'hnsw.ef_search': String(Math.trunc(f.efSearch)),
    'hnsw.iterative_scan': 'relaxed_order',
  });
}

/** The exact answer: the same statement with index scans disabled, so every visible row is compared. */
export function exactSearch(
  db: DatabaseTarget,
  schema: string,
  vector: number[],
  f: SearchFilter,
): Promise<string[]> {
  return runSearch(db, schema, vector, f, { enable_indexscan: 'off', enable_bitmapscan: 'off' });
}

export async function closeSql(): Promise<void> {
  const was = open;
  open = undefined;
  await was?.knex.destroy();
}
