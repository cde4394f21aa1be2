/**
 * `npm run bench:retrieval`: how well query_memory finds what a question needs, in the
 * conversational style Picard is used in. Every message of the hand-written chats in
 * bench/data/conversations is stored as one memory of its conversation's user (through the real
 * memory-service and embedding-service); each question is asked with mode vector, keyword and
 * hybrid (each fusion method), and a plain BM25 over the same messages is computed in the same
 * run as the baseline. Reported per split (dev: the half tuned on; test: held out) and per
 * question kind: recall@5/10/25 (share of a question's evidence messages found in the first k)
 * and MRR (reciprocal rank of the first evidence message, within 25).
 * Also re-checks the paraphrase set of embedding-service/test/quality: hybrid must not lose there.
 * Options (env): PICARD_TEST_DATABASE_URL for PostgreSQL instead of an in-memory PGlite.
 */
import { memoryPb } from '@picard/proto';
import {
  memories as paraphraseMemories,
  queries as paraphraseQueries,
} from '../embedding-service/test/quality/dataset.js';
import { startStack, userApi } from '../memory-service/test/integration/harness.js';
import { Bm25Index } from './bm25-baseline.js';
import { loadConversations, memoryTextOf, storeConversation, type Conversation } from './conversations.js';
import { machineInfo, runBenchmark, writeResults } from './report.js';

const K = [5, 10, 25] as const;
const FUSIONS = ['weighted', 'rrf'] as const;
const log = (s: string) => process.stdout.write(`${s}\n`);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

type Method = 'bm25 baseline' | 'vector' | 'keyword' | `hybrid ${(typeof FUSIONS)[number]}`;
type Question = Conversation['questions'][number];
interface Scores {
  questions: number;
  recall: Record<number, number>;
  mrr: number;
}

/** Ranked message ids per question, per method. */
type Rankings = Map<Method, Map<string, string[]>>;

function score(questions: readonly Question[], ranked: Map<string, string[]>): Scores {
  const s: Scores = { questions: questions.length, recall: { 5: 0, 10: 0, 25: 0 }, mrr: 0 };
  for (const q of questions) {
    const ids = ranked.get(q.id) ?? [];
    for (const k of K)
      s.recall[k]! += q.evidence.filter((e) => ids.slice(0, k).includes(e)).length / q.evidence.length;
    const first = ids.findIndex((id) => q.evidence.includes(id));
    if (first >= 0) s.mrr += 1 / (first + 1);
  }
  for (const k of K) s.recall[k] = r3(s.recall[k]! / Math.max(questions.length, 1));
  s.mrr = r3(s.mrr / Math.max(questions.length, 1));
  return s;
}

