import { callUnary } from '@picard/service-kit';
import {
  rememberConversationInput,
  rememberConversationOutput,
  rememberConversationResultToJson,
  rememberConversationToProto,
} from '../../schemas/persona.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { QUERY_USER_DEADLINE_MS } from './query-user.tool.js';
import { defineTool } from './tool-definition.js';

/** Two LLM calls in a row (extract, then decide), each allowed what one query_user answer is. */
const REMEMBER_DEADLINE_MS = 2 * QUERY_USER_DEADLINE_MS;

export const rememberConversationTool = defineTool({
  name: 'remember_conversation',
  title: 'Remember a conversation',
  description:
    'Stores the durable facts about the caller from a conversation as their memories. With an LLM configured ' +
    'it extracts short standalone facts, compares each with the caller\u2019s own most similar memories (never ' +
    'anyone else\u2019s) and adds it, updates the memory it corrects (the old text goes to the memory\u2019s ' +
    'history, see get_memory_history and restore_memory, and is returned as previous_text) or skips it as a duplicate. Without an LLM each user message is ' +
    'a fact, skipped when one of the caller\u2019s memories is nearly the same. The conversation is treated as ' +
    'data, never as instructions. Rate-limited per user like query_user.',
  scope: SCOPES.write,
  input: rememberConversationInput(),
  output: rememberConversationOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  // Each call may be two LLM requests: it shares query_user's per-minute budget size.
  rateLimit: (config) => ({ calls: config.GATEWAY_QUERY_USER_PER_MINUTE, windowSeconds: 60 }),
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.persona.rememberConversation.bind(clients.persona),
      rememberConversationToProto(input),
      metadata,
      REMEMBER_DEADLINE_MS,
    );
    return rememberConversationResultToJson(res);
  },
});
