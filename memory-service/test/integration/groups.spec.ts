import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId } from '@picard/service-kit';
import { failure, PRIVATE, PUBLIC, READ, SHARED, startStack, userApi, WRITE, type Stack } from './harness.js';

describe('memory-service: groups and group shares', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  it('lets the owner create, rename, fill, empty and delete a group; members see it, others do not', async () => {
    const owner = userApi(stack.client);
    const member = userApi(stack.client);
    const outsider = userApi(stack.client);
    const g = await owner.createGroup('  Family  ');
    expect([g.name, g.ownerId, g.memberIds]).toEqual(['Family', owner.userId, [owner.userId]]);

    const filled = await owner.addMember(g.id, member.userId);
    expect(filled.memberIds.sort()).toEqual([owner.userId, member.userId].sort());
    expect((await owner.addMember(g.id, member.userId)).memberIds).toHaveLength(2); // adding twice is a no-op
    expect((await member.listGroups()).groups.map((x) => x.id)).toEqual([g.id]);
    expect((await outsider.listGroups()).groups).toEqual([]);

    expect((await owner.renameGroup(g.id, 'Kin')).name).toBe('Kin');
    expect((await failure(owner.createGroup('kin'))).code).toBe('already_exists');
    expect((await failure(member.renameGroup(g.id, 'Mine'))).code).toBe('permission_denied');
    expect((await failure(member.addMember(g.id, outsider.userId))).code).toBe('permission_denied');
    expect((await failure(outsider.renameGroup(g.id, 'Mine'))).code).toBe('not_found');
    expect((await failure(outsider.deleteGroup(g.id))).code).toBe('not_found');
    expect((await failure(member.removeMember(g.id, owner.userId))).field).toBe('user_id');

    // A member may leave; only the owner removes others.
    const third = userApi(stack.client);
    await owner.addMember(g.id, third.userId);
    expect((await failure(member.removeMember(g.id, third.userId))).code).toBe('permission_denied');
    expect((await member.removeMember(g.id, member.userId)).memberIds).not.toContain(member.userId);
    expect((await failure(owner.removeMember(g.id, member.userId))).code).toBe('not_found');

    expect((await owner.deleteGroup(g.id)).deleted).toBe(true);
    expect((await owner.listGroups()).groups).toEqual([]);
    expect((await failure(owner.deleteGroup(g.id))).code).toBe('not_found');
  });

  it('refuses bad input naming the field, and calls without identity or scope', async () => {
    const u = userApi(stack.client);
    const g = await u.createGroup('ok');
    const cases: [Promise<unknown>, string][] = [
      [u.createGroup(''), 'name'],
      [u.createGroup('   '), 'name'],
      [u.createGroup('x'.repeat(101)), 'name'],
      [u.renameGroup('nope', 'x'), 'group_id'],
      [u.renameGroup(g.id, ''), 'name'],
      [u.addMember(g.id, 'not-a-uuid'), 'user_id'],
      [u.addMember('12345678-1234-1234-1234-123456789012', newId()), 'group_id'],
      [u.removeMember(g.id, u.userId), 'user_id'],
      [u.deleteGroup(''), 'group_id'],
    ];
    for (const [call, field] of cases) {
      const err = await failure(call);
      expect([err.code, err.field]).toEqual(['invalid_argument', field]);
    }
    const readOnly = userApi(stack.client, { scopes: [READ] });
    expect((await failure(readOnly.createGroup('x'))).message).toBe(
      'this call needs the memories:write scope',
    );
    expect((await failure(userApi(stack.client, { scopes: [WRITE] }).listGroups())).message).toBe(
      'this call needs the memories:read scope',
    );
    const { Metadata } = await import('@grpc/grpc-js');
    expect((await failure(userApi(stack.client, { metadata: new Metadata() }).listGroups())).code).toBe(
      'unauthenticated',
    );
  });

  it('shares only with groups the owner owns or belongs to', async () => {
    const owner = userApi(stack.client);
    const stranger = userApi(stack.client);
    const foreign = await stranger.createGroup('not yours');
    const err = await failure(
      owner.submit({ text: 'x', permission: SHARED, sharedWith: { users: [], groups: [foreign.id] } }),
    );
    expect([err.code, err.field]).toEqual(['invalid_argument', 'shared_with.groups[0]']);
    const m = await owner.submit({ text: 'x' });
    expect((await failure(owner.shareWith(m.id, SHARED, { groups: [newId()] }))).field).toBe(
      'shared_with.groups[0]',
    );
    expect((await failure(owner.shareWith(m.id, SHARED, { groups: ['bad'] }))).field).toBe(
      'shared_with.groups[0]',
    );
    expect((await failure(owner.shareWith(m.id, PUBLIC, { groups: [foreign.id] }))).field).toBe(
      'shared_with',
    );
    // Being a member is enough to share with a group.
    await stranger.addMember(foreign.id, owner.userId);
    const shared = await owner.shareWith(m.id, SHARED, { groups: [foreign.id] });
    expect(shared.sharedWith).toEqual({ users: [], groups: [foreign.id] });
  });

  /**
   * The matrix of the issue: private / public / shared-with-user / shared-with-group × owner / other /
   * listed user / group member, over every read path (get, query, list, the owner's retrieve) and the
   * write paths (only the owner may change or delete).
   */
  it('applies the one visibility rule over every path', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const listed = userApi(stack.client);
    const member = userApi(stack.client);
    const group = await owner.createGroup('matrix');
    await owner.addMember(group.id, member.userId);
    const topic = `matrix-${newId().slice(0, 8)} zebra migration notes`;
    const kinds = {
      private: await owner.submit({ text: `${topic} private`, permission: PRIVATE }),
      public: await owner.submit({ text: `${topic} public`, permission: PUBLIC }),
      user: await owner.submit({
        text: `${topic} user`,
        permission: SHARED,
        sharedWith: { users: [listed.userId], groups: [] },
      }),
      group: await owner.submit({
        text: `${topic} group`,
        permission: SHARED,
        sharedWith: { users: [], groups: [group.id] },
      }),
    };
    const expected: Record<string, (keyof typeof kinds)[]> = {
      owner: ['private', 'public', 'user', 'group'],
      other: ['public'],
      listed: ['public', 'user'],
      member: ['public', 'group'],
    };
    const viewers = { owner, other, listed, member };
    for (const [name, viewer] of Object.entries(viewers)) {
      const want = expected[name]!.map((k) => kinds[k].id).sort();
      const byGet: string[] = [];
      for (const m of Object.values(kinds)) {
        const got = await viewer.get(m.id).catch((e: { code?: string }) => e);
        if ('id' in got) byGet.push(got.id);
        else expect((got as { code: string }).code).toBe('not_found');
      }
      expect({ name, ids: byGet.sort() }).toEqual({ name, ids: want });
      const byList = (await viewer.list({ userId: owner.userId })).memories.map((m) => m.id).sort();
      expect({ name, ids: byList }).toEqual({ name, ids: want });
      const byQuery = (await viewer.query(topic, 10, { userId: owner.userId })).memories
        .map((m) => m.id)
        .sort();
      expect({ name, ids: byQuery }).toEqual({ name, ids: want });
      // Writes stay the owner's: visible → permission_denied, invisible → not_found.
      for (const [kind, m] of Object.entries(kinds)) {
        if (name === 'owner') continue;
        const err = await failure(viewer.update(m.id, { tags: ['x'] }));
        expect({ name, kind, code: err.code }).toEqual({
          name,
          kind,
          code: want.includes(m.id) ? 'permission_denied' : 'not_found',
        });
      }
    }
    // Share lists are the owner's business.
    expect((await member.get(kinds.group.id)).sharedWith).toEqual({ users: [], groups: [] });
    expect((await owner.get(kinds.group.id)).sharedWith).toEqual({ users: [], groups: [group.id] });

    // Leaving the group, or the group's deletion, ends access at once.
    await member.removeMember(group.id, member.userId);
    expect((await failure(member.get(kinds.group.id))).code).toBe('not_found');
    await owner.addMember(group.id, member.userId);
    expect((await member.get(kinds.group.id)).id).toBe(kinds.group.id);
    await owner.deleteGroup(group.id);
    expect((await failure(member.get(kinds.group.id))).code).toBe('not_found');
    expect((await owner.get(kinds.group.id)).sharedWith).toEqual({ users: [], groups: [] });
  });
});
