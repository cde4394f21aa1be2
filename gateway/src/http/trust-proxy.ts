import ipaddr from 'ipaddr.js';

/** express's names for address ranges, accepted beside addresses and CIDRs. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * GATEWAY_TRUST_PROXY → express's "trust proxy". `false` (the default): the peer's own address is
 * the client, and X-Forwarded-For is ignored. A hop count (1 behind one proxy that appends the
 * client's address, as Render's does) or a list of the proxies' addresses / CIDRs / express range
 * names (loopback, linklocal, uniquelocal). `true` is refused: it would take the left-most
 * X-Forwarded-For entry, which the client writes itself.
 */
export function parseTrustProxy(value: string): { value: false | number | string[] } | { error: string } {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0') return { value: false };
  if (v === 'true') {
    return {
      error:
        'must not be true (that trusts the X-Forwarded-For a client writes itself): give the number of proxies in front of the gateway, or their addresses',
    };
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return hops <= 10
      ? { value: hops }
      : { error: 'must be a hop count from 0 to 10, or a list of addresses' };
  }
  const entries = v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of entries) {
    if (!NAMED_RANGES.has(e) && !ipaddr.isValid(e) && !ipaddr.isValidCIDR(e)) {
      return {
        error: `"${e}" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal (use false, a hop count, or a comma-separated list)`,
      };
    }
  }
  return { value: entries };
}
