import type { FuzzRequest } from './fuzz-request.js';
import type { Reply } from './send.js';

export interface Verdict {
  /** The request was turned down: a 4xx, or over MCP only JSON-RPC errors and tool errors. */
  refused: boolean;
  /** Broken promises; empty when the answer is as it should be. */
  problems: string[];
}

type Json = Record<string, unknown>;

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const excerpt = (body: Buffer) => JSON.stringify(body.subarray(0, 300).toString('utf8'));

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A refused batch's items each say what is wrong and with which item. */
const itemsNamed = (errors: unknown) =>
  Array.isArray(errors) &&
  errors.length > 0 &&
  errors.every(
    (e: Json) =>
      nonEmpty(e?.message) && (nonEmpty(e.field) || e.id !== undefined || typeof e.index === 'number'),
  );

/**
 * "Every 4xx names the field or the reason", precisely: the body is one of the error shapes the
 * gateway speaks, with a non-empty reason that is not the generic internal error:
 *   - the gateway's `{error, message, field?}` (a refused batch adds `errors`): an `invalid_argument`
 *     must name its `field` (or, for a batch, each item at fault);
 *   - RFC 6749 `{error, error_description}` from the OAuth endpoints;
 *   - JSON-RPC `{error: {code, message}}` from the MCP transport;
 *   - an HTML page of the authorization flow with its `role="alert"` message.
 */
export function namesReason(reply: Reply): string | undefined {
  if (reply.contentType.startsWith('text/html')) {
    const alert = /<p class="error" role="alert">([^<]*)<\/p>/.exec(reply.body.toString('utf8'));
    return nonEmpty(alert?.[1]) ? undefined : `a ${reply.status} page without an error message`;
  }
  const json = parseJson(reply.body) as Json | undefined;
  if (!json || typeof json !== 'object')
    return `a ${reply.status} without an error body: ${excerpt(reply.body)}`;
  if (typeof json.error === 'string' && 'message' in json) {
    if (!nonEmpty(json.message)) return `a ${reply.status} with an empty message`;
    if (json.error === 'internal' || /internal error/i.test(json.message)) {
      return `a ${reply.status} that says only "internal error": ${excerpt(reply.body)}`;
    }
    if (json.error === 'invalid_argument' && !nonEmpty(json.field) && !itemsNamed(json.errors)) {
      return `an invalid_argument without the field: ${excerpt(reply.body)}`;
    }
    return undefined;
  }
  if (typeof json.error === 'string') {
    return nonEmpty(json.error_description)
      ? undefined
      : `an OAuth error without error_description: ${excerpt(reply.body)}`;
  }
  const rpc = json.error as Json | undefined;
  if (rpc && typeof rpc === 'object' && nonEmpty(rpc.message)) return undefined;
  return `a ${reply.status} in no known error shape: ${excerpt(reply.body)}`;
}

/** The JSON-RPC messages of an MCP answer, sent as JSON or as server-sent events. */
function rpcMessages(reply: Reply): Json[] {
  if (reply.contentType.startsWith('text/event-stream')) {
    return reply.body
      .toString('utf8')
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => parseJson(Buffer.from(line.slice(5))) as Json)
      .filter(Boolean);
  }
  const json = parseJson(reply.body);
  return Array.isArray(json) ? (json as Json[]) : json ? [json as Json] : [];
}

/** What an unexplained failure says; a -32603 that names the field (the SDK's prompt argument checks) is a reason. */
const GENERIC_INTERNAL = /^internal( server)? error\.?$/i;

/**
 * An MCP answer in HTTP 200: JSON-RPC errors must say what is wrong, not just "internal error" (the
 * MCP face of a 500); a tool error (isError) likewise, and an invalid_argument tool error names its
 * field as `invalid_argument (<field>): ...`.
 */
function mcpProblems(reply: Reply): { refused: boolean; problems: string[] } {
  const problems: string[] = [];
  const answers = rpcMessages(reply).filter((m) => 'result' in m || 'error' in m);
  let failures = 0;
  for (const m of answers) {
    const error = m.error as Json | undefined;
    const result = m.result as { isError?: boolean; content?: { text?: string }[] } | undefined;
    if (error) {
      failures++;
      if (!nonEmpty(error.message)) problems.push(`a JSON-RPC error without a message: ${JSON.stringify(m)}`);
      else if (GENERIC_INTERNAL.test(String(error.message)))
        problems.push(`a JSON-RPC internal error: ${JSON.stringify(m).slice(0, 300)}`);
    } else if (result?.isError) {
      failures++;
      const text = result.content?.map((c) => c.text ?? '').join(' ') ?? '';
      if (!nonEmpty(text)) problems.push('a tool error without text');
      else if (/^internal\b/.test(text) || /internal error/i.test(text))
        problems.push(`a tool error that says only "internal error": ${text.slice(0, 300)}`);
      else if (/^invalid_argument\b/.test(text) && !/^invalid_argument \([^)]+\): /.test(text)) {
        problems.push(`an invalid_argument tool error without the field: ${text.slice(0, 300)}`);
      }
    }
  }
  return { refused: answers.length > 0 && failures === answers.length, problems };
}

export function judge(request: FuzzRequest, reply: Reply): Verdict {
  if (reply.status >= 500)
    return { refused: true, problems: [`answered ${reply.status}: ${excerpt(reply.body)}`] };
  if (reply.status >= 400) {
    const missing = namesReason(reply);
    return { refused: true, problems: missing ? [missing] : [] };
  }
  if (request.path === '/mcp' && reply.status === 200) return mcpProblems(reply);
  return { refused: false, problems: [] };
}
