import { isIPv4, isIPv6 } from 'node:net';
import { assertUuid, DomainError, invalid, isUuid, newId, notFound, type Caller } from '@picard/service-kit';
import type { authPb } from '@picard/proto';
import type { AuthStore } from '../store/auth.store.js';
import type { ClientMetadataFetcher } from '../client-metadata/index.js';
import { publicClientId, type ClientRow } from '../store/clients.store.js';
import { requireAdminAccount } from './access.js';
import { recordCutoff } from './cutoffs.js';
import { newSecret, secretMatches, sha256Hex } from './secrets.js';
import {
  ADMIN_SCOPE,
  DEFAULT_CLIENT_SCOPES,
  validateClientName,
  validateRedirectUris,
  validateScopes,
} from './validation.js';

const USER_GRANTS = ['authorization_code', 'refresh_token'];
const CONFIDENTIAL_GRANTS = [...USER_GRANTS, 'client_credentials'];
const SECRET_METHODS = ['client_secret_basic', 'client_secret_post'];
const DYNAMIC_METHODS = ['none', ...SECRET_METHODS];

/** RegisterClient's request; whether the client is first-party follows from who registers it, not from the request. */
export type RegisterClientInput = Omit<authPb.RegisterClientRequest, 'firstParty'>;

export interface RegisteredClient {
  client: ClientRow;
  /** Shown once; only its hash is stored. Absent for public clients. */
  secret?: string;
}

