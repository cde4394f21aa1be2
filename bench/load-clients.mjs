/**
 * The clients of `npm run bench:load`, in a process of their own (a real MCP host is one): N stock
 * MCP clients, each its own user on one of the gateways, run a mixed workload for a fixed time.
 * Reads one JSON job from stdin; writes per-operation samples (ms), error counts and examples to
 * stdout; prints a line of progress to stderr every 10 s.
 *
 * Job: { gateways: string[], users: {token, userId}[], seconds, mix: {op: weight}, texts: string[],
 *        queries: string[], seed }
 * Ops: submit, query, get, update, share, query_user.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));

let seed = job.seed >>> 0 || 1;
const random = () => {
  // xorshift32: the same run for the same seed.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const ops = Object.entries(job.mix);
const totalWeight = ops.reduce((a, [, w]) => a + w, 0);
const pickOp = () => {
  let x = random() * totalWeight;
  for (const [op, w] of ops) if ((x -= w) < 0) return op;
  return ops[0][0];
};

async function connect(user, i) {
  const client = new Client({ name: `load-${i}`, version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${job.gateways[i % job.gateways.length]}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${user.token}` } },
    }),
  );
  return client;
}

const samples = {};
const errors = {};
const examples = {};
const record = (op, ms, err) => {
  (samples[op] ??= []).push(ms);
  if (err) {
    errors[op] = (errors[op] ?? 0) + 1;
    const seen = (examples[op] ??= []);
    if (seen.length < 3) seen.push(String(err).slice(0, 300));
  }
};

async function call(client, name, args) {
  const res = await client.callTool({ name, arguments: args });
  if (res.isError) throw new Error(res.content?.[0]?.text ?? 'tool error');
  return res.structuredContent;
}

const clients = await Promise.all(job.users.map(connect));
// Each user starts with a few memories of their own, some public, so every operation has a target.
const own = await Promise.all(
  clients.map(async (client) => {
    const ids = [];
    for (let k = 0; k < 4; k++) {
      const m = await call(client, 'submit_memory', {
        text: pick(job.texts),
        permission: k % 2 ? 'public' : 'private',
      });
      ids.push(m.id);
    }
    return ids;
  }),
);

const until = Date.now() + job.seconds * 1000;
const started = Date.now();
let done = 0;
const progress = setInterval(() => {
  process.stderr.write(`  ${Math.round((Date.now() - started) / 1000)} s: ${done} calls\n`);
}, 10_000);

await Promise.all(
  clients.map(async (client, i) => {
    const me = job.users[i];
    const peers = job.users.filter((u) => u !== me);
    while (Date.now() < until) {
      const op = pickOp();
      const t0 = performance.now();
      let err;
      try {
        if (op === 'submit') {
          const m = await call(client, 'submit_memory', {
            text: pick(job.texts),
            permission: pick(['private', 'public']),
          });
          own[i].push(m.id);
        } else if (op === 'query') {
          await call(client, 'query_memory', { query: pick(job.queries), limit: 10 });
        } else if (op === 'get') {
          await call(client, 'get_memory', { memory_id: pick(own[i]) });
        } else if (op === 'update') {
          await call(client, 'update_memory', { memory_id: pick(own[i]), text: pick(job.texts) });
        } else if (op === 'share') {
          await call(client, 'modify_permissions', {
            memory_id: pick(own[i]),
            permission: 'shared',
            shared_with: { users: [pick(peers).userId] },
          });
        } else if (op === 'query_user') {
          await call(client, 'query_user', { user_id: pick(peers).userId, prompt: pick(job.queries) });
        }
      } catch (e) {
        err = e instanceof Error ? e.message : e;
      }
      record(op, performance.now() - t0, err);
      done++;
    }
  }),
);
clearInterval(progress);
await Promise.all(clients.map((c) => c.close()));
process.stdout.write(JSON.stringify({ seconds: (Date.now() - started) / 1000, samples, errors, examples }));
