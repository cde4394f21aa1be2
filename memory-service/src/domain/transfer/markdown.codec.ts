import { invalid } from '@picard/service-kit';
import { decodeItem } from './item.decode.js';
import { collect } from './json.codec.js';
import { toExported, type ExportRecord, type ImportParseResult } from './transfer.model.js';

export const MARKDOWN_META_INFO = 'json picard-memory';

const OPENER = /^(`{3,})[ \t]*([^`]*)$/;
const normalizeBreaks = (s: string) => s.replace(/\r\n?/g, '\n');

/** A fence one backtick longer than the longest run inside, so no line of the content can close it. */
function fence(content: string): string {
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/**
 * One section per memory: a heading for people, a fenced JSON metadata block, then the text in
 * its own fence. The file never contains a carriage return, so an editor that rewrites line ends
 * cannot change it; a text that has one keeps its exact form in the metadata ("text"), which is
 * used unless the fenced text was edited. Earlier versions (include_history) ride in the metadata
 * block as `history`, which imports ignore.
 */
export function exportMarkdown(records: ExportRecord[]): string {
  const out = [
    '# Picard memories',
    '',
    `<!-- picard-memories version=1 count=${records.length}. Each memory is a "${MARKDOWN_META_INFO}" block ` +
      'followed by a fenced block with its text; edit the text inside its fence. Everything else is ignored on import. -->',
    '',
  ];
  records.map(toExported).forEach((m, i) => {
    const { text, ...meta } = m;
    const shown = normalizeBreaks(text);
    const metaJson = JSON.stringify(shown === text ? meta : { ...meta, text }, null, 2);
    const metaFence = fence(metaJson);
    const textFence = fence(shown);
    out.push(
      `## Memory ${i + 1} (${m.permission})`,
      '',
      `${metaFence}${MARKDOWN_META_INFO}`,
      metaJson,
      metaFence,
      '',
      `${textFence}text`,
      shown,
      textFence,
      '',
    );
  });
  return out.join('\n');
}

interface Block {
  info: string;
  content: string;
  /** Index of the line after the closing fence. */
  next: number;
  closed: boolean;
}

function readBlock(lines: string[], at: number): Block | undefined {
  const m = OPENER.exec(lines[at]!);
  if (!m) return undefined;
  const closer = new RegExp(`^\`{${m[1]!.length},}[ \\t]*$`);
  let j = at + 1;
  while (j < lines.length && !closer.test(lines[j]!)) j++;
  const closed = j < lines.length;
  return {
    info: m[2]!.trim().replace(/\s+/g, ' ').toLowerCase(),
    content: lines.slice(at + 1, j).join('\n'),
    next: j + 1,
    closed,
  };
}

export function parseMarkdown(data: string, maxItems: number): ImportParseResult {
  const lines = normalizeBreaks(data.startsWith('\uFEFF') ? data.slice(1) : data).split('\n');
  const results: ReturnType<typeof decodeItem>[] = [];
  const fail = (index: number, message: string) =>
    results.push({ errors: [{ index, code: 'invalid_argument', message: `memory ${index}: ${message}` }] });
  let i = 0;
  while (i < lines.length) {
    const at = i;
    const block = readBlock(lines, i);
    if (!block) {
      i++;
      continue;
    }
    i = block.next;
    if (block.info !== MARKDOWN_META_INFO) continue;
    const index = results.length;
    if (index >= maxItems) throw invalid('data', `at most ${maxItems} memories per import`);
    if (!block.closed) {
      fail(index, `the metadata block on line ${at + 1} is never closed`);
      break;
    }
    let meta: unknown;
    try {
      meta = JSON.parse(block.content);
    } catch (err) {
      fail(index, `the metadata block is not valid JSON: ${(err as Error).message}`);
      continue;
    }
    while (i < lines.length && lines[i]!.trim() === '') i++;
    const textBlock = i < lines.length ? readBlock(lines, i) : undefined;
    if (!textBlock || !textBlock.closed) {
      fail(index, 'the metadata block must be followed by a closed fenced block holding the text');
      if (textBlock) break;
      continue;
    }
    i = textBlock.next;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      results.push(decodeItem(index, meta));
      continue;
    }
    const exact = (meta as { text?: unknown }).text;
    const text =
      typeof exact === 'string' && normalizeBreaks(exact) === textBlock.content ? exact : textBlock.content;
    results.push(decodeItem(index, { ...meta, text }));
  }
  return collect(results);
}
