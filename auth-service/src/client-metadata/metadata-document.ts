import { z } from 'zod';
import { quoteClientId } from './client-id-url.js';

/** A client as described by its Client ID Metadata Document, in the auth-service's terms. */
export interface ClientMetadata {
  /** The https URL, exactly as the client sent it and as the document names itself. */
  clientId: string;
  /** From client_name, else the URL's host name. Show the host beside it on consent pages. */
  clientName: string;
  redirectUris: string[];
  /** RFC 7591 default when absent: ['authorization_code']. */
  grantTypes: ClientMetadataGrantType[];
  /** Clients identified by a metadata document are public: no shared secret can exist. */
  tokenEndpointAuthMethod: 'none';
  scope?: string;
  logoUri?: string;
  clientUri?: string;
}

export type ClientMetadataGrantType = 'authorization_code' | 'refresh_token';

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
// Spoofing on a consent page: control characters and bidirectional overrides.
const UNSAFE_TEXT = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

/** Why a redirect URI is refused, or undefined: https, or http on a loopback host (RFC 8252). */
export function redirectUriProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (value.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain a username or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname)) return undefined;
  return 'must use https, or http on a loopback host';
}

const ruled = (problem: (v: string) => string | undefined) =>
  z
    .string()
    .max(2000)
    .superRefine((v, ctx) => {
      const p = problem(v);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    });

const webPageProblem = (v: string) => {
  try {
    const url = new URL(v);
    return url.protocol === 'https:' && !url.username && !url.password ? undefined : 'must be an https URL';
  } catch {
    return 'must be an https URL';
  }
};

const documentSchema = z.object({
  redirect_uris: z
    .array(ruled(redirectUriProblem), { error: 'must be an array of URLs' })
    .min(1, 'must list at least one redirect URI')
    .max(20, 'must list at most 20 redirect URIs'),
  client_name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .refine((v) => !UNSAFE_TEXT.test(v), 'must not contain control or bidirectional-override characters')
    .optional(),
  token_endpoint_auth_method: z
    .literal('none', {
      error: 'must be "none": only public clients may be identified by a metadata document',
    })
    .optional(),
  grant_types: z
    .array(
      z.enum(['authorization_code', 'refresh_token'], {
        error: 'must be authorization_code or refresh_token',
      }),
    )
    .min(1, 'must not be empty')
    .optional(),
  response_types: z.array(z.literal('code', { error: 'must be "code"' })).optional(),
  scope: z.string().max(1000, 'must be at most 1000 characters').optional(),
  logo_uri: ruled(webPageProblem).optional(),
  client_uri: ruled(webPageProblem).optional(),
});

const formatPath = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

/**
 * Checks a parsed document against the URL it came from; returns the client, or a sentence naming
 * what is wrong (for example 'redirect_uris[1] must use https, or http on a loopback host').
 */
export function parseClientMetadataDocument(
  clientId: string,
  doc: unknown,
): { ok: true; client: ClientMetadata } | { ok: false; problem: string } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, problem: 'is not a JSON object' };
  const raw = doc as Record<string, unknown>;
  if (raw.client_id === undefined) return { ok: false, problem: 'has no client_id' };
  if (raw.client_id !== clientId) {
    return {
      ok: false,
      problem: `names client_id ${quoteClientId(String(raw.client_id))}, not the URL it was fetched from`,
    };
  }
  for (const secret of ['client_secret', 'client_secret_expires_at']) {
    if (secret in raw) return { ok: false, problem: `must not contain ${secret}: the document is public` };
  }
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 3).map((i) => `${formatPath(i.path)} ${i.message}`);
    return { ok: false, problem: `is invalid: ${problems.join('; ')}` };
  }
  const d = parsed.data;
  return {
    ok: true,
    client: {
      clientId,
      clientName: d.client_name ?? new URL(clientId).hostname,
      redirectUris: d.redirect_uris,
      grantTypes: d.grant_types ? [...new Set(d.grant_types)] : ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      ...(d.scope !== undefined && { scope: d.scope }),
      ...(d.logo_uri !== undefined && { logoUri: d.logo_uri }),
      ...(d.client_uri !== undefined && { clientUri: d.client_uri }),
    },
  };
}
