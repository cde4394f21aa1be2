import { readdir, readFile } from 'node:fs/promises';

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
