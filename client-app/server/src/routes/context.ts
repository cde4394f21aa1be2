import type { Request } from 'express';
import type { BffConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { PicardOAuth } from '../oauth.js';
import { PicardHttpError, type PicardClient } from '../picard.client.js';
import type { Registration } from '../registration.js';
import { signedIn } from '../session.js';
import type { UsersStore } from '../store/users.store.js';
import type { LoginThrottle } from '../throttle.js';
import type { Grant, TokenVault } from '../token-vault.js';
import type { ImportJobs } from '../import-jobs.js';

/** What the routes need, wired by hand in app.ts. */
export interface Deps {
  config: BffConfig;
  logger: Logger;
  picard: PicardClient;
  oauth: PicardOAuth;
  vault: TokenVault;
  users: UsersStore;
  registration: Registration;
  throttle: LoginThrottle;
  jobs: ImportJobs;
}

export const SCOPE = { read: 'memories:read', write: 'memories:write', admin: 'memories:admin' } as const;

export function grantOf(req: Request): Grant {
  const s = signedIn(req);
  return { id: s.grantId, userId: s.userId };
}

/** A call to Picard with the session's token (refreshed as needed); Picard's refusals become BffErrors. */
export async function withPicard<T>(
  deps: Deps,
  grant: Grant,
  call: (token: string) => Promise<T>,
): Promise<T> {
  try {
    return await deps.vault.withToken(grant, call);
  } catch (err) {
    if (err instanceof PicardHttpError) throw err.toBffError();
    throw err;
  }
}

/** The scopes Picard granted this sign-in. */
export const scopesOf = (deps: Deps, grant: Grant) => deps.vault.scopes(grant);
