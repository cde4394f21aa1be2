import { Metadata } from '@grpc/grpc-js';
import { unauthenticated } from './errors.js';

/** Who is calling, as verified by the gateway and carried to services in gRPC metadata. */
export interface Caller {
  userId: string;
  scopes: string[];
  clientId: string;
}

const USER = 'x-user-id';
const SCOPES = 'x-scopes';
const CLIENT = 'x-client-id';

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

export function requireCaller(metadata: Metadata): Caller {
  const caller = callerFrom(metadata);
  if (!caller) throw unauthenticated('no caller identity on the request');
  return caller;
}
