/**
 * Answers that need no model. They quote what is stored and say plainly that nothing was
 * generated: a reader must never mistake them for an LLM's reply.
 */

/** How many memories the offline answer quotes, and how much of each. */
export const OFFLINE_QUOTES = 5;
const EXCERPT_CHARS = 500;

const excerpt = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
};

/** When the caller may see none of the user's memories: say so, invent nothing. */
export function nothingKnownAnswer(name: string): string {
  return (
    `I know nothing about ${name} that you are allowed to see, so I cannot answer this. ` +
    `(No memory of ${name} is visible to you; this answer was not generated.)`
  );
}

export function offlineAnswer(
  name: string,
  memories: { id: string; text: string }[],
): { answer: string; citations: string[] } {
  const quoted = memories.slice(0, OFFLINE_QUOTES);
  const lines = quoted.map((m, i) => `${i + 1}. "${excerpt(m.text)}" [memory:${m.id}]`);
  return {
    answer:
      `This is not a generated answer: no language model is configured, so here ` +
      `${quoted.length === 1 ? 'is the memory' : `are the ${quoted.length} memories`} of ${name} ` +
      `most relevant to your question, quoted as stored:\n${lines.join('\n')}`,
    citations: quoted.map((m) => m.id),
  };
}
