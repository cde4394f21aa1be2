import { describe, it, expect } from '@jest/globals';
import { DomainError, invalid, newId } from '@picard/service-kit';
import type { MemoryRecord, PermissionName } from '../memory.model.js';
import { checkEach, exportMemories, parseImport, EXPORT_FORMATS, type ImportItem } from './index.js';

/** A small seeded generator, so a failing round trip can be replayed from its seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

// Pieces that break naive writers: delimiters, line ends, fences, markdown, JSON, CSV formulas, unicode.
const PIECES = [
  'a',
  'word',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '\n\n',
  '"',
  '""',
  "'",
  ',',
  ';',
  '|',
  '\\',
  '\\n',
  '`',
  '``',
  '```',
  '````',
  '```json picard-memory',
  '~~~',
  '#',
  '# Heading',
  '## Memory 1 (private)',
  '---',
  '***',
  '- item',
  '> quote',
  '<!-- x -->',
  '-->',
  '{',
  '}',
  '[',
  ']',
  '{"text":"x"}',
  '=SUM(A1)',
  '+1',
  '-1',
  '@x',
  'é',
  'e\u0301',
  '😀',
  '👩‍👩‍👧',
  'שלום',
  '中文',
  '\u2028',
  '\u2029',
  '\u0000',
  '\uFEFF',
  '\u00a0',
  'null',
  'true',
  '0',
  '2026-01-01',
] as const;
const PERMISSIONS: PermissionName[] = ['private', 'public', 'shared'];

function trickyString(r: ReturnType<typeof rng>, maxPieces: number): string {
  let s = '';
  const n = 1 + r.int(maxPieces);
  for (let i = 0; i < n; i++) s += r.pick(PIECES);
  return s;
}

function trickyRecord(r: ReturnType<typeof rng>): MemoryRecord {
  let text = trickyString(r, 12);
  if (text.trim() === '') text = `x${text}`;
  const permission = r.pick(PERMISSIONS);
  const created = new Date(Date.UTC(2020, 0, 1) + r.int(2 ** 31) * 1000 + r.int(1000));
  return {
    id: newId(),
    userId: newId(),
    text,
    permission,
    expirationDate: r.next() < 0.5 ? null : new Date(created.getTime() + r.int(2 ** 30) * 1000),
    tags: Array.from({ length: r.int(4) }, () => trickyString(r, 3)),
    sharedWith:
      permission === 'shared'
        ? { users: [newId(), newId()].slice(0, 1 + r.int(2)), groups: r.next() < 0.5 ? [newId()] : [] }
        : { users: [], groups: [] },
    createdAt: created,
    updatedAt: new Date(created.getTime() + r.int(10_000)),
    embeddingPending: false,
  };
}

/** What an import must give back for an exported record. */
function expected(m: MemoryRecord, index: number): ImportItem {
  return {
    index,
    text: m.text,
    permission: m.permission,
    tags: m.tags,
    sharedWith: m.sharedWith,
    ...(m.expirationDate ? { expirationDate: m.expirationDate } : {}),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    sourceId: m.id,
    sourceUserId: m.userId,
  };
}

