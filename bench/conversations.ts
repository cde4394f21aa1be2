import { readdir, readFile } from 'node:fs/promises';
import type { memoryPb } from '@picard/proto';
import { userApi } from '../memory-service/test/integration/harness.js';

/** One hand-written multi-session chat of bench/data/conversations and its questions. */
export interface Conversation {
  title: string;
  speakers: string[];
  sessions: { id: number; date: string; messages: { id: string; speaker: string; text: string }[] }[];
  questions: {
    id: string;
    question: string;
    answer: string;
    evidence: string[];
    kind: 'single' | 'multi' | 'temporal' | 'name_place';
    split: 'dev' | 'test';
  }[];
}

const DIR = new URL('./data/conversations/', import.meta.url);

/** Every conversation, checked: evidence ids must name messages of the same conversation. */
export async function loadConversations(): Promise<Conversation[]> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
  const out: Conversation[] = [];
  for (const f of files) {
    const c = JSON.parse(await readFile(new URL(f, DIR), 'utf8')) as Conversation;
    const ids = new Set(c.sessions.flatMap((s) => s.messages.map((m) => m.id)));
    for (const q of c.questions) {
      const missing = q.evidence.filter((e) => !ids.has(e));
      if (missing.length) throw new Error(`${f} ${q.id}: evidence ${missing.join(', ')} not found`);
    }
    out.push(c);
  }
  return out;
}

/** How a message is stored as a memory: who said it and when, then the words. */
export const memoryTextOf = (date: string, speaker: string, text: string) => `${speaker} (${date}): ${text}`;

/**
 * Stores every message of the conversation as one memory of a new user, in batches of 64;
 * returns the user, the messages as stored and memory id → message id.
 */
export async function storeConversation(client: memoryPb.MemoryServiceClient, conversation: Conversation) {
  const user = userApi(client);
  const messages = conversation.sessions.flatMap((s) =>
    s.messages.map((m) => ({ id: m.id, text: memoryTextOf(s.date, m.speaker, m.text) })),
  );
  const messageOf = new Map<string, string>();
  for (let i = 0; i < messages.length; i += 64) {
    const chunk = messages.slice(i, i + 64);
    const res = await user.submitMany(chunk.map((m) => ({ text: m.text })));
    res.memories.forEach((m, j) => messageOf.set(m.id, chunk[j]!.id));
  }
  return { user, messages, messageOf };
}
