import { callUnary, DomainError, readStream } from '@picard/service-kit';
import type { personaPb } from '@picard/proto';
import {
  queryUserInput,
  queryUserOutput,
  queryUserResultToJson,
  queryUserToProto,
} from '../../schemas/persona.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool, type ToolContext } from './tool-definition.js';

/**
 * persona-service may spend LLM_TIMEOUT_MS × (LLM_MAX_RETRIES + 1) plus backoff on one answer
 * (30 s × 3 + 1.5 s with the defaults); the deadline leaves it that and some room.
 */
export const QUERY_USER_DEADLINE_MS = 120_000;

export const queryUserTool = defineTool({
  name: 'query_user',
  title: "Ask a user's persona",
  description:
    "Asks a user's persona a question. It is answered from that user's memories that the caller may see " +
    '(public ones, and ones shared with the caller or their groups; private ones only when you ask your own ' +
    'persona), most relevant first, by the configured LLM, or, without one, by quoting the memories (generated ' +
    'is then false). citations are the ids of the memories the answer used; memories are the ones retrieved. ' +
    'Rate-limited per user.',
  scope: SCOPES.read,
  input: queryUserInput(),
  output: queryUserOutput,
  annotations: { readOnlyHint: true, openWorldHint: false },
  rateLimit: (config) => ({ calls: config.GATEWAY_QUERY_USER_PER_MINUTE, windowSeconds: 60 }),
  async run(input, ctx) {
    const request = queryUserToProto(input);
    // Streaming only pays off for an MCP client that listens for progress; everyone else gets the same
    // result from the unary call.
    const res =
      input.stream && ctx.progress
        ? await streamed(request, ctx, ctx.progress)
        : await callUnary(
            ctx.clients.persona.queryUser.bind(ctx.clients.persona),
            request,
            ctx.metadata,
            QUERY_USER_DEADLINE_MS,
          );
    return queryUserResultToJson(res);
  },
});

async function streamed(
  request: personaPb.QueryUserRequest,
  { clients, metadata, signal }: ToolContext,
  progress: NonNullable<ToolContext['progress']>,
): Promise<personaPb.QueryUserResponse> {
  const stream = clients.persona.queryUserStream(request, metadata, {
    deadline: Date.now() + QUERY_USER_DEADLINE_MS,
  });
  // A client that cancels the call also stops the LLM request behind it.
  const cancel = () => stream.cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  let chars = 0;
  let result: personaPb.QueryUserResponse | undefined;
  try {
    for await (const chunk of readStream(stream)) {
      if (chunk.delta) {
        chars += chunk.delta.length;
        await progress({ progress: chars, message: chunk.delta });
      }
      if (chunk.result) result = chunk.result;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
  if (!result) throw new DomainError('internal', 'persona-service ended the answer stream without a result');
  return result;
}
