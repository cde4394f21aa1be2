import { invalid } from '@picard/service-kit';
import { ALL_SCOPES, AUTH_LIMITS, SCOPES as SCOPE, type Scope } from '@picard/proto';
import { isCommonPassword } from './common-passwords.js';

export type { Scope };
export const DEFAULT_CLIENT_SCOPES: Scope[] = [SCOPE.read, SCOPE.write];
export const ADMIN_SCOPE: Scope = SCOPE.admin;
export const READ_SCOPE: Scope = SCOPE.read;

const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;
// Deliberately basic: one @, no spaces, a dot in the domain. Real checking is a mail round trip.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_REDIRECT_URIS = 20;
const MAX_URI_LENGTH = 2000;

export function validateUsername(value: unknown, field = 'username'): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, `${field} is required`);
  if (!USERNAME.test(value)) {
    throw invalid(field, `${field} must be 3-64 characters of letters, digits, ".", "_" or "-"`);
  }
  return value;
}

export function validateEmail(value: unknown, field = 'email'): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, `${field} is required`);
  const email = value.trim();
  if (email.length > 254 || !EMAIL.test(email)) throw invalid(field, `${field} must be an email address`);
  return email;
}

export function validatePassword(value: unknown, field = 'password', min = 8): string {
  if (typeof value !== 'string' || value.length < min)
    throw invalid(field, `${field} must be at least ${min} characters`);
  if (value.length > 1024) throw invalid(field, `${field} must be at most 1024 characters`);
  return value;
}

/** Passwords users choose from now on (sign-up, change): ASVS 2.1 length and a common-password check. */
export const NEW_PASSWORD_MIN = 12;

export function validateNewPassword(value: unknown, field = 'password'): string {
  const password = validatePassword(value, field, NEW_PASSWORD_MIN);
  if (isCommonPassword(password)) {
    throw invalid(field, `${field} is on a list of commonly used passwords; choose another`);
  }
  return password;
}

export function validateDisplayName(value: unknown, field = 'display_name'): string {
  const name = typeof value === 'string' ? value.trim() : '';
  const max = AUTH_LIMITS.clientNameChars;
  if (name.length < 1 || name.length > max) throw invalid(field, `${field} must be 1-${max} characters`);
  return name;
}

export function validateClientName(value: unknown, field = 'client_name'): string {
  const name = typeof value === 'string' ? value.trim() : '';
  const max = AUTH_LIMITS.clientNameChars;
  if (name.length < 1 || name.length > max) throw invalid(field, `${field} must be 1-${max} characters`);
  return name;
}

const isLoopbackHost = (host: string) =>
  host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * Redirect URIs are matched exactly later, so here they must be absolute, https (http only on a
 * loopback host, for native and development clients per RFC 8252), without fragment or user info.
 */
export function validateRedirectUri(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, `${field} is required`);
  if (value.length > MAX_URI_LENGTH)
    throw invalid(field, `${field} must be at most ${MAX_URI_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, `${field} must be an absolute URL`);
  }
  if (value.includes('#')) throw invalid(field, `${field} must not contain a fragment`);
  if (url.username || url.password) throw invalid(field, `${field} must not contain user information`);
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return value;
  if (url.protocol === 'http:')
    throw invalid(field, `${field} may use http only on a loopback host; use https`);
  throw invalid(field, `${field} must use https (or http on a loopback host)`);
}

export function validateRedirectUris(values: unknown, field = 'redirect_uris'): string[] {
  if (!Array.isArray(values)) throw invalid(field, `${field} must be a list`);
  if (values.length > MAX_REDIRECT_URIS)
    throw invalid(field, `${field} must have at most ${MAX_REDIRECT_URIS} entries`);
  const uris = values.map((v, i) => validateRedirectUri(v, `${field}[${i}]`));
  return [...new Set(uris)];
}

export function validateScopes(
  values: unknown,
  field = 'scopes',
  fallback: Scope[] = DEFAULT_CLIENT_SCOPES,
): Scope[] {
  if (!Array.isArray(values)) throw invalid(field, `${field} must be a list`);
  if (values.length === 0) return [...fallback];
  values.forEach((v, i) => {
    if (!ALL_SCOPES.includes(v as Scope))
      throw invalid(`${field}[${i}]`, `${field}[${i}] must be one of ${ALL_SCOPES.join(', ')}`);
  });
  return [...new Set(values as Scope[])];
}
