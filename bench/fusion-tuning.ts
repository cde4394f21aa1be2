/**
 * `npm run bench:fusion`: chooses hybrid search's fusion on the DEVELOPMENT half of the
 * conversational set only, with the paraphrase set as a guard (a shared word must not outrank
 * meaning there). It stores the messages through the real memory-service, then asks each
 * question once per index through the store's own statements (vector search and blind keyword
 * search, 100 candidates each) and fuses offline with domain/hybrid-ranking.ts's `fuse` under
 * every setting of a small grid. Writes bench/results/fusion-tuning.{json,md}; the chosen
 * setting becomes DEFAULT_FUSION and is then measured on the held-out half by retrieval-eval.ts.
 */
import { embeddingPb } from '@picard/proto';
import { callUnary, createGrpcClient } from '@picard/service-kit';
import { testTokens } from '@picard/service-kit/testing';
import {
  memories as paraphraseMemories,
  queries as paraphraseQueries,
} from '../embedding-service/test/quality/dataset.js';
import { fuse, type FusionOptions, type Ranked } from '../memory-service/src/domain/hybrid-ranking.js';
import { KeywordHasher } from '../memory-service/src/domain/keyword-hasher.js';
import { KeywordStore } from '../memory-service/src/store/keyword.store.js';
import type { MemoryCandidate } from '../memory-service/src/store/memory.store.js';
import { startStack, userApi } from '../memory-service/test/integration/harness.js';
import { loadConversations, storeConversation } from './conversations.js';
import { machineInfo, runBenchmark, writeResults } from './report.js';

const CANDIDATES = 100;
const log = (s: string) => process.stdout.write(`${s}\n`);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

interface Case {
  /** Ids counted as hits (evidence messages, or the paraphrase target). */
  relevant: string[];
  vector: Ranked[];
  keyword: Ranked[];
}

async function main() {
  const stack = await startStack({}, { withoutBus: true });
  const embedClient = createGrpcClient(
    embeddingPb.EmbeddingServiceClient,
    stack.embedding.grpc.address,
    testTokens(),
  );
  const embed = async (text: string) =>
    (await callUnary(embedClient.embed.bind(embedClient), { texts: [text], model: '', dimensions: 0 }))
      .vectors[0]!.values;
  const hasher = new KeywordHasher([stack.encryptionKey], stack.encryptionKey.id);
  const keywordStore = new KeywordStore(stack.knex);
  const ranked = (rows: MemoryCandidate[], labelOf: Map<string, string>): Ranked[] =>
    rows.map((r) => ({
      id: labelOf.get(r.id)!,
      similarity: r.distance === undefined ? undefined : 1 - r.distance,
      keywordScore: r.keywordScore,
    }));
  const candidates = async (userId: string, text: string, labelOf: Map<string, string>) => {
    const vector = await embed(text);
    const weighted = await keywordStore.weigh(hasher.query(text));
    const [v, k] = await Promise.all([
      stack.memory.memories.search({ userId }, vector, {
        limit: CANDIDATES,
        efSearch: 2 * CANDIDATES,
        iterativeScan: true,
      }),
      stack.memory.memories.keywordSearch({ userId }, weighted, CANDIDATES, {}, vector),
    ]);
    return { vector: ranked(v, labelOf), keyword: ranked(k, labelOf) };
  };

  const dev: Case[] = [];
  for (const c of await loadConversations()) {
    const { user, messageOf: labelOf } = await storeConversation(stack.client, c);
    for (const q of c.questions.filter((x) => x.split === 'dev'))
      dev.push({ relevant: q.evidence, ...(await candidates(user.userId, q.question, labelOf)) });
  }
  const owner = userApi(stack.client);
  const stored = await owner.submitMany(paraphraseMemories.map((m) => ({ text: m.text })));
  const labelOf = new Map(stored.memories.map((m, i) => [m.id, paraphraseMemories[i]!.id]));
  const paraphrase: Case[] = [];
  for (const q of paraphraseQueries)
    paraphrase.push({ relevant: [q.target], ...(await candidates(owner.userId, q.text, labelOf)) });
  await stack.stop();

  const settings: (FusionOptions & { depth: number })[] = [];
  for (const depth of [30, 100])
    for (const w of [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3])
      settings.push({ method: 'weighted', keywordWeight: w, depth });
  for (const depth of [30, 100])
    for (const w of [0.5, 1]) settings.push({ method: 'rrf', keywordWeight: w, depth });

  const evaluate = (cases: Case[], s: FusionOptions & { depth: number }) => {
    let recall10 = 0;
    let hit1 = 0;
    let mrr = 0;
    for (const c of cases) {
      const ids = fuse(c.vector.slice(0, s.depth), c.keyword.slice(0, s.depth), s).map((r) => r.id);
      recall10 += c.relevant.filter((e) => ids.slice(0, 10).includes(e)).length / c.relevant.length;
      const first = ids.findIndex((id) => c.relevant.includes(id));
      if (first === 0) hit1++;
      if (first >= 0 && first < 10) mrr += 1 / (first + 1);
    }
    return {
      recall10: r3(recall10 / cases.length),
      hit1: r3(hit1 / cases.length),
      mrr10: r3(mrr / cases.length),
    };
  };
  const baseline = {
    dev: evaluate(dev, { method: 'weighted', keywordWeight: 0, depth: CANDIDATES }),
    paraphrase: evaluate(paraphrase, { method: 'weighted', keywordWeight: 0, depth: CANDIDATES }),
  };
  const rows = settings.map((s) => ({ ...s, dev: evaluate(dev, s), paraphrase: evaluate(paraphrase, s) }));
  const report = {
    benchmark: 'fusion-tuning',
    date: new Date().toISOString(),
    machine: machineInfo(),
    dev_questions: dev.length,
    paraphrase_queries: paraphrase.length,
    vector_only: baseline,
    settings: rows,
  };
  const md = [
    '# Fusion tuning (development half only)',
    '',
    `Run ${report.date}. ${dev.length} development questions of the conversational set, ${paraphrase.length} paraphrase queries.`,
    `Vector only: dev recall@10 ${baseline.dev.recall10}, MRR@10 ${baseline.dev.mrr10}; paraphrase hit@1 ${baseline.paraphrase.hit1}.`,
    '',
    '| method | keyword weight | candidates per index | dev recall@10 | dev MRR@10 | paraphrase hit@1 | paraphrase MRR@10 |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.keywordWeight} | ${r.depth} | ${r.dev.recall10} | ${r.dev.mrr10} | ${r.paraphrase.hit1} | ${r.paraphrase.mrr10} |`,
    ),
    '',
  ].join('\n');
  await writeResults('fusion-tuning', report, md);
  log(md);
}

runBenchmark(main);
