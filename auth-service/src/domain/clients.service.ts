import { assertUuid, invalid, isUuid, newId, notFound, type Caller } from '@picard/service-kit';
import type { AuthStore } from '../store/auth.store.js';
import type { ClientRow } from '../store/clients.store.js';
import { requireAdminAccount } from './access.js';
import { newSecret, secretMatches, sha256Hex } from './secrets.js';
import { validateClientName, validateRedirectUris, validateScopes } from './validation.js';

const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

export interface RegisterClientInput {
  clientName: string;
  redirectUris: string[];
  scopes: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: string;
}

export interface RegisteredClient {
  client: ClientRow;
  /** Shown once; only its hash is stored. */
  secret: string;
}

export class ClientsService {
  constructor(private readonly store: AuthStore) {}

  /** Admin registration: the client is first-party and may use the direct-connect user-token flow. */
  async register(caller: Caller, input: RegisterClientInput): Promise<RegisteredClient> {
    const admin = await requireAdminAccount(this.store, caller);
    const clientName = validateClientName(input.clientName);
    const redirectUris = validateRedirectUris(input.redirectUris);
    const scopes = validateScopes(input.scopes);
    const grantTypes = validateGrantTypes(input.grantTypes, redirectUris.length > 0);
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
      throw invalid('redirect_uris', 'redirect_uris needs at least one entry for the authorization_code grant');
    }
    const method = input.tokenEndpointAuthMethod || 'client_secret_basic';
    if (!AUTH_METHODS.includes(method as (typeof AUTH_METHODS)[number])) {
      throw invalid('token_endpoint_auth_method', `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
    }
    const secret = newSecret();
    const client = await this.store.clients.insert({
      client_id: newId(),
      secret_hash: sha256Hex(secret),
      client_name: clientName,
      redirect_uris: redirectUris,
      scopes,
      grant_types: grantTypes,
      token_endpoint_auth_method: method,
      first_party: true,
      user_token_flow_enabled: true,
      created_by_user_id: admin.id,
    });
    return { client, secret };
  }

  async get(caller: Caller, clientIdInput: string): Promise<ClientRow> {
    const clientId = assertUuid('client_id', clientIdInput);
    await requireAdminAccount(this.store, caller);
    const client = await this.store.clients.findById(clientId);
    if (!client) throw notFound('client not found');
    return client;
  }

  async list(caller: Caller): Promise<ClientRow[]> {
    await requireAdminAccount(this.store, caller);
    return this.store.clients.list();
  }

  /** The client when id and secret match, else undefined; the secret check runs either way. */
  async authenticate(clientId: string, secret: string): Promise<ClientRow | undefined> {
    const client = isUuid(clientId) ? await this.store.clients.findById(clientId.toLowerCase()) : undefined;
    return secretMatches(secret, client?.secret_hash) ? client : undefined;
  }
}

function validateGrantTypes(values: string[], hasRedirects: boolean): string[] {
  if (values.length === 0) return hasRedirects ? [...GRANT_TYPES] : ['refresh_token'];
  values.forEach((v, i) => {
    if (!GRANT_TYPES.includes(v as (typeof GRANT_TYPES)[number])) {
      throw invalid(`grant_types[${i}]`, `grant_types[${i}] must be one of ${GRANT_TYPES.join(', ')}`);
    }
  });
  return [...new Set(values)];
}
