import { randomUUID } from 'node:crypto';
import { DomainError, readStream } from '@picard/service-kit';
import { IMPORT_FORMATS, TRANSFER_MAX_CHARS, type memoryPb } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { SCOPES } from '../../auth/scopes.js';
import { batchError, itemErrorSchema, itemErrorToJson } from './batch-error.js';
import { defineTool, type ToolContext } from './tool-definition.js';

/** Pauses before each retry of an import cut off by an unavailable memory-service (~3.75 s in all). */
const RETRY_DELAYS_MS = [250, 500, 1000, 2000];

export const importMemoriesTool = defineTool({
  name: 'import_memories',
  title: 'Import memories from a file',
  description:
    'Stores the memories of a file written by export_memories (or by hand in the same format), or by another memory ' +
    'tool (the MCP memory server, mem0, a Markdown list), as new memories ' +
    'of yours, in batches. MCP clients that pass a progress token get a progress notification per batch. ' +
    'Items that cannot be imported are listed in errors; when none could be, the call fails. ' +
    'An import cut off by a fault is retried; if it still fails, calling again with the returned (or your own) ' +
    'import_id and the same file imports only what is missing: nothing is written twice.',
  scope: SCOPES.write,
  input: z
    .object({
      format: z
        .enum(IMPORT_FORMATS)
        .describe(
          "The file's format: one export_memories writes (json, ndjson, csv, markdown), or another tool's: " +
            "mcp-memory (the reference MCP memory server's memory.json, one memory per observation and relation), " +
            'mem0 (a mem0 export; categories become tags, dates are kept) or text (plain text or a Markdown list, ' +
            'one memory per line or bullet).',
        ),
      data: z.string().min(1).max(TRANSFER_MAX_CHARS).describe("The file's text."),
      import_id: z
        .string()
        .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'import_id must be 1-100 letters, digits or . _ : -')
        .optional()
        .describe(
          'Names this import so that calling again with the same id and file resumes it (default: a new id).',
        ),
    })
    .strict(),
  output: z.object({
    imported: z.number().int(),
    total: z.number().int().describe('How many memories the file holds.'),
    errors: z.array(itemErrorSchema).describe('One per item that could not be imported.'),
    import_id: z.string().describe('Resumes this import when passed again with the same file.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, ctx) {
    const importId = input.import_id ?? randomUUID();
    const request = { format: input.format, data: input.data, importId };
    let last: memoryPb.ImportMemoriesProgress | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        await streamImport(request, ctx, (step) => (last = step));
        break;
      } catch (err) {
        // A memory-service instance went away mid-import (killed, restarted, redeployed): the batches
        // it wrote are recorded under the import id, so the retry (on another instance, or this one
        // back) writes only the rest.
        const cutOff = err instanceof DomainError && err.code === 'unavailable';
        if (!cutOff || attempt >= RETRY_DELAYS_MS.length || ctx.signal?.aborted) {
          throw cutOff ? interrupted(importId, last) : err;
        }
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
      }
    }
    if (!last) return { imported: 0, total: 0, errors: [], import_id: importId };
    if (last.errors.length && last.imported === 0) {
      // Item fields name fields of the file's items (text, permission), not of this tool's input.
      throw batchError(last.errors, last.total, 'could not be imported', 'imported', false);
    }
    return {
      imported: last.imported,
      total: last.total,
      errors: last.errors.map(itemErrorToJson),
      import_id: importId,
    };
  },
});

/** One attempt: the memory-service's progress stream, each step passed on (and as MCP progress). */
async function streamImport(
  request: memoryPb.ImportMemoriesRequest,
  { clients, metadata, progress, signal }: ToolContext,
  onStep: (step: memoryPb.ImportMemoriesProgress) => void,
): Promise<void> {
  const stream = clients.memory.importMemories(request, metadata);
  const cancel = () => stream.cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    for await (const step of readStream(stream)) {
      onStep(step);
      await progress?.({
        progress: step.imported,
        total: step.total,
        message: `${step.imported} of ${step.total} memories imported`,
      });
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/** What the caller needs after retries ran out: how far it got and how to finish it. */
function interrupted(importId: string, last: memoryPb.ImportMemoriesProgress | undefined): DomainError {
  const stored = last ? `${last.imported} of ${last.total} memories were stored` : 'no memory was stored';
  return new DomainError(
    'unavailable',
    `the import was cut off (memory-service unavailable): ${stored}; call import_memories again with ` +
      `import_id "${importId}" and the same file to import the rest (nothing is written twice)`,
  );
}
