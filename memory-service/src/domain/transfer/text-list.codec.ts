import { invalid } from '@picard/service-kit';
import { decodeItem } from './item.decode.js';
import { collect } from './json.codec.js';
import type { ImportParseResult } from './transfer.model.js';

const BULLET = /^(?:[-*+•‣◦]|\d{1,4}[.)])\s+(?:\[[ xX]\]\s+)?/;
const HEADING = /^#{1,6}(\s|$)/;
const RULE = /^([-*_])(\s*\1){2,}\s*$/;
const FENCE = /^(```|~~~)/;
const HTML_COMMENT = /^<!--.*-->$/;

/**
 * Plain text or a Markdown list, as the memory pages of chat assistants export them: one memory per
 * line or bullet. Bullet markers, numbering and checkboxes are dropped; headings, rules, fences and
 * blank lines separate nothing and are skipped; an indented line under a bullet continues it.
 */
export function parseTextList(data: string, maxItems: number): ImportParseResult {
  const texts: string[] = [];
  let continuable = false;
  for (const raw of data.replace(/^\uFEFF/, '').split(/\r\n?|\n/)) {
    const line = raw.trim();
    if (!line || HEADING.test(line) || RULE.test(line) || FENCE.test(line) || HTML_COMMENT.test(line)) {
      continuable = false;
      continue;
    }
    const bullet = BULLET.exec(line);
    if (!bullet && continuable && /^\s/.test(raw)) {
      texts[texts.length - 1] += ` ${line}`;
      continue;
    }
    const text = bullet ? line.slice(bullet[0].length).trim() : line;
    if (!text) continue;
    if (texts.length >= maxItems) throw invalid('data', `at most ${maxItems} memories per import`);
    texts.push(text);
    continuable = Boolean(bullet);
  }
  if (texts.length === 0) throw invalid('data', 'data holds no memories: no line has text');
  return collect(texts.map((text, i) => decodeItem(i, { text })));
}
