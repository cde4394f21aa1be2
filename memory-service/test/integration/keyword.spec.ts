import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryPb } from '@picard/proto';
import { testLogger } from '@picard/service-kit/testing';
import { KeywordHasher } from '../../src/domain/keyword-hasher.js';
import { KeywordIndexJob } from '../../src/domain/keyword-index.job.js';
import { MemoryCipher } from '../../src/domain/memory-cipher.js';
import { createdEvent } from '../../src/domain/memory-events.js';
import { KeywordStore, wordPostingCap } from '../../src/store/keyword.store.js';
import type { NewMemoryRow } from '../../src/store/memory.store.js';
import { newId } from '@picard/service-kit';
import { countRows, failure, PRIVATE, startStack, userApi, type Stack } from './harness.js';

const {
  SEARCH_MODE_VECTOR: VECTOR,
  SEARCH_MODE_KEYWORD: KEYWORD,
  SEARCH_MODE_HYBRID: HYBRID,
} = memoryPb.SearchMode;
const PUBLIC = memoryPb.Permission.PERMISSION_PUBLIC;
const SHARED = memoryPb.Permission.PERMISSION_SHARED;

/** Chatty filler that shares no rare word with the queries below. */
const FILLER = [
  'I had a long day at work and just want to sleep',
  'The weather turned cold again this afternoon',
  'We watched a documentary about deep sea creatures',
  'My brother keeps sending me funny videos',
  'Dinner was pasta with too much garlic',
  'The train was late so I walked the last part',
];

