import { stemmer } from 'stemmer';

/**
 * How text becomes keyword terms, the same way for memories and queries: Unicode compatibility
 * form, case folded, accents stripped (café = cafe), split on anything that is not a letter or a
 * digit, English stop words dropped, then Porter-stemmed (adopted = adoption = adopt). Digits are
 * kept whole, so years, days and prices match exactly.
 */
export function keywordTerms(text: string): string[] {
  const words =
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const out: string[] = [];
  for (const word of words) {
    if (word.length > MAX_TERM_CHARS) continue;
    if (STOP_WORDS.has(word)) continue;
    if (word.length < 2 && !/\p{N}/u.test(word)) continue;
    out.push(/^[a-z]+$/.test(word) ? stemmer(word) : word);
  }
  return out;
}

/** A document's terms with their frequencies, and its length in terms (BM25's dl). */
export interface TermCounts {
  counts: Map<string, number>;
  length: number;
}

export function countTerms(text: string): TermCounts {
  const terms = keywordTerms(text);
  const counts = new Map<string, number>();
  for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
  return { counts, length: terms.length };
}

/**
 * The distinct terms a query searches for, in order of first use, at most MAX_QUERY_TERMS: a
 * 10,000-character query costs no more than a short one.
 */
export function queryTerms(text: string): string[] {
  return [...new Set(keywordTerms(text))].slice(0, MAX_QUERY_TERMS);
}

export const MAX_QUERY_TERMS = 32;
/** Longer "words" (hashes, base64, URLs without separators) are noise to a keyword index. */
const MAX_TERM_CHARS = 40;

const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between ' +
    'both but by can could did do does doing down during each few for from further had has have having he her ' +
    'here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not ' +
    'now of off on once only or other our ours ourselves out over own same she should so some such than that the ' +
    'their theirs them themselves then there these they this those through to too under until up very was we ' +
    'were what when where which while who whom why will with would you your yours yourself yourselves ' +
    's t d ll m re ve don didn doesn isn wasn aren weren won wouldn couldn shouldn haven hasn hadn'
  ).split(' '),
);
