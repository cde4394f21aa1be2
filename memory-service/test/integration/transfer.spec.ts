import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { TRANSFER_MAX_CHARS } from '@picard/proto';
import {
  countRows,
  failure,
  PRIVATE,
  PUBLIC,
  READ,
  SHARED,
  startStack,
  userApi,
  WRITE,
  type Stack,
} from './harness.js';

const FORMATS = ['json', 'ndjson', 'csv', 'markdown'];
const TRICKY = [
  'Plain memory',
  'Line one\nline two, with "quotes", commas; and a tab\t.',
  '# Not a heading\n---\n```js\nconsole.log("fenced")\n```\n````',
  'Émojis 🧠✨ and RTL שלום and combining é',
];

/** Every text the user owns, read back through an export (it pages through all of them). */
async function ownTexts(u: ReturnType<typeof userApi>): Promise<string[]> {
  const { data } = await u.exportAs('ndjson');
  return data
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { text: string }).text);
}

describe('memory-service: export and import', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  it.each(FORMATS)('round-trips text, permission, tags, shares and dates through %s', async (format) => {
    const source = userApi(stack.client);
    const friend = userApi(stack.client);
    const expires = new Date(Date.now() + 86_400_000);
    const created = (
      await source.submitMany([
        { text: TRICKY[0], permission: PUBLIC, tags: ['a', 'b, c'] },
        { text: TRICKY[1], permission: PRIVATE, expirationDate: expires },
        {
          text: TRICKY[2],
          permission: SHARED,
          sharedWith: { users: [friend.userId], groups: [] },
          tags: ['"quoted"'],
        },
        { text: TRICKY[3], permission: PRIVATE },
      ])
    ).memories;
    const exported = await source.exportAs(format);
    expect([exported.format, exported.count]).toEqual([format, 4]);

    const target = userApi(stack.client);
    const progress = await target.importFrom(format, exported.data);
    const last = progress.at(-1)!;
    expect([last.imported, last.total, last.done, last.errors]).toEqual([4, 4, true, []]);

    const imported = (await target.retrieve()).memories;
    const view = (m: (typeof created)[number]) => ({
      text: m.text,
      permission: m.permission,
      tags: [...m.tags].sort(),
      expires: m.expirationDate?.toISOString(),
      created: m.createdAt!.toISOString(),
      shared: m.sharedWith,
    });
    expect(imported.map(view).sort((a, b) => a.text.localeCompare(b.text))).toEqual(
      created.map(view).sort((a, b) => a.text.localeCompare(b.text)),
    );
    expect(imported.every((m) => m.userId === target.userId && !created.some((c) => c.id === m.id))).toBe(
      true,
    );
    // The imported copies are searchable like any memory.
    expect(
      (await target.query('console log in a code fence', 1, { userId: target.userId })).memories[0]!.text,
    ).toBe(TRICKY[2]);
  });

  it('reports progress per batch of 100 and writes nothing when any memory is bad', async () => {
    const u = userApi(stack.client);
    const lines = Array.from({ length: 250 }, (_, i) =>
      JSON.stringify({ text: `imported note ${i}`, tags: [`t${i % 5}`] }),
    );
    const progress = await u.importFrom('ndjson', lines.join('\n'));
    expect(progress.map((p) => p.imported)).toEqual([0, 100, 200, 250]);
    expect(progress.map((p) => p.done)).toEqual([false, false, false, true]);

    const before = await countRows(stack.knex);
    const bad = [
      JSON.stringify({ text: 'fine' }),
      JSON.stringify({ text: '' }),
      '{not json',
      JSON.stringify({ text: 'x', permission: 'secret' }),
      JSON.stringify({ text: 'y', expiration_date: '2001-01-01T00:00:00Z' }),
    ];
    const refused = await u.importFrom('ndjson', bad.join('\n'));
    expect(refused).toHaveLength(1);
    expect([refused[0]!.imported, refused[0]!.total, refused[0]!.done]).toEqual([0, 5, true]);
    expect(refused[0]!.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'text'],
      [2, ''],
      [3, 'permission'],
      [4, 'expiration_date'],
    ]);
    expect(await countRows(stack.knex)).toBe(before);
  });

  it('resumes an import by its id: a retry writes only what is missing, never twice', async () => {
    const u = userApi(stack.client);
    const file = Array.from({ length: 250 }, (_, i) => JSON.stringify({ text: `resumed note ${i}` })).join(
      '\n',
    );
    const acknowledged = await u.importAbandoned('ndjson', file, 'import-1', 100);
    expect(acknowledged).toBeGreaterThanOrEqual(100);

    const retry = await u.importFrom('ndjson', file, 'import-1');
    // The retry starts from what is stored: at least the batches acknowledged before it was abandoned.
    expect(retry[0]!.imported).toBeGreaterThanOrEqual(acknowledged);
    expect(retry.at(-1)).toMatchObject({ imported: 250, total: 250, done: true });
    const texts = await ownTexts(u);
    expect(texts).toHaveLength(250);
    expect(new Set(texts).size).toBe(250);

    // Once complete, the same import again writes nothing.
    expect((await u.importFrom('ndjson', file, 'import-1')).map((p) => p.imported)).toEqual([250]);
    expect(await ownTexts(u)).toHaveLength(250);
    // Without an id, the same file is a new import.
    await u.importFrom('ndjson', file);
    expect(await ownTexts(u)).toHaveLength(500);
  });

  it('an import id belongs to one file and one user; two attempts at once write each batch once', async () => {
    const u = userApi(stack.client);
    const file = (n: number, word: string) =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ text: `${word} ${i}` })).join('\n');
    await u.importFrom('ndjson', file(3, 'first'), 'shared-id');
    const other = await failure(u.importFrom('ndjson', file(3, 'second'), 'shared-id'));
    expect([other.code, other.field]).toEqual(['invalid_argument', 'import_id']);
    expect(other.message).toMatch(/another file/);
    // Another user's import under the same id is theirs alone.
    const v = userApi(stack.client);
    expect((await v.importFrom('ndjson', file(3, 'second'), 'shared-id')).at(-1)!.imported).toBe(3);
    for (const bad of ['has space', 'x'.repeat(101), 'semi;colon']) {
      expect((await failure(u.importFrom('ndjson', file(1, 'bad'), bad))).field).toBe('import_id');
    }

    // Two attempts at once (a retry while the first still runs): each batch is written once, and
    // both report the whole file stored.
    const w = userApi(stack.client);
    const big = file(300, 'raced');
    const attempts = await Promise.all([
      w.importFrom('ndjson', big, 'raced'),
      w.importFrom('ndjson', big, 'raced'),
    ]);
    for (const progress of attempts)
      expect(progress.at(-1)).toMatchObject({ imported: 300, total: 300, done: true });
    const texts = await ownTexts(w);
    expect(texts).toHaveLength(300);
    expect(new Set(texts).size).toBe(300);
  });

  it('imports the files other memory tools write: graph, mem0 export, Markdown list', async () => {
    const fixture = (name: string) =>
      readFileSync(new URL(`../fixtures/imports/${name}`, import.meta.url), 'utf8');
    const u = userApi(stack.client);
    for (const [format, file, count] of [
      ['mcp-memory', 'mcp-memory.jsonl', 5],
      ['mem0', 'mem0.json', 2],
      ['text', 'chat-memory.md', 6],
    ] as const) {
      const last = (await u.importFrom(format, fixture(file))).at(-1)!;
      expect([format, last.imported, last.total, last.errors]).toEqual([format, count, count, []]);
    }
    const mine = (await u.retrieve()).memories;
    expect(mine).toHaveLength(13);
    const byText = new Map(mine.map((m) => [m.text, m]));
    expect([...byText.get('Ada Moreau works at Harbour Robotics')!.tags].sort()).toEqual([
      'Ada_Moreau',
      'Harbour_Robotics',
    ]);
    const peanuts = byText.get('Is allergic to peanuts')!;
    expect([peanuts.createdAt?.toISOString(), [...peanuts.tags].sort()]).toEqual([
      '2025-07-20T08:21:46.512Z',
      ['food', 'health'],
    ]);
    expect(byText.get('Has a cat called Miso')?.permission).toBe(PRIVATE);
    // What was imported is found by meaning like anything else, and only by its owner.
    const hits = (await u.query('Which company does Ada Moreau work for?', 3)).memories.map((m) => m.text);
    expect(hits).toContain('Ada Moreau works at Harbour Robotics');
    const strangers = await userApi(stack.client).query('Ada Moreau works at Harbour Robotics', 10);
    expect(strangers.memories.filter((m) => m.userId === u.userId)).toEqual([]);
  });

  it('refuses bad formats, empty files and calls without scope', async () => {
    const u = userApi(stack.client);
    expect((await failure(u.exportAs('xml'))).field).toBe('format');
    expect((await failure(u.importFrom('xml', '[]'))).field).toBe('format');
    expect((await failure(u.importFrom('json', ''))).field).toBe('data');
    expect((await failure(u.importFrom('json', '{"memories": 3}'))).field).toBe('data');
    expect((await failure(userApi(stack.client, { scopes: [WRITE] }).exportAs('json'))).code).toBe(
      'permission_denied',
    );
    expect((await failure(userApi(stack.client, { scopes: [READ] }).importFrom('json', '[]'))).code).toBe(
      'permission_denied',
    );
  });

  it("exports only the caller's own live memories", async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    await other.submit({ text: 'someone else public', permission: PUBLIC });
    await owner.submit({ text: 'mine' });
    const doomed = await owner.submit({
      text: 'soon expired',
      expirationDate: new Date(Date.now() + 60_000),
    });
    await stack
      .knex('memories')
      .where({ id: doomed.id })
      .update({ expiration_date: new Date(Date.now() - 1000) });
    const out = await owner.exportAs('json');
    expect(out.count).toBe(1);
    expect(out.data).toContain('mine');
    expect(out.data).not.toContain('someone else');
    expect(out.data).not.toContain('soon expired');
  });
});

