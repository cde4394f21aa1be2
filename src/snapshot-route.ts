import type { ControlRoutes, DatabaseTarget } from '@picard/service-kit';

const SNAPSHOT = /^\/databases\/([a-z]+)\/snapshot$/;

/**
 * The running launcher's half of an online backup: `POST /databases/<name>/snapshot` over the
 * control socket answers with that embedded database's data directory (an uncompressed tar) as of
 * the moment it is taken: every write acknowledged before the request is in it.
 */
export function snapshotRoute(
  database: (name: string) => Promise<DatabaseTarget> | undefined,
): ControlRoutes {
  return async (req, res) => {
    const name = req.method === 'POST' ? SNAPSHOT.exec(req.url ?? '')?.[1] : undefined;
    if (!name) return false;
    const target = await database(name);
    if (!target) return reply(res, 404, `no database ${name}`);
    if (target.kind !== 'pglite')
      return reply(res, 409, `the ${name} database is in PostgreSQL: back it up with pg_dump`);
    const tar = await target.pglite.dumpDataDir();
    res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': tar.byteLength });
    res.end(tar);
    return true;
  };
}

function reply(res: Parameters<ControlRoutes>[1], status: number, message: string): true {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message }));
  return true;
}
