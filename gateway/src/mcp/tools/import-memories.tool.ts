import { readStream } from '@picard/service-kit';
import { TRANSFER_MAX_CHARS, type memoryPb } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { SCOPES } from '../../auth/scopes.js';
import { batchError, itemErrorSchema, itemErrorToJson } from './batch-error.js';
import { TRANSFER_FORMATS } from './export-memories.tool.js';
import { defineTool } from './tool-definition.js';

export const importMemoriesTool = defineTool({
  name: 'import_memories',
  title: 'Import memories from a file',
  description:
    'Stores the memories of a file written by export_memories (or by hand in the same format) as new memories ' +
    'of yours, in batches. MCP clients that pass a progress token get a progress notification per batch. ' +
    'Items that cannot be imported are listed in errors; when none could be, the call fails.',
  scope: SCOPES.write,
  input: z
    .object({
      format: z.enum(TRANSFER_FORMATS).describe("The file's format."),
      data: z.string().min(1).max(TRANSFER_MAX_CHARS).describe("The file's text."),
    })
    .strict(),
  output: z.object({
    imported: z.number().int(),
    total: z.number().int().describe('How many memories the file holds.'),
    errors: z.array(itemErrorSchema).describe('One per item that could not be imported.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, { clients, metadata, progress, signal }) {
    const stream = clients.memory.importMemories({ format: input.format, data: input.data }, metadata);
    const cancel = () => stream.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    let last: memoryPb.ImportMemoriesProgress | undefined;
    try {
      for await (const step of readStream(stream)) {
        last = step;
        await progress?.({
          progress: step.imported,
          total: step.total,
          message: `${step.imported} of ${step.total} memories imported`,
        });
      }
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
    if (!last) return { imported: 0, total: 0, errors: [] };
    if (last.errors.length && last.imported === 0) {
      // Item fields name fields of the file's items (text, permission), not of this tool's input.
      throw batchError(last.errors, last.total, 'could not be imported', 'imported', false);
    }
    return { imported: last.imported, total: last.total, errors: last.errors.map(itemErrorToJson) };
  },
});
