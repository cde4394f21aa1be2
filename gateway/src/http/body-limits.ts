import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { TRANSFER_MAX_CHARS } from '@picard/proto';
import { DomainError } from '@picard/service-kit';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size as express writes it: bytes, or a number with b, kb, mb or gb (1024-based); else undefined. */
export function parseSize(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

export const formatSize = (bytes: number): string =>
  bytes >= 1024 ** 2
    ? `${+(bytes / 1024 ** 2).toFixed(1)} MiB`
    : bytes >= 1024
      ? `${+(bytes / 1024).toFixed(1)} KiB`
      : `${bytes} bytes`;

/**
 * The largest body one import_memories call can need: the file (TRANSFER_MAX_CHARS UTF-16 code
 * units) as a JSON string with every code unit escaped as `\uXXXX` (6 bytes, the worst case: a
 * client may escape all non-ASCII, and control characters are always escaped), plus 64 KiB for
 * the rest (tool name, format, JSON-RPC fields, whitespace). About 48.1 MiB.
 */
export const IMPORT_CALL_BODY_BYTES = TRANSFER_MAX_CHARS * 6 + 64 * 1024;

export interface BodyLimits {
  /** GATEWAY_BODY_LIMIT in bytes: every JSON body but an import_memories call. */
  defaultBytes: number;
  /** An import_memories call on /mcp or /api/tools (at least defaultBytes). */
  importCallBytes: number;
}

export const bodyLimits = (defaultBytes: number): BodyLimits => ({
  defaultBytes,
  importCallBytes: Math.max(defaultBytes, IMPORT_CALL_BODY_BYTES),
});

/** What express.json throws past its limit; app.ts's error handler answers it with 413. */
export interface TooLargeError extends Error {
  type: 'entity.too.large';
  status: 413;
  limit: number;
}

function tooLarge(limit: number): TooLargeError {
  return Object.assign(new Error('request entity too large'), {
    type: 'entity.too.large' as const,
    status: 413 as const,
    limit,
  });
}

/** The 413 message: which limit the body passed, and what it applies to. */
export function tooLargeMessage(limits: BodyLimits, limit: number | undefined): string {
  if (limit !== undefined && limit === limits.importCallBytes && limit > limits.defaultBytes) {
    return (
      `the body is larger than ${formatSize(limit)}, the most an import_memories call can need ` +
      `(a file of ${formatSize(TRANSFER_MAX_CHARS)} of text, JSON-escaped)`
    );
  }
  return (
    `the body is larger than ${formatSize(limits.defaultBytes)} (GATEWAY_BODY_LIMIT); only an ` +
    `import_memories call may be larger, up to ${formatSize(limits.importCallBytes)}`
  );
}

/** /mcp and /api/tools[/...], as express routes them (case-insensitive, trailing slash allowed). */
export function isToolPath(path: string): boolean {
  const p = path.toLowerCase().replace(/\/+$/, '');
  return p === '/mcp' || p === '/api/tools' || p.startsWith('/api/tools/');
}

/** JSON bodies of every route but the tool routes, which parse theirs after the bearer check. */
export function jsonBody(limits: BodyLimits): RequestHandler {
  const parse = express.json({ limit: limits.defaultBytes });
  return (req, res, next) => (isToolPath(req.path) ? next() : parse(req, res, next));
}

const BODY_BYTES = Symbol('bodyBytes');
type Sized = Request & { [BODY_BYTES]?: number };

/** The tool a request calls: `tools/call` on /mcp; on /api/tools the path's name or `{tool}`. */
function calledTool(req: Request, route: 'mcp' | 'rest'): string | undefined {
  const body = req.body as { tool?: unknown; method?: unknown; params?: { name?: unknown } } | undefined;
  const plain = body && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
  if (route === 'mcp') {
    return plain?.method === 'tools/call' && typeof plain.params?.name === 'string'
      ? plain.params.name
      : undefined;
  }
  // Mounted at /api/tools: req.path is what follows it.
  const named = req.path.replace(/^\/+|\/+$/g, '');
  if (named) return named;
  return typeof plain?.tool === 'string' ? plain.tool : undefined;
}

/**
 * JSON bodies of /mcp and /api/tools, mounted after the bearer check so only a signed-in caller can
 * make the gateway read more than GATEWAY_BODY_LIMIT: up to what an import_memories call needs, and
 * a body past GATEWAY_BODY_LIMIT that calls any other tool is still refused with 413.
 */
export function toolCallBody(limits: BodyLimits, route: 'mcp' | 'rest'): RequestHandler[] {
  const parse = express.json({
    limit: limits.importCallBytes,
    verify: (req, _res, buf) => {
      (req as Sized)[BODY_BYTES] = buf.length;
    },
  });
  const check = (req: Request, _res: Response, next: NextFunction) => {
    const bytes = (req as Sized)[BODY_BYTES] ?? 0;
    if (bytes > limits.defaultBytes && calledTool(req, route) !== 'import_memories') {
      next(tooLarge(limits.defaultBytes));
      return;
    }
    // JSON.parse takes any depth, but the MCP transport serializes the body again, recursively: a
    // few thousand levels overflow its stack. No tool input nests anywhere near this.
    if (nestsDeeperThan(req.body, MAX_BODY_DEPTH)) {
      next(
        new DomainError('invalid_argument', `the body nests deeper than ${MAX_BODY_DEPTH} levels`, 'body'),
      );
      return;
    }
    next();
  };
  return [parse, check];
}

const MAX_BODY_DEPTH = 64;

/** Whether objects and arrays in a parsed JSON value nest deeper than `max` (level by level: no recursion). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length; depth++) {
    if (depth > max) return true;
    const next: unknown[] = [];
    for (const v of level) {
      if (v === null || typeof v !== 'object') continue;
      for (const child of Object.values(v)) if (child !== null && typeof child === 'object') next.push(child);
    }
    level = next;
  }
  return false;
}
