import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { memoryPb } from '@picard/proto';
import type { BusMessage } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import { ExpirySweeper } from '../../src/domain/expiry-sweeper.js';
import { KeyRotationJob } from '../../src/domain/key-rotation.job.js';
import { MemoryCipher } from '../../src/domain/memory-cipher.js';
import { KeyRotationStore } from '../../src/store/key-rotation.store.js';
import { MemoryHistoryStore } from '../../src/store/memory-history.store.js';
import { SEALED_COLUMNS, sealedFrom, type SealedColumns } from '../../src/store/sealed-rows.js';
import { SweeperStore } from '../../src/store/sweeper.store.js';
import { failure, PRIVATE, PUBLIC, READ, SHARED, startStack, userApi, WRITE, type Stack } from './harness.js';

const { HistoryChange } = memoryPb;

/**
 * The history of every memory (issue #14 part 1) against a real memory-service over gRPC and a real
 * database: what each change keeps, who may read and restore it, and that deleting, expiring and
 * key rotation cover the history rows.
 */
describe('memory history', () => {
  let stack: Stack;
  // Two keys known to the service, k1 active: the rotation case moves rows to k2 and the service
  // still reads them.
  const k2 = { id: 'k2', key: randomBytes(32) };
  const k1 = { id: 'k1', key: randomBytes(32) };

  beforeAll(async () => {
    stack = await startStack({
      MEMORY_ENCRYPTION_KEYS: `k1:${k1.key.toString('base64')},k2:${k2.key.toString('base64')}`,
      MEMORY_ENCRYPTION_KEY_ID: 'k1',
    });
    await stack.bus.subscribe({
      durable: `test-${stack.schema}`,
      subjects: ['memory.permission_changed'],
      handler: async (m) => void events.push(m),
    });
  });
  const events: BusMessage[] = [];
  afterAll(() => stack.stop());

  const historyRows = async (memoryId: string) =>
    (await stack
      .knex('memory_versions')
      .select('id', 'memory_id', 'version', ...SEALED_COLUMNS)
      .where({ memory_id: memoryId })
      .orderBy('version')) as (SealedColumns & { id: string; memory_id: string; version: number })[];

  /** A memory that went through an update, a share, a tag change: versions 1-3 in the history, 4 current. */
  async function withHistory() {
    const owner = userApi(stack.client);
    const friend = userApi(stack.client);
    const m = await owner.submit({ text: 'Locker code is 1234', permission: PRIVATE, tags: ['gym'] });
    const v2 = await owner.update(m.id, { text: 'Locker code is 5678' });
    const v3 = await owner.share(m.id, SHARED, [friend.userId]);
    const v4 = await owner.update(m.id, { tags: ['gym', 'codes'], replaceTags: true });
    return { owner, friend, m, v2, v3, v4 };
  }

  it('keeps the version each update, permission and share change replaces, newest first, with who and when', async () => {
    const { owner, friend, m, v2, v3, v4 } = await withHistory();
    const page = await owner.history(m.id);
    expect(page.memoryId).toBe(m.id);
    expect(page.currentVersion).toBe(4);
    expect(page.nextCursor).toBeUndefined();
    expect(
      page.versions.map((v) => ({
        version: v.version,
        text: v.text,
        permission: v.permission,
        users: v.sharedWith?.users,
        tags: v.tags,
        change: v.change,
        changedBy: v.changedBy,
        restored: v.restoredVersion,
      })),
    ).toEqual([
      {
        version: 3,
        text: 'Locker code is 5678',
        permission: SHARED,
        users: [friend.userId],
        tags: ['gym'],
        change: HistoryChange.HISTORY_CHANGE_UPDATE,
        changedBy: owner.userId,
        restored: undefined,
      },
      {
        version: 2,
        text: 'Locker code is 5678',
        permission: PRIVATE,
        users: [],
        tags: ['gym'],
        change: HistoryChange.HISTORY_CHANGE_PERMISSIONS,
        changedBy: owner.userId,
        restored: undefined,
      },
      {
        version: 1,
        text: 'Locker code is 1234',
        permission: PRIVATE,
        users: [],
        tags: ['gym'],
        change: HistoryChange.HISTORY_CHANGE_UPDATE,
        changedBy: owner.userId,
        restored: undefined,
      },
    ]);
    // Each version was written when the one before was replaced; the last was replaced by the memory now.
    const [h3, h2, h1] = page.versions;
    expect(h1!.updatedAt).toEqual(m.updatedAt);
    expect(h1!.changedAt).toEqual(v2.updatedAt);
    expect(h2!.updatedAt).toEqual(v2.updatedAt);
    expect(h2!.changedAt).toEqual(v3.updatedAt);
    expect(h3!.changedAt).toEqual(v4.updatedAt);
    // Kept sealed: no plaintext in the row, and the key and owner-bound AAD of the memory.
    const rows = await historyRows(m.id);
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3]);
    for (const r of rows) {
      expect(Buffer.from(r.ciphertext).toString('utf8')).not.toContain('Locker');
      expect(r).toMatchObject({ key_id: 'k1', aad_version: 2, user_id: owner.userId });
    }
  });

  it('pages newest first with cursors bound to the memory; bad limits and cursors name the field', async () => {
    const { owner, m } = await withHistory();
    const first = await owner.history(m.id, { limit: 2 });
    expect(first.versions.map((v) => v.version)).toEqual([3, 2]);
    expect(first.nextCursor).toBeTruthy();
    const second = await owner.history(m.id, { limit: 2, cursor: first.nextCursor });
    expect(second.versions.map((v) => v.version)).toEqual([1]);
    expect(second.nextCursor).toBeUndefined();

    const other = await owner.submit({ text: 'another memory', permission: PRIVATE });
    await owner.update(other.id, { text: 'another memory, changed' });
    for (const [req, field] of [
      [{ limit: 101 }, 'limit'],
      [{ limit: -1 }, 'limit'],
      [{ cursor: 'not-a-cursor' }, 'cursor'],
      [{ cursor: (await owner.history(other.id, { limit: 1 })).nextCursor ?? 'x' }, 'cursor'],
    ] as const) {
      const err = await failure(owner.history(m.id, req));
      expect({ code: err.code, field: err.field }).toEqual({ code: 'invalid_argument', field });
    }
    // A memory never changed has an empty history at version 1.
    const fresh = await owner.submit({ text: 'never changed', permission: PRIVATE });
    expect(await owner.history(fresh.id)).toMatchObject({ currentVersion: 1, versions: [] });
  });

  it('shows the history to the owner alone: a stranger finds nothing, whoever may see the memory is refused', async () => {
    const { owner, friend, m } = await withHistory();
    const stranger = userApi(stack.client);
    const publicOne = await owner.submit({ text: 'Public first draft', permission: PUBLIC });
    await owner.update(publicOne.id, { text: 'Public final' });
    const member = userApi(stack.client);
    const group = await owner.createGroup('climbers');
    await owner.addMember(group.id, member.userId);
    const grouped = await owner.submit({
      text: 'Group draft',
      permission: SHARED,
      sharedWith: { users: [], groups: [group.id] },
    });
    await owner.update(grouped.id, { text: 'Group final' });

    const unknown = await failure(stranger.history(randomUUID()));
    const hidden = await failure(stranger.history(m.id));
    expect(hidden.code).toBe('not_found');
    expect(hidden.message.replace(m.id, 'ID')).toBe(unknown.message.replace(/[0-9a-f-]{36}/, 'ID'));
    for (const [who, id] of [
      [friend, m.id],
      [stranger, publicOne.id],
      [member, grouped.id],
    ] as const) {
      const read = await failure(who.history(id));
      const restore = await failure(who.restore(id, 1));
      expect([read.code, restore.code]).toEqual(['permission_denied', 'permission_denied']);
      expect(read.message + restore.message).not.toMatch(/draft|1234/i);
    }
    expect((await failure(stranger.restore(m.id, 1))).code).toBe('not_found');
    // The memory itself stays visible to them, at its current text only.
    expect((await friend.get(m.id)).text).toBe('Locker code is 5678');
    expect((await member.get(grouped.id)).text).toBe('Group final');
  });

  it('needs the read scope to read and the write scope to restore; malformed input names the field', async () => {
    const { owner, m } = await withHistory();
    const readOnly = userApi(stack.client, { userId: owner.userId, scopes: [READ] });
    const writeOnly = userApi(stack.client, { userId: owner.userId, scopes: [WRITE] });
    expect((await failure(writeOnly.history(m.id))).code).toBe('permission_denied');
    expect((await failure(readOnly.restore(m.id, 1))).code).toBe('permission_denied');
    expect((await readOnly.history(m.id)).versions).toHaveLength(3);

    for (const [call, field] of [
      [owner.history('not-a-uuid'), 'memory_id'],
      [owner.restore('not-a-uuid', 1), 'memory_id'],
      [owner.restore(m.id, 0), 'version'],
      [owner.restore(m.id, -2), 'version'],
      [owner.restore(m.id, 4), 'version'],
    ] as const) {
      const err = await failure(call);
      expect({ code: err.code, field: err.field }).toEqual({ code: 'invalid_argument', field });
    }
    const missing = await failure(owner.restore(m.id, 99));
    expect({ code: missing.code, field: missing.field }).toEqual({ code: 'not_found', field: 'version' });
    expect(missing.message).toMatch(/no version 99 \(its current version is 4\)/);
  });

  it('restores an earlier version as a new version: text (searchable), tags, permission, shares; expiry unchanged', async () => {
    const { owner, friend, m, v4 } = await withHistory();
    const expires = new Date(Date.now() + 3600_000);
    const v5 = await owner.update(m.id, { expirationDate: expires });
    const stale = await failure(owner.restore(m.id, 1, { expectedUpdatedAt: v4.updatedAt }));
    expect({ code: stale.code, field: stale.field }).toEqual({
      code: 'conflict',
      field: 'expected_updated_at',
    });

    const restored = await owner.restore(m.id, 1, { expectedUpdatedAt: v5.updatedAt });
    expect(restored).toMatchObject({
      id: m.id,
      text: 'Locker code is 1234',
      permission: PRIVATE,
      tags: ['gym'],
      sharedWith: { users: [], groups: [] },
      expirationDate: expires,
    });
    expect(restored.updatedAt!.getTime()).toBeGreaterThan(v5.updatedAt!.getTime());
    // The friend lost access with the private version 1, and persona caches hear of it.
    expect((await failure(friend.get(m.id))).code).toBe('not_found');
    const told = async () =>
      events.find((e) => {
        const p = e.payload as { memory_id: string; permission: string; previous_permission: string };
        return p.memory_id === m.id && p.permission === 'private' && p.previous_permission === 'shared';
      });
    for (let i = 0; i < 150 && !(await told()); i++) await new Promise((r) => setTimeout(r, 30));
    expect(await told()).toBeDefined();
    const found = await owner.query('locker code 1234', 5, { mode: memoryPb.SearchMode.SEARCH_MODE_KEYWORD });
    expect(found.memories.map((x) => x.id)).toContain(m.id);

    const page = await owner.history(m.id);
    expect(page.currentVersion).toBe(6);
    expect(page.versions[0]).toMatchObject({
      version: 5,
      text: 'Locker code is 5678',
      permission: SHARED,
      sharedWith: { users: [friend.userId], groups: [] },
      tags: ['gym', 'codes'],
      change: HistoryChange.HISTORY_CHANGE_RESTORE,
      restoredVersion: 1,
      changedAt: restored.updatedAt,
    });
    // A restore can be undone like any change.
    const undone = await owner.restore(m.id, 5);
    expect(undone).toMatchObject({ text: 'Locker code is 5678', permission: SHARED, tags: ['gym', 'codes'] });
    expect((await friend.get(m.id)).text).toBe('Locker code is 5678');
  });

  it('refuses to restore a version shared with a group the owner no longer has', async () => {
    const owner = userApi(stack.client);
    const group = await owner.createGroup('book club');
    const m = await owner.submit({
      text: 'Next book: Dune',
      permission: SHARED,
      sharedWith: { users: [], groups: [group.id] },
    });
    await owner.modify(m.id, { permission: PRIVATE });
    await owner.deleteGroup(group.id);
    const err = await failure(owner.restore(m.id, 1));
    expect({ code: err.code, field: err.field }).toEqual({ code: 'invalid_argument', field: 'version' });
    expect(err.message).toContain(group.id);
    expect((await owner.history(m.id)).currentVersion).toBe(2);
  });

  it('deleting a memory, alone or in a batch, deletes its history', async () => {
    const { owner, m } = await withHistory();
    const other = await owner.submit({ text: 'batch one', permission: PRIVATE });
    await owner.update(other.id, { text: 'batch one, edited' });
    expect(await historyRows(m.id)).toHaveLength(3);
    await owner.remove(m.id);
    expect(await historyRows(m.id)).toHaveLength(0);
    expect((await failure(owner.history(m.id))).code).toBe('not_found');
    await owner.removeMany([other.id]);
    expect(await historyRows(other.id)).toHaveLength(0);
  });

  it('the expiry sweeper deletes an expired memory with its history', async () => {
    const { owner, m } = await withHistory();
    // The owner still reads (and may restore) the history of an expired memory until it is swept.
    await stack
      .knex('memories')
      .where({ id: m.id })
      .update({ expiration_date: stack.knex.raw("now() - interval '1 hour'") });
    expect((await owner.history(m.id)).versions).toHaveLength(3);
    const sweeper = new ExpirySweeper({
      store: new SweeperStore(stack.knex),
      logger: testLogger(),
      graceSeconds: 0,
    });
    await sweeper.runOnce();
    expect(await stack.knex('memories').where({ id: m.id }).first()).toBeUndefined();
    expect(await historyRows(m.id)).toHaveLength(0);
  });

  it('key rotation reseals history rows too; the history still reads after it', async () => {
    const { owner, m } = await withHistory();
    const before = await historyRows(m.id);
    expect(before.every((r) => r.key_id === 'k1')).toBe(true);
    const expected = (await owner.history(m.id)).versions.map((v) => v.text);

    const summary = await new KeyRotationJob({
      store: new KeyRotationStore(stack.knex),
      cipher: new MemoryCipher([k1, k2], 'k2'),
      logger: testLogger(),
      batchSize: 2,
    }).run();
    expect(summary).toMatchObject({ failed: 0, remaining: 0 });
    const after = await historyRows(m.id);
    expect(after.map((r) => r.key_id)).toEqual(['k2', 'k2', 'k2']);
    for (const [i, r] of after.entries()) {
      expect(Buffer.from(r.ciphertext).equals(Buffer.from(before[i]!.ciphertext))).toBe(false);
      expect(Buffer.from(r.iv).equals(Buffer.from(before[i]!.iv))).toBe(false);
      // Sealed under k2 alone, still bound to the memory's id and owner.
      expect(() => new MemoryCipher([k2]).open(r.memory_id, sealedFrom(r))).not.toThrow();
    }
    expect(() => new MemoryCipher([k1]).open(after[0]!.memory_id, sealedFrom(after[0]!))).toThrow(
      /not configured/,
    );
    expect((await owner.history(m.id)).versions.map((v) => v.text)).toEqual(expected);
    // A history row handed to another owner in the database does not open for them.
    await stack.knex('memory_versions').where({ id: after[0]!.id }).update({ user_id: randomUUID() });
    const moved = (await historyRows(m.id))[0]!;
    expect(() => new MemoryCipher([k1, k2]).open(moved.memory_id, sealedFrom(moved))).toThrow(
      /authentication/,
    );
  });

  it('exports the history with include_history in every format; an import ignores it and starts afresh', async () => {
    const { owner, m } = await withHistory();
    const plain = await owner.exportAs('json');
    expect(JSON.parse(plain.data).memories[0]).not.toHaveProperty('history');

    const json = await owner.exportAs('json', true);
    const exported = JSON.parse(json.data).memories as { id: string; text: string; history: unknown[] }[];
    const mine = exported.find((x) => x.id === m.id)!;
    const page = await owner.history(m.id);
    expect(mine.history).toEqual(
      page.versions.map((v) => ({
        version: v.version,
        text: v.text,
        permission: v.permission === SHARED ? 'shared' : 'private',
        shared_with: { users: v.sharedWith!.users, groups: [] },
        tags: v.tags,
        expiration_date: null,
        updated_at: v.updatedAt!.toISOString(),
        changed_at: v.changedAt!.toISOString(),
        changed_by: owner.userId,
        change: v.version === 2 ? 'permissions' : 'update',
        restored_version: null,
      })),
    );
    const ndjson = await owner.exportAs('ndjson', true);
    expect(JSON.parse(ndjson.data.trim().split('\n')[0]!).history).toEqual(mine.history);
    const csv = await owner.exportAs('csv', true);
    expect(csv.data.split('\r\n')[0]).toMatch(/,history$/);
    expect(csv.data).toContain('Locker code is 1234');
    const markdown = await owner.exportAs('markdown', true);
    expect(markdown.data).toContain('"history": [');
    expect(markdown.data).toContain('Locker code is 1234');

    for (const file of [json, ndjson, csv, markdown]) {
      const importer = userApi(stack.client);
      const progress = await importer.importFrom(file.format, file.data);
      expect(progress.at(-1)).toMatchObject({ done: true, imported: 1, errors: [] });
      const [copy] = (await importer.retrieve()).memories;
      expect(copy).toMatchObject({ text: 'Locker code is 5678', tags: ['gym', 'codes'] });
      expect(await importer.history(copy!.id)).toMatchObject({ currentVersion: 1, versions: [] });
    }
  });

  it('refuses an export whose history is larger than one file', async () => {
    const owner = userApi(stack.client);
    const m = await owner.submit({ text: 'x'.repeat(400), permission: PRIVATE });
    // 8 MiB of history text through real updates would take long; the rows are copied in SQL instead.
    await owner.update(m.id, { text: 'y'.repeat(400) });
    const [row] = await stack.knex('memory_versions').where({ memory_id: m.id });
    const copies = Array.from({ length: 21_000 }, (_, i) => ({ ...row, id: randomUUID(), version: i + 2 }));
    for (let i = 0; i < copies.length; i += 1000)
      await stack.knex('memory_versions').insert(copies.slice(i, i + 1000));
    const err = await failure(owner.exportAs('json', true));
    expect(err.code).toBe('unprocessable');
    expect(err.message).toMatch(/without include_history/);
    expect((await owner.exportAs('json')).count).toBe(1);
  });
});

