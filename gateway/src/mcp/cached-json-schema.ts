/** What the MCP SDK reads of a schema: Standard Schema validation and its JSON Schema conversion. */
interface StandardWithJson {
  '~standard': {
    validate: unknown;
    vendor: string;
    version: number;
    jsonSchema?: {
      input(options: { target?: string }): Record<string, unknown>;
      output(options: { target?: string }): Record<string, unknown>;
    };
  };
}

const wrapped = new WeakMap<object, object>();

/**
 * The schema, converted to JSON Schema once per process instead of once per request. The stateless
 * MCP server is built afresh for every request, and the SDK converts the tools' zod schemas again on
 * each build (every schema for `tools/list`, the called tool's output schema for `tools/call`).
 * Validation is the schema's own; each caller gets its own copy of the converted schema.
 */
export function withCachedJsonSchema<S extends StandardWithJson>(schema: S): S {
  const known = wrapped.get(schema);
  if (known) return known as S;
  const std = schema['~standard'];
  const convert = std.jsonSchema;
  if (!convert) return schema;
  const memo = (io: 'input' | 'output') => {
    const byTarget = new Map<string, Record<string, unknown>>();
    return (options: { target?: string }) => {
      const key = options?.target ?? '';
      let json = byTarget.get(key);
      if (!json) byTarget.set(key, (json = convert[io].call(convert, options)));
      return structuredClone(json);
    };
  };
  // The schema stays the prototype: anything else the SDK reads of it is the schema's own.
  const cached = Object.create(schema) as S;
  Object.defineProperty(cached, '~standard', {
    value: { ...std, jsonSchema: { input: memo('input'), output: memo('output') } },
  });
  wrapped.set(schema, cached);
  return cached;
}
