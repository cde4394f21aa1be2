import express, { Router, type Request, type Response } from 'express';
import { callerMetadata, callUnary, fromServiceError, invalid } from '@picard/service-kit';
import type { authPb } from '@picard/proto';
import type { ServiceClients } from '../clients/service-clients.js';
import { appLogger, publicFailure } from '../http/http-errors.js';
import type { BrowserSessions } from './browser-session.js';
import { retryAfter, type SourceLimits } from '../http/source-limits.js';
import { consentPage, errorPage, loginPage, type AuthorizeParams } from './pages.js';

const PARAM_NAMES = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
] as const;

function pickParams(source: unknown): AuthorizeParams {
  const src = (source ?? {}) as Record<string, unknown>;
  const out: AuthorizeParams = {};
  for (const name of PARAM_NAMES) if (typeof src[name] === 'string') out[name] = src[name] as string;
  return out;
}

const toRequest = (p: AuthorizeParams, userId = '', approved = false): authPb.AuthorizeRequest => ({
  userId,
  clientId: p.client_id ?? '',
  redirectUri: p.redirect_uri ?? '',
  scope: p.scope ?? '',
  state: p.state ?? '',
  codeChallenge: p.code_challenge ?? '',
  codeChallengeMethod: p.code_challenge_method ?? '',
  resource: p.resource ?? '',
  approved,
});

/** An RFC 6749 error sent back to a redirect URI that auth-service vouched for. */
function errorRedirect(
  redirectUri: string,
  issuer: string,
  state: string | undefined,
  error: string,
  description: string,
) {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (state) url.searchParams.set('state', state);
  url.searchParams.set('iss', issuer);
  return url.toString();
}

/**
 * The browser side of the authorization-code flow: login or sign-up, then consent, then the
 * redirect with a code. Pages are rendered here; every rule (client, redirect URI, PKCE, scopes,
 * codes) is decided by auth-service.
 */