async function main() {
  const conversations = await loadConversations();
  const questions = conversations.flatMap((c) => c.questions);
  log(
    `Retrieval evaluation: ${conversations.length} conversations, ` +
      `${conversations.reduce((n, c) => n + c.sessions.reduce((m, s) => m + s.messages.length, 0), 0)} messages, ` +
      `${questions.length} questions (${questions.filter((q) => q.split === 'dev').length} dev)`,
  );
  const rankings: Rankings = new Map();
  const rank = (method: Method, qid: string, ids: string[]) => {
    if (!rankings.has(method)) rankings.set(method, new Map());
    rankings.get(method)!.set(qid, ids);
  };
  const paraphrase: Record<string, { hit1: number; mrr: number }> = {};

  for (const fusion of FUSIONS) {
    const stack = await startStack({ MEMORY_HYBRID_FUSION: fusion }, { withoutBus: true });
    try {
      for (const c of conversations) {
        const started = performance.now();
        const { user, messages, messageOf } = await storeConversation(stack.client, c);
        log(
          `  [${fusion}] ${c.title}: ${messages.length} messages stored in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
        const modes: [Method, memoryPb.SearchMode][] = [
          [`hybrid ${fusion}`, memoryPb.SearchMode.SEARCH_MODE_HYBRID],
        ];
        if (fusion === FUSIONS[0])
          modes.push(
            ['vector', memoryPb.SearchMode.SEARCH_MODE_VECTOR],
            ['keyword', memoryPb.SearchMode.SEARCH_MODE_KEYWORD],
          );
        for (const q of c.questions) {
          for (const [method, mode] of modes) {
            const res = await user.query(q.question, 25, { mode });
            rank(
              method,
              q.id,
              res.memories.map((m) => messageOf.get(m.id)!),
            );
          }
        }
        if (fusion === FUSIONS[0]) {
          const bm25 = new Bm25Index(messages);
          for (const q of c.questions) rank('bm25 baseline', q.id, bm25.search(q.question, 25));
        }
      }
      const owner = userApi(stack.client);
      const stored = await owner.submitMany(paraphraseMemories.map((m) => ({ text: m.text })));
      const targetOf = new Map(stored.memories.map((m, i) => [m.id, paraphraseMemories[i]!.id]));
      const modes: [string, memoryPb.SearchMode][] = [
        [`hybrid ${fusion}`, memoryPb.SearchMode.SEARCH_MODE_HYBRID],
      ];
      if (fusion === FUSIONS[0]) modes.push(['vector', memoryPb.SearchMode.SEARCH_MODE_VECTOR]);
      for (const [name, mode] of modes) {
        const p = (paraphrase[name] = { hit1: 0, mrr: 0 });
        for (const q of paraphraseQueries) {
          const res = await owner.query(q.text, 10, { mode });
          const at = res.memories.findIndex((m) => targetOf.get(m.id) === q.target);
          if (at === 0) p.hit1++;
          if (at >= 0) p.mrr += 1 / (at + 1);
        }
        p.hit1 = r3(p.hit1 / paraphraseQueries.length);
        p.mrr = r3(p.mrr / paraphraseQueries.length);
      }
    } finally {
      await stack.stop();
    }
  }

  const methods = [...rankings.keys()];
  const bySplit = Object.fromEntries(
    (['dev', 'test'] as const).map((split) => [
      split,
      Object.fromEntries(
        methods.map((m) => [
          m,
          score(
            questions.filter((q) => q.split === split),
            rankings.get(m)!,
          ),
        ]),
      ),
    ]),
  );
  const kinds = [...new Set(questions.map((q) => q.kind))];
  const byKind = Object.fromEntries(
    kinds.map((kind) => [
      kind,
      Object.fromEntries(
        methods.map((m) => [
          m,
          score(
            questions.filter((q) => q.kind === kind && q.split === 'test'),
            rankings.get(m)!,
          ),
        ]),
      ),
    ]),
  );
  const report = {
    benchmark: 'retrieval-eval',
    date: new Date().toISOString(),
    machine: machineInfo(),
    mode: process.env.PICARD_TEST_DATABASE_URL ? 'cluster' : 'embedded',
    data: {
      conversations: conversations.map((c) => c.title),
      messages: conversations.reduce((n, c) => n + c.sessions.reduce((m, s) => m + s.messages.length, 0), 0),
      questions: questions.length,
      memory_text: memoryTextOf('<session date>', '<speaker>', '<message>'),
    },
    splits: bySplit,
    test_by_kind: byKind,
    paraphrase_set: { queries: paraphraseQueries.length, ...paraphrase },
  };
  const table = (rows: Record<string, Scores>) =>
    [
      '| method | questions | recall@5 | recall@10 | recall@25 | MRR |',
      '|---|---|---|---|---|---|',
      ...Object.entries(rows).map(
        ([m, s]) =>
          `| ${m} | ${s.questions} | ${s.recall[5]} | ${s.recall[10]} | ${s.recall[25]} | ${s.mrr} |`,
      ),
    ].join('\n');
  const md = [
    '# Retrieval evaluation (conversational)',
    '',
    `Run ${report.date} on ${report.machine.cpus} × ${report.machine.cpu}, Node ${report.machine.node}, ${report.mode} mode.`,
    `${report.data.messages} chat messages of ${conversations.length} hand-written conversations (bench/data/conversations), ` +
      `each stored as one memory \`${report.data.memory_text}\`; ${questions.length} questions with their evidence messages.`,
    'Tune on dev only; test is the held-out half.',
    '',
    '## Test half',
    '',
    table(bySplit.test!),
    '',
    '## Development half',
    '',
    table(bySplit.dev!),
    '',
    '## Test half by question kind',
    '',
    ...kinds.flatMap((k) => [`### ${k}`, '', table(byKind[k]!), '']),
    '## Paraphrase set (embedding-service/test/quality)',
    '',
    '| method | hit@1 | MRR@10 |',
    '|---|---|---|',
    ...Object.entries(paraphrase).map(([m, p]) => `| ${m} | ${p.hit1} | ${p.mrr} |`),
    '',
  ].join('\n');
  await writeResults(`retrieval-eval-${report.mode}`, report, md);
  log(md);
}

runBenchmark(main);