describe.each(EXPORT_FORMATS)('%s round trip', (format) => {
  it('keeps every field of 300 records built from tricky pieces', () => {
    const seed = 20261126;
    const r = rng(seed + format.length);
    const records = Array.from({ length: 300 }, () => trickyRecord(r));
    const data = exportMemories(format, records);
    const parsed = parseImport(format, data);
    expect(parsed.errors).toEqual([]);
    expect(parsed.items).toEqual(records.map(expected));
  });

  it('keeps each record alone too (first/last-line edge cases)', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const rec = trickyRecord(r);
      const parsed = parseImport(format, exportMemories(format, [rec]));
      expect({ seed: 7, i, items: parsed.items }).toEqual({ seed: 7, i, items: [expected(rec, 0)] });
    }
  });

  it('exports and imports an empty list', () => {
    const data = exportMemories(format, []);
    if (format === 'ndjson') expect(data).toBe('');
    else expect(parseImport(format, data)).toEqual({ items: [], errors: [] });
  });

  it('refuses data over the size and count caps, naming data', () => {
    const r = rng(3);
    const data = exportMemories(format, [trickyRecord(r), trickyRecord(r), trickyRecord(r)]);
    expect(() => parseImport(format, data, { maxItems: 2 })).toThrow(
      expect.objectContaining({ code: 'invalid_argument', field: 'data' }),
    );
    expect(() => parseImport(format, data, { maxChars: data.length - 1 })).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
    expect(parseImport(format, data, { maxItems: 3, maxChars: data.length }).items).toHaveLength(3);
  });
});

describe('formats', () => {
  it('names format for an unknown format, on export and import', () => {
    for (const call of [() => exportMemories('xml', []), () => parseImport('yaml', '[]')]) {
      expect(call).toThrow(DomainError);
      expect(call).toThrow(expect.objectContaining({ code: 'invalid_argument', field: 'format' }));
    }
  });

  it('accepts the format name in any case', () => {
    expect(parseImport(' JSON ', '[{"text":"hi"}]').items).toHaveLength(1);
  });

  it('refuses empty data', () => {
    expect(() => parseImport('json', '  \n')).toThrow(expect.objectContaining({ field: 'data' }));
  });
});

