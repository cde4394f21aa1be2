import fc from 'fast-check';
import type { Family, Identity, Target } from './targets.js';

/** One HTTP request to send, and what was done to it, for the report. */
export interface FuzzRequest {
  target: string;
  family: Family;
  identity: Identity;
  /** `valid`, or the mutation applied: a value, wire, auth, method, path or envelope kind. */
  mutation: string;
  at: string;
  method: string;
  /** Path and query, sent byte for byte. */
  path: string;
  headers: Record<string, string>;
  /** `proper`: the identity's own credentials are added when sending; else this Authorization (or Cookie) value, or none. */
  credentials: 'proper' | 'none' | { raw: string };
  body?: Buffer;
}

const PREVIEW = 300;

/** What fast-check prints for a counterexample: readable even when the body is 2 MiB. */
export function describeRequest(r: FuzzRequest): string {
  const body = r.body
    ? `${r.body.subarray(0, PREVIEW).toString('utf8')}${r.body.length > PREVIEW ? `… (${r.body.length} bytes)` : ''}`
    : '(no body)';
  const creds =
    r.credentials === 'proper'
      ? r.identity
      : r.credentials === 'none'
        ? 'none'
        : JSON.stringify(r.credentials.raw.slice(0, 80));
  return `[${r.target}] ${r.mutation}${r.at ? ` at ${r.at}` : ''}: ${r.method} ${r.path.slice(0, PREVIEW)} credentials=${creds} headers=${JSON.stringify(r.headers)} body=${JSON.stringify(body)}`;
}

export function request(
  target: Target,
  parts: Omit<FuzzRequest, 'target' | 'family' | 'identity'>,
): FuzzRequest {
  const r: FuzzRequest = { target: target.name, family: target.family, identity: target.identity, ...parts };
  Object.defineProperty(r, fc.toStringMethod, { value: () => describeRequest(r) });
  return r;
}