describe('memory history: the cap on earlier versions (MEMORY_HISTORY_MAX_VERSIONS)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ MEMORY_HISTORY_MAX_VERSIONS: '3' });
  });
  afterAll(() => stack.stop());

  const versionsInDb = async (memoryId: string) =>
    (
      await stack.knex('memory_versions').select('version').where({ memory_id: memoryId }).orderBy('version')
    ).map((r: { version: number }) => Number(r.version));

  it('keeps the newest versions only; a restore of a dropped one says why; a restore is kept like any change', async () => {
    const owner = userApi(stack.client);
    const m = await owner.submit({ text: 'draft 1' });
    for (let i = 2; i <= 7; i++) await owner.update(m.id, { text: `draft ${i}` });
    const page = await owner.history(m.id);
    expect(page.currentVersion).toBe(7);
    expect(page.versions.map((v) => [v.version, v.text])).toEqual([
      [6, 'draft 6'],
      [5, 'draft 5'],
      [4, 'draft 4'],
    ]);
    expect(await versionsInDb(m.id)).toEqual([4, 5, 6]);

    const dropped = await failure(owner.restore(m.id, 2));
    expect({ code: dropped.code, field: dropped.field }).toEqual({ code: 'not_found', field: 'version' });
    expect(dropped.message).toMatch(/version 2 .* is no longer kept: its history keeps the last 3 versions/);
    const never = await failure(owner.restore(m.id, 99));
    expect(never.message).toMatch(/no version 99 \(its current version is 7\)/);

    expect((await owner.restore(m.id, 4)).text).toBe('draft 4');
    expect((await owner.history(m.id)).versions.map((v) => v.version)).toEqual([7, 6, 5]);
    expect(await versionsInDb(m.id)).toEqual([5, 6, 7]);
  });

  it("a lowered cap: the sweeper's first run cuts every history to it, and only that", async () => {
    const owner = userApi(stack.client);
    const long = await owner.submit({ text: 'long-lived 1' });
    for (let i = 2; i <= 4; i++) await owner.update(long.id, { text: `long-lived ${i}` });
    const short = await owner.submit({ text: 'short-lived 1' });
    await owner.update(short.id, { text: 'short-lived 2' });
    expect(await versionsInDb(long.id)).toEqual([1, 2, 3]);

    const sweeper = new ExpirySweeper({
      store: new SweeperStore(stack.knex),
      logger: testLogger(),
      history: { store: new MemoryHistoryStore(stack.knex), maxVersions: 1 },
    });
    await sweeper.runOnce();
    expect(await versionsInDb(long.id)).toEqual([3]);
    expect(await versionsInDb(short.id)).toEqual([1]);
    expect((await owner.history(long.id)).versions.map((v) => v.text)).toEqual(['long-lived 3']);
    // Later runs leave the history to the changes (at the service's cap of 3 again).
    await owner.update(long.id, { text: 'long-lived 5' });
    await sweeper.runOnce();
    expect(await versionsInDb(long.id)).toEqual([3, 4]);
  });
});
