import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TOOLS } from '../../gateway/src/mcp/tools/index.js';
import { callTool } from '../support/test-stack.js';
import { fuzzSeed, healthProblem, runFuzz } from './fuzz-run.js';
import { closeConnections } from './send.js';
import { fuzzTargets, type Family, type TargetCatalog } from './targets.js';
import { WriteLedger } from './write-ledger.js';
import { openWorld, type World } from './world.js';

/** Inputs per run, over all three families (PICARD_FUZZ_RUNS overrides; `npm run bench:fuzz` sends 10,000). */
const RUNS = Number(process.env.PICARD_FUZZ_RUNS ?? 2100);

/** Per family, shrinking included; jest gives each test 180 s. */
const TIME_LIMIT_MS = 150_000;

const FAMILIES: [string, Family, number][] = [
  ['every tool over REST (POST /api/tools and /api/tools/{tool})', 'rest-tools', 0.35],
  ['every tool and the rest of the protocol over MCP (POST /mcp, JSON-RPC)', 'mcp', 0.35],
  ['every OAuth, account, admin and discovery endpoint', 'accounts', 0.3],
];

/**
 * Issue #12, part 3: bad input at volume. Requests generated from the tools' zod schemas and the
 * OpenAPI document, valid or mutated (wrong types, missing and extra fields, huge strings, deep
 * nesting, odd Unicode, broken bodies, content types, encodings, credentials and JSON-RPC
 * envelopes), each checked for: no 5xx, a reason in every 4xx, nothing written when refused, and
 * every service still serving. A failure prints fast-check's seed and counterexample; rerun it with
 * PICARD_FUZZ_SEED=<seed>.
 */
describe('issue #12 part 3: schema-aware fuzzing of every tool and endpoint', () => {
  let world: World;
  let catalog: TargetCatalog;
  let ledger: WriteLedger;
  const seed = fuzzSeed();

  beforeAll(async () => {
    world = await openWorld();
    catalog = fuzzTargets(world.t.publicUrl);
    ledger = await WriteLedger.open(world.t);
  });
  afterAll(async () => {
    await ledger?.close();
    closeConnections();
    await world?.close();
  });

  it('targets every tool over REST and MCP and every endpoint of the OpenAPI document', () => {
    const names = catalog.targets.map((t) => t.name);
    for (const tool of TOOLS)
      expect(names).toEqual(expect.arrayContaining([`rest ${tool.name}`, `mcp ${tool.name}`]));
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /register',
        'GET /authorize',
        'POST /authorize/login',
        'POST /authorize/signup',
        'POST /authorize/consent',
        'POST /token',
        'POST /revoke',
        'POST /introspect',
        'GET /.well-known/oauth-authorization-server',
        'POST /api/user-tokens/user-token',
        'POST /api/admin/clients/register',
        'DELETE /api/admin/clients/{client_id}',
        'POST /api/users/me/deactivate',
      ]),
    );
  });

  it('sees a write when one happens (the check of refused requests is not blind)', async () => {
    const before = await ledger.settled();
    const res = await callTool(world.t, world.fuzzer.access_token, 'create_group', { name: 'ledger check' });
    expect(res.status).toBe(200);
    expect(WriteLedger.changes(before, await ledger.settled())).toEqual(
      expect.arrayContaining(['memory.groups']),
    );
  });

  it.each(FAMILIES)(
    '%s: no 5xx, every 4xx says why, a refused request writes nothing',
    async (_name, family, share) => {
      const runs = Math.ceil(RUNS * share);
      const stats = await runFuzz(world, catalog, ledger, {
        families: [family],
        runs,
        seed,
        timeLimitMs: TIME_LIMIT_MS,
      });
      expect(stats.inputs).toBeGreaterThanOrEqual(runs);
      const unreached = catalog.targets
        .filter((t) => t.family === family && !stats.byTarget[t.name])
        .map((t) => t.name);
      expect(unreached).toEqual([]);
    },
  );

  it('leaves every service serving', async () => {
    expect(await healthProblem(world)).toBeUndefined();
  });
});