describe('per-item errors', () => {
  const err = (index: number, field?: string) =>
    expect.objectContaining({ index, code: 'invalid_argument', ...(field ? { field } : {}) });

  it('json: reports each bad field with its index and keeps the good items', () => {
    const data = JSON.stringify([
      { text: 'ok', tags: ['a'] },
      { text: 42 },
      { text: 'x', permission: 'secret' },
      { text: 'x', tags: ['a', 7] },
      { text: 'x', expiration_date: 'tomorrow' },
      { text: 'x', created_at: '2026-01-01T10:00:00' },
      { text: '  ' },
      'just a string',
      { text: 'x', shared_with: { users: 'nobody' } },
    ]);
    const { items, errors } = parseImport('json', data);
    expect(items.map((i) => i.index)).toEqual([0]);
    expect(items[0]).toMatchObject({
      text: 'ok',
      permission: 'private',
      tags: ['a'],
      sharedWith: { users: [], groups: [] },
    });
    expect(errors).toEqual([
      err(1, 'text'),
      err(2, 'permission'),
      err(3, 'tags[1]'),
      err(4, 'expiration_date'),
      err(5, 'created_at'),
      err(6, 'text'),
      err(7),
      err(8, 'shared_with.users'),
    ]);
  });

  it('json: a document that is not JSON or not a list fails as a whole', () => {
    expect(() => parseImport('json', '{"memories": 1}')).toThrow(expect.objectContaining({ field: 'data' }));
    expect(() => parseImport('json', '[{"text": "a"')).toThrow(expect.objectContaining({ field: 'data' }));
  });

  it('ndjson: a broken line is one item error, blank lines are skipped', () => {
    const { items, errors } = parseImport(
      'ndjson',
      '{"text":"a"}\n\n{"text":\n{"text":"c","tags":["t"]}\r\n',
    );
    expect(items.map((i) => [i.index, i.text])).toEqual([
      [0, 'a'],
      [2, 'c'],
    ]);
    expect(errors).toEqual([err(1)]);
    expect(errors[0]!.message).toContain('line 3');
  });

  it('csv: wrong field counts and stray quotes are item errors; the rest imports', () => {
    const csv =
      'text,permission,tags\r\nfine,public,"[""x""]"\r\ntoo,many,fields,here\r\nbad"quote,private,\r\n"after"x,private,\r\nlast,,work; ideas\r\n';
    const { items, errors } = parseImport('csv', csv);
    expect(items.map((i) => [i.index, i.text, i.permission, i.tags])).toEqual([
      [0, 'fine', 'public', ['x']],
      [4, 'last', 'private', ['work', 'ideas']],
    ]);
    expect(errors.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('csv: a header without text, a duplicate column or an unclosed quote fails as a whole', () => {
    expect(() => parseImport('csv', 'permission\r\nprivate\r\n')).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
    expect(() => parseImport('csv', 'text,text\r\na,b\r\n')).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
    expect(() => parseImport('csv', 'text\r\n"never closed\r\n')).toThrow(
      expect.objectContaining({ field: 'data' }),
    );
  });

  it('csv: takes LF line ends, a byte-order mark, columns in any order and a bad list cell as a field error', () => {
    const { items, errors } = parseImport('csv', '\uFEFFtags,text\n"[1,""x""]",a\nx;y,"multi\nline"\n');
    expect(items.map((i) => [i.text, i.tags])).toEqual([['multi\nline', ['x', 'y']]]);
    expect(errors).toEqual([err(0, 'tags[0]')]);
  });

  it('markdown: hand-written sections import; broken ones are item errors', () => {
    const md = [
      '# My notes',
      'Some prose with a ```json picard-memory mention that is not a fence.',
      '```js',
      'const unrelated = 1;',
      '```',
      '```json picard-memory',
      '{"permission": "public", "tags": ["a"]}',
      '```',
      '',
      '```',
      'first memory',
      '```',
      '```json picard-memory',
      '{ not json',
      '```',
      '```text',
      'skipped',
      '```',
      '```json picard-memory',
      '{}',
      '```',
      'no fence follows',
      '```json picard-memory',
      '{"expiration_date": "soon"}',
      '```',
      '```',
      'has a bad date',
      '```',
    ].join('\n');
    const { items, errors } = parseImport('markdown', md);
    expect(items).toEqual([
      expect.objectContaining({ index: 0, text: 'first memory', permission: 'public', tags: ['a'] }),
    ]);
    expect(errors).toEqual([err(1), err(2), err(3, 'expiration_date')]);
  });

  it('markdown: survives an editor rewriting line ends to CRLF, and an edited text wins over the stored one', () => {
    const rec: MemoryRecord = {
      ...trickyRecord(rng(11)),
      text: 'line one\r\nline two',
    };
    const data = exportMemories('markdown', [rec]);
    expect(data).not.toContain('\r');
    expect(parseImport('markdown', data.replaceAll('\n', '\r\n')).items[0]!.text).toBe(
      'line one\r\nline two',
    );
    const edited = data.replace('line two\n', 'line 2\n');
    expect(parseImport('markdown', edited).items[0]!.text).toBe('line one\nline 2');
  });

  it('markdown: is readable: a heading per memory and the text shown verbatim in a fence', () => {
    const rec: MemoryRecord = {
      ...trickyRecord(rng(5)),
      text: 'Has ``` inside\n# and a heading',
      permission: 'public',
    };
    const data = exportMemories('markdown', [rec]);
    expect(data).toContain('## Memory 1 (public)');
    expect(data).toContain('````text\nHas ``` inside\n# and a heading\n````');
  });
});

describe('checkEach', () => {
  it('turns validation errors into item errors with the field, and rethrows anything else', () => {
    const { items } = parseImport('json', '[{"text":"a"},{"text":"b"}]');
    const res = checkEach(items, (item) => {
      if (item.text === 'b') throw invalid('tags[0]', 'tags[0] is too long');
      return item.text.toUpperCase();
    });
    expect(res.valid.map((v) => v.value)).toEqual(['A']);
    expect(res.errors).toEqual([
      { index: 1, code: 'invalid_argument', field: 'tags[0]', message: 'memory 1: tags[0] is too long' },
    ]);
    expect(() =>
      checkEach(items, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
  });
});
