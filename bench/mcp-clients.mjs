/**
 * The MCP phases of `npm run bench`, in a process of their own: a real MCP host is a separate
 * process, so its client's work (JSON-RPC, the SDK validating results) must not share the
 * server's event loop. Reads one JSON job from stdin, writes the samples (ms) per phase to stdout.
 *
 * Job: { url, token, limit, phases: [{ name, kind: 'ping' | 'query', concurrency, warmup: string[], queries: string[] }] }
 */
import { measure } from './measure.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const most = Math.max(...job.phases.map((p) => p.concurrency));
const clients = await Promise.all(
  Array.from({ length: most }, async () => {
    const c = new Client({ name: 'bench', version: '1' });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(`${job.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${job.token}` } },
      }),
    );
    return c;
  }),
);

const out = {};
for (const phase of job.phases) {
  const run = (texts) => async (i, worker) => {
    const client = clients[worker];
    if (phase.kind === 'ping') return void (await client.ping());
    const res = await client.callTool({
      name: 'query_memory',
      arguments: { query: texts[i], limit: job.limit },
    });
    if (res.isError) throw new Error(JSON.stringify(res.content));
  };
  await measure(phase.warmup.length, 1, run(phase.warmup));
  out[phase.name] = await measure(phase.queries.length, phase.concurrency, run(phase.queries));
}
await Promise.all(clients.map((c) => c.close()));
process.stdout.write(JSON.stringify(out));
