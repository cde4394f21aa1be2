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
}
