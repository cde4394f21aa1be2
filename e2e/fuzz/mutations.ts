import fc from 'fast-check';
import { deref, objectBranch, type JsonSchema, type RefResolver } from './json-schema.js';

/** What was done to a valid value; `valid` means nothing. */
export const VALUE_MUTATIONS = [
  'wrong-type',
  'missing-required',
  'extra-field',
  'huge-string',
  'deep-nesting',
  'odd-string',
  'boundary-number',
  'null',
  'wrong-root',
] as const;
export type ValueMutation = (typeof VALUE_MUTATIONS)[number];

export interface Mutated {
  value: unknown;
  mutation: ValueMutation | 'valid';
  /** The field the mutation touched, e.g. `data.tags[1]`; empty for the value as a whole. */
  at: string;
}

type Path = (string | number)[];
interface Slot {
  path: Path;
  value: unknown;
  schema?: JsonSchema;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export const fieldName = (prefix: string, path: Path) =>
  path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), prefix);

/** Every place in a value (itself included) with the schema describing it, where known. */
function slotsOf(
  value: unknown,
  schema: JsonSchema | undefined,
  resolve: RefResolver,
  path: Path = [],
): Slot[] {
  const slots: Slot[] = [{ path, value, schema }];
  if (Array.isArray(value)) {
    const items = schema ? deref(schema, resolve).items : undefined;
    value.forEach((v, i) => slots.push(...slotsOf(v, items, resolve, [...path, i])));
  } else if (isPlainObject(value)) {
    const props = schema ? objectBranch(schema, resolve)?.properties : undefined;
    for (const [k, v] of Object.entries(value)) slots.push(...slotsOf(v, props?.[k], resolve, [...path, k]));
  }
  return slots;
}

/** A copy of `root` with the value at `path` replaced (or removed when `remove`). */
function withAt(root: unknown, path: Path, replacement: unknown, remove = false): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    if (remove && rest.length === 0) copy.splice(head as number, 1);
    else copy[head as number] = withAt(root[head as number], rest, replacement, remove);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
  if (remove && rest.length === 0) delete copy[head as string];
  // defineProperty, so a key like "__proto__" becomes a real member that JSON.stringify sends.
  else
    Object.defineProperty(copy, head as string, {
      value: withAt(copy[head as string], rest, replacement, remove),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return copy;
}

const anyOtherType = (type: string): fc.Arbitrary<unknown> => {
  const byType: Record<string, fc.Arbitrary<unknown>> = {
    number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    boolean: fc.boolean(),
    null: fc.constant(null),
    string: fc.string({ maxLength: 20 }),
    array: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  };
  return fc.oneof(...Object.entries(byType).flatMap(([t, arb]) => (t === type ? [] : [arb])));
};

/** Strings of 10-200 thousand characters (past every per-field limit), sometimes 1-2 MiB (around the body limit). */
export const hugeString = (): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
      fc.oneof(
        { arbitrary: fc.integer({ min: 10_000, max: 200_000 }), weight: 3 },
        { arbitrary: fc.integer({ min: 1 << 20, max: 2 << 20 }), weight: 1 },
      ),
    )
    .map(([chunk, n]) => chunk.repeat(Math.ceil(n / chunk.length)).slice(0, n));

/** Arrays or objects nested 64-1,000 deep (the wire mutation 'deep-raw' sends up to 200,000). */
export const deepValue = (): fc.Arbitrary<unknown> =>
  fc.tuple(fc.integer({ min: 64, max: 1000 }), fc.boolean()).map(([depth, arrays]) => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
    return v;
  });

const ODD_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\u202e\u2066',
  '\ufeff',
  '\u2028\u2029',
  '\u001b[31m',
  "'; DROP TABLE memories; --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00%ff',
  '${jndi:ldap://x}',
  '{{7*7}}',
  'e\u0301\u0301\u0301',
  '\u{1F9E0}'.repeat(60),
  '\\',
  '"',
  'null',
  '__proto__',
  'NaN',
  '-1',
  '1e309',
];

/** Strings that trip up encoders, databases and parsers: NUL, lone surrogates, controls, injections. */
export const oddString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...ODD_STRINGS),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => `a${String.fromCharCode(c)}b`),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 }),
  );

