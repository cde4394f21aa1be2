import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { BffConfig } from './config.js';
import type { ClientCredentials, PicardClient } from './picard.client.js';
import { PicardHttpError } from './picard.client.js';
import type { Sealer } from './sealing.js';
import type { ClientStore } from './store/client.store.js';

export const CLIENT_NAME = 'Picard web';
export const CLIENT_SCOPES = ['memories:read', 'memories:write', 'memories:admin'];

export interface AdminCredentials {
  username?: string;
  password?: string;
  /** Read when no password is given: the file Picard's embedded mode generates. */
  passwordFile?: string;
}

/**
 * The admin's credentials: PICARD_ADMIN_USERNAME (admin) and PICARD_ADMIN_PASSWORD, or the password
 * file (PICARD_ADMIN_PASSWORD_FILE, default <PICARD_DATA_DIR or ./data>/admin-password).
 */
export function adminFromEnv(env: Record<string, string | undefined>): AdminCredentials {
  return {
    username: env.PICARD_ADMIN_USERNAME || 'admin',
    password: env.PICARD_ADMIN_PASSWORD || undefined,
    passwordFile: env.PICARD_ADMIN_PASSWORD_FILE || `${env.PICARD_DATA_DIR || './data'}/admin-password`,
  };
}

async function resolveAdmin(a: AdminCredentials): Promise<{ username: string; password: string }> {
  const username = a.username || 'admin';
  if (a.password) return { username, password: a.password };
  const file = a.passwordFile ?? './data/admin-password';
  try {
    const password = (await readFile(file, 'utf8')).trim();
    if (password) return { username, password };
  } catch {
    // reported below
  }
  throw new Error(
    `no admin password: set PICARD_ADMIN_PASSWORD, or PICARD_ADMIN_PASSWORD_FILE to the file Picard generated (tried ${file})`,
  );
}

/**
 * The BFF's client registration at Picard: PICARD_CLIENT_ID/SECRET when configured, else the one
 * stored (sealed) in the BFF's database.
 */
export class Registration {
  private cached?: ClientCredentials;

  constructor(
    private readonly config: BffConfig,
    private readonly store: ClientStore,
    private readonly sealer: Sealer,
    private readonly picard: PicardClient,
    private readonly logger: Logger,
  ) {}

  async credentials(): Promise<ClientCredentials | undefined> {
    if (this.config.PICARD_CLIENT_ID && this.config.PICARD_CLIENT_SECRET) {
      return { clientId: this.config.PICARD_CLIENT_ID, clientSecret: this.config.PICARD_CLIENT_SECRET };
    }
    if (this.cached) return this.cached;
    const row = await this.store.get();
    if (!row) return undefined;
    this.cached = {
      clientId: row.client_id,
      clientSecret: this.sealer.open(row.client_secret, row.client_id, row.key_id),
    };
    return this.cached;
  }

  /**
   * Registers the BFF as a first-party confidential client with the admin's credentials, unless a
   * registration exists (configured or stored) and `force` is not set. Idempotent.
   */
  async ensure(admin: AdminCredentials, force = false): Promise<{ clientId: string; created: boolean }> {
    if (!force) {
      const existing = await this.credentials();
      if (existing) return { clientId: existing.clientId, created: false };
    }
    const creds = await resolveAdmin(admin);
    let registered;
    try {
      registered = await this.picard.registerClient(creds, {
        client_name: CLIENT_NAME,
        redirect_uris: [this.config.redirectUri],
        scopes: CLIENT_SCOPES,
      });
    } catch (err) {
      if (err instanceof PicardHttpError) {
        throw new Error(
          `Picard refused the registration (${err.status}): ${err.body.message ?? err.body.error}`,
        );
      }
      throw err;
    }
    await this.store.save({
      client_id: registered.client_id,
      client_secret: this.sealer.seal(registered.client_secret, registered.client_id),
      key_id: this.sealer.keyId,
      redirect_uri: this.config.redirectUri,
    });
    this.cached = undefined;
    this.logger.info({ clientId: registered.client_id }, 'registered with Picard');
    return { clientId: registered.client_id, created: true };
  }
}
