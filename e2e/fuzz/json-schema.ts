/**
 * The subset of JSON Schema (2020-12, as zod's toJSONSchema and the OpenAPI 3.1 generator write it)
 * that the gateway's request schemas use.
 */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
}

/** Resolves `#/components/schemas/X` style references against the document they came from. */
export type RefResolver = (ref: string) => JsonSchema;

export function refResolver(document: unknown): RefResolver {
  return (ref) => {
    if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
    let node: unknown = document;
    for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part];
    if (!node) throw new Error(`dangling reference ${ref}`);
    return node as JsonSchema;
  };
}

/** The schema itself once references are followed. */
export function deref(schema: JsonSchema, resolve: RefResolver): JsonSchema {
  let s = schema;
  for (let hops = 0; s.$ref; hops++) {
    if (hops > 20) throw new Error(`reference cycle at ${s.$ref}`);
    s = resolve(s.$ref);
  }
  return s;
}

/** The object branch of a schema, if it describes objects (possibly as one alternative of several). */
export function objectBranch(schema: JsonSchema, resolve: RefResolver): JsonSchema | undefined {
  const s = deref(schema, resolve);
  if (s.type === 'object' || s.properties) return s;
  for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) {
    const found = objectBranch(alt, resolve);
    if (found) return found;
  }
  return undefined;
}
