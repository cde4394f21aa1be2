/**
 * The shape a client_id must have to name a Client ID Metadata Document
 * (draft-ietf-oauth-client-id-metadata-document, section 3). Checked on the raw string, because
 * the WHATWG URL parser silently normalises away exactly what the draft forbids (dot segments,
 * backslashes, surrounding whitespace), and the document's client_id is compared to the raw string.
 */

export interface ClientIdUrlOptions {
  /** Development only: also accept http (the fetcher then insists the host is loopback). */
  allowHttp?: boolean;
}

export const MAX_CLIENT_ID_URL_LENGTH = 2048;

// WHATWG treats %2e as a dot when resolving paths, so encoded forms are dot segments too.
const DOT_SEGMENTS = new Set(['.', '..', '%2e', '%2e%2e', '.%2e', '%2e.']);
const RAW_URL = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;

/** Why clientId is not a usable metadata URL, or undefined when it is. */
export function clientIdUrlProblem(clientId: string, opts: ClientIdUrlOptions = {}): string | undefined {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH)
    return `is longer than ${MAX_CLIENT_ID_URL_LENGTH} characters`;
  if (/[\s\u0000-\u001f\u007f\\]/.test(clientId))
    return 'must not contain whitespace, control characters or backslashes';
  const m = RAW_URL.exec(clientId);
  if (!m) return 'is not an absolute URL';
  const [, scheme = '', authority = '', path = '', query, fragment] = m;
  const s = scheme.toLowerCase();
  if (s !== 'https' && !(opts.allowHttp && s === 'http')) return 'must use the https scheme';
  if (fragment !== undefined) return 'must not contain a fragment';
  if (authority.includes('@')) return 'must not contain a username or password';
  if (authority === '') return 'must name a host';
  if (query !== undefined) return 'must not contain a query string';
  if (path === '' || path === '/')
    return 'must contain a path (for example https://app.example/oauth/client.json)';
  if (path.split('/').some((seg) => DOT_SEGMENTS.has(seg.toLowerCase())))
    return 'must not contain "." or ".." path segments';
  try {
    if (!new URL(clientId).hostname) return 'must name a host';
  } catch {
    return 'is not a valid URL';
  }
  return undefined;
}

/** True when clientId is a well-formed Client ID Metadata Document URL (https unless allowHttp). */
export function isClientMetadataUrl(clientId: string, opts: ClientIdUrlOptions = {}): boolean {
  return clientIdUrlProblem(clientId, opts) === undefined;
}

/** For messages and logs: the client_id is attacker-chosen text. */
export const quoteClientId = (clientId: string) =>
  JSON.stringify(clientId.length > 200 ? `${clientId.slice(0, 200)}…` : clientId);
