import { DomainError, type Logger } from '@picard/service-kit';
import type { EmbeddingClient, ServingEmbeddings } from '../clients/embedding.client.js';
import type { ReembedStore } from '../store/reembed.store.js';
import type { MemoryCipher } from './memory-cipher.js';

const BATCH = 64;
const RETRY_MS = 30_000;

export interface ReembedStatus {
  from: string;
  to: string;
  done: number;
  total: number;
  finished: boolean;
}

/**
 * Re-embeds every memory after the embedding model changed, online: searches keep using the old
 * vectors (the embedding-service still embeds queries with the old model) while new ones are
 * written beside them in batches; when every row has one, they are swapped in at once and the
 * service switches to the new model. An interruption loses nothing: the next start continues.
 */
export class ReembedJob {
  status: ReembedStatus;

  constructor(
    private readonly opts: {
      store: ReembedStore;
      cipher: MemoryCipher;
      client: EmbeddingClient;
      serving: ServingEmbeddings;
      logger: Logger;
      onSwapped?: () => void;
      /** Pause after an embedder failure before trying the batch again. */
      retryMs?: number;
    },
  ) {
    const from = opts.serving.info;
    this.status = {
      from: `${from.model}/${from.dimensions}`,
      to: `${opts.client.info.model}/${opts.client.info.dimensions}`,
      done: 0,
      total: 0,
      finished: false,
    };
  }

  async run(signal: AbortSignal): Promise<ReembedStatus> {
    const { store, cipher, client, serving, logger } = this.opts;
    const target = { model: client.info.model, dimensions: client.info.dimensions };
    await store.prepare(target);
    this.status.total = await store.count();
    this.status.done = this.status.total - (await store.countMissing());
    logger.info(
      this.status,
      'embedding model changed: re-embedding every memory; searches use the old vectors until done',
    );
    const embedRows = async (rows: { id: string; sealed: Parameters<MemoryCipher['open']>[1] }[]) =>
      client.embed(rows.map((r) => cipher.open(r.id, r.sealed)));
    let after: string | undefined;
    for (;;) {
      signal.throwIfAborted();
      const rows = await store.missing(BATCH, after);
      if (rows.length === 0) {
        // A pass is over; rows written or edited behind it are picked up by another pass.
        if (after === undefined || (await store.countMissing()) === 0) break;
        after = undefined;
        continue;
      }
      after = rows.at(-1)!.id;
      let vectors: number[][];
      try {
        vectors = await embedRows(rows);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        logger.warn({ err: err.message }, 're-embedding: the embedder failed; retrying shortly');
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? RETRY_MS).unref());
        continue;
      }
      for (const [i, row] of rows.entries())
        await store.fill(row.id, row.sealed.iv, vectors[i]!, target.model);
      this.status.done += rows.length;
      logger.info({ done: this.status.done, total: this.status.total }, 're-embedding: progress');
    }
    await store.swap(target, embedRows);
    serving.switchTo(target);
    this.opts.onSwapped?.();
    this.status.finished = true;
    this.status.done = this.status.total;
    logger.info(this.status, 're-embedding finished: searches now use the new model');
    return this.status;
  }
}
