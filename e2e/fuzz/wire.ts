import fc from 'fast-check';

/** How a body goes over the wire: its bytes, and the headers that describe them. */
export interface WireBody {
  bytes?: Buffer;
  headers: Record<string, string>;
}

export type Media = 'json' | 'form';

export const WIRE_MUTATIONS = [
  'malformed-body',
  'invalid-utf8',
  'wrong-content-type',
  'bad-content-encoding',
  'empty-body',
  'deep-raw',
  'duplicate-keys',
] as const;
export type WireMutation = (typeof WIRE_MUTATIONS)[number];

const CONTENT_TYPE = { json: 'application/json', form: 'application/x-www-form-urlencoded' } as const;

/** A form field's text: arrays become repeated fields, so `a=1&a=2` is sent too. */
function formText(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return JSON.stringify(value) ?? '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(value)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      params.append(k, typeof item === 'string' ? item : (JSON.stringify(item) ?? ''));
    }
  }
  return params.toString();
}

const textOf = (value: unknown, media: Media) =>
  media === 'json' ? (value === undefined ? '' : JSON.stringify(value)) : formText(value);

/** The body as a well-behaved client sends it; no body at all for `undefined`. */
export function encode(value: unknown, media: Media): WireBody {
  if (value === undefined) return { headers: {} };
  return { bytes: Buffer.from(textOf(value, media)), headers: { 'content-type': CONTENT_TYPE[media] } };
}

/** Byte sequences that are not UTF-8: a stray continuation, overlong forms, a surrogate, past U+10FFFF, cut short. */
const INVALID_UTF8 = [
  [0xff],
  [0x80],
  [0xc3, 0x28],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
];

function malformed(text: string, media: Media): fc.Arbitrary<string> {
  const json = [
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)),
    fc.constantFrom('}', ']', ',', 'x', '\u0000', ' {}').map((junk) => text + junk),
    fc.constant(text.replace(/"/g, "'")),
    fc.constant('{"a": NaN, "b": Infinity, "c": undefined}'),
    fc.constant(`/* comment */ ${text}`),
    fc.constant(`\ufeff${text}`),
    fc.constantFrom('"just a string"', '42', 'true', 'null', '{', '[', '{"a":1}{"b":2}'),
  ];
  const form = [
    fc.constant(`${text}&a=%zz&b=%E0%A4%A&%=x`),
    fc.constant('=&&=&==='),
    fc.constant(`${text}&${text}`),
    fc.constant('a[b][c][d][e]=1&a[__proto__][x]=1'),
  ];
  return fc.oneof(...(media === 'json' ? json : form));
}

/**
 * The value's body broken on the wire rather than in its content: bytes that do not parse, are not
 * UTF-8, claim another media type or encoding, or nest past any parser's recursion.
 */
export function wireMutated(
  value: unknown,
  media: Media,
): fc.Arbitrary<{ body: WireBody; mutation: WireMutation }> {
  const text = textOf(value ?? {}, media);
  const ct = { 'content-type': CONTENT_TYPE[media] };
  const as = (mutation: WireMutation) => (body: WireBody) => ({ body, mutation });
  const choices: Record<WireMutation, fc.Arbitrary<WireBody>> = {
    'malformed-body': malformed(text, media).map((t) => ({ bytes: Buffer.from(t), headers: ct })),
    'invalid-utf8': fc
      .tuple(fc.nat({ max: text.length }), fc.constantFrom(...INVALID_UTF8))
      .map(([at, bad]) => {
        const bytes = Buffer.from(text);
        const cut = Math.min(at, bytes.length);
        return {
          bytes: Buffer.concat([bytes.subarray(0, cut), Buffer.from(bad), bytes.subarray(cut)]),
          headers: ct,
        };
      }),
    'wrong-content-type': fc
      .constantFrom(
        '',
        'text/plain',
        media === 'json' ? CONTENT_TYPE.form : CONTENT_TYPE.json,
        'multipart/form-data; boundary=xyz',
        'application/xml',
        'application/json; charset=utf-16',
        'application/json; charset=koi8-r',
        'application/json; charset=no-such-charset',
        `${CONTENT_TYPE[media]}; charset=no-such-charset`,
        'application/JSON',
        '*/*',
        ';;;',
      )
      .map((type): WireBody => ({ bytes: Buffer.from(text), headers: type ? { 'content-type': type } : {} })),
    'bad-content-encoding': fc
      .constantFrom('gzip', 'deflate', 'br', 'x-unknown', 'identity, gzip')
      .map((encoding) => ({ bytes: Buffer.from(text), headers: { ...ct, 'content-encoding': encoding } })),
    'empty-body': fc.constantFrom('', '   ', '\r\n').map((t) => ({ bytes: Buffer.from(t), headers: ct })),
    'deep-raw': fc.tuple(fc.integer({ min: 1000, max: 200_000 }), fc.boolean()).map(([n, arrays]) => ({
      bytes: Buffer.from(arrays ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
      headers: { 'content-type': CONTENT_TYPE.json },
    })),
    'duplicate-keys': fc.constant({
      bytes: Buffer.from(
        media === 'json'
          ? text.startsWith('{"')
            ? `{${text.slice(1, text.indexOf(':') + 1)}{"shadow":true},${text.slice(1)}`
            : '{"a":1,"a":2}'
          : `${text}&${text}`,
      ),
      headers: ct,
    }),
  };
  return fc.constantFrom(...WIRE_MUTATIONS).chain((m) => choices[m].map(as(m)));
}
