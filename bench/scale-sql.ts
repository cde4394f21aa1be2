import { openDatabase, type DatabaseTarget, type Knex } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import { MemoryStore, type SearchFilter as StoreFilter } from '../memory-service/src/store/memory.store.js';

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
 */
let open: { target: DatabaseTarget; schema: string; knex: Knex; store: MemoryStore } | undefined;

async function storeFor(target: DatabaseTarget, schema: string): Promise<MemoryStore> {
  if (open?.target === target && open.schema === schema) return open.store;
  await closeSql();
  // No migrations: the service already made the tables; this is a second connection to them.
  const knex = await openDatabase({ target, schema, migrations: [], logger: testLogger(), poolMax: 4 });
  open = { target, schema, knex, store: new MemoryStore(knex) };
  return open.store;
}

const storeFilter = (f: SearchFilter): StoreFilter => ({
  ...(f.owner ? { userId: f.owner } : {}),
  ...(f.tag ? { tags: [f.tag] } : {}),
});

/** HNSW search with iterative scan at a given ef_search: the store's own search. */
export async function searchAt(
  db: DatabaseTarget,
  schema: string,
  vector: number[],
  f: SearchFilter & { efSearch: number },
): Promise<string[]> {
  const store = await storeFor(db, schema);
  const rows = await store.search(
    { userId: f.viewer },
    vector,
    { limit: f.limit, efSearch: f.efSearch, iterativeScan: true },
    storeFilter(f),
  );
  return rows.map((r) => r.id);
}

/** The exact answer: the same statement with index scans disabled, so every visible row is compared. */
export async function exactSearch(
  db: DatabaseTarget,
  schema: string,
  vector: number[],
  f: SearchFilter,
): Promise<string[]> {
  const store = await storeFor(db, schema);
  return store.knex.transaction(async (trx) => {
    await trx.raw(
      "SELECT set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'off', true)",
    );
    const rows = (await store.searchQuery(trx, { userId: f.viewer }, vector, f.limit, storeFilter(f))) as {
      id: string;
    }[];
    return rows.map((r) => r.id);
  });
}

export async function closeSql(): Promise<void> {
  const was = open;
  open = undefined;
  await was?.knex.destroy();
}
