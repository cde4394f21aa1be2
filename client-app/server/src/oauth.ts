import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { BffError, notRegistered, picardUnavailable } from './errors.js';
import type { ClientCredentials, TokenResponse } from './picard.client.js';

export type Access = 'read' | 'write' | 'admin';

export const SCOPES_FOR: Record<Access, string> = {
  read: 'memories:read',
  write: 'memories:read memories:write',
  admin: 'memories:read memories:write memories:admin',
};

/** The refresh token is dead (spent, revoked, expired): the sign-in is over. */
export class GrantEndedError extends Error {}

/** The authorization response was refused (bad state, iss, missing code, error from Picard...). */
export class CallbackError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Picard as an OAuth 2.1 authorization server, through openid-client: discovery (RFC 8414),
 * authorization code + PKCE S256 with state and the RFC 9207 `iss` check, refresh and revocation,
 * all with this confidential client's credentials (client_secret_post).
 */
export class PicardOAuth {
  private cached?: { clientId: string; config: Promise<oidc.Configuration> };

  constructor(
    private readonly s: { issuer: string; picardUrl: string; redirectUri: string },
    private readonly credentials: () => Promise<ClientCredentials | undefined>,
    private readonly logger: Logger,
  ) {}

  /** Server-to-server requests go to PICARD_URL even when the issuer's public address differs. */
  private readonly fetchViaPicardUrl: oidc.CustomFetch = (url, options) => {
    const issuer = new URL(this.s.issuer);
    const target = new URL(url);
    if (target.origin === issuer.origin && this.s.picardUrl !== this.s.issuer) {
      const inner = new URL(this.s.picardUrl);
      target.protocol = inner.protocol;
      target.host = inner.host;
    }
    return fetch(target, options as RequestInit);
  };

  private async configuration(): Promise<oidc.Configuration> {
    const creds = await this.credentials();
    if (!creds) throw notRegistered();
    if (this.cached?.clientId !== creds.clientId) {
      const config = oidc
        .discovery(
          new URL(this.s.issuer),
          creds.clientId,
          { redirect_uris: [this.s.redirectUri], token_endpoint_auth_method: 'client_secret_post' },
          // Not Basic: openid-client form-url-encodes the Basic credentials (RFC 6749 §2.3.1) and
          // Picard's /token does not decode them, so a secret with "-" or "_" would be refused.
          oidc.ClientSecretPost(creds.clientSecret),
          {
            algorithm: 'oauth2',
            execute: this.s.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
            [oidc.customFetch]: this.fetchViaPicardUrl,
          },
        )
        .then((c) => {
          c[oidc.customFetch] = this.fetchViaPicardUrl;
          return c;
        });
      this.cached = { clientId: creds.clientId, config };
      config.catch(() => {
        if (this.cached?.config === config) this.cached = undefined;
      });
    }
    try {
      return await this.cached.config;
    } catch (err) {
      this.logger.warn({ cause: (err as Error).message }, 'Picard discovery failed');
      throw picardUnavailable();
    }
  }

  async available(): Promise<boolean> {
    return Boolean(await this.credentials());
  }

  async authorizationUrl(p: { scope: string; state: string; verifier: string }): Promise<URL> {
    const config = await this.configuration();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.s.redirectUri,
      scope: p.scope,
      state: p.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(p.verifier),
      code_challenge_method: 'S256',
    });
  }

  /** Validates the redirect back (state, iss, error, code) and redeems the code with the PKCE verifier. */
  async exchangeCode(currentUrl: URL, checks: { state: string; verifier: string }): Promise<TokenResponse> {
    const config = await this.configuration();
    try {
      const t = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
      });
      return toTokens(t);
    } catch (err) {
      throw callbackError(err);
    }
  }

  async refresh(refreshToken: string): Promise<TokenResponse> {
    const config = await this.configuration();
    try {
      return toTokens(await oidc.refreshTokenGrant(config, refreshToken));
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && (err.error === 'invalid_grant' || err.status === 400)) {
        throw new GrantEndedError(err.error);
      }
      throw networkOr(err, this.logger);
    }
  }

  async revoke(refreshToken: string): Promise<void> {
    const config = await this.configuration();
    try {
      await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
    } catch (err) {
      throw networkOr(err, this.logger);
    }
  }
}

function toTokens(t: oidc.TokenEndpointResponse): TokenResponse {
  if (!t.refresh_token) throw new BffError(502, 'picard_error', 'Picard issued no refresh token.');
  return {
    access_token: t.access_token,
    refresh_token: t.refresh_token,
    expires_in: t.expires_in ?? 3600,
    scope: t.scope ?? '',
  };
}

function callbackError(err: unknown): Error {
  if (err instanceof BffError) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    const denied = err.error === 'access_denied';
    return new CallbackError(
      err.error,
      denied
        ? 'You did not allow access at Picard.'
        : (err.error_description ?? 'Picard refused the sign-in.'),
    );
  }
  if (err instanceof oidc.ResponseBodyError) {
    return new CallbackError(err.error, 'Picard refused the sign-in code; please try again.');
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) return picardUnavailable();
  // State or iss mismatch, a missing code, a malformed answer: openid-client says which.
  const e = err as Error & { cause?: unknown };
  const detail = e.cause instanceof Error ? e.cause.message : e.message;
  return new CallbackError('invalid_callback', `The sign-in response was refused: ${detail}`);
}

function networkOr(err: unknown, logger: Logger): Error {
  if (err instanceof BffError) return err;
  const e = err as { message?: string; status?: number; cause?: unknown };
  logger.warn({ cause: e.message, status: e.status, detail: e.cause }, 'Picard OAuth call failed');
  if (err instanceof oidc.ResponseBodyError) {
    return new BffError(502, 'picard_error', 'Picard refused the token request; please sign in again.');
  }
  return picardUnavailable();
}
