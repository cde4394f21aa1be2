import { Router } from 'express';
import { FORWARDED_TOOLS, WRITE_TOOLS, type ForwardedTool } from '../../../contract/bff-api.js';
import { BffError, forbidden, invalid } from '../errors.js';
import { grantOf, SCOPE, scopesOf, withPicard, type Deps } from './context.js';

const isForwarded = (name: string): name is ForwardedTool =>
  (FORWARDED_TOOLS as readonly string[]).includes(name);

/** POST /bff/tools/{tool}: the tool's input as the body, forwarded to Picard's POST /api/tools. */
export function toolsRouter(deps: Deps): Router {
  const router = Router();
  router.post('/bff/tools/:tool', async (req, res) => {
    const tool = req.params.tool as string;
    if (!isForwarded(tool))
      throw new BffError(404, 'unknown_tool', `There is no tool "${tool}" here.`, 'tool');
    const grant = grantOf(req);
    const data: unknown = req.body ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw invalid('body', "The body must be a JSON object: the tool's input.");
    }
    // Picard refuses it too; refusing here spares the round trip and says why in the app's words.
    if (WRITE_TOOLS.includes(tool) && !(await scopesOf(deps, grant)).includes(SCOPE.write)) {
      throw forbidden(
        'You signed in with read-only access; sign in again granting write access to change things.',
      );
    }
    const result = await withPicard(deps, grant, (token) => deps.picard.tool(token, tool, data));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ result });
  });
  return router;
}
