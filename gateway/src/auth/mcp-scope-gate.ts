import type { NextFunction, Request, Response } from 'express';
import { toolByName } from '../mcp/tools/index.js';
import { challenges } from './bearer.js';
import { SCOPES } from './scopes.js';

/**
 * Answers an MCP tools/call that the token's scopes do not cover with HTTP 403 and an
 * insufficient_scope challenge, so the host can ask the user for the missing scope (step-up)
 * instead of receiving a tool error it cannot act on.
 */
export function mcpScopeGate(resourceMetadataUrl: string) {
  const challenge = challenges(resourceMetadataUrl);
  return (req: Request, res: Response, next: NextFunction) => {
    const body = req.body as { method?: unknown; params?: { name?: unknown } } | undefined;
    // Subscribing reads a resource and every later change of it (stateful mode).
    if (
      body &&
      !Array.isArray(body) &&
      body.method === 'resources/subscribe' &&
      !req.auth?.scopes.includes(SCOPES.read)
    ) {
      const scope = [...new Set([...(req.auth?.scopes ?? []), SCOPES.read])].join(' ');
      res.setHeader('WWW-Authenticate', challenge.insufficientScope(scope));
      res
        .status(403)
        .json({ error: 'insufficient_scope', message: `resources/subscribe needs the scope ${SCOPES.read}` });
      return;
    }
    if (
      body &&
      !Array.isArray(body) &&
      body.method === 'tools/call' &&
      typeof body.params?.name === 'string'
    ) {
      const tool = toolByName(body.params.name);
      if (tool && !req.auth?.scopes.includes(tool.scope)) {
        const scope = [...new Set([...(req.auth?.scopes ?? []), tool.scope])].join(' ');
        res.setHeader('WWW-Authenticate', challenge.insufficientScope(scope));
        res
          .status(403)
          .json({ error: 'insufficient_scope', message: `${tool.name} needs the scope ${tool.scope}` });
        return;
      }
    }
    next();
  };
}
