import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { toSql } from 'pgvector/knex';
import { embeddingPb, memoryPb } from '@picard/proto';
import { callUnary, createGrpcClient, newId } from '@picard/service-kit';
import { MemoryCipher } from '../../src/domain/memory-cipher.js';
import type { SearchFilter } from '../../src/store/memory.store.js';
import { PRIVATE, PUBLIC, SHARED, startStack, userApi, type Stack } from './harness.js';
import { seededRandom, testTokens } from '@picard/service-kit/testing';

describe('memory-service: search by meaning', () => {
  let stack: Stack;
  let embed: (texts: string[]) => Promise<number[][]>;

  beforeAll(async () => {
    stack = await startStack();
    const client = createGrpcClient(
      embeddingPb.EmbeddingServiceClient,
      stack.embedding.grpc.address,
      testTokens(),
    );
    embed = async (texts) =>
      (await callUnary(client.embed.bind(client), { texts, model: '', dimensions: 0 })).vectors.map(
        (v) => v.values,
      );
  });
  afterAll(() => stack.stop());

  it('ranks a paraphrase first, with similarities and timings', async () => {
    const alice = userApi(stack.client);
    const texts = [
      'My daughter starts primary school in September',
      'The quarterly tax return is due at the end of the month',
      'I am allergic to peanuts and shellfish',
      'Our holiday in Norway was cold but beautiful',
    ];
    const stored = [];
    for (const text of texts) stored.push(await alice.submit({ text }));
    const res = await alice.query('Which foods give me an allergic reaction?', 3);
    expect(res.memories).toHaveLength(3);
    expect(res.memories[0]!.id).toBe(stored[2]!.id);
    expect(res.memories[0]!.text).toBe(texts[2]);
    const sims = res.memories.map((m) => m.similarity!);
    expect(sims).toEqual([...sims].sort((a, b) => b - a));
    expect(sims[0]).toBeGreaterThan(0.3);
    expect(sims[0]).toBeLessThanOrEqual(1.0001);
    const t = res.timings!;
    for (const v of [t.embedMs, t.searchMs, t.decryptMs, t.totalMs]) expect(v).toBeGreaterThanOrEqual(0);
    expect(t.totalMs).toBeGreaterThanOrEqual(t.embedMs + t.searchMs);
  });

  it('starts every database session with the search settings, so a typical search needs no transaction', async () => {
    // Several connections at once (PostgreSQL hands out new pool connections; PGlite is one session).
    const settings = await Promise.all(
      [0, 1, 2].map(() =>
        stack.knex.transaction(async (trx) => {
          const { rows } = await trx.raw<{ rows: { ef: string; iterative: string }[] }>(
            `SELECT current_setting('hnsw.ef_search') AS ef, current_setting('hnsw.iterative_scan', true) AS iterative FROM pg_sleep(0.05)`,
          );
          return rows[0];
        }),
      ),
    );
    // MEMORY_HNSW_EF_SEARCH's default; pgvector 0.8 (both modes here) has the iterative scan.
    for (const s of settings) expect(s).toEqual({ ef: '100', iterative: 'relaxed_order' });
    // A search needing a wider scan than the session's sets its own, and still answers.
    const alice = userApi(stack.client);
    await alice.submit({ text: 'the wide search finds this note about kites' });
    const wide = await alice.query('kites', 50, { mode: memoryPb.SearchMode.SEARCH_MODE_HYBRID });
    expect(wide.memories.map((m) => m.text)).toContain('the wide search finds this note about kites');
  });

  it('finds public memories of others and never their private ones', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const secret = await owner.submit({
      text: 'My password manager master phrase is purple elephant',
      permission: PRIVATE,
    });
    const open = await owner.submit({
      text: 'I volunteer at the animal shelter on Saturdays',
      permission: PUBLIC,
    });
    const asOther = await other.query('password manager master phrase', 100);
    expect(asOther.memories.map((m) => m.id)).not.toContain(secret.id);
    expect(asOther.memories.every((m) => m.userId !== owner.userId || m.permission === PUBLIC)).toBe(true);
    const shelter = await other.query('helping animals at a shelter on weekends', 1);
    expect(shelter.memories[0]).toMatchObject({
      id: open.id,
      permission: PUBLIC,
      sharedWith: { users: [], groups: [] },
    });
    expect((await owner.query('password manager master phrase', 1)).memories[0]!.id).toBe(secret.id);
  });

  it('still returns `limit` results when the nearest rows are all invisible', async () => {
    const hidden = newId();
    const seeker = userApi(stack.client);
    const query = 'Thoughts about learning to play the cello';
    const [q, far] = await embed([query, 'The bus timetable changes on route nine next week']);
    const cipher = new MemoryCipher([stack.encryptionKey]);
    const random = seededRandom(20261204);
    const noisy = (v: number[]) => toSql(v.map((x) => x + (random() - 0.5) * 0.02));
    const row = (userId: string, permission: string, vector: number[], text: string) => {
      const id = newId();
      const sealed = cipher.seal(id, userId, text);
      return {
        id,
        user_id: userId,
        ciphertext: sealed.ciphertext,
        iv: sealed.iv,
        auth_tag: sealed.authTag,
        key_id: sealed.keyId,
        aad_version: sealed.aadVersion,
        permission,
        embedding: noisy(vector),
        embedding_model: 'universal-sentence-encoder-lite',
      };
    };
    // 300 private rows of another user, all nearer the query than any visible row.
    const privateRows = Array.from({ length: 300 }, (_, i) => row(hidden, 'private', q!, `hidden ${i}`));
    const publicRows = Array.from({ length: 300 }, (_, i) => row(newId(), 'public', far!, `public ${i}`));
    await stack.knex.batchInsert('memories', [...privateRows, ...publicRows], 100);
    await stack.knex.raw('ANALYZE memories');
    const publicIds = new Set(publicRows.map((r) => r.id));

    // Whatever plan the planner picks at this size (an exact scan, with fresh statistics), the
    // answer is the same; plans.spec.ts proves the HNSW index and its iterative scan at 5,000 rows.
    const res = await seeker.query(query, 10, { mode: 1 });
    expect(res.memories).toHaveLength(10);
    expect(res.memories.every((m) => publicIds.has(m.id) && m.text.startsWith('public '))).toBe(true);
  });

  // Last: its public memory would be a visible neighbour in the test above.
  it("reads a page's rows only while the viewer may still see them, shares in the owner's view alone", async () => {
    const [owner, friend, stranger] = [userApi(stack.client), userApi(stack.client), userApi(stack.client)];
    const mine = await owner.submit({ text: 'a note only I keep', permission: PRIVATE });
    const open = await owner.submit({ text: 'a note anyone may read', permission: PUBLIC });
    const forFriend = await owner.submit({ text: 'a note for my friend', permission: PRIVATE });
    await owner.share(forFriend.id, SHARED, [friend.userId]);
    // Ranked, then deleted before its row was read; and an id that never existed.
    const gone = await owner.submit({ text: 'a note deleted after ranking', permission: PUBLIC });
    await owner.remove(gone.id);
    const ids = [mine.id, open.id, forFriend.id, gone.id, newId()];
    const rows = (viewer: string, of = ids) => stack.memory.memories.visibleRows({ userId: viewer }, of);
    const idsOf = async (viewer: string) => (await rows(viewer)).map((r) => r.id).sort();

    expect(await idsOf(owner.userId)).toEqual([mine.id, open.id, forFriend.id].sort());
    expect(await idsOf(friend.userId)).toEqual([open.id, forFriend.id].sort());
    expect(await idsOf(stranger.userId)).toEqual([open.id]);
    expect((await rows(owner.userId, [forFriend.id]))[0]!.ownerShares).toEqual({
      users: [friend.userId],
      groups: [],
    });
    expect((await rows(friend.userId, [forFriend.id]))[0]!.ownerShares).toBeUndefined();
    expect(await rows(owner.userId, [])).toEqual([]);
  });

  it("reads a page's rows only while they still match the search's filters", async () => {
    const owner = userApi(stack.client);
    const tagged = await owner.submit({ text: 'a tagged note', permission: PUBLIC, tags: ['garden'] });
    const other = await owner.submit({ text: 'another note', permission: PUBLIC, tags: ['kitchen'] });
    const ids = [tagged.id, other.id];
    const idsOf = async (filter: SearchFilter) =>
      (await stack.memory.memories.visibleRows({ userId: owner.userId }, ids, filter))
        .map((r) => r.id)
        .sort();
    expect(await idsOf({})).toEqual([...ids].sort());
    expect(await idsOf({ tags: ['garden'] })).toEqual([tagged.id]);
    expect(await idsOf({ anyTags: ['kitchen', 'attic'] })).toEqual([other.id]);
    expect(await idsOf({ permission: 'private' })).toEqual([]);
    expect(await idsOf({ userId: newId() })).toEqual([]);
  });
});
