import type { authPb } from '@picard/proto';
import { assertUuid, DomainError, forbidden, invalid, type Caller } from '@picard/service-kit';
import type { AuthStore } from '../store/auth.store.js';
import type { ClientRow } from '../store/clients.store.js';
import type { ClientsService } from './clients.service.js';
import { matchResource } from './resource.js';
import { newSecret, sha256Hex } from './secrets.js';
import { ALL_SCOPES, type Scope } from '@picard/proto';
import { ADMIN_SCOPE } from './validation.js';

/** The authorization request exactly as the contract carries it. */
export type AuthorizationInput = authPb.AuthorizeRequest;

export interface AuthorizationCheckResult {
  client?: ClientRow;
  scopes: string[];
  error: string;
  errorDescription: string;
  redirectTrusted: boolean;
  errorRedirect: string;
}

type Evaluation =
  | {
      kind: 'untrusted';
      field: 'client_id' | 'redirect_uri';
      error: string;
      description: string;
      client?: ClientRow;
    }
  | { kind: 'redirect-error'; client: ClientRow; field: string; error: string; description: string }
  | { kind: 'ok'; client: ClientRow; scopes: string[]; resource: string | null };

// RFC 7636 §4.1: 43-128 unreserved characters (an S256 challenge is always 43).
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;
const MAX_STATE = 1024;

/**
 * Whether errors of a malformed request may go to the client's redirect URI. Anyone can register a
 * dynamic client or host a metadata document naming any redirect URI, so for those an error redirect
 * is an open redirect (RFC 9700 §4.11.2): the error is shown on the page instead. Admin-registered
 * (first-party) clients are trusted.
 */
const redirectsErrors = (client: ClientRow): boolean => client.first_party;

/** Adds parameters to a registered redirect URI, keeping the query it already has. */
export function redirectWith(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v) url.searchParams.append(k, v);
  return url.toString();
}

/**
 * The authorization endpoint's rules (RFC 6749 §4.1, OAuth 2.1, RFC 7636, 8707, 9207). The gateway
 * shows the pages; every rule is applied here, at the check and again at the decision.
 */
export class AuthorizationService {
  constructor(
    private readonly store: AuthStore,
    private readonly clients: ClientsService,
    private readonly s: { issuer: string; codeTtlSeconds: number },
  ) {}

  async check(input: AuthorizationInput): Promise<AuthorizationCheckResult> {
    const e = await this.evaluate(input);
    if (e.kind === 'ok')
      return {
        client: e.client,
        scopes: e.scopes,
        error: '',
        errorDescription: '',
        redirectTrusted: true,
        errorRedirect: '',
      };
    if (e.kind === 'untrusted' || !redirectsErrors(e.client)) {
      return {
        client: e.client,
        scopes: [],
        error: e.error,
        errorDescription: e.description,
        redirectTrusted: false,
        errorRedirect: '',
      };
    }
    return {
      client: e.client,
      scopes: [],
      error: e.error,
      errorDescription: e.description,
      redirectTrusted: true,
      errorRedirect: this.errorRedirect(input, e.error, e.description),
    };
  }

  /** The user's decision. Returns where the browser goes next: the code, or an RFC 6749 error. */
  async authorize(metadataCaller: Caller, input: AuthorizationInput): Promise<string> {
    const userId = assertUuid('user_id', input.userId);
    if (metadataCaller.userId.toLowerCase() !== userId)
      throw forbidden('user_id must be the signed-in caller');
    const user = await this.store.users.findById(userId);
    if (!user?.active) throw forbidden('this account is deactivated or does not exist');

    const e = await this.evaluate(input);
    if (e.kind === 'untrusted') throw invalid(e.field, e.description);
    if (e.kind === 'redirect-error') {
      if (!redirectsErrors(e.client)) throw invalid(e.field, e.description);
      return this.errorRedirect(input, e.error, e.description);
    }
    if (!input.approved) return this.errorRedirect(input, 'access_denied', 'the user denied the request');
    // The admin scope is for admins only, whatever the client may ask for.
    const scopes = user.is_admin ? e.scopes : e.scopes.filter((s) => s !== ADMIN_SCOPE);
    if (scopes.length === 0)
      return this.errorRedirect(input, 'invalid_scope', 'no requested scope can be granted to this user');

    const code = newSecret();
    await this.store.transaction(async (tx) => {
      await tx.codes.insert({
        code_hash: sha256Hex(code),
        client_id: e.client.client_id,
        user_id: user.id,
        redirect_uri: input.redirectUri,
        scope: scopes.join(' '),
        resource: e.resource,
        code_challenge: input.codeChallenge,
        code_challenge_method: 'S256',
        expires_at: new Date(Date.now() + this.s.codeTtlSeconds * 1000),
      });
      await tx.consents.upsert(user.id, e.client.client_id, scopes.join(' '));
    });
    // Housekeeping on the way: codes a day past expiry can no longer even reveal a replay worth acting on.
    await this.store.codes.deleteOlderThan(new Date(Date.now() - 86_400_000));
    return redirectWith(input.redirectUri, { code, state: input.state, iss: this.s.issuer });
  }

