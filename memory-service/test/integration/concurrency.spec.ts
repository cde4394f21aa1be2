import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryPb } from '@picard/proto';
import { failure, startStack, userApi, type Stack } from './harness.js';

const PUBLIC = memoryPb.Permission.PERMISSION_PUBLIC;

/**
 * Issue #12, no lost updates: concurrent changes of one memory serialise on its row, and a client
 * that names the version it read (`expected_updated_at`) is told when someone changed it since.
 */
describe('memory-service: concurrent changes of one memory', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  it('concurrent tag additions all land: each change applies to the state the one before left', async () => {
    const me = userApi(stack.client);
    const m = await me.submit({ text: 'the garden shed key is under the pot', tags: ['home'] });
    const tags = Array.from({ length: 12 }, (_, i) => `t${i}`);
    await Promise.all(tags.map((t) => me.update(m.id, { tags: [t] })));
    expect((await me.get(m.id)).tags.sort()).toEqual(['home', ...tags].sort());
  });

  it('expected_updated_at: the version read is accepted once; a stale one is refused with `conflict`', async () => {
    const me = userApi(stack.client);
    const m = await me.submit({ text: 'version one' });
    const read = m.updatedAt!;
    const second = await me.update(m.id, { text: 'version two', expectedUpdatedAt: read });
    expect(second.updatedAt!.getTime()).toBeGreaterThan(read.getTime());

    // Whoever read version one cannot overwrite version two (text or permissions) without seeing it.
    const stale = await failure(me.update(m.id, { text: 'lost?', expectedUpdatedAt: read }));
    expect(stale).toMatchObject({ code: 'conflict', field: 'expected_updated_at' });
    expect(stale.message).toMatch(/read it again and retry/);
    const staleShare = await failure(me.modify(m.id, { permission: PUBLIC, expectedUpdatedAt: read }));
    expect(staleShare).toMatchObject({ code: 'conflict', field: 'expected_updated_at' });
    expect(await me.get(m.id)).toMatchObject({
      text: 'version two',
      permission: memoryPb.Permission.PERMISSION_PRIVATE,
    });

    // With the version just read, the change goes through.
    expect(
      (await me.modify(m.id, { permission: PUBLIC, expectedUpdatedAt: second.updatedAt })).permission,
    ).toBe(PUBLIC);

    // Someone else learns nothing from a precondition: not found, whatever the version.
    const stranger = userApi(stack.client);
    expect((await failure(stranger.update(m.id, { text: 'x', expectedUpdatedAt: read }))).code).not.toBe(
      'conflict',
    );
  });

  it('two writers holding the same version: exactly one wins, the other is told', async () => {
    const me = userApi(stack.client);
    const m = await me.submit({ text: 'contested' });
    for (let round = 0; round < 3; round++) {
      const { updatedAt } = await me.get(m.id);
      const results = await Promise.allSettled(
        ['first', 'second', 'third'].map((w) =>
          me.update(m.id, { text: `${w} ${round}`, expectedUpdatedAt: updatedAt }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused.map((r) => (r.reason as { code: string }).code)).toEqual(['conflict', 'conflict']);
      const winner = (
        results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<memoryPb.Memory>
      ).value;
      expect((await me.get(m.id)).text).toBe(winner.text);
    }
  });
});
