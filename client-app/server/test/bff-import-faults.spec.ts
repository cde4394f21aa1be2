import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHarness, WebUser, type Harness } from './support/bff-harness.js';

/**
 * A TCP relay between the BFF and Picard's gateway that a test can cut: every open connection
 * dropped, new ones refused until it is restored. Real HTTP passes through it untouched.
 */
class Relay {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  private readonly server: Server;

  constructor(private readonly target: URL) {
    this.server = createServer((client) => {
      if (this.refusing) return void client.destroy();
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  cut() {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  restore() {
    this.refusing = false;
  }

  close() {
    this.cut();
    this.server.close();
  }
}

type Job = { id: string; state: string; done: number; total: number | null; result?: unknown };

/** An import through the web app survives a lost connection to Picard: nothing lost, nothing twice. */
describe('BFF: imports across a fault', () => {
  let h: Harness;
  let relay: Relay;
  let user: WebUser;
  let userId: string;
  beforeAll(async () => {
    h = await startHarness({
      picardVia: async (gatewayUrl) => {
        relay = new Relay(new URL(gatewayUrl));
        return relay.listen();
      },
    });
    user = new WebUser(h.bff.url);
    userId = (await user.signup('faye')).body.user.picard_user_id;
  }, 180_000);
  afterAll(async () => {
    relay?.close();
    await h?.stop();
  });

  const count = async () =>
    (await user.tool('get_memories', { user_id: userId, limit: 500 })).body.result.memories.length as number;
  const job = async (id: string) => (await user.get(`/bff/imports/${id}`)).body.job as Job;
  const fileOf = (n: number, label: string) =>
    JSON.stringify({
      memories: Array.from({ length: n }, (_, i) => ({
        text: `${label} memory ${i}`,
        permission: 'private',
      })),
    });

  it('resumes an import cut off halfway, under the same id: every memory once', async () => {
    const before = await count();
    const started = await user.post('/bff/imports', { format: 'json', data: fileOf(400, 'halfway') });
    expect(started.status).toBe(202);
    const id = started.body.job.id as string;
    // Cut once the first batches are in, while the rest still streams.
    let seen: Job;
    do {
      await new Promise((r) => setTimeout(r, 20));
      seen = await job(id);
    } while (seen.state === 'running' && seen.done === 0);
    expect(seen.state).toBe('running');
    relay.cut();
    await new Promise((r) => setTimeout(r, 300));
    relay.restore();

    let last: Job;
    do {
      await new Promise((r) => setTimeout(r, 100));
      last = await job(id);
    } while (last.state === 'running');
    expect(last).toMatchObject({ state: 'done', total: 400, result: { total: 400, import_id: id } });
    expect(await count()).toBe(before + 400);
  }, 120_000);

  it('tries again while Picard cannot be reached, then imports', async () => {
    const before = await count();
    relay.cut();
    const started = await user.post('/bff/imports', { format: 'json', data: fileOf(5, 'later') });
    expect(started.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await job(started.body.job.id)).state).toBe('running');
    relay.restore();
    let last: Job;
    do {
      await new Promise((r) => setTimeout(r, 100));
      last = await job(started.body.job.id);
    } while (last.state === 'running');
    expect(last).toMatchObject({ state: 'done', done: 5, total: 5 });
    expect(await count()).toBe(before + 5);
  }, 120_000);
});