describe('memory-service: an export is never larger than an import may be', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Long memories, so the text cap is reached well before the 10,000-memory cap.
    stack = await startStack({ MEMORY_MAX_TEXT_CHARS: '10000' });
    // Stored as embedding_pending: the test is about sizes, not vectors.
    await stack.embedding.stop();
  });
  afterAll(() => stack.stop());

  it('exports up to the import cap (8 MiB) and refuses past it, naming the cap', async () => {
    const owner = userApi(stack.client);
    const line = (i: number) =>
      JSON.stringify({ text: `${i} ${'long memory '.repeat(832)}`, permission: 'private' });
    const file = (from: number, n: number) => Array.from({ length: n }, (_, i) => line(from + i)).join('\n');
    // Two files of ~3.6 MiB, each under the import cap: together 7.5 MiB of text, exportable.
    for (const from of [0, 375]) {
      const data = file(from, 375);
      expect(data.length).toBeLessThan(TRANSFER_MAX_CHARS);
      expect((await owner.importFrom('ndjson', data)).at(-1)).toMatchObject({ imported: 375, done: true });
    }
    const fits = await owner.exportAs('ndjson');
    expect(fits.count).toBe(750);
    expect(fits.data.length).toBeLessThanOrEqual(TRANSFER_MAX_CHARS);

    // 100 more memories make the file larger than import_memories takes: refused, naming the cap.
    await owner.importFrom('ndjson', file(750, 100));
    for (const format of ['json', 'ndjson', 'csv', 'markdown']) {
      const err = await failure(owner.exportAs(format));
      expect(err.code).toBe('unprocessable');
      expect(err.message).toMatch(
        /more than import_memories accepts in one file \(8388608 characters, 8 MiB\)/,
      );
    }
    // ~16 MiB through the store: more than the default 60 s on a loaded machine.
  }, 180_000);
});
