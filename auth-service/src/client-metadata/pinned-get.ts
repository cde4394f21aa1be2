import http from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

/** A failure, worded to follow "client metadata document at <url> ...". */
export class FetchRefused extends Error {}

export interface PinnedGetOptions {
  /** The addresses already checked by the address policy; the socket may connect to these only. */
  addresses: LookupAddress[];
  /** Time left for connect + response; the message names timeoutMs, the configured total. */
  remainingMs: number;
  timeoutMs: number;
  maxBytes: number;
}

export interface PinnedGetResult {
  body: Buffer;
  cacheControl: string | undefined;
}

const USER_AGENT = 'Picard-AuthServer/1 (OAuth Client ID Metadata Document fetcher)';

/**
 * One GET with no redirects, a deadline and a size cap. The lookup function hands the socket the
 * checked addresses instead of asking DNS again, so a rebinding answer between the check and the
 * connect cannot reach anything else. TLS still verifies the certificate against the host name.
 */
export function pinnedGet(url: URL, opts: PinnedGetOptions): Promise<PinnedGetResult> {
  const [first] = opts.addresses;
  if (!first) return Promise.reject(new FetchRefused('is not reachable: the host has no address'));
  const lookup: LookupFunction = (_host, lookupOpts, callback) => {
    if (lookupOpts.all) callback(null, opts.addresses);
    else callback(null, first.address, first.family);
  };
  const client = url.protocol === 'https:' ? https : http;

  return new Promise((resolve, reject) => {
    let settled = false;
    let response: http.IncomingMessage | undefined;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      response?.destroy();
      reject(new FetchRefused(reason));
    };
    const timer = setTimeout(
      () => fail(`is not reachable: timeout after ${opts.timeoutMs} ms`),
      opts.remainingMs,
    );

    const request = client.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': USER_AGENT },
        lookup,
        agent: false, // no pooled socket: each fetch connects to its own checked address
      },
      (res) => {
        response = res;
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400)
          return fail(`answered with a redirect (HTTP ${status}), which is not followed`);
        if (status !== 200) return fail(`answered HTTP ${status}, not 200`);
        const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json' && !type.endsWith('+json')) {
          return fail(`is not JSON (content-type ${JSON.stringify(type || 'missing').slice(0, 100)})`);
        }
        const encoding = (res.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (encoding !== 'identity')
          return fail(`is sent with content-encoding ${encoding.slice(0, 40)}, which was not asked for`);
        const declared = Number(res.headers['content-length']);
        if (declared > opts.maxBytes) return fail(`is larger than ${opts.maxBytes} bytes`);

        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) return fail(`is larger than ${opts.maxBytes} bytes`);
          chunks.push(chunk);
        });
        res.on('error', (err) => fail(`is not reachable: ${describe(err)}`));
        res.on('close', () => {
          if (!res.complete) fail('is not reachable: the connection closed before the end of the document');
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const cacheControl = res.headers['cache-control'];
          resolve({ body: Buffer.concat(chunks), cacheControl });
        });
      },
    );
    request.on('error', (err) => fail(`is not reachable: ${describe(err)}`));
    request.end();
  });
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      if (err.code?.startsWith('ERR_TLS') || /CERT|SSL/.test(err.code ?? ''))
        return `TLS error (${err.code})`;
      return err.code ?? err.message;
  }
}
