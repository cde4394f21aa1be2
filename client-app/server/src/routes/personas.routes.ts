import { Router } from 'express';
import { z } from 'zod';
import type { AskEvent, AskRequest, QueryUserResult } from '../../../contract/bff-api.js';
import { BffError, parse } from '../errors.js';
import { PicardHttpError } from '../picard.client.js';
import { grantOf, withPicard, type Deps } from './context.js';

const askBody = z
  .object({
    prompt: z
      .string({ error: 'prompt is required' })
      .trim()
      .min(1, 'prompt is required')
      .max(10_000, 'prompt must be at most 10000 characters'),
    limit: z
      .number({ error: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(50, 'limit must be at most 50')
      .optional(),
  })
  .strict() satisfies z.ZodType<AskRequest, unknown>;
const userIdParam = z.uuid({ error: 'user_id must be a user id (UUID)' });

/**
 * POST /bff/personas/{user_id}/ask: the answer as NDJSON AskEvents while it is written (query_user
 * over MCP with stream: true; each progress notification carries the next piece of text). Failures
 * before the first line are plain JSON errors with their status; after it, an `error` event.
 */
export function personasRouter(deps: Deps): Router {
  const router = Router();
  router.post('/bff/personas/:userId/ask', async (req, res) => {
    const grant = grantOf(req);
    const userId = parse(userIdParam, req.params.userId, 'user_id');
    const body = parse(askBody, req.body ?? {});
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const send = (e: AskEvent) => {
      if (!res.headersSent) {
        res.status(200);
        res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('X-Accel-Buffering', 'no');
        res.flushHeaders();
      }
      res.write(`${JSON.stringify(e)}\n`);
    };
    let result: QueryUserResult;
    try {
      result = await withPicard(deps, grant, (token) =>
        deps.picard.mcpTool<QueryUserResult>(
          token,
          'query_user',
          {
            user_id: userId,
            prompt: body.prompt,
            ...(body.limit ? { limit: body.limit } : {}),
            stream: true,
          },
          (p) => {
            if (p.message) send({ type: 'delta', text: p.message });
          },
          abort.signal,
        ),
      );
    } catch (err) {
      if (!res.headersSent) throw err;
      const e =
        err instanceof BffError
          ? err
          : err instanceof PicardHttpError
            ? err.toBffError()
            : new BffError(502, 'picard_error', 'The answer was interrupted; please ask again.');
      send({ type: 'error', error: e.toJSON() });
      res.end();
      return;
    }
    send({ type: 'result', result });
    res.end();
  });
  return router;
}
