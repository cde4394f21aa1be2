import type { NextFunction, Request, Response } from 'express';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { DomainError, type Caller } from '@picard/service-kit';
import type { TokenVerifier } from './token-verifier.js';
import type { Scope } from './scopes.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by requireBearer; the MCP node adapter forwards it to tool handlers as authInfo. */
    auth?: AuthInfo;
  }
}

export function callerOf(auth: AuthInfo | undefined): Caller | undefined {
  const userId = auth?.extra?.userId;
  if (!auth || typeof userId !== 'string') return undefined;
  return { userId, scopes: auth.scopes, clientId: auth.clientId };
}

/** Builds the RFC 6750 challenges; the resource-metadata URL lets MCP hosts discover how to log in. */
export function challenges(resourceMetadataUrl: string) {
  const base = `Bearer realm="picard", resource_metadata="${resourceMetadataUrl}"`;
  return {
    missing: base,
    invalid: (description: string) =>
      `${base}, error="invalid_token", error_description="${description.replace(/"/g, "'")}"`,
    insufficientScope: (scope: string) => `${base}, error="insufficient_scope", scope="${scope}"`,
  };
}

/**
 * Express middleware: a valid bearer token, else 401 with a WWW-Authenticate challenge. Sets
 * `req.auth` for what follows.
 */
export function requireBearer(verifier: TokenVerifier, resourceMetadataUrl: string) {
  const challenge = challenges(resourceMetadataUrl);
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) {
      res.setHeader('WWW-Authenticate', challenge.missing);
      res.status(401).json({ error: 'unauthenticated', message: 'a bearer access token is required' });
      return;
    }
    try {
      const token = await verifier.verify(match[1]!);
      req.auth = {
        token: token.token,
        clientId: token.clientId,
        scopes: token.scopes,
        expiresAt: token.expiresAt,
        extra: { userId: token.userId },
      };
      next();
    } catch (err) {
      const message = err instanceof DomainError ? err.message : 'the access token is invalid';
      res.setHeader('WWW-Authenticate', challenge.invalid(message));
      res.status(401).json({ error: 'invalid_token', message });
    }
  };
}

/** After requireBearer: 403 with an insufficient_scope challenge unless the token carries `scope`. */
export function requireScope(resourceMetadataUrl: string, scope: Scope) {
  const challenge = challenges(resourceMetadataUrl);
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.auth?.scopes.includes(scope)) return next();
    res.setHeader('WWW-Authenticate', challenge.insufficientScope(scope));
    res.status(403).json({ error: 'insufficient_scope', message: `this call needs the scope ${scope}` });
  };
}
