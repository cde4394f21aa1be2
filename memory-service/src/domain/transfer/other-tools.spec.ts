import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseImport, type ImportItem } from './index.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/imports/${name}`, import.meta.url), 'utf8');
const view = (i: ImportItem) => ({ index: i.index, text: i.text, tags: i.tags });
const err = (index: number, field?: string) =>
  expect.objectContaining({ index, code: 'invalid_argument', ...(field ? { field } : {}) });

describe('import from the reference MCP memory server (mcp-memory)', () => {
  it('makes one memory per observation naming its entity, and one per relation, tagged with the names', () => {
    const { items, errors } = parseImport('mcp-memory', fixture('mcp-memory.jsonl'));
    expect(errors).toEqual([]);
    expect(items.map(view)).toEqual([
      { index: 0, text: 'Ada Moreau: Speaks fluent Portuguese', tags: ['Ada_Moreau', 'person'] },
      { index: 1, text: 'Ada Moreau: Moved to Lisbon in March 2025', tags: ['Ada_Moreau', 'person'] },
      {
        index: 2,
        text: 'Harbour Robotics: Builds underwater inspection drones',
        tags: ['Harbour_Robotics', 'organization'],
      },
      { index: 3, text: 'Ada Moreau works at Harbour Robotics', tags: ['Ada_Moreau', 'Harbour_Robotics'] },
      { index: 4, text: 'Tomas: Prefers tea over coffee', tags: ['Tomas', 'person'] },
    ]);
    expect(items.every((i) => i.permission === 'private')).toBe(true);
  });

  it("reads read_graph's {entities, relations} document the same way", () => {
    const lines = fixture('mcp-memory.jsonl')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const strip = ({ type: _t, ...rest }: Record<string, unknown>) => rest;
    const doc = {
      entities: lines.filter((l) => l.type === 'entity').map(strip),
      relations: lines.filter((l) => l.type === 'relation').map(strip),
    };
    const fromDoc = parseImport('mcp-memory', JSON.stringify(doc, null, 2))
      .items.map((i) => i.text)
      .sort();
    const fromLines = parseImport('mcp-memory', fixture('mcp-memory.jsonl'))
      .items.map((i) => i.text)
      .sort();
    expect(fromDoc).toEqual(fromLines);
  });

  it('reports each unreadable record with its line and field, and keeps the rest', () => {
    const data = [
      '{"type":"entity","name":"Tomas","entityType":"person","observations":["Likes tea", 42, "  "]}',
      'this line is not JSON',
      '{"type":"note","text":"an unknown record type"}',
      '{"type":"relation","from":"Tomas","relationType":"knows"}',
      '{"type":"entity","entityType":"person","observations":[]}',
      '{"type":"entity","name":"Ann","observations":"one"}',
      '{"type":"entity","name":"Bo","observations":["Has a boat"]}',
    ].join('\n');
    const { items, errors } = parseImport('mcp-memory', data);
    expect(items.map(view)).toEqual([
      { index: 0, text: 'Tomas: Likes tea', tags: ['Tomas', 'person'] },
      { index: 8, text: 'Bo: Has a boat', tags: ['Bo'] },
    ]);
    expect(errors).toEqual([
      err(1, 'observations[1]'),
      err(2, 'observations[2]'),
      err(3),
      err(4, 'type'),
      err(5, 'to'),
      err(6, 'name'),
      err(7, 'observations'),
    ]);
    expect(errors[2]!.message).toContain('line 2');
  });

  it('leaves a name too long for a tag out of the tags (the text still names it)', () => {
    const name = 'N'.repeat(65);
    const [item] = parseImport(
      'mcp-memory',
      JSON.stringify({ type: 'entity', name, entityType: 'thing', observations: ['is long'] }),
    ).items;
    expect([item!.text, item!.tags]).toEqual([`${name}: is long`, ['thing']]);
  });

  it('refuses a file that is not a graph at all, naming data, and counts memories against the cap', () => {
    expect(() => parseImport('mcp-memory', 'hello\nworld')).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
    expect(() => parseImport('mcp-memory', '{"entities": 3}')).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
    expect(() => parseImport('mcp-memory', fixture('mcp-memory.jsonl'), { maxItems: 4 })).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
  });
});

describe('import from mem0 (mem0)', () => {
  it('keeps the text, the categories as tags and both dates', () => {
    const { items, errors } = parseImport('mem0', fixture('mem0.json'));
    expect(errors).toEqual([]);
    expect(
      items.map((i) => ({
        text: i.text,
        tags: i.tags,
        created: i.createdAt?.toISOString(),
        updated: i.updatedAt?.toISOString(),
        source: i.sourceId,
      })),
    ).toEqual([
      {
        text: 'Is allergic to peanuts',
        tags: ['health', 'food'],
        created: '2025-07-20T08:21:46.512Z',
        updated: '2025-08-02T16:00:00.000Z',
        source: '8b4e1f0a-2c9d-4d3e-9f51-0c6a5e2b7d11',
      },
      {
        text: 'Plans a trip to Kyoto in April',
        tags: [],
        created: '2025-09-11T18:05:00.000Z',
        updated: undefined,
        source: 'f3c0e2d1-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
      },
    ]);
  });

  it('takes a bare list or {memories}, and names the field of each bad record', () => {
    const list = [
      { memory: 'Likes long walks' },
      { memory: 17 },
      { memory: 'Dates matter', created_at: 'last Tuesday' },
      'not an object',
      { memory: 'Tagged', categories: 'travel' },
    ];
    for (const data of [JSON.stringify(list), JSON.stringify({ memories: list })]) {
      const { items, errors } = parseImport('mem0', data);
      expect(items.map((i) => i.text)).toEqual(['Likes long walks']);
      expect(errors).toEqual([err(1, 'memory'), err(2, 'created_at'), err(3), err(4, 'tags')]);
    }
    expect(() => parseImport('mem0', '{"results": {}}')).toThrow(expect.objectContaining({ field: 'data' }));
    expect(() => parseImport('mem0', 'not json')).toThrow(expect.objectContaining({ field: 'data' }));
  });
});

describe('import a plain text or Markdown list (text)', () => {
  it('makes one memory per line or bullet, without markers, headings, rules or comments', () => {
    const { items, errors } = parseImport('text', fixture('chat-memory.md'));
    expect(errors).toEqual([]);
    expect(items.map((i) => i.text)).toEqual([
      'Prefers answers in metric units',
      'Is training for a half marathon in October and runs three times a week',
      'Has a cat called Miso',
      'Works as a structural engineer',
      'Lives in Rotterdam',
      'Reads mostly science fiction',
    ]);
    expect(items.map((i) => i.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads plain lines with any line ends; a file without text is refused', () => {
    expect(parseImport('text', 'one\r\ntwo\rthree\n\n').items.map((i) => i.text)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(() => parseImport('text', '# Only a heading\n---\n')).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
    expect(() => parseImport('text', 'a\nb\nc', { maxItems: 2 })).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
  });
});

describe('formats other tools write are for import only', () => {
  it('export refuses them, naming format', async () => {
    const { exportMemories } = await import('./index.js');
    for (const format of ['mcp-memory', 'mem0', 'text']) {
      expect(() => exportMemories(format, [])).toThrow(expect.objectContaining({ field: 'format' }));
    }
  });
});
