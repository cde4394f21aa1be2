import { callUnary } from '@picard/service-kit';
import { EXPORT_FORMATS } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const exportMemoriesTool = defineTool({
  name: 'export_memories',
  title: 'Export your memories',
  description:
    'Every memory you own (text, permission, tags, sharing and dates) as one file in the chosen format; ' +
    'import_memories reads it back without loss. With include_history each memory also carries its earlier ' +
    'versions (`history`, as get_memory_history shows them), which import_memories ignores. Rate-limited per user.',
  scope: SCOPES.read,
  input: z
    .object({
      format: z.enum(EXPORT_FORMATS).describe('The file format.'),
      include_history: z
        .boolean()
        .optional()
        .describe(
          "Add each memory's earlier versions, newest first (a `history` list; in CSV a `history` column of JSON). Default false.",
        ),
    })
    .strict(),
  output: z.object({
    format: z.enum(EXPORT_FORMATS),
    count: z.number().int().describe('How many memories the file holds.'),
    data: z.string().describe("The file's text."),
  }),
  annotations: { readOnlyHint: true },
  rateLimit: (config) => ({ calls: config.GATEWAY_EXPORTS_PER_HOUR, windowSeconds: 3600 }),
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.memory.exportMemories.bind(clients.memory),
      { format: input.format, includeHistory: input.include_history ?? false },
      metadata,
      120_000,
    );
    return { format: input.format, count: res.count, data: res.data };
  },
});