describe('memory-service: keyword and hybrid search over the blind index', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  const ids = (res: memoryPb.QueryMemoryResponse) => res.memories.map((m) => m.id);

  it('keyword mode finds a rare name; hybrid (the default) ranks it first as well', async () => {
    const me = userApi(stack.client);
    await me.submitMany(FILLER.map((text) => ({ text })));
    const target = await me.submit({ text: 'Our neighbour Zebediah finally fixed the broken fence' });
    for (const mode of [KEYWORD, HYBRID, memoryPb.SearchMode.SEARCH_MODE_UNSPECIFIED]) {
      const res = await me.query('What did Zebediah do?', 3, { mode });
      expect(ids(res)[0]).toBe(target.id);
      expect(res.memories[0]!.similarity).toBeGreaterThan(-1);
    }
    // Keyword mode returns only memories sharing a word; vector mode returns the nearest anyway.
    expect((await me.query('Zebediah', 10, { mode: KEYWORD })).memories).toHaveLength(1);
    expect((await me.query('Zebediah', 10, { mode: VECTOR })).memories.length).toBeGreaterThan(1);
    // The older flag still means hybrid.
    expect(ids(await me.query('What did Zebediah do?', 3, { hybrid: true }))[0]).toBe(target.id);
  });

  it('a hybrid query whose words are in no memory answers the vector ranking, page and similarities', async () => {
    const me = userApi(stack.client);
    await me.submitMany(FILLER.map((text) => ({ text })));
    const query = 'qwzxy vbnmk plorp';
    const hybrid = (await me.query(query, 4, { mode: HYBRID })).memories;
    const vector = (await me.query(query, 4, { mode: VECTOR })).memories;
    expect(hybrid).toHaveLength(4);
    expect(hybrid.map((m) => [m.id, m.text, m.similarity])).toEqual(
      vector.map((m) => [m.id, m.text, m.similarity]),
    );
  });

  it('keyword candidates, read while the query is embedded, carry their real similarity', async () => {
    const me = userApi(stack.client);
    await me.submitMany(FILLER.map((text) => ({ text })));
    const target = await me.submit({ text: 'Aunt Philippa mailed quince jam from Tbilisi' });
    const byVector = (await me.query('quince jam from Philippa', 50, { mode: VECTOR })).memories;
    const expected = byVector.find((m) => m.id === target.id)!.similarity!;
    expect(expected).toBeGreaterThan(0);
    for (const mode of [KEYWORD, HYBRID]) {
      const found = (await me.query('quince jam from Philippa', 5, { mode })).memories;
      expect(found.find((m) => m.id === target.id)!.similarity).toBeCloseTo(expected, 5);
    }
    // With a similarity floor the keyword candidates are read after the vector, inside the floor.
    const floored = await me.query('quince jam from Philippa', 5, {
      mode: KEYWORD,
      minSimilarity: expected + 0.01,
    });
    expect(ids(floored)).not.toContain(target.id);
  });

  it('matches across case, accents and word forms (stemming)', async () => {
    const me = userApi(stack.client);
    const m = await me.submit({ text: 'We ADOPTED a greyhound at the Café Müller fundraiser' });
    for (const q of ['adoption', 'cafe muller', 'greyhounds', 'fundraisers'])
      expect(ids(await me.query(q, 5, { mode: KEYWORD }))).toEqual([m.id]);
  });

  it('sees exactly what the visibility rule allows: own, public, shared with me; never private or expired', async () => {
    const owner = userApi(stack.client);
    const friend = userApi(stack.client);
    const stranger = userApi(stack.client);
    const word = `quokka${randomBytes(3).toString('hex')}`;
    const secret = await owner.submit({ text: `private note on ${word}`, permission: PRIVATE });
    const open = await owner.submit({ text: `public note on ${word}`, permission: PUBLIC });
    const shared = await owner.submit({
      text: `shared note on ${word}`,
      permission: SHARED,
      sharedWith: { users: [friend.userId], groups: [] },
    });
    const expired = await owner.submit({ text: `expired note on ${word}`, permission: PUBLIC });
    await stack
      .knex('memories')
      .where({ id: expired.id })
      .update({ expiration_date: new Date(Date.now() - 1000) });

    for (const mode of [KEYWORD, HYBRID]) {
      expect(new Set(ids(await owner.query(word, 10, { mode })))).toEqual(
        new Set([secret.id, open.id, shared.id]),
      );
      expect(new Set(ids(await friend.query(word, 10, { mode })))).toEqual(new Set([open.id, shared.id]));
      const seenByStranger = ids(await stranger.query(word, 10, { mode }));
      expect(seenByStranger).toContain(open.id);
      expect(seenByStranger).not.toContain(secret.id);
      expect(seenByStranger).not.toContain(shared.id);
      expect(seenByStranger).not.toContain(expired.id);
    }
    // Filters apply to keyword candidates too.
    expect(ids(await owner.query(word, 10, { mode: KEYWORD, permission: SHARED }))).toEqual([shared.id]);
    expect(ids(await stranger.query(word, 10, { mode: KEYWORD, userId: stranger.userId }))).toEqual([]);
  });

  it("follows a memory's privacy: made public, others find it by keyword; private again, only its owner", async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const word = `wombat${randomBytes(3).toString('hex')}`;
    const note = await owner.submit({ text: `a note on ${word}`, permission: PRIVATE });
    const privateFlags = async () =>
      (await stack.knex('memory_terms').where({ memory_id: note.id }).distinct('private', 'user_id')).map(
        (r: { private: boolean; user_id: string }) => [r.private, r.user_id],
      );
    expect(await privateFlags()).toEqual([[true, owner.userId]]);
    expect(ids(await other.query(word, 10, { mode: KEYWORD }))).toEqual([]);

    // Each posting carries its memory's privacy, and the search reads only what the viewer may see:
    // a flag left behind would hide the memory from everyone but its owner.
    await owner.share(note.id, PUBLIC);
    expect(await privateFlags()).toEqual([[false, owner.userId]]);
    expect(ids(await other.query(word, 10, { mode: KEYWORD }))).toEqual([note.id]);
    await owner.share(note.id, PRIVATE);
    expect(await privateFlags()).toEqual([[true, owner.userId]]);
    expect(ids(await other.query(word, 10, { mode: KEYWORD }))).toEqual([]);
    expect(ids(await owner.query(word, 10, { mode: KEYWORD }))).toEqual([note.id]);
  });

  it('keeps the index in step with update, delete and import', async () => {
    const me = userApi(stack.client);
    const m = await me.submit({ text: 'Booked the ferry to Inishmore' });
    expect(ids(await me.query('Inishmore', 5, { mode: KEYWORD }))).toEqual([m.id]);
    await me.update(m.id, { text: 'Booked the ferry to Skellig' });
    expect(ids(await me.query('Inishmore', 5, { mode: KEYWORD }))).toEqual([]);
    expect(ids(await me.query('Skellig', 5, { mode: KEYWORD }))).toEqual([m.id]);
    await me.remove(m.id);
    expect(ids(await me.query('Skellig', 5, { mode: KEYWORD }))).toEqual([]);
    expect(
      Number((await stack.knex('memory_terms').where({ memory_id: m.id }).count({ n: '*' }))[0]!.n),
    ).toBe(0);

    const done = await me.importFrom(
      'json',
      JSON.stringify({ memories: [{ text: 'Imported: the Vireo offsite' }] }),
    );
    expect(done.at(-1)).toMatchObject({ done: true, imported: 1 });
    expect((await me.query('vireo', 5, { mode: KEYWORD })).memories.map((x) => x.text)).toEqual([
      'Imported: the Vireo offsite',
    ]);
  });

  it('holds blinded terms only: keyed integers, no words, useless under another key', async () => {
    const me = userApi(stack.client);
    const m = await me.submit({ text: 'Lighthouse keeper Oonagh' });
    const rows: { term: string }[] = await stack
      .knex('memory_terms')
      .where({ memory_id: m.id })
      .select('term');
    expect(rows).toHaveLength(3);
    const right = new KeywordHasher([stack.encryptionKey], stack.encryptionKey.id).index('oonagh');
    const wrong = new KeywordHasher([{ id: 'k1', key: randomBytes(32) }], 'k1').index('oonagh');
    const stored = rows.map((r) => String(r.term));
    expect(stored).toContain([...right.terms.keys()][0]);
    expect(stored).not.toContain([...wrong.terms.keys()][0]);
    expect(stored.every((t) => /^-?\d+$/.test(t))).toBe(true);
    expect(await stack.knex('memory_keywords').where({ memory_id: m.id }).first()).toMatchObject({
      key_id: 'k1',
      term_count: 3,
    });
  });

  it('the indexing job fills in memories without entries and re-indexes under a rotated key', async () => {
    const me = userApi(stack.client);
    const m = await me.submit({ text: 'Fjallraven backpack for the Kungsleden trail' });
    await stack.knex('memory_keywords').where({ memory_id: m.id }).delete(); // as before the index existed
    expect(ids(await me.query('Kungsleden', 5, { mode: KEYWORD }))).toEqual([]);
    const k1 = new KeywordHasher([stack.encryptionKey], 'k1');
    const job = (hasher: KeywordHasher, cipher: MemoryCipher) =>
      new KeywordIndexJob({
        store: new KeywordStore(stack.knex),
        hasher,
        cipher,
        logger: testLogger(),
        batchSize: 7,
      });
    const filled = await job(k1, new MemoryCipher([stack.encryptionKey])).run();
    expect(filled).toMatchObject({ keyId: 'k1', failed: 0, remaining: 0 });
    expect(filled.indexed).toBeGreaterThanOrEqual(1);
    expect(ids(await me.query('Kungsleden', 5, { mode: KEYWORD }))).toEqual([m.id]);

    // A new active key: every entry is re-blinded under its own index key.
    const k2 = { id: 'k2', key: randomBytes(32) };
    const rotated = new KeywordHasher([stack.encryptionKey, k2], 'k2');
    const total = await countRows(stack.knex);
    const summary = await job(rotated, new MemoryCipher([stack.encryptionKey, k2], 'k2')).run();
    expect(summary).toMatchObject({ keyId: 'k2', indexed: total, failed: 0, remaining: 0 });
    expect(
      Number((await stack.knex('memory_keywords').whereNot({ key_id: 'k2' }).count({ n: '*' }))[0]!.n),
    ).toBe(0);
    const keywords = new KeywordStore(stack.knex);
    const find = async (h: KeywordHasher) =>
      stack.memory.memories.keywordSearch(
        { userId: me.userId },
        await keywords.weigh(h.query('Kungsleden')),
        5,
      );
    expect((await find(rotated)).map((r) => r.id)).toEqual([m.id]);
    expect(await find(k1)).toEqual([]); // the old markers are gone
    // Put the suite's key back for the other tests.
    await job(k1, new MemoryCipher([stack.encryptionKey, k2], 'k1')).run();
  });

  it('refuses an unknown mode, naming the field; a query with more words than the term cap still answers', async () => {
    const me = userApi(stack.client);
    const err = await failure(me.query('anything', 5, { mode: 42 as memoryPb.SearchMode }));
    expect(err).toMatchObject({ code: 'invalid_argument', field: 'mode' });
    const long = Array.from({ length: 1500 }, (_, i) => `w${i}x`)
      .join(' ')
      .slice(0, 500);
    const res = await me.query(long, 5, { mode: HYBRID });
    expect(res.memories.length).toBeLessThanOrEqual(5);
  });

  it('a query reads a bounded number of postings: a word in more memories than its share is left out of a long query', async () => {
    const cipher = new MemoryCipher([stack.encryptionKey]);
    const hasher = new KeywordHasher([stack.encryptionKey], stack.encryptionKey.id);
    const [me, other] = [newId(), newId()];
    const row = (userId: string, text: string): NewMemoryRow => {
      const id = newId();
      return {
        id,
        userId,
        sealed: cipher.seal(id, userId, text),
        permission: 'private',
        expirationDate: null,
        tags: [],
        embedding: null,
        embeddingModel: null,
        sharedWith: { users: [], groups: [] },
        keywords: hasher.index(text),
      };
    };
    // Someone else's short memories score higher than mine; they must be skipped, not stop the search.
    const theirs = Array.from({ length: 330 }, () => row(other, 'quokka'));
    const mine = [
      ...Array.from({ length: 4 }, (_, i) =>
        row(me, `a long note ${i} about the quokka we saw on the island trip`),
      ),
      row(me, 'a long note about the quokka and the wombat we saw on the island'),
    ];
    await stack.memory.memories.createMany(
      [...theirs, ...mine].map((r) => ({ row: r, event: createdEvent(r) })),
    );
    const keywords = new KeywordStore(stack.knex);
    const search = async (query: string) =>
      stack.memory.memories.keywordSearch({ userId: me }, await keywords.weigh(hasher.query(query)), 10);

    const short = await search('quokka wombat');
    expect(short.map((r) => r.id).sort()).toEqual(mine.map((r) => r.id).sort());
    expect(short[0]!.id).toBe(mine[4]!.id);

    // 32 words: each may cost at most its share of the budget, which 'quokka' (335 memories) exceeds.
    const filler = Array.from({ length: 30 }, (_, i) => `absentword${i}`).join(' ');
    expect(wordPostingCap(32)).toBeLessThan(335);
    expect((await search(`quokka wombat ${filler}`)).map((r) => r.id)).toEqual([mine[4]!.id]);
  });

  it('a query word found in no memory still counts in the score: sharing the one known word is a part match', async () => {
    const me = userApi(stack.client);
    await me.submitMany(FILLER.map((text) => ({ text })));
    const m = await me.submit({ text: 'Grandpa Tobiah carves wooden ducks' });
    const hasher = new KeywordHasher([stack.encryptionKey], stack.encryptionKey.id);
    const keywords = new KeywordStore(stack.knex);
    const score = async (query: string) => {
      const weighted = await keywords.weigh(hasher.query(query));
      const hits = await stack.memory.memories.keywordSearch({ userId: me.userId }, weighted, 5);
      expect(hits.map((h) => h.id)).toEqual([m.id]);
      return { weighted, score: hits[0]!.keywordScore! };
    };
    const alone = await score('Tobiah');
    const withUnknown = await score('Tobiah zorblaxian');
    // Only the known word is searched, but the unknown one (idf of a word in no memory, the
    // highest there is) is in the ideal, so the match is less than half of the one-word query's.
    expect(withUnknown.weighted.terms).toEqual(alone.weighted.terms);
    expect(withUnknown.weighted.ideal).toBeGreaterThan(2 * alone.weighted.ideal);
    expect(withUnknown.score).toBeGreaterThan(0);
    expect(withUnknown.score).toBeLessThan(alone.score / 2);
    // A hybrid query made only of unknown words still reads no keyword statement (previous test).
    expect((await keywords.weigh(hasher.query('zorblaxian qwyxxle'))).terms).toEqual([]);
  });

  it("a common word's posting count is read once and reused; a word new to the index is found at once", async () => {
    const me = userApi(stack.client);
    const hasher = new KeywordHasher([stack.encryptionKey], stack.encryptionKey.id);
    await me.submitMany(
      Array.from({ length: 120 }, (_, i) => ({ text: `marmalade batch ${i} from the orchard` })),
    );
    const keywords = new KeywordStore(stack.knex);
    const counted: string[] = [];
    const onQuery = (q: { sql: string }) => {
      if (q.sql.includes('FROM memory_terms t WHERE t.term = q.term')) counted.push(q.sql);
    };
    stack.knex.on('query', onQuery);
    try {
      const first = await keywords.weigh(hasher.query('marmalade orchard'));
      expect(first.terms).toHaveLength(2);
      expect(counted).toHaveLength(1);
      // Both words are in over a hundred memories: the second query reads no counts at all.
      expect(await keywords.weigh(hasher.query('marmalade orchard'))).toEqual(first);
      expect(counted).toHaveLength(1);
      // A rare word is counted every time, so one that was in no memory is found once stored.
      expect((await keywords.weigh(hasher.query('marmalade xylophonist'))).terms).toHaveLength(1);
      expect(counted).toHaveLength(2);
    } finally {
      stack.knex.off('query', onQuery);
    }
    expect((await me.query('xylophonist', 5, { mode: KEYWORD })).memories).toEqual([]);
    const m = await me.submit({ text: 'The xylophonist next door practises at dawn' });
    expect(ids(await me.query('xylophonist', 5, { mode: KEYWORD }))).toEqual([m.id]);
  });
});
