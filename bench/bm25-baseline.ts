/**
 * A plain BM25 over plaintext messages, the keyword baseline of the retrieval evaluation: the
 * ranking any keyword search engine gives by default (lower-cased words, English stop words,
 * no stemming, k1 = 1.2, b = 0.75). Written independently of the service's blind index, so the
 * evaluation compares Picard against a baseline, not against itself.
 */
const STOP = new Set(
  'a an and are as at be but by did do does for from had has have he her his how i in is it its me my of on or our she so that the their them they this to was we were what when where which who why will with you your'.split(
    ' ',
  ),
);

const words = (text: string) => (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => !STOP.has(w));

export class Bm25Index {
  private readonly docs: { id: string; tf: Map<string, number>; length: number }[];
  private readonly df = new Map<string, number>();
  private readonly avgLength: number;

  constructor(documents: readonly { id: string; text: string }[]) {
    this.docs = documents.map((d) => {
      const ws = words(d.text);
      const tf = new Map<string, number>();
      for (const w of ws) tf.set(w, (tf.get(w) ?? 0) + 1);
      for (const w of tf.keys()) this.df.set(w, (this.df.get(w) ?? 0) + 1);
      return { id: d.id, tf, length: ws.length };
    });
    this.avgLength = this.docs.reduce((n, d) => n + d.length, 0) / Math.max(this.docs.length, 1);
  }

  /** Ids of the best `limit` documents for the query, best first (documents scoring 0 left out). */
  search(query: string, limit: number): string[] {
    const terms = [...new Set(words(query))];
    const n = this.docs.length;
    return this.docs
      .map((d) => ({
        id: d.id,
        score: terms.reduce((s, t) => {
          const tf = d.tf.get(t) ?? 0;
          if (tf === 0) return s;
          const df = this.df.get(t)!;
          const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          return s + (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * d.length) / this.avgLength));
        }, 0),
      }))
      .filter((d) => d.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
      .map((d) => d.id);
  }
}
