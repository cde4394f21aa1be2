import { forbidden, isUuid, unauthenticated, type Caller } from '@picard/service-kit';

export const SCOPES = { read: 'memories:read', write: 'memories:write', admin: 'memories:admin' } as const;

/** Services re-check scopes themselves, so a mis-routed call cannot skip the gateway's check. */
export function requireScope(caller: Caller, scope: string): void {
  if (!caller.scopes.includes(scope)) throw forbidden(`the ${scope} scope is required`);
}

/** The caller's own user id; an identity that is not a UUID is no identity at all. */
export function ownUserId(caller: Caller): string {
  if (!isUuid(caller.userId)) throw unauthenticated('the caller identity carries no valid user id');
  return caller.userId.toLowerCase();
}
