import type { memoryPb } from '@picard/proto';
import { DomainError } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';

export const itemErrorSchema = z
  .object({
    index: z.number().int().describe("The item's position in the input list (0-based)."),
    id: z.string().optional().describe('The id the item named, when it named one.'),
    field: z.string().optional().describe('The input field at fault.'),
    code: z.string().describe('Error code, e.g. invalid_argument, not_found, permission_denied.'),
    message: z.string(),
  })
  .openapi('ItemError');

export type ItemErrorJson = z.infer<typeof itemErrorSchema>;

/**
 * A batch refused as a whole (nothing was written), with one error per item at fault, so a client
 * can fix those items and resend the batch unchanged otherwise.
 */
export class BatchError extends DomainError {
  constructor(
    message: string,
    readonly errors: ItemErrorJson[],
    /** False when item fields name fields of something else than the tool's input (an imported file's items). */
    private readonly fieldsOfInput = true,
  ) {
    super('invalid_argument', message);
  }

  /** Over REST a tool's input sits under `data`; item fields are named from there too. */
  withFieldPrefix(prefix: string): BatchError {
    if (!this.fieldsOfInput) return this;
    return new BatchError(
      this.message,
      this.errors.map((e) => (e.field ? { ...e, field: `${prefix}.${e.field}` } : e)),
    );
  }

  toJSON() {
    return { error: this.code, message: this.message, errors: this.errors };
  }
}

export const itemErrorToJson = (e: memoryPb.ItemError): ItemErrorJson => ({
  index: e.index,
  ...(e.id ? { id: e.id } : {}),
  ...(e.field ? { field: e.field } : {}),
  code: e.code,
  message: e.message,
});

/** `<n> of <m> memories <problem>; nothing was <verb>`, n counting items, not errors. */
export function batchError(
  errors: memoryPb.ItemError[],
  total: number,
  problem: string,
  verb: string,
  fieldsOfInput = true,
): BatchError {
  const bad = new Set(errors.map((e) => e.index)).size;
  return new BatchError(
    `${bad} of ${total} memories ${problem}; nothing was ${verb}`,
    errors.map(itemErrorToJson),
    fieldsOfInput,
  );
}
