import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryPb } from '@picard/proto';
import { createGrpcClient, loadConfig } from '@picard/service-kit';
import { startFakeOpenAi, type FakeOpenAi, withInternalKey, testTokens } from '@picard/service-kit/testing';
import {
  embeddingConfigSchema,
  startEmbeddingService,
  type EmbeddingServiceHandle,
} from '@picard/embedding-service';
import { memoryConfigSchema } from '../../src/config.js';
import { startMemoryService, type MemoryServiceHandle } from '../../src/index.js';
import { PUBLIC, startStack, userApi, type Stack } from './harness.js';

const NEW_MODEL = 'fake-embedding-model';

describe('memory-service: a change of embedding model', () => {
  let stack: Stack;
  let fake: FakeOpenAi;
  let openaiEmbedding: EmbeddingServiceHandle;
  let second: MemoryServiceHandle;

  beforeAll(async () => {
    stack = await startStack();
    fake = await startFakeOpenAi({ mode: 'fail' });
  });
  afterAll(async () => {
    // The second service's stop closes the embedded database the first one shares: it goes last.
    await second?.stop();
    await openaiEmbedding?.stop();
    await fake.close();
    await stack.stop();
  });

  it('keeps searching with the old vectors while re-embedding, then swaps to the new model', async () => {
    const alice = userApi(stack.client);
    const texts = [
      'I keep the spare bike key in the garage drawer',
      'My dentist appointment is on Monday',
      'We adopted a grey kitten',
    ];
    const written = (await alice.submitMany(texts.map((text) => ({ text, permission: PUBLIC })))).memories;

    // The operator switches to an OpenAI-compatible model of another width; its API is down for now.
    openaiEmbedding = await startEmbeddingService({
      config: loadConfig(
        embeddingConfigSchema,
        withInternalKey({
          EMBEDDING_PROVIDER: 'openai',
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: `${fake.url}/v1`,
          EMBEDDING_MODEL: NEW_MODEL,
          EMBEDDING_DIMENSIONS: '8',
          EMBEDDING_TIMEOUT_MS: '2000',
        }),
      ),
      logger: stack.logger,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
    });
    second = await startMemoryService({
      config: loadConfig(
        memoryConfigSchema,
        withInternalKey({
          MEMORY_ENCRYPTION_KEYS: `k1:${stack.encryptionKey.key.toString('base64')}`,
        }),
      ),
      logger: stack.logger,
      database: stack.db.target,
      schema: stack.schema,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      embeddingAddress: openaiEmbedding.grpc.address,
      reembedRetryMs: 100,
    });
    // The new vectors' column exists as soon as the service is up (an edit in the first moments
    // clears a row's new vector there; before, it failed until the job had created the column).
    const nextColumn = await stack.knex.raw<{ rows: { type: string | null }[] }>(
      `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = to_regclass('memories') AND attname = 'embedding_next' AND NOT attisdropped`,
    );
    expect(nextColumn.rows).toEqual([{ type: 'vector(8)' }]);
    const secondClient = createGrpcClient(memoryPb.MemoryServiceClient, second.grpc.address, testTokens());
    const bob = userApi(secondClient);
    const aliceOnSecond = userApi(secondClient, { userId: alice.userId });
    expect(second.jobs.reembed?.status).toMatchObject({
      from: 'universal-sentence-encoder-lite/512',
      to: `${NEW_MODEL}/8`,
      finished: false,
    });

    // Meanwhile: searches by meaning still work on the old vectors, and writes go on.
    expect((await bob.query('where is the key for my bicycle', 1)).memories[0]!.id).toBe(written[0]!.id);
    const during = await bob.submit({ text: 'The kitten is called Pebble', permission: PUBLIC });
    expect(during.embeddingPending).toBe(false);
    // As if the job had already made this row's new vector: an edit must throw it away.
    await stack
      .knex('memories')
      .where({ id: written[1]!.id })
      .update({ embedding_next: `[${Array(8).fill(0.35).join(',')}]` });
    const edited = await aliceOnSecond.update(written[1]!.id, {
      text: 'My dentist appointment moved to Tuesday',
    });
    expect(edited.embeddingPending).toBe(false);
    expect((await stack.knex('memories').where({ id: edited.id }).first()).embedding_next).toBeNull();
    fake.setMode('ok');

    // The job finishes (with the edited row made again from its new text) and swaps.
    await second.jobs.settled;
    expect(second.jobs.reembed!.status.finished).toBe(true);
    const state = await stack.knex('embedding_state').first();
    expect([state.model, state.dimensions]).toEqual([NEW_MODEL, 8]);
    const models = await stack.knex('memories').distinct('embedding_model').pluck('embedding_model');
    expect(models).toEqual([NEW_MODEL]);
    const type = await stack.knex.raw(
      "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = 'embedding'",
      [`"${stack.schema}".memories`],
    );
    expect(type.rows[0].t).toBe('vector(8)');
    // The new vectors' column was made to keep them in the row (migration 012's storage), and it is
    // now the serving one.
    const storage = await stack.knex.raw<{ rows: { s: string }[] }>(
      "SELECT attstorage AS s FROM pg_attribute WHERE attrelid = to_regclass('memories') AND attname = 'embedding'",
    );
    expect(storage.rows).toEqual([{ s: 'm' }]);
    // The fake model maps equal texts to equal vectors: each memory is now found by its exact text,
    // the edited one by its new text.
    for (const text of [
      'The kitten is called Pebble',
      'My dentist appointment moved to Tuesday',
      texts[2]!,
    ]) {
      const hit = (await bob.query(text, 1)).memories[0]!;
      expect([hit.text, hit.similarity!]).toEqual([text, expect.closeTo(1, 5)]);
    }
    const sent = fake.requests
      .filter((r) => r.path.endsWith('/embeddings'))
      .map((r) => r.body as { model: string; dimensions: number });
    expect(sent.every((b) => b.model === NEW_MODEL && b.dimensions === 8)).toBe(true);
  });
});
