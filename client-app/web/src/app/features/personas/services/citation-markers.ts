/**
 * Persona answers cite memories inline as `[memory:<id>]` (or `[memory:a, memory:b]`). A reader
 * wants the numbers of the Sources list there, not ids: this swaps each marker for `[n]`, with
 * the numbers of `order` (the result's citations) and, while the answer still streams, by first
 * mention.
 */
const MARKER = /\[\s*memory:\s*[0-9a-f-]{36}(?:\s*,\s*(?:memory:)?\s*[0-9a-f-]{36})*\s*\]/gi;
const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

export function numberCitations(answer: string, order: readonly string[] = []): string {
  const numbers = new Map<string, number>(order.map((id, i) => [id.toLowerCase(), i + 1]));
  return answer.replace(MARKER, (marker) => {
    const ns = (marker.match(ID) ?? []).map((raw) => {
      const id = raw.toLowerCase();
      if (!numbers.has(id)) numbers.set(id, numbers.size + 1);
      return numbers.get(id)!;
    });
    return `[${ns.join(', ')}]`;
  });
}
