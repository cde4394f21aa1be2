import { describe, expect, it } from '@jest/globals';
import { z } from '../schemas/zod.js';
import { TOOLS } from './tools/index.js';
import { withCachedJsonSchema } from './cached-json-schema.js';

const TARGET = { target: 'draft-2020-12' };

describe('withCachedJsonSchema', () => {
  it("gives every tool's input and output the JSON Schema zod itself gives", () => {
    for (const tool of TOOLS) {
      for (const io of ['input', 'output'] as const) {
        const schema = tool[io];
        expect(withCachedJsonSchema(schema)['~standard'].jsonSchema![io](TARGET)).toEqual(
          schema['~standard'].jsonSchema![io](TARGET),
        );
      }
    }
  });

  it('converts once per schema, io and target, and hands out copies', () => {
    let conversions = 0;
    const schema = z.object({ name: z.string() });
    const std = schema['~standard'];
    const counting = Object.create(schema) as typeof schema;
    Object.defineProperty(counting, '~standard', {
      value: {
        ...std,
        jsonSchema: {
          input: (o: { target?: string }) => (conversions++, std.jsonSchema!.input(o as never)),
          output: (o: { target?: string }) => (conversions++, std.jsonSchema!.output(o as never)),
        },
      },
    });
    const cached = withCachedJsonSchema(counting);
    expect(withCachedJsonSchema(counting)).toBe(cached);

    const first = cached['~standard'].jsonSchema!.input(TARGET);
    (first as { properties: unknown }).properties = 'mangled by a caller';
    const second = cached['~standard'].jsonSchema!.input(TARGET);
    expect(second).toMatchObject({ type: 'object', properties: { name: { type: 'string' } } });
    expect(conversions).toBe(1);

    cached['~standard'].jsonSchema!.output(TARGET);
    cached['~standard'].jsonSchema!.input({ target: 'draft-07' });
    expect(conversions).toBe(3);
  });

  it("validates with the schema's own rules and keeps the rest of the schema", async () => {
    const schema = z.object({ tag: z.string().trim().min(1) }).strict();
    const cached = withCachedJsonSchema(schema);
    expect(await cached['~standard'].validate({ tag: '  x ' })).toEqual({ value: { tag: 'x' } });
    const bad = await cached['~standard'].validate({ tag: '   ', extra: 1 });
    expect(bad.issues?.map((i) => i.path)).toEqual(expect.arrayContaining([['tag'], []]));
    expect(cached.parse({ tag: ' y' })).toEqual({ tag: 'y' });
    expect(cached.shape).toBe(schema.shape);
  });
});