export interface ClientsSettings {
  dynamicClientsPerHour: number;
  /** Registrations per caller address (IPv6 by /64) per hour. Default 10. */
  dynamicClientsPerSourcePerHour?: number;
  /** Metadata-document client rows: deleted after this many days unused; no new URL past the cap. */
  metadataClients?: { retentionDays: number; max: number };
  /** Access-token lifetime: how long a cut-off must be kept (see recordCutoff). */
  accessTtlSeconds?: number;
  /** Resolves client_ids that are URLs (Client ID Metadata Documents); absent when CIMD is disabled. */
  metadata?: ClientMetadataFetcher;
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export class ClientsService {
  constructor(
    private readonly store: AuthStore,
    private readonly s: ClientsSettings = { dynamicClientsPerHour: 100 },
  ) {}

  /**
   * The one lookup of a client by the id it presents, in every authorization and token path: a UUID,
   * or (CIMD enabled) an http(s) URL whose metadata document is fetched (the fetcher caches it) and
   * mirrored into a clients row with a UUID of its own. A document that cannot be used throws the
   * fetcher's invalid('client_id', ...); any other unknown id is undefined.
   */
  async resolve(clientId: string): Promise<ClientRow | undefined> {
    if (!clientId) return undefined;
    if (isUuid(clientId)) {
      const client = await this.store.clients.findById(clientId.toLowerCase());
      // A metadata-document client is its URL: presenting it is what keeps its document current.
      return client?.metadata_url ? undefined : client;
    }
    if (!this.s.metadata || !/^https?:\/\//i.test(clientId)) return undefined;
    const doc = await this.s.metadata.resolve(clientId);
    const known = await this.store.clients.findByMetadataUrl(doc.clientId);
    if (known)
      await this.store.clients.touchMetadataClient(known.client_id, new Date(Date.now() - TOUCH_EVERY_MS));
    if (
      known &&
      known.client_name === doc.clientName &&
      sameList(known.redirect_uris, doc.redirectUris) &&
      sameList(known.grant_types, doc.grantTypes)
    ) {
      return known;
    }
    if (!known) await this.admitMetadataClient();
    // Whoever hosts the document controls it: never first-party, never the admin scope, no secret.
    return this.store.clients.upsertByMetadataUrl({
      client_id: newId(),
      metadata_url: doc.clientId,
      secret_hash: null,
      client_name: doc.clientName,
      redirect_uris: doc.redirectUris,
      scopes: [...DEFAULT_CLIENT_SCOPES],
      grant_types: doc.grantTypes,
      token_endpoint_auth_method: 'none',
      first_party: false,
      user_token_flow_enabled: false,
      created_by_user_id: null,
      last_used_at: new Date(),
    });
  }

  /**
   * Anyone can make a metadata-document row by presenting a new URL: rows unused for the retention
   * period go first, and at the cap a new URL is refused (clients already known keep working).
   */
  private async admitMetadataClient(): Promise<void> {
    const limits = this.s.metadataClients ?? { retentionDays: 30, max: 10000 };
    await this.store.clients.deleteUnusedMetadataClients(
      new Date(Date.now() - limits.retentionDays * 86_400_000),
    );
    if ((await this.store.clients.countMetadataClients()) >= limits.max) {
      throw new DomainError(
        'resource_exhausted',
        'too many metadata-document clients are known; try again later',
        'client_id',
      );
    }
  }

  /** resolve() for the OAuth endpoints, where an unusable metadata document just means an invalid client. */
  private async resolveQuietly(clientId: string): Promise<ClientRow | undefined> {
    try {
      return await this.resolve(clientId);
    } catch (err) {
      if (err instanceof DomainError && err.field === 'client_id') return undefined;
      throw err;
    }
  }

  /** Admin registration: the client is first-party and may use the direct-connect user-token flow. */
  async register(caller: Caller, input: RegisterClientInput): Promise<RegisteredClient> {
    const admin = await requireAdminAccount(this.store, caller);
    const clientName = validateClientName(input.clientName);
    const redirectUris = validateRedirectUris(input.redirectUris);
    const scopes = validateScopes(input.scopes);
    const defaults = redirectUris.length > 0 ? USER_GRANTS : ['refresh_token'];
    // authorization_code without a redirect URI is accepted: the flow stays impossible (no redirect
    // can match) until the admin adds one with UpdateClient. The gateway's admin route sends it so.
    const grantTypes = validateGrantTypes(input.grantTypes, CONFIDENTIAL_GRANTS, defaults);
    const method = validateMethod(input.tokenEndpointAuthMethod || 'client_secret_basic', SECRET_METHODS);
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

  /**
   * RFC 7591 dynamic registration: anyone may call it, so the client is never first-party, never
   * gets the admin scope, and registrations are capped per hour across every instance.
   */
  async registerDynamic(input: RegisterClientInput): Promise<RegisteredClient> {
    const clientName = input.clientName?.trim() ? validateClientName(input.clientName) : 'Unnamed client';
    const redirectUris = validateRedirectUris(input.redirectUris);
    if (redirectUris.length === 0) throw invalid('redirect_uris', 'redirect_uris needs at least one entry');
    const method = validateMethod(input.tokenEndpointAuthMethod || 'client_secret_basic', DYNAMIC_METHODS);
    const confidential = method !== 'none';
    // Never client_credentials: anyone may register, and a client acting as itself is not a user.
    const grantTypes = validateGrantTypes(input.grantTypes, USER_GRANTS, USER_GRANTS);
    // Hosts often ask for every scope the metadata lists; the admin scope is silently left out.
    const requested = validateScopes(input.scopes).filter((s) => s !== ADMIN_SCOPE);
    const scopes = requested.length > 0 ? requested : validateScopes([]);
    const since = new Date(Date.now() - 3600_000);
    // Per source first: one caller exhausts its own quota long before the total, which stays for everyone else.
    const source = registrationSource(input.remoteIp);
    if (
      source &&
      (await this.store.clients.countDynamicSince(since, source)) >=
        (this.s.dynamicClientsPerSourcePerHour ?? 10)
    ) {
      throw new DomainError(
        'resource_exhausted',
        'too many client registrations from your address in the last hour; try again later',
      );
    }
    if ((await this.store.clients.countDynamicSince(since)) >= this.s.dynamicClientsPerHour) {
      throw new DomainError(
        'resource_exhausted',
        'too many client registrations in the last hour; try again later',
      );
    }
    const secret = confidential ? newSecret() : undefined;
    const client = await this.store.clients.insert({
      client_id: newId(),
      secret_hash: secret ? sha256Hex(secret) : null,
      client_name: clientName,
      redirect_uris: redirectUris,
      scopes,
      grant_types: grantTypes,
      token_endpoint_auth_method: method,
      first_party: false,
      user_token_flow_enabled: false,
      created_by_user_id: null,
      registered_from: source ?? null,
    });
    return { client, secret };
  }

  async get(caller: Caller, clientIdInput: string): Promise<ClientRow> {
    const clientId = assertUuid('client_id', clientIdInput);
    await requireAdminAccount(this.store, caller);
    return this.found(clientId);
  }

  async list(caller: Caller): Promise<ClientRow[]> {
    await requireAdminAccount(this.store, caller);
    return this.store.clients.list();
  }

  /**
   * Empty redirect_uris or scopes leave them unchanged (proto3 repeated fields have no presence).
   * service_principal lets the client use client_credentials and act as itself on user data
   * (admin-registered clients only).
   */
  async update(caller: Caller, input: authPb.UpdateClientRequest): Promise<ClientRow> {
    const clientId = assertUuid('client_id', input.clientId);
    await requireAdminAccount(this.store, caller);
    const current = await this.found(clientId);
    const patch: Parameters<AuthStore['clients']['update']>[1] = {};
    if (input.clientName !== undefined) patch.client_name = validateClientName(input.clientName);
    if (input.redirectUris.length > 0) patch.redirect_uris = validateRedirectUris(input.redirectUris);
    if (input.scopes.length > 0) patch.scopes = validateScopes(input.scopes);
    if (input.userTokenFlowEnabled !== undefined) {
      if (input.userTokenFlowEnabled && !current.first_party) {
        throw invalid(
          'user_token_flow_enabled',
          'only first-party (admin-registered) clients may use the user-token flow',
        );
      }
      patch.user_token_flow_enabled = input.userTokenFlowEnabled;
    }
    if (input.servicePrincipal !== undefined) {
      if (input.servicePrincipal && (!current.first_party || current.secret_hash === null)) {
        throw invalid(
          'service_principal',
          'only confidential first-party (admin-registered) clients may be service principals',
        );
      }
      patch.service_principal = input.servicePrincipal;
      const others = current.grant_types.filter((g) => g !== 'client_credentials');
      patch.grant_types = input.servicePrincipal ? [...others, 'client_credentials'] : others;
    }
    if (Object.keys(patch).length === 0) return current;
    return (await this.store.clients.update(clientId, patch)) ?? this.found(clientId);
  }

  /**
   * Its refresh tokens, codes and consents are deleted with it (foreign keys cascade), so none can be
   * redeemed; a cut-off ends the access tokens it holds.
   */
  async delete(caller: Caller, clientIdInput: string): Promise<boolean> {
    const clientId = assertUuid('client_id', clientIdInput);
    await requireAdminAccount(this.store, caller);
    const client = await this.found(clientId);
    return this.store.transaction(async (tx) => {
      const deleted = await tx.clients.delete(clientId);
      if (deleted)
        await recordCutoff(tx, this.s.accessTtlSeconds ?? 3600, { clientId: publicClientId(client) });
      return deleted;
    });
  }

  /** The old secret stops working at once. */
  async rotateSecret(caller: Caller, clientIdInput: string): Promise<RegisteredClient> {
    const clientId = assertUuid('client_id', clientIdInput);
    await requireAdminAccount(this.store, caller);
    const current = await this.found(clientId);
    if (current.secret_hash === null)
      throw new DomainError('unprocessable', 'a public client has no secret to rotate', 'client_id');
    const secret = newSecret();
    const client = (await this.store.clients.update(clientId, { secret_hash: sha256Hex(secret) }))!;
    return { client, secret };
  }

  /** The client when id and secret match, else undefined; the secret check runs either way. */
  async authenticate(clientId: string, secret: string): Promise<ClientRow | undefined> {
    const client = await this.resolveQuietly(clientId);
    return secretMatches(secret, client?.secret_hash ?? undefined) ? client : undefined;
  }

  /** A public client (no secret) by id; confidential clients must authenticate instead. */
  async findPublic(clientId: string): Promise<ClientRow | undefined> {
    const client = await this.resolveQuietly(clientId);
    return client && client.secret_hash === null ? client : undefined;
  }

  private async found(clientId: string): Promise<ClientRow> {
    const client = await this.store.clients.findById(clientId);
    if (!client) throw notFound('client not found');
    return client;
  }
}

/** A metadata-document row records a use at most this often (one write per client per hour). */
const TOUCH_EVERY_MS = 3600_000;

/**
 * The quota key of a registration: the IPv4 address, or the /64 of an IPv6 one (one subscriber
 * usually holds a whole /64). Undefined for calls without a usable address (not through the
 * gateway, which always sends one): only the total applies to them.
 */
export function registrationSource(remoteIp: string | undefined): string | undefined {
  const ip = (remoteIp ?? '').trim().toLowerCase();
  if (!ip) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return undefined;
  // Expand "::" so the first four groups are the /64.
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function validateMethod(value: string, allowed: string[]): string {
  if (!allowed.includes(value)) {
    throw invalid(
      'token_endpoint_auth_method',
      `token_endpoint_auth_method must be one of ${allowed.join(', ')}`,
    );
  }
  return value;
}

function validateGrantTypes(values: string[], allowed: string[], defaults: string[]): string[] {
  if (values.length === 0) return [...defaults];
  values.forEach((v, i) => {
    if (!allowed.includes(v))
      throw invalid(`grant_types[${i}]`, `grant_types[${i}] must be one of ${allowed.join(', ')}`);
  });
  return [...new Set(values)];
}