const BOUNDARY_NUMBERS = [
  0,
  -0,
  -1,
  0.5,
  1.5,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  Number.EPSILON,
  4096.5,
];

/** The places of a kind, or every place when the value has none of it. */
const preferring = (slots: Slot[], keep: (s: Slot) => boolean) => {
  const kept = slots.filter(keep);
  return kept.length ? kept : slots;
};

function mutation(
  kind: ValueMutation,
  root: unknown,
  schema: JsonSchema,
  resolve: RefResolver,
  prefix: string,
): fc.Arbitrary<Mutated> {
  const slots = slotsOf(root, schema, resolve);
  const at = (path: Path) => fieldName(prefix, path);
  const replaceIn = (candidates: Slot[], replacement: (s: Slot) => fc.Arbitrary<unknown>) =>
    fc
      .constantFrom(...candidates)
      .chain((s) =>
        replacement(s).map((v) => ({ value: withAt(root, s.path, v), mutation: kind, at: at(s.path) })),
      );
  switch (kind) {
    case 'wrong-type':
      return replaceIn(slots, (s) => anyOtherType(jsonType(s.value)));
    case 'missing-required': {
      const removable = slots.flatMap((s) => {
        if (!isPlainObject(s.value)) return [];
        const required = (s.schema && objectBranch(s.schema, resolve)?.required) || [];
        const present = Object.keys(s.value);
        const names = required.filter((r) => present.includes(r));
        return (names.length ? names : present).map((k) => [...s.path, k]);
      });
      if (!removable.length) return fc.constant({ value: undefined, mutation: kind, at: at([]) });
      return fc
        .constantFrom(...removable)
        .map((path) => ({ value: withAt(root, path, undefined, true), mutation: kind, at: at(path) }));
    }
    case 'extra-field': {
      const objects = slots.filter((s) => isPlainObject(s.value));
      if (!objects.length) return mutation('wrong-root', root, schema, resolve, prefix);
      return fc
        .tuple(
          fc.constantFrom(...objects),
          fc.oneof(
            fc.string({ minLength: 1, maxLength: 20 }),
            fc.constantFrom('__proto__', 'constructor', 'prototype', 'user_id', 'id', 'owner_id', 'is_admin'),
          ),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .filter(([s, key]) => !(key in (s.value as object)))
        .map(([s, key, v]) => ({
          value: withAt(root, [...s.path, key], v),
          mutation: kind,
          at: at([...s.path, key]),
        }));
    }
    case 'huge-string':
      return replaceIn(
        preferring(slots, (s) => typeof s.value === 'string'),
        hugeString,
      );
    case 'deep-nesting':
      return replaceIn(slots, deepValue);
    case 'odd-string':
      return replaceIn(
        preferring(slots, (s) => typeof s.value === 'string'),
        oddString,
      );
    case 'boundary-number':
      return replaceIn(
        preferring(slots, (s) => typeof s.value === 'number'),
        () => fc.constantFrom(...BOUNDARY_NUMBERS),
      );
    case 'null':
      return replaceIn(slots, () => fc.constant(null));
    case 'wrong-root':
      return fc
        .constantFrom<unknown>([], 'text', 42, null, true, [root])
        .map((value) => ({ value, mutation: kind, at: at([]) }));
  }
}

/**
 * A valid value (per `schema`) half the time, else that value with one mutation: the result says
 * which and where, so a failure reads as "wrong-type at data.limit".
 */
export function validOrMutated(
  valid: fc.Arbitrary<unknown>,
  schema: JsonSchema,
  resolve: RefResolver,
  prefix = '',
): fc.Arbitrary<Mutated> {
  return fc
    .tuple(
      valid,
      fc.oneof(
        { arbitrary: fc.constant('valid' as const), weight: VALUE_MUTATIONS.length },
        { arbitrary: fc.constantFrom(...VALUE_MUTATIONS), weight: VALUE_MUTATIONS.length },
      ),
    )
    .chain(([value, kind]) =>
      kind === 'valid'
        ? fc.constant<Mutated>({ value, mutation: 'valid', at: '' })
        : mutation(kind, value, schema, resolve, prefix),
    );
}
