/**
 * A REST client in a process of its own that makes one query_memory call per message from its
 * parent (`startIpcClient` in child-job.ts), so a benchmark can interleave it with calls of its own.
 * Job (argv[2], JSON): { url, token, limit }. Message in: { text }; out: { ms } or { error }.
 */
import { restQuery } from './rest-query.mjs';

const query = restQuery(JSON.parse(process.argv[2]));
process.on('message', async ({ text }) => {
  const t0 = performance.now();
  try {
    await query(text);
    process.send({ ms: performance.now() - t0 });
  } catch (err) {
    process.send({ error: err instanceof Error ? err.message : String(err) });
  }
});
process.send({ ready: true });
