import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startBff } from '../src/index.js';
import { openBffTestDatabase, startHarness, WebUser, type Harness } from './support/bff-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Imports with progress, export downloads, persona answers streamed, the account pages. */
describe('BFF: imports, exports, personas, account', () => {
  let h: Harness;
  let ann: WebUser;
  let annId: string;
  beforeAll(async () => {
    h = await startHarness();
    ann = new WebUser(h.bff.url);
    annId = (await ann.signup('ann')).body.user.picard_user_id;
    for (const [text, permission] of [
      ['Ann rides the night train to Vienna every spring', 'public'],
      ['Ann keeps a garden of tomatoes', 'public'],
      ['Ann hides her diary under the bed', 'private'],
    ]) {
      expect((await ann.tool('submit_memory', { text, permission, tags: ['ann'] })).status).toBe(200);
    }
  }, 180_000);
  afterAll(() => h?.stop());

  it('downloads an export in every format, as an attachment', async () => {
    const date = new Date().toISOString().slice(0, 10);
    for (const [format, ext, type] of [
      ['json', 'json', 'application/json'],
      ['ndjson', 'ndjson', 'application/x-ndjson'],
      ['csv', 'csv', 'text/csv'],
      ['markdown', 'md', 'text/markdown'],
    ] as const) {
      const res = await ann.get(`/bff/exports?format=${format}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain(type);
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="picard-memories-${date}.${ext}"`,
      );
      expect(res.text).toContain('night train to Vienna');
    }
    const bad = await ann.get('/bff/exports?format=pdf');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_argument', field: 'format' });

    // With include_history an edited memory carries its earlier text.
    const diary = (await ann.tool('get_memories', { tags: ['ann'] })).body.result.memories.find(
      (m: { text: string }) => m.text.includes('diary'),
    );
    await ann.tool('update_memory', {
      memory_id: diary.id,
      text: 'Ann hides her diary under the bed, in a shoebox',
    });
    const plain = await ann.get('/bff/exports?format=ndjson');
    expect(plain.text).not.toContain('"history"');
    const withHistory = await ann.get('/bff/exports?format=ndjson&include_history=true');
    expect(withHistory.status).toBe(200);
    const line = withHistory.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((m: { id: string }) => m.id === diary.id);
    expect(line.history).toEqual([
      expect.objectContaining({ version: 1, text: 'Ann hides her diary under the bed', change: 'update' }),
    ]);
    const badFlag = await ann.get('/bff/exports?format=json&include_history=yes');
    expect([badFlag.status, badFlag.body.field]).toEqual([400, 'include_history']);
  });

  it('imports a file in the background and reports its progress until done', async () => {
    const items = Array.from({ length: 230 }, (_, i) => ({
      text: `Imported memory number ${i}`,
      permission: 'private',
    }));
    const exported = JSON.stringify({ memories: items });
    const bob = new WebUser(h.bff.url);
    const bobId = (await bob.signup('bob')).body.user.picard_user_id as string;
    // What Picard's own export writes is what the import reads: start from a real export.
    const annFile = (await ann.get('/bff/exports?format=json')).text;
    const started = await bob.post('/bff/imports', { format: 'json', data: annFile });
    expect(started.status).toBe(202);
    expect(started.body.job).toMatchObject({ state: 'running', format: 'json', done: 0, total: null });
    const job = await waitFor(bob, started.body.job.id);
    expect(job).toMatchObject({
      state: 'done',
      done: 3,
      total: 3,
      result: { imported: 3, total: 3, errors: [] },
    });

    // A bigger file goes in batches of 100, each reported.
    const file = JSON.parse(annFile) as Record<string, unknown>;
    const key = Object.keys(file).find((k) => Array.isArray(file[k]))!;
    const template = (file[key] as Record<string, unknown>[])[0]!;
    file[key] = items.map((it) => ({ ...template, ...it }));
    const big = await bob.post('/bff/imports', { format: 'json', data: JSON.stringify(file) });
    expect(big.status).toBe(202);
    const seen: number[] = [];
    const done = await waitFor(bob, big.body.job.id, (j) => seen.push(j.done));
    expect(done).toMatchObject({ state: 'done', done: 230, total: 230 });
    expect(seen.every((n, i) => i === 0 || n >= seen[i - 1]!)).toBe(true);
    const listed = await bob.tool('get_memories', { user_id: bobId, limit: 500 });
    expect(listed.body.result.memories).toHaveLength(233);
    expect(exported.length).toBeGreaterThan(0);

    // Only its owner sees a job.
    expect((await ann.get(`/bff/imports/${big.body.job.id}`)).status).toBe(404);
    expect((await bob.get(`/bff/imports/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it("imports another tool's file (a Markdown list) through the BFF; exports stay in Picard's formats", async () => {
    const dee = new WebUser(h.bff.url);
    const deeId = (await dee.signup('dee')).body.user.picard_user_id as string;
    const list = '# Memory\n\n- Prefers window seats\n- Is learning the cello\n';
    const started = await dee.post('/bff/imports', { format: 'text', data: list });
    expect(started.status).toBe(202);
    expect(await waitFor(dee, started.body.job.id)).toMatchObject({
      state: 'done',
      format: 'text',
      result: { imported: 2, total: 2, errors: [] },
    });
    const listed = await dee.tool('get_memories', { user_id: deeId, limit: 10 });
    expect(listed.body.result.memories.map((m: { text: string }) => m.text).sort()).toEqual([
      'Is learning the cello',
      'Prefers window seats',
    ]);
    const refused = await dee.get('/bff/exports?format=text');
    expect([refused.status, refused.body.field]).toEqual([400, 'format']);
  });

  it('reports a refused import as a failed job, and refuses bad or oversized files up front', async () => {
    const bad = await ann.post('/bff/imports', {
      format: 'json',
      data: '{"memories": [{"permission": "private"}]}',
    });
    expect(bad.status).toBe(202);
    const job = await waitFor(ann, bad.body.job.id);
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ error: 'invalid_argument', message: expect.any(String) });

    const format = await ann.post('/bff/imports', { format: 'xml', data: 'x' });
    expect(format.status).toBe(400);
    expect(format.body.field).toBe('format');
    const empty = await ann.post('/bff/imports', { format: 'json', data: '' });
    expect(empty.body.field).toBe('data');
    const tooBig = await ann.post('/bff/imports', { format: 'csv', data: 'x'.repeat(8 * 1024 * 1024 + 1) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatchObject({ error: 'payload_too_large', field: 'data' });
    expect(tooBig.body.message).toContain('8.0 MiB');
    const overLimit = await ann.post('/bff/imports', { format: 'csv', data: 'x'.repeat(11 * 1024 * 1024) });
    expect(overLimit.status).toBe(413);
    expect(overLimit.body.message).toContain('10mb');
  });

  it("streams a persona's answer as NDJSON: deltas, then the result with citations", async () => {
    const cleo = new WebUser(h.bff.url);
    await cleo.signup('cleo');
    const res = await cleo.agent
      .post(`/bff/personas/${annId}/ask`)
      .set('X-XSRF-TOKEN', cleo.csrf)
      .send({ prompt: 'Where does Ann travel by train?' })
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const events = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; text?: string; result?: Record<string, unknown> });
    const result = events.at(-1)!;
    expect(result.type).toBe('result');
    const deltas = events.slice(0, -1);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((e) => e.type === 'delta')).toBe(true);
    expect(deltas.map((e) => e.text).join('')).toBe(result.result!.answer);
    expect(result.result).toMatchObject({ generated: false, citations: expect.any(Array) });
    expect(JSON.stringify(result)).toContain('Vienna');
    expect(JSON.stringify(result)).not.toContain('diary'); // Ann's private memory stays hers

    const badId = await cleo.post('/bff/personas/not-a-user/ask', { prompt: 'hi' });
    expect(badId.status).toBe(400);
    expect(badId.body.field).toBe('user_id');
    const noPrompt = await cleo.post(`/bff/personas/${annId}/ask`, { prompt: '' });
    expect(noPrompt.body.field).toBe('prompt');
  });

  it('remembers a pasted conversation: user messages become memories, near-duplicates are skipped', async () => {
    const res = await ann.tool('remember_conversation', {
      messages: [
        { role: 'user', content: 'Ann keeps a garden of tomatoes.' },
        { role: 'assistant', content: 'What else grows there?' },
        { role: 'user', content: 'Ann grows basil next to the tomatoes' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({
      generated: false,
      added: [{ text: 'Ann grows basil next to the tomatoes' }],
      updated: [],
      skipped: [{ text: 'Ann keeps a garden of tomatoes.', reason: expect.stringMatching(/^duplicate/) }],
    });
    const bad = await ann.tool('remember_conversation', { messages: [{ role: 'robot', content: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_argument', field: 'data.messages.0.role' });
  });

  it('changes the email (here and at Picard), the password, and deactivates', async () => {
    const dora = new WebUser(h.bff.url);
    await dora.signup('dora', 'dora password');
    const badEmail = await dora.send('patch', '/bff/account', { email: 'nope' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.field).toBe('email');
    const patched = await dora.send('patch', '/bff/account', { email: 'dora@new.example' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ username: 'dora', email: 'dora@new.example', sign_in: 'password' });

    const wrong = await dora.post('/bff/account/password', {
      current_password: 'not it',
      new_password: 'a new password',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('current_password');
    const short = await dora.post('/bff/account/password', {
      current_password: 'dora password',
      new_password: 'short',
    });
    expect(short.body.field).toBe('new_password');
    const changed = await dora.post('/bff/account/password', {
      current_password: 'dora password',
      new_password: 'a new password',
    });
    expect(changed.status).toBe(204);
    // A fresh login presents the new email to Picard: both sides agree.
    const again = new WebUser(h.bff.url);
    const login = await again.post('/bff/auth/login', { username: 'dora', password: 'a new password' });
    expect(login.status).toBe(200);
    expect(login.body.user.email).toBe('dora@new.example');

    const noPassword = await again.post('/bff/account/deactivate', {});
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.field).toBe('password');
    const gone = await again.post('/bff/account/deactivate', { password: 'a new password' });
    expect(gone.status).toBe(204);
    expect((await again.get('/bff/session')).body.authenticated).toBe(false);
    expect((await dora.get('/bff/session')).body.authenticated).toBe(false); // every sign-in ended
    const refused = await new WebUser(h.bff.url).post('/bff/auth/login', {
      username: 'dora',
      password: 'a new password',
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('account_deactivated');
  });

  it('says Picard is unavailable when it cannot be reached', async () => {
    const db = await openBffTestDatabase();
    const lonely = await startBff({
      env: {},
      database: db.target,
      config: {
        CLIENT_PORT: 0,
        CLIENT_HOST: '127.0.0.1',
        PICARD_URL: 'http://127.0.0.1:9',
        PICARD_CLIENT_ID: crypto.randomUUID(),
        PICARD_CLIENT_SECRET: 'secret',
        CLIENT_DATABASE_SCHEMA: db.schema,
        CLIENT_TOKEN_KEY: randomBytes(32).toString('base64'),
        CLIENT_SESSION_SECRET: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'silent',
      },
    });
    try {
      const web = new WebUser(lonely.url);
      const res = await web.post('/bff/auth/signup', {
        username: 'eve',
        email: 'eve@example.test',
        password: 'a long password',
      });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: 'picard_unavailable',
        message: 'Picard cannot be reached right now; please try again in a moment.',
      });
      const start = await request(lonely.url).get('/bff/auth/picard/start');
      expect(start.status).toBe(302);
      expect(start.headers.location).toMatch(/^\/login\?error=picard_unavailable/);
    } finally {
      await lonely.stop();
      await db.cleanup();
    }
  });
});

type Job = {
  id: string;
  state: string;
  done: number;
  total: number | null;
  result?: unknown;
  error?: Record<string, unknown>;
};

async function waitFor(user: WebUser, id: string, onPoll?: (j: Job) => void): Promise<Job> {
  for (let i = 0; i < 600; i++) {
    const res = await user.get(`/bff/imports/${id}`);
    expect(res.status).toBe(200);
    const job = res.body.job as Job;
    onPoll?.(job);
    if (job.state !== 'running') return job;
    await sleep(50);
  }
  throw new Error('import did not finish');
}
