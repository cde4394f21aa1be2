import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { authPb } from '@picard/proto';
import { ADMIN, asUser, expectError, startHarness, type Harness } from './harness.js';

/** LookupUsers: exact usernames and ids to {user_id, username}, for signed-in users only. */
describe('auth-service: LookupUsers', () => {
  let h: Harness;
  let admin: authPb.User;
  let ada: authPb.User;
  let bob: authPb.User;
  let gone: authPb.User;

  const signUp = (username: string) =>
    h.call<authPb.User>('registerUser', {
      username,
      email: `${username.toLowerCase()}@example.com`,
      password: 'long-password-1',
      displayName: `The ${username}`,
    });
  const lookup = (req: Partial<authPb.LookupUsersRequest>, caller = asUser(ada.id)) =>
    h.call<authPb.LookupUsersResponse>('lookupUsers', { usernames: [], userIds: [], ...req }, caller);

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.call<authPb.User>('authenticateUser', {
      username: ADMIN.username,
      password: ADMIN.password,
    });
    ada = await signUp('Ada.L');
    bob = await signUp('bob_builder');
    gone = await signUp('gone-girl');
    await h.call('deactivateUser', { userId: gone.id }, asUser(gone.id));
  });
  afterAll(async () => h?.close());

  it('resolves exact usernames, ignoring case as sign-up does, to ids and the stored spelling', async () => {
    const res = await lookup({ usernames: ['ada.l', 'BOB_BUILDER'] });
    expect(res.users).toEqual([
      { userId: ada.id, username: 'Ada.L' },
      { userId: bob.id, username: 'bob_builder' },
    ]);
  });

  it('resolves ids to usernames, and both lists at once, each account once', async () => {
    expect((await lookup({ userIds: [bob.id.toUpperCase()] })).users).toEqual([
      { userId: bob.id, username: 'bob_builder' },
    ]);
    const both = await lookup({
      usernames: ['Ada.L', 'ADA.L', 'bob_builder'],
      userIds: [ada.id, bob.id, ada.id],
    });
    expect(both.users).toEqual([
      { userId: ada.id, username: 'Ada.L' },
      { userId: bob.id, username: 'bob_builder' },
    ]);
  });

  it('matches whole usernames only: no prefixes, substrings or wildcards', async () => {
    for (const name of [
      'Ada',
      'ada.',
      'bob',
      'builder',
      'bob%',
      'bob_',
      '%',
      '_____________',
      'bob builder',
      ' bob_builder',
    ]) {
      expect({ name, users: (await lookup({ usernames: [name] })).users }).toEqual({ name, users: [] });
    }
  });

  it('leaves out unknown and deactivated accounts, by name and by id, without an error', async () => {
    const res = await lookup({
      usernames: ['gone-girl', 'nobody-here', 'bob_builder'],
      userIds: [gone.id, crypto.randomUUID()],
    });
    expect(res.users).toEqual([{ userId: bob.id, username: 'bob_builder' }]);
  });

  it('never returns an email or anything else about the account', async () => {
    const res = await lookup({ usernames: ['Ada.L', ADMIN.username], userIds: [bob.id] });
    expect(res.users.map((u) => Object.keys(u).sort())).toEqual([
      ['userId', 'username'],
      ['userId', 'username'],
      ['userId', 'username'],
    ]);
    const wire = JSON.stringify(res);
    for (const secret of ['@example.com', ADMIN.email, 'The Ada.L', 'scrypt'])
      expect(wire).not.toContain(secret);
    expect(res.users.find((u) => u.userId === admin.id)?.username).toBe(ADMIN.username);
  });

  it('refuses bad input, naming the field', async () => {
    await expectError(lookup({}), 'invalid_argument', 'usernames');
    await expectError(
      lookup({ usernames: Array.from({ length: 21 }, (_, i) => `user-${i}`) }),
      'invalid_argument',
      'usernames',
    );
    await expectError(
      lookup({ userIds: Array.from({ length: 101 }, () => crypto.randomUUID()) }),
      'invalid_argument',
      'user_ids',
    );
    await expectError(lookup({ userIds: [ada.id, 'not-a-uuid'] }), 'invalid_argument', 'user_ids[1]');
    await expectError(lookup({ usernames: ['ok', ''] }), 'invalid_argument', 'usernames[1]');
    await expectError(lookup({ usernames: ['x'.repeat(65)] }), 'invalid_argument', 'usernames[0]');
    // The largest lists are fine.
    const max = await lookup({
      usernames: Array.from({ length: 20 }, (_, i) => `user-${i}`),
      userIds: Array.from({ length: 100 }, () => crypto.randomUUID()),
    });
    expect(max.users).toEqual([]);
  });

  it('is for signed-in users with a live account and the read scope only', async () => {
    const req = { usernames: ['bob_builder'], userIds: [] };
    await expectError(h.call('lookupUsers', req), 'unauthenticated');
    await expectError(h.call('lookupUsers', req, asUser('not-a-uuid')), 'unauthenticated');
    await expectError(h.call('lookupUsers', req, asUser(crypto.randomUUID())), 'permission_denied');
    await expectError(h.call('lookupUsers', req, asUser(gone.id)), 'permission_denied');
    await expectError(h.call('lookupUsers', req, asUser(ada.id, ['memories:write'])), 'permission_denied');
    expect(
      (await h.call<authPb.LookupUsersResponse>('lookupUsers', req, asUser(ada.id, ['memories:read']))).users,
    ).toHaveLength(1);
  });
});
