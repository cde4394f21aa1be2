import { BlockList, isIP } from 'node:net';

/**
 * Which addresses the metadata fetcher may connect to. Anything that is not plainly public is
 * refused, so a client_id cannot make the authorization server probe its own network (SSRF).
 * Node's BlockList also matches IPv4-mapped IPv6 (::ffff:10.0.0.1, ::ffff:a00:1) against the
 * IPv4 rules, which is why no mapped ranges are listed here.
 */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'cgnat'
  | 'reserved'
  | 'invalid';

type Rule = [Exclude<AddressClass, 'public' | 'invalid'>, string, number];

// Order matters: the first class that matches names the address (::1 before ::/96). No IPv6 rule
// may cover ::ffff:0:0/96: BlockList checks IPv4 addresses against IPv6 rules in that mapped form.
const RULES: Rule[] = [
  ['unspecified', '0.0.0.0', 8],
  ['loopback', '127.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  ['cgnat', '100.64.0.0', 10],
  ['link-local', '169.254.0.0', 16],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '192.0.0.0', 24], // IETF protocol assignments
  ['reserved', '192.0.2.0', 24], // documentation
  ['reserved', '198.18.0.0', 15], // benchmarking
  ['reserved', '198.51.100.0', 24],
  ['reserved', '203.0.113.0', 24],
  ['reserved', '240.0.0.0', 4], // includes 255.255.255.255
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['unique-local', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['reserved', 'fec0::', 10], // deprecated site-local
  ['multicast', 'ff00::', 8],
  ['reserved', '::', 96], // deprecated IPv4-compatible
  ['reserved', '64:ff9b:1::', 48], // local-use NAT64
  ['reserved', '100::', 64], // discard
  ['reserved', '2001::', 32], // Teredo: tunnels to an arbitrary IPv4 address
  ['reserved', '2001:db8::', 32], // documentation
  ['reserved', '2002::', 16], // 6to4: embeds an arbitrary IPv4 address
];

const LISTS = RULES.map(([cls, net, prefix]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, isIP(net) === 4 ? 'ipv4' : 'ipv6');
  return [cls, list] as const;
});

const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

/** The class of one IP address (IPv4 or IPv6, an optional %zone is ignored). */
export function classifyAddress(address: string): AddressClass {
  const ip = address.replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 0) return 'invalid';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // Well-known-prefix NAT64 reaches the embedded IPv4 address: judge that one.
  if (family === 6 && NAT64.check(ip, 'ipv6')) return classifyAddress(embeddedIpv4(ip));
  for (const [cls, list] of LISTS) if (list.check(ip, type)) return cls;
  return 'public';
}

/** Whether the fetcher may connect to this address. */
export function isAddressAllowed(address: string, opts: { allowLoopback?: boolean } = {}): boolean {
  const cls = classifyAddress(address);
  return cls === 'public' || (cls === 'loopback' && opts.allowLoopback === true);
}

function embeddedIpv4(ipv6: string): string {
  const canonical = new URL(`http://[${ipv6}]/`).hostname.slice(1, -1);
  const [head = '', tail = ''] = canonical.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [
    ...headGroups,
    ...Array(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ];
  const n = (parseInt(groups[6] ?? '0', 16) << 16) | parseInt(groups[7] ?? '0', 16);
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
