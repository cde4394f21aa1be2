import { Router } from 'express';
import { z } from 'zod';
import type { ToolResult } from '../../../contract/bff-api.js';
import { parse } from '../errors.js';
import { grantOf, withPicard, type Deps } from './context.js';
import { EXPORT_FORMATS } from './imports.routes.js';

const exportQuery = z.object({
  format: z.enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(', ')}` }),
  include_history: z
    .enum(['true', 'false'], { error: 'include_history must be true or false' })
    .optional()
    .transform((v) => v === 'true'),
});

const FILE = {
  json: { ext: 'json', type: 'application/json' },
  ndjson: { ext: 'ndjson', type: 'application/x-ndjson' },
  csv: { ext: 'csv', type: 'text/csv' },
  markdown: { ext: 'md', type: 'text/markdown' },
} as const;

/** GET /bff/exports?format=[&include_history=true]: the user's memories (and their earlier versions) as a file download. */
export function exportsRouter(deps: Deps): Router {
  const router = Router();
  router.get('/bff/exports', async (req, res) => {
    const grant = grantOf(req);
    const { format, include_history } = parse(exportQuery, req.query);
    const out = await withPicard(deps, grant, (token) =>
      deps.picard.tool<ToolResult<'export_memories'>>(token, 'export_memories', { format, include_history }),
    );
    const date = new Date().toISOString().slice(0, 10);
    const file = FILE[format];
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `attachment; filename="picard-memories-${date}.${file.ext}"`);
    res.type(`${file.type}; charset=utf-8`).send(out.data);
  });
  return router;
}
