import { createCipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DomainError } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import { KeyRotationJob } from '../../src/domain/key-rotation.job.js';
import { MemoryCipher } from '../../src/domain/memory-cipher.js';
import { KeyRotationStore } from '../../src/store/key-rotation.store.js';
import { startStack, userApi, type Stack } from '../integration/harness.js';

/**
 * Item 9 (memory part) of issue #11: the cipher's authenticated data bound only the memory id, so
 * whoever can write the database could hand a row to another owner (UPDATE memories SET user_id)
 * and that owner read the text through the API. The owner is now bound too (AAD version 2); rows
 * sealed before (version 1) stay readable until the key-rotation job reseals them.
 */
describe('security item 9: memory ciphertexts are bound to their owner', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const refusal = (call: Promise<unknown>) =>
    call.then(
      () => 'read',
      (e: unknown) => (e instanceof DomainError ? e.code : String(e)),
    );

  /** What the code before this fix wrote: AES-256-GCM with only the id as AAD. */
  function sealV1(memoryId: string, text: string) {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', stack.encryptionKey.key, iv);
    c.setAAD(Buffer.from(`picard.memory.v1:${memoryId}`, 'utf8'));
    const ciphertext = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    return { ciphertext, iv, auth_tag: c.getAuthTag(), key_id: stack.encryptionKey.id, aad_version: 1 };
  }
  const moveTo = (memoryId: string, userId: string) =>
    stack.knex('memories').where({ id: memoryId }).update({ user_id: userId });

  it('a ciphertext moved to another owner does not decrypt for them', async () => {
    const alice = userApi(stack.client);
    const mallory = userApi(stack.client);
    const m = await alice.submit({ text: 'Alice: the spare key is under the blue pot' });
    await moveTo(m.id, mallory.userId);
    expect(await refusal(mallory.get(m.id))).toBe('internal');
    // Relabelling it as an old (id-only) row does not help: a version-2 ciphertext needs its owner.
    await stack.knex('memories').where({ id: m.id }).update({ aad_version: 1 });
    expect(await refusal(mallory.get(m.id))).toBe('internal');
    // Back where it belongs, it reads again: nothing else was damaged.
    await stack.knex('memories').where({ id: m.id }).update({ aad_version: 2, user_id: alice.userId });
    expect((await alice.get(m.id)).text).toBe('Alice: the spare key is under the blue pot');
  });

  it('rows sealed with the old AAD stay readable, and the rotation job rebinds them to their owner', async () => {
    const bob = userApi(stack.client);
    const mallory = userApi(stack.client);
    const m = await bob.submit({ text: 'Bob: written before owners were bound' });
    await stack
      .knex('memories')
      .where({ id: m.id })
      .update(sealV1(m.id, 'Bob: written before owners were bound'));
    expect((await bob.get(m.id)).text).toBe('Bob: written before owners were bound');

    const job = new KeyRotationJob({
      store: new KeyRotationStore(stack.knex),
      cipher: new MemoryCipher([stack.encryptionKey]),
      logger: testLogger(),
    });
    const summary = await job.run();
    expect(summary).toMatchObject({ failed: 0, remaining: 0 });
    expect(summary.rotated).toBeGreaterThanOrEqual(1);
    const row = await stack.knex('memories').where({ id: m.id }).first<{ aad_version: number }>();
    expect(Number(row.aad_version)).toBe(2);
    expect((await bob.get(m.id)).text).toBe('Bob: written before owners were bound');

    await moveTo(m.id, mallory.userId);
    expect(await refusal(mallory.get(m.id))).toBe('internal');
  });
});
