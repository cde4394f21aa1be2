import { isUuid, unauthenticated, type Caller } from '@picard/service-kit';

export { SCOPES } from '@picard/proto';
export { requireScope } from '@picard/service-kit';

/** The caller's own user id; an identity that is not a UUID is no identity at all. */
export function ownUserId(caller: Caller): string {
  if (!isUuid(caller.userId)) throw unauthenticated('the caller identity carries no valid user id');
  return caller.userId.toLowerCase();
}
