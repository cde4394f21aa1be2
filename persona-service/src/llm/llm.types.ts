/** One chat message as we send it; the roles we use and nothing else. */
export interface LlmMessage {
  role: 'system' | 'user';
  content: string;
}

export interface LlmRequest {
  model: string;
  messages: LlmMessage[];
  temperature: number;
  maxTokens: number;
  /** Ask for a JSON object (OpenAI's response_format json_object); the caller still validates it. */
  json?: boolean;
}

/** An OpenAI-compatible chat model. Failures are DomainErrors (unavailable, deadline_exceeded). */
export interface Llm {
  complete(req: LlmRequest): Promise<string>;
  /** Yields text deltas as they arrive; breaking out of the loop aborts the request. */
  stream(req: LlmRequest): AsyncGenerator<string>;
}
