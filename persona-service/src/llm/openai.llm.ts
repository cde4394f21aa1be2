import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { DomainError, type Logger } from '@picard/service-kit';
import { llmConfigured, type PersonaConfig } from '../config.js';
import type { Llm, LlmRequest } from './llm.types.js';

/**
 * fetch whose failures are Errors of this realm. Under a vm context (jest's ESM runner) Node's
 * fetch rejects with a DOMException from the outer realm; the openai client then fails its
 * `instanceof Error` check, loses the AbortError name and reports a timeout as a connection error.
 */
const sameRealmFetch: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (err) {
    if (err instanceof Error || typeof err !== 'object' || err === null) throw err;
    const foreign = err as { name?: string; message?: string };
    throw Object.assign(new Error(foreign.message ?? 'fetch failed', { cause: err }), {
      name: foreign.name ?? 'Error',
    });
  }
};

/** `step`, or deadline_exceeded (after `onTimeout`) when it takes longer than `ms`. */
async function withinIdle<T>(step: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DomainError('deadline_exceeded', `the language model stopped streaming for ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([step, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The configured LLM, or undefined when none is (then the offline answerer speaks). Timeouts and
 * retries with exponential backoff are the openai client's own (it retries 408/409/429/5xx,
 * connection errors and timeouts).
 */
export function createLlm(config: PersonaConfig, logger: Logger): Llm | undefined {
  if (!llmConfigured(config)) return undefined;
  const timeoutMs = config.LLM_TIMEOUT_MS;
  const retries = config.LLM_MAX_RETRIES;
  // The openai client's backoff: 0.5 s doubling per retry, at most 8 s each (jitter only shortens it).
  const backoffMs = Array.from({ length: retries }, (_, i) => Math.min(500 * 2 ** i, 8000)).reduce(
    (a, b) => a + b,
    0,
  );
  // One attempt's time more as slack: on a busy machine the client's own timers fire late, and its
  // last timeout (which says how many attempts failed) must report before this cap does.
  const wholeCallMs = timeoutMs * (retries + 2) + backoffMs;
  const client = new OpenAI({
    // Explicit, so OPENAI_BASE_URL/OPENAI_API_KEY (the embedding provider's variables) never leak in.
    baseURL: config.LLM_BASE_URL ?? 'https://api.openai.com/v1',
    // Local OpenAI-compatible servers often need no key, but the client insists on one.
    apiKey: config.LLM_API_KEY ?? 'none',
    timeout: timeoutMs,
    maxRetries: retries,
    fetch: sameRealmFetch,
  });

  const failed = (err: unknown, model: string): DomainError => {
    if (err instanceof DomainError) return err;
    const after = `after ${retries + 1} attempt${retries ? 's' : ''}`;
    if (err instanceof APIConnectionTimeoutError) {
      return new DomainError(
        'deadline_exceeded',
        `the language model did not answer within ${timeoutMs} ms (${after})`,
      );
    }
    if (err instanceof APIUserAbortError)
      return new DomainError('unavailable', 'the language model request was cancelled');
    logger.warn({ err, model }, 'LLM call failed');
    if (err instanceof APIError && err.status) {
      return new DomainError('unavailable', `the language model failed with HTTP ${err.status} (${after})`);
    }
    return new DomainError('unavailable', `the language model could not be reached (${after})`);
  };

  const params = (req: LlmRequest) => ({
    model: req.model,
    messages: req.messages,
    temperature: req.temperature,
    max_tokens: req.maxTokens,
    ...(req.json ? { response_format: { type: 'json_object' as const } } : {}),
  });

  return {
    async complete(req) {
      // The client's timeout ends once the headers arrive, so a body that never comes would hang:
      // cap the whole call at what every attempt and backoff together may legitimately take.
      const controller = new AbortController();
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
        controller.abort();
      }, wholeCallMs);
      try {
        const res = await client.chat.completions.create(
          { ...params(req), stream: false },
          { signal: controller.signal },
        );
        return res.choices[0]?.message?.content ?? '';
      } catch (err) {
        if (expired)
          throw new DomainError(
            'deadline_exceeded',
            `the language model did not answer within ${wholeCallMs} ms`,
          );
        throw failed(err, req.model);
      } finally {
        clearTimeout(timer);
      }
    },
    async *stream(req) {
      let stream;
      try {
        stream = await client.chat.completions.create({ ...params(req), stream: true });
      } catch (err) {
        throw failed(err, req.model);
      }
      // The client's timeout ends once the response starts; a stream that then stalls is caught here.
      const chunks = stream[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await withinIdle(chunks.next(), timeoutMs, () => stream.controller.abort());
          if (next.done) break;
          const delta = next.value.choices[0]?.delta?.content;
          if (delta) yield delta;
        }
      } catch (err) {
        throw failed(err, req.model);
      } finally {
        // A consumer that stops early (the gRPC caller went away) must not leave the request running.
        stream.controller.abort();
      }
    },
  };
}
