import { Metadata } from '@grpc/grpc-js';
import type { Scope } from '@picard/proto';
import { forbidden, unauthenticated } from './errors.js';
import { INTERNAL_TOKEN_HEADER, type InternalTokens } from './internal-token.js';

/** Who is calling, as verified by the gateway and carried to services in a signed internal token. */
export interface Caller {
  userId: string;
  scopes: string[];
  clientId: string;
}

const USER = 'x-user-id';
const SCOPES = 'x-scopes';
const CLIENT = 'x-client-id';

/**
 * The caller a request is made for. These headers never leave the process as they are: the
 * client's interceptor (signOutgoing) turns them into a signed token for the target service.
 */
export function callerMetadata(caller: Caller): Metadata {
  const md = new Metadata();
  md.set(USER, caller.userId);
  md.set(SCOPES, caller.scopes.join(' '));
  md.set(CLIENT, caller.clientId);
  return md;
}

export function callerFrom(metadata: Metadata): Caller | undefined {
  const userId = metadata.get(USER)[0];
  if (typeof userId !== 'string' || userId === '') return undefined;
  const scopes = metadata.get(SCOPES)[0];
  const clientId = metadata.get(CLIENT)[0];
  return {
    userId,
    scopes: typeof scopes === 'string' && scopes ? scopes.split(' ') : [],
    clientId: typeof clientId === 'string' ? clientId : '',
  };
}

/** Handlers read the caller here; on a server it is only ever what verifyIncoming put there. */
export function requireCaller(metadata: Metadata): Caller {
  const caller = callerFrom(metadata);
  if (!caller) throw unauthenticated('no caller identity on the request');
  return caller;
}

function setCaller(metadata: Metadata, caller: Caller | undefined) {
  for (const key of [USER, SCOPES, CLIENT, INTERNAL_TOKEN_HEADER]) metadata.remove(key);
  if (!caller) return;
  metadata.set(USER, caller.userId);
  metadata.set(SCOPES, caller.scopes.join(' '));
  metadata.set(CLIENT, caller.clientId);
}

/**
 * Client side: the metadata to send, with the plain caller headers replaced by a token for
 * `audience` (every call carries one, even without a caller). A copy: callers reuse their metadata.
 */
export async function signOutgoing(metadata: Metadata, tokens: InternalTokens, audience: string) {
  const signed = metadata.clone();
  setCaller(signed, undefined);
  signed.set(INTERNAL_TOKEN_HEADER, await tokens.sign(callerFrom(metadata), audience));
  return signed;
}

/**
 * Server side: a call without a valid token for this service is refused, whatever else it
 * carries; the caller headers the handlers read are rewritten from the verified token only.
 */
export async function verifyIncoming(metadata: Metadata, tokens: InternalTokens, audience: string) {
  const token = metadata.get(INTERNAL_TOKEN_HEADER)[0];
  if (typeof token !== 'string' || token === '') {
    throw unauthenticated('no internal token: internal calls are accepted only from Picard services');
  }
  setCaller(metadata, await tokens.verify(token, audience));
}

/** Services re-check scopes themselves, so a mis-routed call cannot skip the gateway's check. */
export function requireScope(caller: Caller, scope: Scope): void {
  if (!caller.scopes.includes(scope)) throw forbidden(`this call needs the ${scope} scope`);
}
