import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@picard/service-kit';
import {
  embeddingConfigSchema,
  startEmbeddingService,
  type EmbeddingServiceHandle,
} from '@picard/embedding-service';
import { memoryConfigSchema } from '../../src/config.js';
import { MemoryCipher } from '../../src/domain/memory-cipher.js';
import { sealedFrom } from '../../src/store/sealed-rows.js';
import { startMemoryService } from '../../src/index.js';
import { PRIVATE, PUBLIC, startStack, userApi, type Stack } from './harness.js';
import { withInternalKey } from '@picard/service-kit/testing';

describe('memory-service: background jobs in the running service', () => {
  let stack: Stack;
  let revived: EmbeddingServiceHandle | undefined;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await revived?.stop();
    await stack.stop();
  });

  it('embeds memories stored while the embedder was down once it is back; an unreadable one is reported, not blocking', async () => {
    const u = userApi(stack.client);
    const address = stack.embedding.grpc.address;
    await stack.embedding.stop();
    const broken = await u.submit({ text: 'a memory whose ciphertext gets damaged', permission: PRIVATE });
    const m = await u.submit({
      text: 'The spare house key is under the blue flowerpot',
      permission: PRIVATE,
    });
    expect(m.embeddingPending).toBe(true);
    // Nothing to do while the embedder is still down: the pass stops at the first failure.
    const idle = { embedded: 0, remaining: 2, unreadable: 0, unreadableIds: [] };
    expect(await stack.memory.jobs.pending.runOnce()).toEqual(idle);
    // A row that no longer opens (tampered, or under a key this instance lacks) used to stop every
    // pass at its batch, silently, so nothing after it was ever embedded.
    await stack
      .knex('memories')
      .where({ id: broken.id })
      .update({ auth_tag: randomBytes(16) });

    revived = await startEmbeddingService({
      config: loadConfig(embeddingConfigSchema, withInternalKey({})),
      logger: stack.logger,
      grpcHost: '127.0.0.1',
      grpcPort: Number(address.split(':').at(-1)),
    });
    let result = { embedded: 0, remaining: 2, unreadable: 0, unreadableIds: [] as string[] };
    for (let i = 0; i < 50 && result.remaining > result.unreadable; i++) {
      result = await stack.memory.jobs.pending.runOnce();
      if (result.remaining > result.unreadable) await new Promise((r) => setTimeout(r, 200));
    }
    expect(result).toMatchObject({ remaining: 1, unreadable: 1, unreadableIds: [broken.id] });
    expect((await u.get(m.id)).embeddingPending).toBe(false);
    expect((await u.query('where did I hide the key to the house', 1)).memories[0]!.id).toBe(m.id);
    await stack.knex('memories').where({ id: broken.id }).delete();
  });

  // Last: stopping the second instance closes the embedded database the two share.
  it('re-encrypts rows under an older key at start, online, once a new key is active', async () => {
    const u = userApi(stack.client);
    const written = (
      await u.submitMany([{ text: 'sealed with k1' }, { text: 'also k1', permission: PUBLIC }])
    ).memories;
    const k2 = randomBytes(32);
    const keys = `k1:${stack.encryptionKey.key.toString('base64')},k2:${k2.toString('base64')}`;
    const second = await startMemoryService({
      config: loadConfig(memoryConfigSchema, withInternalKey({ MEMORY_ENCRYPTION_KEYS: keys })),
      logger: stack.logger,
      database: stack.db.target,
      schema: stack.schema,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      embeddingAddress: stack.embedding.grpc.address,
    });
    try {
      const keyIds = () =>
        stack
          .knex('memories')
          .whereIn(
            'id',
            written.map((m) => m.id),
          )
          .pluck('key_id');
      for (let i = 0; i < 100 && (await keyIds()).some((k) => k !== 'k2'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await keyIds()).toEqual(['k2', 'k2']);
      // Only the new key opens them now, and the text is unchanged.
      const onlyK2 = new MemoryCipher([{ id: 'k2', key: k2 }]);
      const rows = await stack
        .knex('memories')
        .whereIn(
          'id',
          written.map((m) => m.id),
        )
        .orderBy('created_at');
      const texts = rows.map((r) => onlyK2.open(r.id, sealedFrom(r)));
      expect(texts.sort()).toEqual(['also k1', 'sealed with k1']);
    } finally {
      await second.stop();
    }
  });
});
