import { invalid, type Caller } from '@picard/service-kit';
import {
  memoryPb,
  REMEMBER_MAX_FACTS,
  REMEMBER_MAX_MESSAGE_CHARS,
  REMEMBER_MAX_MESSAGES,
  REMEMBER_MAX_TOTAL_CHARS,
  type personaPb,
} from '@picard/proto';
import type { MemoryClient } from '../../clients/memory.client.js';
import type { Llm } from '../../llm/llm.types.js';
import { ownUserId, requireScope, SCOPES } from '../access.js';
import {
  decisionMessages,
  extractionMessages,
  parseDecisions,
  parseFacts,
  type DecisionInput,
} from './remember.prompt.js';

export interface RememberDeps {
  memories: MemoryClient;
  /** Absent when no LLM is configured: every user message is then a fact. */
  llm?: Llm;
  model?: string;
  /** PERSONA_REMEMBER_DUPLICATE_SIMILARITY: the offline path's duplicate threshold. */
  duplicateSimilarity: number;
}

/** Existing memories shown to the model per fact: enough for the one it contradicts, cheap to read. */
export const CANDIDATES_PER_FACT = 5;
const EXTRACT_MAX_TOKENS = 1500;
const DECIDE_MAX_TOKENS = 1500;
const ROLES = new Set(['user', 'assistant']);

type Response = personaPb.RememberConversationResponse;
type Skipped = personaPb.SkippedFact;
type NewMemoryShape = Omit<memoryPb.NewMemory, 'text'>;

const overCap = (text: string): Skipped => ({
  text,
  reason: `more than ${REMEMBER_MAX_FACTS} facts in one call`,
  memoryId: undefined,
});

const isExpired = (m: memoryPb.Memory, now: number) =>
  !!m.expirationDate && m.expirationDate.getTime() <= now;

/**
 * remember_conversation: the durable facts of a conversation become the caller's memories. Every
 * comparison and write is against the caller's OWN memories (memory-service's user_id filter,
 * checked again here), so another user's memories are never shown to the model nor changed.
 */
export class RememberService {
  constructor(private readonly deps: RememberDeps) {}

  async remember(caller: Caller, req: personaPb.RememberConversationRequest): Promise<Response> {
    requireScope(caller, SCOPES.write);
    const me = { ...caller, userId: ownUserId(caller) };
    const messages = checkMessages(req.messages);
    const shape: NewMemoryShape = {
      permission:
        req.permission === memoryPb.Permission.PERMISSION_UNSPECIFIED
          ? memoryPb.Permission.PERMISSION_PRIVATE
          : req.permission,
      tags: req.tags,
      sharedWith: req.sharedWith ?? { users: [], groups: [] },
      expirationDate: undefined,
    };
    return this.deps.llm ? this.withLlm(me, messages, shape) : this.offline(me, messages, shape);
  }

  /** Only the caller's own, unexpired memories, whatever memory-service returned. */
  private async ownNearest(me: Caller, text: string, limit: number, minSimilarity?: number) {
    const found = await this.deps.memories.nearestOwn(me, { text, limit, minSimilarity });
    const now = Date.now();
    return found.filter((m) => m.userId.toLowerCase() === me.userId && !isExpired(m, now));
  }

  /**
   * Each user message is a fact, added unless one of the caller's memories is a near-duplicate.
   * Added one at a time, so a later message that repeats an earlier one finds it as a memory.
   */
  private async offline(
    me: Caller,
    messages: personaPb.ConversationMessage[],
    shape: NewMemoryShape,
  ): Promise<Response> {
    const res: Response = { added: [], updated: [], skipped: [], generated: false };
    const facts = messages.flatMap((m, at) => {
      const text = m.role === 'user' ? m.content.trim() : '';
      return text ? [{ text, at }] : [];
    });
    const stored = facts.slice(0, REMEMBER_MAX_FACTS);
    // Everything memory-service would refuse is refused before the first search or write.
    await this.deps.memories.checkNew(
      me,
      (stored.length ? stored : [{ text: 'placeholder', at: 0 }]).map((f) => ({ ...shape, text: f.text })),
      (i, field) => (field === 'text' ? `messages[${stored[i]?.at ?? 0}].content` : field),
    );
    const threshold = this.deps.duplicateSimilarity;
    for (const [i, { text }] of facts.entries()) {
      if (i >= REMEMBER_MAX_FACTS) {
        res.skipped.push(overCap(text));
        continue;
      }
      const [twin] = await this.ownNearest(me, text, 1, threshold);
      if (twin && (twin.similarity ?? 0) >= threshold) {
        res.skipped.push({
          text,
          reason: `duplicate: ${(twin.similarity ?? 0).toFixed(2)} similar to an existing memory (threshold ${threshold})`,
          memoryId: twin.id,
        });
        continue;
      }
      const added = await this.deps.memories.submit(me, { ...shape, text });
      res.added.push({ memoryId: added.id, text: added.text, previousText: undefined });
    }
    return res;
  }

