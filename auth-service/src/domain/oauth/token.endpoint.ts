import OAuth2Server from '@node-oauth/oauth2-server';
import { requestModel } from './token-model.js';
import type { TokenEndpointDeps } from './token-state.js';
import {
  invalidBasicClient,
  lowerCaseKeys,
  oauthError,
  oauthJson,
  presentedCredentials,
  type OAuthHttpRequest,
  type OAuthHttpResponse,
} from './http.js';

/** POST /token: authorization_code (PKCE), refresh_token (rotation), client_credentials. */
export async function handleTokenRequest(
  d: TokenEndpointDeps,
  req: OAuthHttpRequest,
): Promise<OAuthHttpResponse> {
  let body = req.body ?? {};
  const headers = lowerCaseKeys(req.headers);
  // HTTP Basic is read once, the way /revoke and /introspect read it: form-decoded (RFC 6749 §2.3.1).
  // The library would parse the header itself with basic-auth, undecoded, so openid-client's
  // encoded id and secret would not match; it gets the decoded pair in the body instead.
  const presented = presentedCredentials(req);
  const viaBasic = presented?.viaBasic === true;
  if (viaBasic) {
    if (!presented.clientId) return invalidBasicClient('Invalid client: malformed Basic credentials');
    delete headers.authorization;
    body = { ...body, client_id: presented.clientId, client_secret: presented.clientSecret };
    if (!presented.clientSecret) delete body.client_secret;
  }
  // The gateway already parsed the body; tell the library there was one, in the form it expects.
  headers['content-type'] ??= 'application/x-www-form-urlencoded';
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = String(new URLSearchParams(body).toString().length);
  }
  const request = new OAuth2Server.Request({
    method: req.method || 'POST',
    headers,
    query: req.query ?? {},
    body,
  });
  const response = new OAuth2Server.Response({ headers: {} });
  const server = new OAuth2Server({
    model: requestModel(d, body),
    accessTokenLifetime: d.accessTtlSeconds,
    refreshTokenLifetime: d.refreshTtlSeconds,
    alwaysIssueNewRefreshToken: true,
    // Public clients name themselves with client_id alone; getClient still refuses a confidential
    // client that sent no secret. client_credentials always needs one.
    requireClientAuthentication: {
      authorization_code: false,
      refresh_token: false,
      client_credentials: true,
    },
  });
  try {
    await server.token(request, response);
  } catch (err) {
    if (!(err instanceof OAuth2Server.OAuthError)) {
      d.logger.error({ err }, 'token endpoint failed');
      return oauthError(500, 'server_error', 'internal error');
    }
    const e = err as OAuth2Server.OAuthError & { inner?: unknown };
    if (e.name === 'server_error') d.logger.error({ err: e.inner ?? err }, 'token endpoint failed');
    // Built from the error itself: the library throws its method and content-type checks before
    // it fills in the response, which would otherwise go out as 200 {}.
    if (viaBasic && e.name === 'invalid_client') return invalidBasicClient(e.message);
    const headers = (response.headers ?? {}) as Record<string, string>;
    return oauthError(e.code, e.name, e.message, headers);
  }
  return oauthJson(
    response.status ?? 200,
    response.body ?? {},
    (response.headers ?? {}) as Record<string, string>,
  );
}