export function authorizeRouter(
  clients: ServiceClients,
  sessions: BrowserSessions,
  issuer: string,
  limits: SourceLimits,
): Router {
  const router = Router();
  const auth = clients.auth;
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const html = (res: Response, status: number, page: string) => {
    res.status(status).setHeader('Cache-Control', 'no-store').setHeader('X-Frame-Options', 'DENY');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    res.type('html').send(page);
  };

  /** Validates the request; answers the browser itself when it cannot go on. */
  async function check(
    params: AuthorizeParams,
    res: Response,
  ): Promise<authPb.AuthorizationCheck | undefined> {
    const result = await callUnary(auth.checkAuthorization.bind(auth), toRequest(params));
    if (result.error && !result.redirectTrusted) {
      html(
        res,
        400,
        errorPage('This sign-in request cannot be completed', `${result.error}: ${result.errorDescription}`),
      );
      return undefined;
    }
    if (result.error) {
      res.redirect(303, result.errorRedirect);
      return undefined;
    }
    if (params.response_type !== 'code') {
      // Only a first-party client's redirect URI is trusted with an error (RFC 9700 §4.11.2).
      if (!result.client?.firstParty) {
        html(
          res,
          400,
          errorPage(
            'This sign-in request cannot be completed',
            'unsupported_response_type: response_type must be "code"',
          ),
        );
        return undefined;
      }
      res.redirect(
        303,
        errorRedirect(
          params.redirect_uri!,
          issuer,
          params.state,
          'unsupported_response_type',
          'response_type must be "code"',
        ),
      );
      return undefined;
    }
    return result;
  }

  async function showLoginOrConsent(
    req: Request,
    res: Response,
    params: AuthorizeParams,
    error?: string,
    status = 200,
  ) {
    const checked = await check(params, res);
    if (!checked) return;
    const csrf = sessions.csrfToken(req, res);
    const clientName = checked.client?.clientName ?? params.client_id ?? '';
    const clientId = checked.client?.clientId ?? params.client_id ?? '';
    const userId = error ? undefined : await sessions.userId(req);
    const user = userId
      ? await callUnary(
          auth.getUser.bind(auth),
          { userId },
          callerMetadata({ userId, scopes: [], clientId: '' }),
        ).catch(() => undefined)
      : undefined;
    if (!user || !user.active) {
      const signup =
        (req.query.signup ?? (req.body as Record<string, unknown> | undefined)?.signup) !== undefined;
      return html(res, status, loginPage({ clientName, clientId, params, csrf, error, signup }));
    }
    html(
      res,
      200,
      consentPage({
        clientName,
        clientId,
        redirectUri: params.redirect_uri!,
        username: user.username,
        scopes: checked.scopes,
        params,
        csrf,
      }),
    );
  }

  const guarded =
    (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
      try {
        if (req.method === 'POST' && !sessions.csrfValid(req)) {
          return html(
            res,
            403,
            errorPage(
              'Request refused',
              'The form expired or did not come from this site. Go back and try again.',
            ),
          );
        }
        await handler(req, res);
      } catch (err) {
        const e = publicFailure(err, appLogger(res));
        retryAfter(res, e);
        html(res, e.httpStatus >= 500 ? 503 : e.httpStatus, errorPage('Something went wrong', e.message));
      }
    };

  router.get(
    '/authorize',
    guarded(async (req, res) => {
      const params = pickParams(req.query);
      // A URL client id makes auth-service fetch its metadata document (and keep a row for it).
      if (/^https?:\/\//i.test(params.client_id ?? '')) await limits.clientIdUrl(req);
      await showLoginOrConsent(req, res, params);
    }),
  );

  router.post(
    '/authorize/login',
    form,
    guarded(async (req, res) => {
      const params = pickParams(req.body);
      const body = req.body as Record<string, string>;
      try {
        const user = await callUnary(auth.authenticateUser.bind(auth), {
          username: body.username ?? '',
          password: body.password ?? '',
          remoteIp: req.ip ?? '',
        });
        await sessions.start(req, res, user.id);
        res.redirect(303, `/authorize?${new URLSearchParams(params)}`);
      } catch (err) {
        const e = fromServiceError(err);
        if (e.code !== 'unauthenticated' && e.code !== 'resource_exhausted') throw e;
        retryAfter(res, e);
        await showLoginOrConsent(req, res, params, e.message, e.httpStatus);
      }
    }),
  );

  router.post(
    '/authorize/signup',
    form,
    guarded(async (req, res) => {
      const params = pickParams(req.body);
      const body = req.body as Record<string, string>;
      try {
        await limits.signup(req);
        const user = await callUnary(auth.registerUser.bind(auth), {
          username: body.username ?? '',
          email: body.email ?? '',
          password: body.password ?? '',
          displayName: body.display_name ?? '',
        });
        await sessions.start(req, res, user.id);
        res.redirect(303, `/authorize?${new URLSearchParams(params)}`);
      } catch (err) {
        const e = fromServiceError(err);
        if (e.code !== 'invalid_argument' && e.code !== 'already_exists' && e.code !== 'resource_exhausted') {
          throw e;
        }
        retryAfter(res, e);
        await showLoginOrConsent(
          req,
          res,
          params,
          e.field ? `${e.field}: ${e.message}` : e.message,
          e.httpStatus,
        );
      }
    }),
  );

  router.post(
    '/authorize/consent',
    form,
    guarded(async (req, res) => {
      const params = pickParams(req.body);
      const userId = await sessions.userId(req);
      if (!userId) return res.redirect(303, `/authorize?${new URLSearchParams(params)}`);
      const approved = (req.body as Record<string, string>).decision === 'approve';
      // It travels in gRPC metadata, which holds printable ASCII only; no client id is anything else.
      if (!/^[\x20-\x7e]*$/.test(params.client_id ?? ''))
        throw invalid('client_id', 'client_id must be a client id or the URL of its metadata document');
      const { redirectTo } = await callUnary(
        auth.authorize.bind(auth),
        toRequest(params, userId, approved),
        callerMetadata({ userId, scopes: [], clientId: params.client_id ?? '' }),
      );
      sessions.end(req, res);
      res.redirect(303, redirectTo);
    }),
  );

  return router;
}
