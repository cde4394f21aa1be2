import type { NextFunction, Request, Response } from 'express';
import { toolByName } from '../mcp/tools/index.js';
import { challenges } from './bearer.js';
import { SCOPES } from './scopes.js';

type McpMessage = { method?: unknown; params?: { name?: unknown } };

/** The scope one JSON-RPC request needs beyond a valid token, and what to call it in the refusal. */
function neededScope(message: unknown): { what: string; scope: string } | undefined {
  if (!message || typeof message !== 'object') return undefined;
  const { method, params } = message as McpMessage;
  // Subscribing reads a resource and every later change of it (stateful mode).
  if (method === 'resources/subscribe') return { what: 'resources/subscribe', scope: SCOPES.read };
  if (method === 'tools/call' && typeof params?.name === 'string') {
    const tool = toolByName(params.name);
    return tool && { what: tool.name, scope: tool.scope };
  }
  return undefined;
}

/** The first request of the body (one, or each of a batch) that needs a scope the token lacks. */
function firstUncovered(body: unknown, held: readonly string[]) {
  for (const message of Array.isArray(body) ? body : [body]) {
    const needed = neededScope(message);
    if (needed && !held.includes(needed.scope)) return needed;
  }
  return undefined;
}

/**
 * Answers an MCP tools/call (or resources/subscribe) that the token's scopes do not cover with
 * HTTP 403 and an insufficient_scope challenge, so the host can ask the user for the missing scope
 * (step-up) instead of receiving an error it cannot act on. A batch with such a request is refused
 * whole, before any of it runs, as the request alone would be.
 */
export function mcpScopeGate(resourceMetadataUrl: string) {
  const challenge = challenges(resourceMetadataUrl);
  return (req: Request, res: Response, next: NextFunction) => {
    const held = req.auth?.scopes ?? [];
    const needed = firstUncovered(req.body, held);
    if (!needed) return next();
    res.setHeader(
      'WWW-Authenticate',
      challenge.insufficientScope([...new Set([...held, needed.scope])].join(' ')),
    );
    res
      .status(403)
      .json({ error: 'insufficient_scope', message: `${needed.what} needs the scope ${needed.scope}` });
  };
}
