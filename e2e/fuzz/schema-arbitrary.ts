import fc from 'fast-check';
import { deref, type JsonSchema, type RefResolver } from './json-schema.js';

/**
 * Values worth sending for a property, by its name (array items as `name[]`): ids that exist, the
 * registered redirect URI, a live CSRF token. Random values alone would almost never get past
 * "not found", so the deeper code paths would stay unvisited.
 */
export type Hints = (name: string) => fc.Arbitrary<unknown> | undefined;

export interface SchemaContext {
  resolve: RefResolver;
  hints: Hints;
}

const DAY_MS = 86_400_000;

/**
 * An ISO date-time either in the past or at least a day ahead: expiration dates then never fall due
 * while a run lasts, so the expiry sweeper writes nothing that could be blamed on a request.
 */
const dateTime = (): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.oneof(
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date(Date.now() - DAY_MS),
          noInvalidDate: true,
        }),
        fc.date({
          min: new Date(Date.now() + DAY_MS),
          max: new Date('2100-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
      ),
      fc.boolean(),
    )
    .map(([d, utcOffset]) => (utcOffset ? d.toISOString().replace('Z', '+00:00') : d.toISOString()));

/** Most text is ASCII; some is any single code point, so multi-byte and astral characters show up. */
const text = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength, maxLength }), weight: 3 },
    { arbitrary: fc.string({ unit: 'grapheme-composite', minLength, maxLength }), weight: 1 },
  );

function stringOf(s: JsonSchema): fc.Arbitrary<string> {
  switch (s.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return dateTime();
    case 'date':
      return dateTime().map((d) => d.slice(0, 10));
    case 'email':
      return fc.emailAddress();
    case 'uri':
    case 'url':
      return fc.webUrl();
  }
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
  const min = s.minLength ?? 0;
  // Long valid strings come from the mutations; valid ones stay short so a run stays fast.
  return text(min, Math.max(min, Math.min(s.maxLength ?? 40, 200)));
}

function numberOf(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min =
    s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 0) : undefined);
  const max =
    s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 0) : undefined);
  if (integer) return fc.integer({ min: min ?? -(2 ** 31), max: max ?? 2 ** 31 - 1 });
  return fc.double({
    min,
    max,
    minExcluded: s.exclusiveMinimum !== undefined,
    maxExcluded: s.exclusiveMaximum !== undefined,
    noNaN: true,
    noDefaultInfinity: true,
  });
}

function ofType(
  type: string,
  s: JsonSchema,
  ctx: SchemaContext,
  name: string | undefined,
): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return stringOf(s);
    case 'integer':
      return numberOf(s, true);
    case 'number':
      return numberOf(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const min = s.minItems ?? 0;
      const item = s.items
        ? valueFor(s.items, ctx, name === undefined ? undefined : `${name}[]`)
        : fc.jsonValue();
      return fc.array(item, { minLength: min, maxLength: Math.max(min, Math.min(s.maxItems ?? 6, 6)) });
    }
    case 'object':
      return objectOf(s, ctx);
  }
  throw new Error(`no arbitrary for JSON Schema type ${type}`);
}

function objectOf(s: JsonSchema, ctx: SchemaContext): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const names = Object.keys(props);
  if (names.length === 0 && s.additionalProperties !== false) {
    return fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
  }
  const model = Object.fromEntries(names.map((n) => [n, valueFor(props[n]!, ctx, n)]));
  return fc.record(model, { requiredKeys: (s.required ?? []).filter((r) => r in props) }) as fc.Arbitrary<
    Record<string, unknown>
  >;
}

/**
 * Values that satisfy `schema` as far as JSON Schema can say (zod refinements it cannot express,
 * such as "at least one of usernames or user_ids", may still refuse some). `name` is the property
 * the value goes into, for the hints.
 */
export function valueFor(schema: JsonSchema, ctx: SchemaContext, name?: string): fc.Arbitrary<unknown> {
  const s = deref(schema, ctx.resolve);
  const hinted = name === undefined ? undefined : ctx.hints(name);
  const plain = plainValueFor(s, ctx, name);
  return hinted ? fc.oneof({ arbitrary: hinted, weight: 3 }, { arbitrary: plain, weight: 1 }) : plain;
}

function plainValueFor(s: JsonSchema, ctx: SchemaContext, name: string | undefined): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((alt) => valueFor(alt, ctx, name)));
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((t) => ofType(t, s, ctx, name)));
  if (s.type) return ofType(s.type, s, ctx, name);
  if (s.properties) return objectOf(s, ctx);
  return fc.jsonValue({ maxDepth: 2 });
}
