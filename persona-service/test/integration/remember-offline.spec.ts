import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { failure, PRIVATE, PUBLIC, SHARED, startPersonaStack, userOf, type PersonaStack } from './harness.js';

const msg = (role: string, content: string) => ({ role, content, at: undefined });

describe('RememberConversation without an LLM', () => {
  let stack: PersonaStack;

  beforeAll(async () => {
    stack = await startPersonaStack({ PERSONA_REMEMBER_DUPLICATE_SIMILARITY: '0.9' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('stores each user message, skipping near-duplicates of own memories and of earlier messages', async () => {
    const u = userOf(stack);
    const tea = await u.remember('I drink green tea every afternoon', PUBLIC);
    const res = await u.rememberConversation({
      messages: [
        msg('user', '  I drink green tea every afternoon.  '),
        msg('assistant', 'Noted. Anything else?'),
        msg('user', 'I have a cat named Miso'),
        msg('user', '   '),
        msg('user', 'I have a cat named Miso!'),
        msg('user', 'My sister lives in Oslo'),
      ],
    });

    expect(res.generated).toBe(false);
    expect(res.added.map((a) => a.text)).toEqual(['I have a cat named Miso', 'My sister lives in Oslo']);
    expect(res.updated).toEqual([]);
    expect(res.skipped.map((s) => [s.text, s.memoryId])).toEqual([
      ['I drink green tea every afternoon.', tea.id],
      ['I have a cat named Miso!', res.added[0]!.memoryId],
    ]);
    expect(res.skipped[0]!.reason).toMatch(/^duplicate: (0\.9\d|1\.00) similar/);
    const stored = await u.mine();
    expect(stored.map((m) => m.text).sort()).toEqual([
      'I drink green tea every afternoon',
      'I have a cat named Miso',
      'My sister lives in Oslo',
    ]);
    // Unspecified permission means private; the assistant's words are never stored.
    expect(stored.filter((m) => m.id !== tea.id).every((m) => m.permission === PRIVATE)).toBe(true);
  });

  it('compares with the caller\u2019s own memories only, never another user\u2019s public one', async () => {
    const u = userOf(stack);
    const other = userOf(stack);
    await other.remember('I collect vintage fountain pens', PUBLIC);
    const res = await u.rememberConversation({ messages: [msg('user', 'I collect vintage fountain pens')] });
    expect(res.added.map((a) => a.text)).toEqual(['I collect vintage fountain pens']);
    expect(res.skipped).toEqual([]);
  });

  it('refuses what memory-service would refuse before searching or storing anything', async () => {
    const u = userOf(stack);
    const cases: [Parameters<typeof u.rememberConversation>[0], string][] = [
      [{ messages: [msg('user', 'I like jazz')], permission: SHARED }, 'shared_with'],
      [
        {
          messages: [msg('user', 'I like jazz')],
          permission: SHARED,
          sharedWith: { users: [u.userId], groups: [] },
        },
        'shared_with.users[0]',
      ],
      [{ messages: [msg('user', 'I like jazz')], tags: ['ok', ' '] }, 'tags[1]'],
    ];
    for (const [req, field] of cases) {
      const err = await failure(u.rememberConversation(req));
      expect({ field, code: err.code, got: err.field }).toEqual({
        field,
        code: 'invalid_argument',
        got: field,
      });
    }
    expect(await u.mine()).toEqual([]);
  });
});
