/**
 * REST query phases of `npm run bench:scale`, in a process of their own: a real client is a separate
 * process, so its HTTP work must not share the server's event loop (it still shares the machine's
 * cores). Reads one JSON job from stdin, writes the samples (ms) per phase to stdout.
 *
 * Job: { url, token, limit, phases: [{ name, concurrency, warmup: string[], queries: string[] }] }
 */
import { measure } from './measure.mjs';
import { restQuery } from './rest-query.mjs';
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const one = restQuery(job);
const query = (texts) => (i) => one(texts[i]);

const out = {};
for (const phase of job.phases) {
  await measure(phase.warmup.length, 1, query(phase.warmup));
  out[phase.name] = await measure(phase.queries.length, phase.concurrency, query(phase.queries));
}
process.stdout.write(JSON.stringify(out));