  private errorRedirect(input: AuthorizationInput, error: string, description: string): string {
    const state = input.state && input.state.length <= MAX_STATE ? input.state : undefined;
    return redirectWith(input.redirectUri, {
      error,
      error_description: description,
      state,
      iss: this.s.issuer,
    });
  }

  private async evaluate(input: AuthorizationInput): Promise<Evaluation> {
    let client: ClientRow | undefined;
    try {
      client = await this.clients.resolve(input.clientId ?? '');
    } catch (err) {
      // An unusable metadata document: nothing it names (its redirect URIs least of all) can be trusted.
      if (!(err instanceof DomainError) || err.field !== 'client_id') throw err;
      return { kind: 'untrusted', field: 'client_id', error: 'invalid_request', description: err.message };
    }
    if (!client)
      return {
        kind: 'untrusted',
        field: 'client_id',
        error: 'invalid_request',
        description: 'unknown client_id',
      };
    // Exact string match (no normalisation): anything else opens redirects to look-alike URIs.
    if (!input.redirectUri || !client.redirect_uris.includes(input.redirectUri)) {
      return {
        kind: 'untrusted',
        field: 'redirect_uri',
        client,
        error: 'invalid_request',
        description: 'redirect_uri is not one of the URIs registered for this client',
      };
    }
    const fail = (field: string, error: string, description: string): Evaluation => ({
      kind: 'redirect-error',
      client,
      field,
      error,
      description,
    });
    if (!client.grant_types.includes('authorization_code')) {
      return fail('client_id', 'unauthorized_client', 'this client may not use the authorization_code grant');
    }
    if ((input.state ?? '').length > MAX_STATE)
      return fail('state', 'invalid_request', `state must be at most ${MAX_STATE} characters`);
    if (!input.codeChallenge)
      return fail('code_challenge', 'invalid_request', 'PKCE is required: code_challenge is missing');
    if (input.codeChallengeMethod !== 'S256') {
      return fail(
        'code_challenge_method',
        'invalid_request',
        'code_challenge_method must be S256 ("plain" and absent methods are refused)',
      );
    }
    if (!PKCE_VALUE.test(input.codeChallenge))
      return fail(
        'code_challenge',
        'invalid_request',
        'code_challenge must be 43-128 characters of [A-Za-z0-9._~-]',
      );

    const requested = (input.scope ?? '').split(' ').filter(Boolean);
    for (const s of requested) {
      if (!ALL_SCOPES.includes(s as Scope)) return fail('scope', 'invalid_scope', `unknown scope "${s}"`);
      if (!client.scopes.includes(s))
        return fail('scope', 'invalid_scope', `scope "${s}" is not allowed for this client`);
    }
    const scopes =
      requested.length > 0 ? [...new Set(requested)] : client.scopes.filter((s) => s !== ADMIN_SCOPE);
    if (scopes.length === 0) return fail('scope', 'invalid_scope', 'no scope to grant');

    let resource: string | null = null;
    if (input.resource) {
      const matched = matchResource(this.s.issuer, input.resource);
      if (!matched)
        return fail(
          'resource',
          'invalid_target',
          `resource must be ${this.s.issuer} or ${this.s.issuer}/mcp`,
        );
      resource = matched;
    }
    return { kind: 'ok', client, scopes, resource };
  }
}
