import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata } from '@grpc/grpc-js';
import { callerMetadata, newId } from '@picard/service-kit';
import {
  expire,
  failure,
  PRIVATE,
  PUBLIC,
  READ,
  SHARED,
  startPersonaStack,
  userOf,
  WRITE,
  type PersonaStack,
} from './harness.js';

/** query_user with no LLM configured: the offline answerer, the visibility matrix and the refusals. */
describe('QueryUser without an LLM', () => {
  let stack: PersonaStack;

  beforeAll(async () => {
    stack = await startPersonaStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('quotes the most relevant memories, cites them and says that nothing was generated', async () => {
    const ada = userOf(stack);
    await ada.persona({ displayName: 'Ada' });
    const garden = await ada.remember('I grow tomatoes and basil in my garden every summer', PRIVATE);
    const car = await ada.remember('My car is a blue 2012 hatchback', PUBLIC);
    const res = await ada.ask({ userId: ada.userId, prompt: 'What vegetables do you grow in the garden?' });
    expect(res.generated).toBe(false);
    expect(res.answer).toContain('not a generated answer');
    expect(res.answer).toContain('Ada');
    expect(res.answer).toContain(
      `"I grow tomatoes and basil in my garden every summer" [memory:${garden.id}]`,
    );
    expect(res.memories.map((m) => m.id)).toEqual([garden.id, car.id]);
    expect(res.citations).toEqual([garden.id, car.id]);
    // Most relevant first, in the answer too.
    expect(res.answer.indexOf(garden.id)).toBeLessThan(res.answer.indexOf(car.id));
  });

  it('uses limit, else the persona\u2019s memory_limit', async () => {
    const u = userOf(stack);
    await u.remember('I play the cello in an amateur orchestra');
    await u.remember('I practise the cello for an hour each morning');
    await u.remember('I collect old maps of Brittany');
    await u.persona({ memoryLimit: 1 });
    expect((await u.ask({ userId: u.userId, prompt: 'cello' })).memories).toHaveLength(1);
    expect((await u.ask({ userId: u.userId, prompt: 'cello', limit: 2 })).memories).toHaveLength(2);
  });

  it('answers only from memories carrying one of the persona\u2019s tags, when it has tags', async () => {
    const u = userOf(stack);
    const work = await u.remember('I review pull requests every morning', PUBLIC, [], ['work']);
    const hobby = await u.remember('I review restaurants on weekends', PUBLIC, [], ['hobby']);
    const untagged = await u.remember('I review my budget monthly');
    const all = await u.ask({ userId: u.userId, prompt: 'what do I review?' });
    expect(all.memories.map((m) => m.id).sort()).toEqual([work.id, hobby.id, untagged.id].sort());
    await u.persona({ tags: ['work', 'family'], replaceTags: true });
    const scoped = await u.ask({ userId: u.userId, prompt: 'what do I review?' });
    expect(scoped.memories.map((m) => m.id)).toEqual([work.id]);
    expect(scoped.citations).toEqual([work.id]);
  });

  it('applies the visibility matrix: owner / listed user / other \u00d7 private / public / shared / expired', async () => {
    const owner = userOf(stack);
    const listed = userOf(stack);
    const other = userOf(stack);
    const mine = await owner.remember('Matrix: my bank PIN hint is the name of my first dog', PRIVATE);
    const all = await owner.remember('Matrix: my first dog was a beagle called Rex', PUBLIC);
    const some = await owner.remember('Matrix: Rex the dog once ate a whole birthday cake', SHARED, [
      listed.userId,
    ]);
    const gone = await owner.remember('Matrix: my dog Rex went to the vet on Monday', PUBLIC);
    await expire(stack, gone.id);
    const prompt = 'Tell me about your dog Rex';
    const seen = async (viewer: ReturnType<typeof userOf>) => {
      const res = await viewer.ask({ userId: owner.userId, prompt, limit: 50 });
      expect(res.citations.every((id) => res.memories.some((m) => m.id === id))).toBe(true);
      return res.memories.map((m) => m.id).sort();
    };
    expect(await seen(owner)).toEqual([mine.id, all.id, some.id].sort());
    expect(await seen(listed)).toEqual([all.id, some.id].sort());
    expect(await seen(other)).toEqual([all.id]);
  });

  it('says that nothing is known when the caller may see no memory, and invents nothing', async () => {
    const owner = userOf(stack);
    const stranger = userOf(stack);
    await owner.persona({ displayName: 'Grace' });
    await owner.remember('My secret recipe uses cardamom', PRIVATE);
    for (const [asker, userId] of [
      [stranger, owner.userId],
      [stranger, newId()], // nobody has this id: not an error either
    ] as const) {
      const res = await asker.ask({ userId, prompt: 'What is in your secret recipe?' });
      expect(res).toMatchObject({ generated: false, citations: [], memories: [] });
      expect(res.answer).toMatch(/^I know nothing about .* that you are allowed to see/);
      expect(res.answer).not.toContain('cardamom');
    }
  });

  it('streams the offline answer, the last message carrying the result', async () => {
    const u = userOf(stack);
    const m = await u.remember('I swim in the lake before breakfast');
    const { chunks, deltas, result } = await u.askStream({ userId: u.userId, prompt: 'When do you swim?' });
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.slice(0, -1).every((c) => c.result === undefined)).toBe(true);
    expect(result).toMatchObject({ generated: false, citations: [m.id] });
    expect(deltas).toBe(result!.answer);
  });

  it.each<[string, Partial<{ userId: string; prompt: string; limit: number }>]>([
    ['user_id', { userId: '' }],
    ['user_id', { userId: 'not-a-uuid' }],
    ['user_id', { userId: '00000000-0000-1000-8000-000000000000' }],
    ['prompt', { prompt: '' }],
    ['prompt', { prompt: ' \n\t ' }],
    ['prompt', { prompt: 'x'.repeat(4001) }],
    ['limit', { limit: -1 }],
    ['limit', { limit: 51 }],
  ])('refuses a bad %s (unary and stream)', async (field, bad) => {
    const u = userOf(stack);
    const q = { userId: u.userId, prompt: 'hello', ...bad };
    for (const call of [() => u.ask(q), () => u.askStream(q)]) {
      const err = await failure(call());
      expect([err.code, err.field]).toEqual(['invalid_argument', field]);
    }
  });

  it('accepts a prompt of exactly 4000 characters', async () => {
    const u = userOf(stack);
    const res = await u.ask({ userId: u.userId, prompt: 'é'.repeat(4000) });
    expect(res.generated).toBe(false);
  });

  it('refuses calls without identity, with a broken identity or without memories:read', async () => {
    const owner = userOf(stack);
    await owner.remember('Only for readers');
    const q = { userId: owner.userId, prompt: 'anything' };
    const broken = callerMetadata({ userId: 'nobody', scopes: [READ], clientId: newId() });
    for (const md of [new Metadata(), broken]) {
      expect((await failure(owner.ask(q, md))).code).toBe('unauthenticated');
      expect((await failure(owner.askStream(q, md))).code).toBe('unauthenticated');
    }
    const writer = owner.md([WRITE]);
    expect((await failure(owner.ask(q, writer))).code).toBe('permission_denied');
    expect((await failure(owner.askStream(q, writer))).code).toBe('permission_denied');
  });
});
