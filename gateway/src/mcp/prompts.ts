import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const user = (text: string) => ({
  messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }],
});

/** Ready-made requests a host can offer its user; they steer the model to Picard's tools. */
export function registerMemoryPrompts(server: McpServer) {
  server.registerPrompt(
    'recall',
    {
      title: 'Recall what I know about…',
      description: 'Searches your memories by meaning and summarises what they say about a topic.',
      argsSchema: z.object({ topic: z.string().min(1).describe('What to recall') }),
    },
    ({ topic }) =>
      user(
        `Use the query_memory tool to find what my memories say about: ${topic}. ` +
          'Then answer from those memories only, quoting them, and say plainly if none are relevant.',
      ),
  );
  server.registerPrompt(
    'remember',
    {
      title: 'Remember this',
      description: 'Stores a fact as a private memory.',
      argsSchema: z.object({ fact: z.string().min(1).describe('What to remember') }),
    },
    ({ fact }) =>
      user(`Store this as a private memory with the submit_memory tool, then confirm briefly: ${fact}`),
  );
  server.registerPrompt(
    'ask_persona',
    {
      title: "Ask a user's persona",
      description: "Asks a user's persona a question, answered from the memories of theirs you may see.",
      argsSchema: z.object({
        user_id: z.uuid().describe('Whose persona to ask'),
        question: z.string().min(1).describe('What to ask'),
      }),
    },
    ({ user_id, question }) =>
      user(
        `Use the query_user tool with user_id ${user_id} to ask: ${question} ` +
          'Report the answer, cite the memories it used, and say so if it is not a generated answer.',
      ),
  );
}
