import { forbidden, isUuid, unauthenticated, type Caller } from '@picard/service-kit';
import type { AuthStore } from '../store/auth.store.js';
import type { UserRow } from '../store/users.store.js';
import { ADMIN_SCOPE } from './validation.js';

/** The caller's own account, when the identity names a live one. */
export async function callerAccount(store: AuthStore, caller: Caller): Promise<UserRow | undefined> {
  if (!isUuid(caller.userId)) return undefined;
  const user = await store.users.findById(caller.userId.toLowerCase());
  return user?.active ? user : undefined;
}

/**
 * Client management trusts the database, not just the scope the gateway forwarded: the caller's
 * own row must say admin (defence in depth against a mis-scoped token).
 */
export async function requireAdminAccount(store: AuthStore, caller: Caller): Promise<UserRow> {
  const account = await callerAccount(store, caller);
  if (!account?.is_admin) throw forbidden('this call is for the administrator only');
  return account;
}

/** Reading users: the admin scope or an admin account both count. */
export async function isAdminCaller(store: AuthStore, caller: Caller): Promise<boolean> {
  if (caller.scopes.includes(ADMIN_SCOPE)) return true;
  return (await callerAccount(store, caller))?.is_admin === true;
}

/**
 * A signed-in user with a live account and the scope the gateway checked for the call, checked
 * again here so a mis-routed call cannot skip it.
 */
export async function requireUserWithScope(
  store: AuthStore,
  caller: Caller,
  scope: string,
): Promise<UserRow> {
  if (!isUuid(caller.userId)) throw unauthenticated('the caller identity carries no valid user id');
  if (!caller.scopes.includes(scope)) throw forbidden(`the ${scope} scope is required`);
  const account = await callerAccount(store, caller);
  if (!account) throw forbidden('this account is deactivated or does not exist');
  return account;
}