  /**
   * Two calls: extract the facts, then decide each against the caller's most similar memories.
   * Everything the model says is validated before the first write, so a bad answer stores nothing.
   */
  private async withLlm(
    me: Caller,
    messages: personaPb.ConversationMessage[],
    shape: NewMemoryShape,
  ): Promise<Response> {
    const llm = this.deps.llm!;
    const model = this.deps.model!;
    const res: Response = { added: [], updated: [], skipped: [], generated: true };
    // The shape of the memories to add is refused, if it is bad, before the model is paid for.
    await this.deps.memories.checkNew(me, [{ ...shape, text: 'placeholder' }], (_i, field) => field);
    const extracted = parseFacts(
      await llm.complete({
        model,
        messages: extractionMessages(messages),
        temperature: 0,
        maxTokens: EXTRACT_MAX_TOKENS,
        json: true,
      }),
    );
    const facts = extracted.slice(0, REMEMBER_MAX_FACTS);
    res.skipped.push(...extracted.slice(REMEMBER_MAX_FACTS).map(overCap));
    if (!facts.length) return res;

    const nearest = await Promise.all(facts.map((f) => this.ownNearest(me, f, CANDIDATES_PER_FACT)));
    // A fact with nothing to compare to is added without asking the model.
    const judged = facts.flatMap((text, i) => (nearest[i]!.length ? [i] : []));
    const inputs: DecisionInput[] = judged.map((i) => ({
      text: facts[i]!,
      candidates: nearest[i]!.map((m) => ({ text: m.text })),
    }));
    const decisions = inputs.length
      ? parseDecisions(
          await llm.complete({
            model,
            messages: decisionMessages(inputs),
            temperature: 0,
            maxTokens: DECIDE_MAX_TOKENS,
            json: true,
          }),
          inputs,
        )
      : [];

    const toAdd: string[] = [];
    const toUpdate: { memory: memoryPb.Memory; text: string }[] = [];
    const updating = new Map<string, string>();
    facts.forEach((text, i) => {
      const at = judged.indexOf(i);
      const d = at >= 0 ? decisions[at]! : undefined;
      if (!d || d.action === 'ADD') return void toAdd.push(text);
      const memory = d.memory === undefined ? undefined : nearest[i]![d.memory - 1]!;
      if (d.action === 'SKIP') {
        return void res.skipped.push({ text, reason: d.reason || 'duplicate', memoryId: memory?.id });
      }
      const earlier = updating.get(memory!.id);
      if (earlier !== undefined) {
        return void res.skipped.push({
          text,
          reason: `the memory is already updated by "${earlier}" in this call`,
          memoryId: memory!.id,
        });
      }
      updating.set(memory!.id, text);
      toUpdate.push({ memory: memory!, text });
    });

    // All or nothing for the additions, and before the updates: an addition refused by
    // memory-service (a bad shared_with, say) leaves every existing memory as it was.
    const added = await this.deps.memories.submitAll(
      me,
      toAdd.map((text) => ({ ...shape, text })),
    );
    res.added = added.map((m) => ({ memoryId: m.id, text: m.text, previousText: undefined }));
    for (const { memory, text } of toUpdate) {
      // An update through memory-service keeps the old text in the memory's history (restore_memory
      // brings it back); it is also returned as previous_text. The memory keeps its permission, tags
      // and shares; expected_updated_at refuses a concurrent edit.
      const updated = await this.deps.memories.updateText(me, {
        memoryId: memory.id,
        text,
        expectedUpdatedAt: memory.updatedAt,
      });
      res.updated.push({ memoryId: updated.id, text: updated.text, previousText: memory.text });
    }
    return res;
  }
}

/** The same limits as the gateway's schema, for callers that reach the service directly. */
function checkMessages(messages: personaPb.ConversationMessage[]): personaPb.ConversationMessage[] {
  if (!messages.length) throw invalid('messages', 'messages must hold at least one message');
  if (messages.length > REMEMBER_MAX_MESSAGES)
    throw invalid('messages', `messages must hold at most ${REMEMBER_MAX_MESSAGES} messages`);
  let total = 0;
  messages.forEach((m, i) => {
    if (!ROLES.has(m.role))
      throw invalid(`messages[${i}].role`, `messages[${i}].role must be "user" or "assistant"`);
    if (m.content.length > REMEMBER_MAX_MESSAGE_CHARS)
      throw invalid(
        `messages[${i}].content`,
        `messages[${i}].content must be at most ${REMEMBER_MAX_MESSAGE_CHARS} characters`,
      );
    total += m.content.length;
  });
  if (total > REMEMBER_MAX_TOTAL_CHARS)
    throw invalid(
      'messages',
      `the messages must hold at most ${REMEMBER_MAX_TOTAL_CHARS} characters together`,
    );
  return messages;
}
