import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { DomainError, invalid, type Logger } from '@picard/service-kit';
import { classifyAddress, isAddressAllowed } from './address-policy.js';
import { clientIdUrlProblem, quoteClientId } from './client-id-url.js';
import { parseClientMetadataDocument, type ClientMetadata } from './metadata-document.js';
import { FetchRefused, pinnedGet } from './pinned-get.js';

export interface ClientMetadataFetcherOptions {
  logger: Logger;
  /** Whole fetch: DNS, connect and reading the body. Default 5000. */
  timeoutMs?: number;
  /** The document is refused (and the download aborted) past this size. Default 65536. */
  maxBytes?: number;
  /** Cache lifetime: Cache-Control max-age clamped to [min, max], else default. */
  cacheTtlSeconds?: { min?: number; max?: number; default?: number };
  /** A failed fetch is remembered this long so one client_id cannot make us hammer a host. Default 30. */
  failureTtlSeconds?: number;
  /** Default 1000; the least recently used entry goes first. */
  maxCacheEntries?: number;
  /** Development only: allow loopback hosts, and plain http to them. Default false. */
  allowLoopback?: boolean;
  /** Clock in ms, for tests. */
  now?: () => number;
}

interface CacheEntry {
  expiresAt: number;
  client?: ClientMetadata;
  error?: DomainError;
}

/**
 * Resolves a client_id that is an https URL to the client its Client ID Metadata Document
 * describes (draft-ietf-oauth-client-id-metadata-document, as the MCP authorization spec uses it).
 * Every refusal is invalid('client_id', ...) with a sentence naming the cause.
 */
export class ClientMetadataFetcher {
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly ttl: { min: number; max: number; default: number };
  private readonly failureTtlMs: number;
  private readonly maxEntries: number;
  private readonly allowLoopback: boolean;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<ClientMetadata>>();

  constructor(opts: ClientMetadataFetcherOptions) {
    this.logger = opts.logger;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxBytes = opts.maxBytes ?? 65536;
    const min = opts.cacheTtlSeconds?.min ?? 60;
    const max = Math.max(min, opts.cacheTtlSeconds?.max ?? 86400);
    this.ttl = { min, max, default: clamp(opts.cacheTtlSeconds?.default ?? 3600, min, max) };
    this.failureTtlMs = (opts.failureTtlSeconds ?? 30) * 1000;
    this.maxEntries = opts.maxCacheEntries ?? 1000;
    this.allowLoopback = opts.allowLoopback ?? false;
    this.now = opts.now ?? Date.now;
  }

  async resolve(clientId: string): Promise<ClientMetadata> {
    const cached = this.cache.get(clientId);
    if (cached && cached.expiresAt > this.now()) {
      this.cache.delete(clientId); // re-insert: Map order is the LRU order
      this.cache.set(clientId, cached);
      if (cached.error) throw cached.error;
      return cached.client!;
    }
    if (cached) this.cache.delete(clientId);
    // Concurrent authorize requests for one client share a single fetch.
    let pending = this.inFlight.get(clientId);
    if (!pending) {
      pending = this.load(clientId).finally(() => this.inFlight.delete(clientId));
      this.inFlight.set(clientId, pending);
    }
    return pending;
  }

  private async load(clientId: string): Promise<ClientMetadata> {
    const shape = clientIdUrlProblem(clientId, { allowHttp: this.allowLoopback });
    if (shape) throw invalid('client_id', `client_id ${quoteClientId(clientId)} ${shape}`);
    const url = new URL(clientId);
    const prefix = `client metadata document at ${quoteClientId(clientId).slice(1, -1)}`;
    try {
      const started = Date.now(); // real time, not the cache clock
      const addresses = await this.checkedAddresses(url);
      const remainingMs = Math.max(1, this.timeoutMs - (Date.now() - started));
      const { body, cacheControl } = await pinnedGet(url, {
        addresses,
        remainingMs,
        timeoutMs: this.timeoutMs,
        maxBytes: this.maxBytes,
      });
      let doc: unknown;
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch {
        throw new FetchRefused('is not valid JSON');
      }
      const parsed = parseClientMetadataDocument(clientId, doc);
      if (!parsed.ok) throw new FetchRefused(parsed.problem);
      const ttlSeconds = this.ttlFrom(cacheControl);
      this.remember(clientId, { client: parsed.client, expiresAt: this.now() + ttlSeconds * 1000 });
      this.logger.info({ clientId, ttlSeconds }, 'client metadata document fetched');
      return parsed.client;
    } catch (err) {
      if (!(err instanceof FetchRefused)) throw err;
      const error = invalid('client_id', `${prefix} ${err.message}`);
      if (this.failureTtlMs > 0)
        this.remember(clientId, { error, expiresAt: this.now() + this.failureTtlMs });
      this.logger.warn({ clientId, reason: err.message }, 'client metadata document refused');
      throw error;
    }
  }

  /** DNS once, every answer checked; the connection later uses exactly these addresses. */
  private async checkedAddresses(url: URL): Promise<LookupAddress[]> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(host);
    const addresses = literal ? [{ address: host, family: literal }] : await this.lookupWithin(host);
    if (addresses.length === 0) throw new FetchRefused('is not reachable: the host has no address');
    for (const { address } of addresses) {
      if (!isAddressAllowed(address, { allowLoopback: this.allowLoopback })) {
        throw new FetchRefused(
          `resolves to a private address (${address}: ${classifyAddress(address)}), which is refused`,
        );
      }
    }
    if (
      url.protocol === 'http:' &&
      addresses.some(({ address }) => classifyAddress(address) !== 'loopback')
    ) {
      throw new FetchRefused('uses http, which is allowed only for loopback hosts');
    }
    return addresses;
  }

  private async lookupWithin(host: string): Promise<LookupAddress[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FetchRefused(`is not reachable: timeout after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([dnsLookup(host, { all: true, verbatim: true }), timeout]);
    } catch (err) {
      if (err instanceof FetchRefused) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new FetchRefused(
        `is not reachable: ${code === 'ENOTFOUND' ? 'host not found' : `DNS error (${code})`}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private ttlFrom(cacheControl: string | undefined): number {
    if (!cacheControl) return this.ttl.default;
    // no-store/no-cache still get the minimum: re-fetching on every authorize request is the hammering we avoid.
    if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(cacheControl)) return this.ttl.min;
    const maxAge = /(^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(,|$)/i.exec(cacheControl)?.[2];
    return maxAge === undefined ? this.ttl.default : clamp(Number(maxAge), this.ttl.min, this.ttl.max);
  }

  private remember(clientId: string, entry: CacheEntry): void {
    this.cache.delete(clientId);
    this.cache.set(clientId, entry);
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));
