import type { NextFunction, Request, Response } from 'express';

/** The id a batch item repeats, if two of its requests share one. */
export function repeatedRequestId(body: unknown): unknown {
  if (!Array.isArray(body)) return undefined;
  const seen = new Set<unknown>();
  for (const item of body) {
    if (!item || typeof item !== 'object' || !('method' in item) || !('id' in item)) continue;
    const id = (item as { id: unknown }).id;
    if (typeof id !== 'string' && typeof id !== 'number') continue;
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/**
 * Refuses, before anything runs, a JSON-RPC batch in which two requests share an id. The MCP
 * transport pairs answers with requests by id, so such a batch would run every request but answer
 * only one of them: the client could not tell which of its writes happened.
 */
export function mcpBatchIds() {
  return (req: Request, res: Response, next: NextFunction) => {
    const id = repeatedRequestId(req.body);
    if (id === undefined) return next();
    res.status(400).json({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: `Invalid Request: the id ${JSON.stringify(id)} is used by more than one request in this batch; each request needs its own id`,
      },
    });
  };
}
