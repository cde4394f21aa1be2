import { invalid } from '@picard/service-kit';
import { MEMORY_LIMITS } from '@picard/proto';
import { decodeItem, isObject } from './item.decode.js';
import { collect } from './json.codec.js';
import type { ImportItemError, ImportParseResult } from './transfer.model.js';

type Decoded = ReturnType<typeof decodeItem>;

/** "John_Smith" reads as "John Smith" in a sentence; the tag keeps the name as the graph spells it. */
const spoken = (name: string) => name.replace(/_/g, ' ').trim();

/** Entity names longer than a tag may be are left out of the tags: the text names the entity anyway. */
const tagsOf = (...names: string[]) =>
  names.map((n) => n.trim()).filter((n) => n && n.length <= MEMORY_LIMITS.tagChars);

/**
 * The knowledge graph of the reference MCP memory server (@modelcontextprotocol/server-memory):
 * its memory.json holds one JSON object per line, entities `{type: "entity", name, entityType,
 * observations}` and relations `{type: "relation", from, to, relationType}`; its read_graph tool
 * answers the same graph as `{entities, relations}`. Both are read.
 *
 * An observation alone ("Speaks fluent Spanish") does not say whom it is about, so each becomes a
 * memory that names its entity ("John Smith: Speaks fluent Spanish"), tagged with the entity's name
 * and type; each relation becomes one sentence ("John Smith works at Anthropic") tagged with both
 * names. Memories are counted in that order; a record that cannot be read takes one index.
 */
export function parseMcpMemory(data: string, maxItems: number): ImportParseResult {
  const records = graphRecords(data);
  const results: Decoded[] = [];
  const add = (r: Decoded) => {
    if (results.length >= maxItems) throw invalid('data', `at most ${maxItems} memories per import`);
    results.push(r);
  };
  for (const { record, where } of records) {
    const index = results.length;
    const fail = (field: string | undefined, message: string): ImportItemError => ({
      index,
      code: 'invalid_argument',
      message: `memory ${index} (${where}): ${message}`,
      ...(field ? { field } : {}),
    });
    if (record instanceof Error) {
      add({ errors: [fail(undefined, `not valid JSON: ${record.message}`)] });
      continue;
    }
    if (!isObject(record)) {
      add({ errors: [fail(undefined, 'must be an entity or relation object')] });
      continue;
    }
    const kind =
      record.type ??
      ('observations' in record ? 'entity' : 'relationType' in record ? 'relation' : undefined);
    if (kind === 'entity') {
      const { name, entityType, observations } = record;
      if (typeof name !== 'string' || !name.trim()) {
        add({ errors: [fail('name', 'an entity needs a name (a string)')] });
        continue;
      }
      if (entityType !== undefined && typeof entityType !== 'string') {
        add({ errors: [fail('entityType', 'entityType must be a string')] });
        continue;
      }
      if (!Array.isArray(observations)) {
        add({ errors: [fail('observations', 'observations must be a list of strings')] });
        continue;
      }
      observations.forEach((observation, i) => {
        const at = results.length;
        if (typeof observation !== 'string' || !observation.trim()) {
          add({
            errors: [
              { ...fail(`observations[${i}]`, `observations[${i}] must be a non-empty string`), index: at },
            ],
          });
          return;
        }
        add(
          decodeItem(at, {
            text: `${spoken(name)}: ${observation.trim()}`,
            tags: tagsOf(name, entityType ?? ''),
          }),
        );
      });
    } else if (kind === 'relation') {
      const { from, to, relationType } = record;
      const bad = (['from', 'to', 'relationType'] as const).find(
        (f) => typeof record[f] !== 'string' || !(record[f] as string).trim(),
      );
      if (bad) {
        add({ errors: [fail(bad, `a relation needs ${bad} (a string)`)] });
        continue;
      }
      const text = `${spoken(from as string)} ${spoken(relationType as string)} ${spoken(to as string)}`;
      add(decodeItem(index, { text, tags: tagsOf(from as string, to as string) }));
    } else {
      add({ errors: [fail('type', 'type must be "entity" or "relation"')] });
    }
  }
  return collect(results);
}

/** The graph's records in file order, each with where it was found (for error messages). */
function graphRecords(data: string): { record: unknown; where: string }[] {
  const text = data.replace(/^\uFEFF/, '');
  const whole = parseOrUndefined(text);
  // read_graph's answer ({entities, relations}) rather than memory.json's lines.
  if (isObject(whole) && ('entities' in whole || 'relations' in whole)) {
    const list = (key: 'entities' | 'relations', type: string) => {
      const v = whole[key] ?? [];
      if (!Array.isArray(v)) throw invalid('data', `"${key}" must be a list`);
      return v.map((record, i) => ({
        record: isObject(record) ? { type, ...record } : record,
        where: `${key}[${i}]`,
      }));
    };
    return [...list('entities', 'entity'), ...list('relations', 'relation')];
  }
  const out: { record: unknown; where: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      record = err instanceof Error ? err : new Error(String(err));
    }
    out.push({ record, where: `line ${i + 1}` });
  });
  if (out.every((r) => r.record instanceof Error)) {
    throw invalid('data', 'data is not a knowledge graph: no line is a JSON entity or relation');
  }
  return out;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
