import type { TestStack } from '../support/test-stack.js';

type Service = 'auth' | 'memory' | 'persona';
const SERVICES: Service[] = ['auth', 'memory', 'persona'];

/**
 * Tables a refused request may legitimately write: failed logins and rate-limit counters are counted
 * because the request was refused. The migration bookkeeping never changes after start.
 */
const COUNTERS = new Set(['rate_limits', 'knex_migrations', 'knex_migrations_lock']);

/** Events waiting to be published; rows leave once the relay has sent them, on its own timer. */
const OUTBOX = 'outbox';

/** Per `service.table`: a digest of every row version (ctid and xmin change on any insert, update or delete). */
export type Snapshot = Map<string, string>;

type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * "Nothing written by a refused request", checked in the services' own databases: a snapshot of
 * every table before the request and after it must be equal, except that outbox rows may leave
 * (the relay drains what earlier, accepted requests wrote).
 */
export class WriteLedger {
  private constructor(
    private readonly queries: Record<Service, Query>,
    private readonly statements: Record<Service, string>,
    private readonly close_: () => Promise<void>,
  ) {}

  static async open(t: TestStack): Promise<WriteLedger> {
    const queries = {} as Record<Service, Query>;
    const closers: (() => Promise<void>)[] = [];
    for (const service of SERVICES) {
      const target = t.databases[service].target;
      if (target.kind === 'pglite') {
        queries[service] = async (sql, params) =>
          (await target.pglite.query<Record<string, unknown>>(sql, params)).rows;
      } else {
        // One connection per service for the whole run: a snapshot is taken around every request.
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: target.url });
        await client.connect();
        closers.push(() => client.end());
        queries[service] = async (sql, params) =>
          (await client.query(sql, params)).rows as Record<string, unknown>[];
      }
    }
    const statements = {} as Record<Service, string>;
    for (const service of SERVICES) {
      const schema = t.schemas[service];
      const tables = (
        await queries[service]('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [
          schema,
        ])
      )
        .map((r) => String(r.table_name))
        .filter((name) => !COUNTERS.has(name))
        .sort();
      statements[service] = tables
        .map((table) =>
          table === OUTBOX
            ? `SELECT '${table}' AS name, coalesce(string_agg(id::text, ',' ORDER BY id), '') AS digest FROM "${schema}"."${table}"`
            : `SELECT '${table}' AS name, count(*) || ':' || coalesce(sum(hashtext(ctid::text || ':' || xmin::text)), 0) AS digest FROM "${schema}"."${table}"`,
        )
        .join(' UNION ALL ');
    }
    return new WriteLedger(queries, statements, async () => {
      await Promise.all(closers.map((c) => c()));
    });
  }

  async snapshot(): Promise<Snapshot> {
    const rows = await Promise.all(
      SERVICES.map(async (service) =>
        (await this.queries[service](this.statements[service])).map(
          (r) => [`${service}.${String(r.name)}`, String(r.digest)] as const,
        ),
      ),
    );
    return new Map(rows.flat());
  }

  /**
   * A snapshot once the writes an accepted request set off after answering (events, their
   * consumers) have landed: two equal snapshots in a row, at most `ms` of waiting.
   */
  async settled(ms = 1500): Promise<Snapshot> {
    const until = Date.now() + ms;
    let last = await this.snapshot();
    for (;;) {
      await new Promise((r) => setTimeout(r, 5));
      const next = await this.snapshot();
      if (WriteLedger.changes(last, next).length === 0 || Date.now() > until) return next;
      last = next;
    }
  }

  /** The tables written between two snapshots; outbox rows that left are not a write. */
  static changes(before: Snapshot, after: Snapshot): string[] {
    const changed: string[] = [];
    for (const [table, digest] of after) {
      const was = before.get(table) ?? '';
      if (digest === was) continue;
      if (table.endsWith(`.${OUTBOX}`)) {
        const earlier = new Set(was.split(','));
        if (digest.split(',').every((id) => id === '' || earlier.has(id))) continue;
      }
      changed.push(table);
    }
    return changed;
  }

  close(): Promise<void> {
    return this.close_();
  }
}
