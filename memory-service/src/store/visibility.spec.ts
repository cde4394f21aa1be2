import { describe, expect, it } from '@jest/globals';
import { canSee, type VisibilityFacts } from './visibility.js';

const owner = { userId: 'owner', groupIds: [] };
const other = { userId: 'other', groupIds: [] };
const now = new Date('2030-01-01T00:00:00Z');
const memory = (over: Partial<VisibilityFacts> = {}): VisibilityFacts => ({
  userId: 'owner',
  permission: 'private',
  expirationDate: null,
  sharedWith: { users: [], groups: [] },
  ...over,
});

describe('canSee', () => {
  it('lets the owner see a private memory and hides it from others', () => {
    expect(canSee(owner, memory(), now)).toBe(true);
    expect(canSee(other, memory(), now)).toBe(false);
  });

  it('shows a public memory to anyone', () => {
    expect(canSee(other, memory({ permission: 'public' }), now)).toBe(true);
  });

  it('shows a shared memory only to the users it is shared with', () => {
    expect(
      canSee(other, memory({ permission: 'shared', sharedWith: { users: ['other'], groups: [] } }), now),
    ).toBe(true);
    expect(
      canSee(
        { userId: 'third', groupIds: [] },
        memory({ permission: 'shared', sharedWith: { users: ['other'], groups: [] } }),
        now,
      ),
    ).toBe(false);
    // A leftover share row on a private memory grants nothing.
    expect(
      canSee(other, memory({ permission: 'private', sharedWith: { users: ['other'], groups: [] } }), now),
    ).toBe(false);
  });

  it('shows a memory shared with a group to its members only', () => {
    const toGroup = memory({ permission: 'shared', sharedWith: { users: [], groups: ['g1'] } });
    expect(canSee({ userId: 'member', groupIds: ['g0', 'g1'] }, toGroup, now)).toBe(true);
    expect(canSee({ userId: 'outsider', groupIds: ['g2'] }, toGroup, now)).toBe(false);
    expect(canSee({ userId: 'member', groupIds: ['g1'] }, { ...toGroup, permission: 'public' }, now)).toBe(
      true,
    );
    expect(canSee({ userId: 'member', groupIds: ['g1'] }, { ...toGroup, permission: 'private' }, now)).toBe(
      false,
    );
  });

  it('hides an expired memory from everyone, the owner included, from the exact expiry instant on', () => {
    const expired = memory({ permission: 'public', expirationDate: now });
    expect(canSee(owner, expired, now)).toBe(false);
    expect(canSee(other, expired, now)).toBe(false);
    expect(canSee(owner, memory({ expirationDate: new Date(now.getTime() + 1) }), now)).toBe(true);
  });
});
