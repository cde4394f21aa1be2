import { assertUuid, invalid, type Caller } from '@picard/service-kit';
import { memoryPb, PERSONA_LIMITS, type personaPb } from '@picard/proto';
import type { MemoryClient } from '../clients/memory.client.js';
import type { Llm, LlmRequest } from '../llm/llm.types.js';
import type { PersonaStore } from '../store/persona.store.js';
import { ownUserId, requireScope, SCOPES } from './access.js';
import { AnswerCache, type CachedAnswer } from './answer-cache.js';
import { nothingKnownAnswer, offlineAnswer } from './offline-answer.js';
import { PERSONA_DEFAULTS } from './persona.rules.js';
import { buildPrompt, parseCitations } from './query.prompt.js';

export interface QueryDeps {
  store: PersonaStore;
  memories: MemoryClient;
  /** Absent when no LLM is configured: the offline answerer speaks instead. */
  llm?: Llm;
  /** LLM_MODEL and LLM_ALLOWED_MODELS: a stored model outside them is not used. */
  allowedModels?: readonly string[];
  /** LLM_MODEL, for personas that did not choose a model. */
  defaultModel?: string;
  cache: AnswerCache;
}

type Response = personaPb.QueryUserResponse;

/** What is settled before any answering: either a final response, or a request for the LLM. */
type Plan =
  | { kind: 'done'; response: Response }
  | { kind: 'llm'; request: LlmRequest; used: memoryPb.Memory[]; cacheKey: string; ownerId: string };

const isExpired = (m: memoryPb.Memory, now: number) =>
  !!m.expirationDate && m.expirationDate.getTime() <= now;

/** query_user: retrieve what the caller may see of a user's memories, then answer from them. */
export class QueryService {
  constructor(private readonly deps: QueryDeps) {}

  async ask(caller: Caller, req: personaPb.QueryUserRequest): Promise<Response> {
    const plan = await this.plan(caller, req);
    if (plan.kind === 'done') return plan.response;
    const answer = await this.deps.llm!.complete(plan.request);
    return this.finish(plan, answer);
  }

  async *askStream(
    caller: Caller,
    req: personaPb.QueryUserRequest,
  ): AsyncGenerator<personaPb.QueryUserChunk> {
    const plan = await this.plan(caller, req);
    if (plan.kind === 'done') {
      yield { delta: plan.response.answer, result: undefined };
      yield { delta: '', result: plan.response };
      return;
    }
    let answer = '';
    for await (const delta of this.deps.llm!.stream(plan.request)) {
      answer += delta;
      yield { delta, result: undefined };
    }
    yield { delta: '', result: this.finish(plan, answer) };
  }

  private finish(plan: Extract<Plan, { kind: 'llm' }>, answer: string): Response {
    const value: CachedAnswer = {
      answer,
      citations: parseCitations(
        answer,
        plan.used.map((m) => m.id),
      ),
    };
    this.deps.cache.set(plan.cacheKey, plan.ownerId, value);
    return { ...value, generated: true, memories: plan.used };
  }

  private async plan(caller: Caller, req: personaPb.QueryUserRequest): Promise<Plan> {
    requireScope(caller, SCOPES.read);
    const callerId = ownUserId(caller);
    const ownerId = assertUuid('user_id', req.userId);
    const prompt = checkPrompt(req.prompt);
    const stored = await this.deps.store.find(ownerId);
    const persona = stored ?? { ...PERSONA_DEFAULTS, updatedAt: undefined };
    const limit = checkLimit(req.limit, persona.memoryLimit);

    // A persona with tags answers from the memories carrying one of them only.
    const found = await this.deps.memories.query(caller, {
      query: prompt,
      userId: ownerId,
      limit,
      anyTags: persona.tags,
    });
    const now = Date.now();
    // memory-service already applies the visibility rule and the user_id filter; this repeats the
    // parts that can be checked here, so a regression there cannot put a wrong memory in a prompt.
    const visible = found
      .filter((m) => m.userId.toLowerCase() === ownerId && !isExpired(m, now))
      .filter((m) => callerId === ownerId || m.permission !== memoryPb.Permission.PERMISSION_PRIVATE)
      .slice(0, limit);

    const name = persona.displayName.trim() || `user ${ownerId}`;
    const done = (response: Response): Plan => ({ kind: 'done', response });
    if (!visible.length)
      return done({ answer: nothingKnownAnswer(name), generated: false, citations: [], memories: [] });

    const built = buildPrompt(
      { name, description: persona.description, tone: persona.tone },
      visible,
      prompt,
      persona.maxTokens,
    );
    // Not even the most relevant memory fits the budget: nothing usable, so nothing is claimed.
    if (!built.used.length)
      return done({ answer: nothingKnownAnswer(name), generated: false, citations: [], memories: [] });

    const { llm } = this.deps;
    if (!llm) return done({ ...offlineAnswer(name, built.used), generated: false, memories: built.used });

    // A model saved before the allow-list (or since dropped from it) falls back to the default.
    const model =
      persona.model && (this.deps.allowedModels ?? []).includes(persona.model)
        ? persona.model
        : this.deps.defaultModel!;
    const cacheKey = AnswerCache.key({
      ownerId,
      prompt,
      personaVersion: stored ? String(stored.updatedAt.getTime()) : 'default',
      model,
      memories: visible,
    });
    const cached = this.deps.cache.get(cacheKey);
    if (cached) return done({ ...cached, generated: true, memories: built.used });
    return {
      kind: 'llm',
      request: {
        model,
        messages: built.messages,
        temperature: persona.temperature,
        maxTokens: persona.maxTokens,
      },
      used: built.used,
      cacheKey,
      ownerId,
    };
  }
}

function checkPrompt(prompt: string): string {
  if (prompt.trim() === '') throw invalid('prompt', 'prompt must not be blank');
  if ([...prompt].length > PERSONA_LIMITS.prompt)
    throw invalid('prompt', `prompt must be at most ${PERSONA_LIMITS.prompt} characters`);
  return prompt;
}

/** 0 (unset) means the persona's memory_limit; otherwise the same bounds as memory_limit. */
function checkLimit(limit: number, fallback: number): number {
  if (limit === 0) return fallback;
  const { min, max } = PERSONA_LIMITS.memoryLimit;
  if (!Number.isInteger(limit) || limit < min || limit > max) {
    throw invalid('limit', `limit must be an integer from ${min} to ${max}`);
  }
  return limit;
}
