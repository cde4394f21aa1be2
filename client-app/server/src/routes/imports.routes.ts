import { Router } from 'express';
import { z } from 'zod';
import type { ExportFormat, ImportFormat, ImportRequest, ToolResult } from '../../../contract/bff-api.js';
import { BffError, forbidden, notFound, parse } from '../errors.js';
import { PicardHttpError } from '../picard.client.js';
import { grantOf, SCOPE, scopesOf, withPicard, type Deps } from './context.js';

export const EXPORT_FORMATS = [
  'json',
  'ndjson',
  'csv',
  'markdown',
] as const satisfies readonly ExportFormat[];
export const IMPORT_FORMATS = [
  ...EXPORT_FORMATS,
  'mcp-memory',
  'mem0',
  'text',
] as const satisfies readonly ImportFormat[];
/** Picard's own cap on an import (memory-service MAX_IMPORT_CHARS). */
export const PICARD_IMPORT_MAX_CHARS = 8 * 1024 * 1024;

const importBody = z
  .object({
    format: z.enum(IMPORT_FORMATS, { error: `format must be one of ${IMPORT_FORMATS.join(', ')}` }),
    data: z
      .string({ error: 'data is required: the text of the file' })
      .min(1, 'data is empty: choose a file with memories'),
  })
  .strict() satisfies z.ZodType<ImportRequest, unknown>;

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** Pauses before each new attempt of an import Picard could not be reached for: ~15 s in all. */
const IMPORT_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];

/** `call` again after each pause while it fails with Picard unavailable (503), then its last error. */
async function retriedWhileUnavailable<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const unavailable = err instanceof BffError && err.status === 503;
      if (!unavailable || attempt >= IMPORT_RETRY_DELAYS_MS.length) throw err;
      await new Promise((r) => setTimeout(r, IMPORT_RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * Imports run in the background through MCP (import_memories with a progress token), so the page can
 * follow them: POST starts one (202), GET reports it.
 */
export function importsRouter(deps: Deps): Router {
  const router = Router();

  router.post('/bff/imports', async (req, res) => {
    const grant = grantOf(req);
    const body = parse(importBody, req.body ?? {});
    if (body.data.length > PICARD_IMPORT_MAX_CHARS) {
      throw new BffError(
        413,
        'payload_too_large',
        `The file holds ${mib(body.data.length)} of text; Picard imports at most ${mib(PICARD_IMPORT_MAX_CHARS)} at a time. Split it.`,
        'data',
      );
    }
    if (!(await scopesOf(deps, grant)).includes(SCOPE.write)) {
      throw forbidden('You signed in with read-only access; sign in again granting write access to import.');
    }
    const job = deps.jobs.start(grant.userId, body.format, async (j) => {
      try {
        // The job's id names the import at Picard: a call cut off by a fault (the gateway restarted,
        // the connection lost) is made again with it, and Picard writes only what is missing.
        const importOnce = () =>
          withPicard(deps, grant, (token) =>
            deps.picard.mcpTool<ToolResult<'import_memories'>>(
              token,
              'import_memories',
              { format: body.format, data: body.data, import_id: j.id },
              (p) => {
                j.done = p.progress;
                if (p.total !== undefined) j.total = p.total;
              },
            ),
          );
        const result = await retriedWhileUnavailable(importOnce);
        j.result = result;
        j.done = result.imported;
        j.total = result.total;
        j.state = 'done';
      } catch (err) {
        const e =
          err instanceof BffError
            ? err
            : err instanceof PicardHttpError
              ? err.toBffError()
              : new BffError(500, 'internal', 'The import failed; please try again.');
        if (!(err instanceof BffError || err instanceof PicardHttpError)) {
          deps.logger.error({ err }, 'import failed');
        }
        j.error = e.toJSON();
        j.state = 'failed';
      }
    });
    res.status(202).json({ job });
  });

  router.get('/bff/imports/:id', (req, res) => {
    const grant = grantOf(req);
    const job = deps.jobs.get(grant.userId, req.params.id as string);
    if (!job) throw notFound('There is no such import.');
    res.setHeader('Cache-Control', 'no-store');
    res.json({ job });
  });
  return router;
}
