/**
 * REST query phases of `npm run bench:scale`, in a process of their own: a real client is a separate
 * process, so its HTTP work must not share the server's event loop (it still shares the machine's
 * cores). Reads one JSON job from stdin, writes the samples (ms) per phase to stdout.
 *
 * Job: { url, token, limit, phases: [{ name, concurrency, warmup: string[], queries: string[] }] }
 */
import { measure } from './measure.mjs';
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const query = (texts) => async (i) => {
  const res = await fetch(`${job.url}/api/tools/query_memory`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
    body: JSON.stringify({ query: texts[i], limit: job.limit }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${text.slice(0, 300)}`);
  const found = JSON.parse(text).result.memories.length;
  if (found !== job.limit) throw new Error(`query returned ${found} memories, not ${job.limit}`);
};

const out = {};
for (const phase of job.phases) {
  await measure(phase.warmup.length, 1, query(phase.warmup));
  out[phase.name] = await measure(phase.queries.length, phase.concurrency, query(phase.queries));
}
process.stdout.write(JSON.stringify(out));
