import type { NextFunction, Request, Response } from 'express';
import { toolByName } from '../mcp/tools/index.js';
import { challenges } from './bearer.js';
import { SCOPES } from './scopes.js';

type McpBody = { method?: unknown; params?: { name?: unknown } } | unknown[] | undefined;

/** The scope a JSON-RPC request needs beyond a valid token, and what to call it in the refusal. */
function neededScope(body: McpBody): { what: string; scope: string } | undefined {
  if (!body || Array.isArray(body)) return undefined;
  // Subscribing reads a resource and every later change of it (stateful mode).
  if (body.method === 'resources/subscribe') return { what: 'resources/subscribe', scope: SCOPES.read };
  if (body.method === 'tools/call' && typeof body.params?.name === 'string') {
    const tool = toolByName(body.params.name);
    return tool && { what: tool.name, scope: tool.scope };
  }
  return undefined;
}

/**
 * Answers an MCP tools/call (or resources/subscribe) that the token's scopes do not cover with
 * HTTP 403 and an insufficient_scope challenge, so the host can ask the user for the missing scope
 * (step-up) instead of receiving an error it cannot act on.
 */
export function mcpScopeGate(resourceMetadataUrl: string) {
  const challenge = challenges(resourceMetadataUrl);
  return (req: Request, res: Response, next: NextFunction) => {
    const needed = neededScope(req.body as McpBody);
    const held = req.auth?.scopes ?? [];
    if (!needed || held.includes(needed.scope)) return next();
    res.setHeader(
      'WWW-Authenticate',
      challenge.insufficientScope([...new Set([...held, needed.scope])].join(' ')),
    );
    res
      .status(403)
      .json({ error: 'insufficient_scope', message: `${needed.what} needs the scope ${needed.scope}` });
  };
}
