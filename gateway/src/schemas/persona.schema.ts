import {
  memoryPb,
  PERSONA_LIMITS,
  REMEMBER_MAX_MESSAGE_CHARS,
  REMEMBER_MAX_MESSAGES,
  REMEMBER_MAX_TOTAL_CHARS,
  type personaPb,
} from '@picard/proto';
import {
  isoDateTime,
  memoryToJson,
  permissionToProto,
  scoredMemorySchema,
  sharedWithInput,
  sharedWithToProto,
  tagsInput,
} from './memory.schema.js';
import { z } from './zod.js';

// persona-service counts code points (as PostgreSQL counts varchar length), not UTF-16 units.
const codePoints = (s: string) => [...s].length;

/**
 * A string of at most `max` characters counted as code points, as the service and JSON Schema's
 * maxLength count them (zod's .max counts UTF-16 units, so an emoji would count twice).
 */
const text = (max: number) =>
  z
    .string()
    .refine((s) => codePoints(s) <= max, { message: `must be at most ${max} characters` })
    .meta({ maxLength: max });

const nonBlank = (s: string) => s.trim() !== '';

export const personaSchema = z
  .object({
    user_id: z.uuid(),
    display_name: z.string().describe('Empty when the user never chose one.'),
    description: z.string(),
    tone: z.string(),
    tags: z
      .array(z.string())
      .describe('When not empty, only memories carrying at least one of these tags feed the persona.'),
    model: z
      .string()
      .describe(
        'The LLM that answers for this persona: its own choice, else the deployment\u2019s LLM_MODEL, else "offline".',
      ),
    temperature: z.number(),
    max_tokens: z.number().int().describe('Upper bound of a generated answer, in tokens.'),
    memory_limit: z.number().int().describe('How many memories query_user retrieves by default.'),
    listed: z
      .boolean()
      .describe('Shown in the persona directory (list_personas); false until the owner opts in.'),
    updated_at: isoDateTime().nullable().describe('null while the user never saved their persona.'),
  })
  .openapi('Persona');

export type PersonaJson = z.infer<typeof personaSchema>;

export const personaToJson = (p: personaPb.Persona): PersonaJson => ({
  user_id: p.userId,
  display_name: p.displayName,
  description: p.description,
  tone: p.tone,
  tags: [...p.tags],
  model: p.model,
  temperature: p.temperature,
  max_tokens: p.maxTokens,
  memory_limit: p.memoryLimit,
  listed: p.listed,
  updated_at: p.updatedAt ? p.updatedAt.toISOString() : null,
});

// persona-service's bounds, checked here too so a bad field is a 400 before any gRPC hop.
const L = PERSONA_LIMITS;

export const personaPatchInput = () =>
  z
    .object({
      display_name: text(L.displayName).describe(
        `Shown name (at most ${L.displayName} characters; may be empty).`,
      ),
      description: text(L.description).describe(`Who the persona is (at most ${L.description} characters).`),
      tone: text(L.tone)
        .min(1)
        .refine(nonBlank, { message: 'must not be blank' })
        .describe(`How answers sound, e.g. "friendly" (1-${L.tone} characters).`),
      model: text(L.model).describe(
        'The LLM model name; an empty string goes back to the deployment default.',
      ),
      temperature: z.number().min(L.temperature.min).max(L.temperature.max),
      max_tokens: z.number().int().min(L.maxTokens.min).max(L.maxTokens.max),
      memory_limit: z
        .number()
        .int()
        .min(L.memoryLimit.min)
        .max(L.memoryLimit.max)
        .describe('How many memories query_user retrieves when the caller gives no limit.'),
      tags: z
        .array(text(L.tag).min(1).refine(nonBlank, { message: 'must not be blank' }))
        .max(L.tags)
        .describe(
          `Replaces the persona's tags (at most ${L.tags}, 1-${L.tag} characters each; [] clears them). ` +
            'When set, query_user answers from the memories carrying at least one of them only.',
        ),
      listed: z
        .boolean()
        .describe('true shows the persona in the directory (list_personas) to every signed-in user.'),
    })
    .partial()
    .strict();

export type PersonaPatchJson = z.infer<ReturnType<typeof personaPatchInput>>;

/** Absent fields stay as they are; `tags`, when given, replaces the whole list. */
export const personaPatchToProto = (p: PersonaPatchJson): personaPb.UpdatePersonaRequest => ({
  displayName: p.display_name,
  description: p.description,
  tone: p.tone,
  model: p.model,
  temperature: p.temperature,
  maxTokens: p.max_tokens,
  memoryLimit: p.memory_limit,
  tags: p.tags ?? [],
  replaceTags: p.tags !== undefined,
  listed: p.listed,
});

export const listPersonasInput = () =>
  z
    .object({
      query: text(L.directoryQuery)
        .optional()
        .describe(
          `Only personas whose display name contains this text, ignoring case (at most ${L.directoryQuery} characters).`,
        ),
      limit: z
        .number()
        .int()
        .min(L.directoryPage.min)
        .max(L.directoryPage.max)
        .optional()
        .describe(`Page size (default ${L.directoryPage.default}).`),
      cursor: z.string().optional().describe('next_cursor of the previous page.'),
    })
    .strict();

export type ListPersonasJson = z.infer<ReturnType<typeof listPersonasInput>>;

export const listPersonasToProto = (q: ListPersonasJson): personaPb.ListPersonasRequest => ({
  query: q.query ?? '',
  // 0 asks the service for its default page size.
  limit: q.limit ?? 0,
  cursor: q.cursor ?? '',
});

export const queryUserInput = () =>
  z
    .object({
      user_id: z.uuid().describe('Whose persona to ask.'),
      prompt: text(L.prompt)
        .min(1)
        .refine(nonBlank, { message: 'must not be blank' })
        .describe(`The question (1-${L.prompt} characters).`),
      limit: z
        .number()
        .int()
        .min(L.memoryLimit.min)
        .max(L.memoryLimit.max)
        .optional()
        .describe(
          `How many memories to retrieve (default the persona's memory_limit, at most ${L.memoryLimit.max}).`,
        ),
      stream: z
        .boolean()
        .optional()
        .describe(
          'MCP clients that also pass a progress token receive the answer as it is generated, one progress ' +
            'notification per piece (message = the new text, progress = characters so far). The result is the same.',
        ),
    })
    .strict();

export type QueryUserJson = z.infer<ReturnType<typeof queryUserInput>>;

export const queryUserOutput = z
  .object({
    answer: z.string(),
    generated: z
      .boolean()
      .describe('false when no LLM wrote the answer: it quotes memories, or says nothing is known.'),
    citations: z.array(z.uuid()).describe('The ids of the memories the answer used.'),
    memories: z
      .array(scoredMemorySchema)
      .describe('The memories the answer was built from, most relevant first; only ones the caller may see.'),
  })
  .openapi('QueryUserResult');

export type QueryUserResultJson = z.infer<typeof queryUserOutput>;

export const queryUserResultToJson = (r: personaPb.QueryUserResponse): QueryUserResultJson => ({
  answer: r.answer,
  generated: r.generated,
  citations: [...r.citations],
  memories: r.memories.map((m) => ({ ...memoryToJson(m), similarity: m.similarity ?? 0 })),
});

export const queryUserToProto = (q: QueryUserJson): personaPb.QueryUserRequest => ({
  userId: q.user_id,
  prompt: q.prompt,
  // 0 asks the service for the persona's memory_limit.
  limit: q.limit ?? 0,
});

export const rememberConversationInput = () =>
  z
    .object({
      messages: z
        .array(
          z
            .object({
              role: z
                .enum(['user', 'assistant'])
                .describe('Who said it; only what the user said becomes memories about them.'),
              content: z
                .string()
                .max(REMEMBER_MAX_MESSAGE_CHARS)
                .describe(`The message text (at most ${REMEMBER_MAX_MESSAGE_CHARS} characters).`),
              at: isoDateTime().optional().describe('When it was said (ISO 8601 with offset).'),
            })
            .strict(),
        )
        .min(1)
        .max(REMEMBER_MAX_MESSAGES)
        .refine((ms) => ms.reduce((n, m) => n + m.content.length, 0) <= REMEMBER_MAX_TOTAL_CHARS, {
          message: `the messages must hold at most ${REMEMBER_MAX_TOTAL_CHARS} characters together`,
        })
        .describe(
          `The conversation, oldest first (1-${REMEMBER_MAX_MESSAGES} messages, at most ` +
            `${REMEMBER_MAX_TOTAL_CHARS} characters together).`,
        ),
      permission: z
        .enum(['private', 'public', 'shared'])
        .optional()
        .describe('Who may see the added memories (default private). Updated memories keep their own.'),
      tags: tagsInput().optional().describe('Tags of the added memories (at most 20, 1-64 characters each).'),
      shared_with: sharedWithInput().optional(),
    })
    .strict();

export type RememberConversationJson = z.infer<ReturnType<typeof rememberConversationInput>>;

export const rememberConversationToProto = (
  r: RememberConversationJson,
): personaPb.RememberConversationRequest => ({
  messages: r.messages.map((m) => ({
    role: m.role,
    content: m.content,
    at: m.at ? new Date(m.at) : undefined,
  })),
  permission: r.permission ? permissionToProto(r.permission) : memoryPb.Permission.PERMISSION_UNSPECIFIED,
  tags: r.tags ?? [],
  sharedWith: sharedWithToProto(r.shared_with),
});

const rememberedSchema = z.object({ memory_id: z.uuid(), text: z.string() });

export const rememberConversationOutput = z
  .object({
    added: z.array(rememberedSchema).describe('New memories, one per new fact.'),
    updated: z
      .array(
        rememberedSchema.extend({
          previous_text: z
            .string()
            .describe(
              "The text the memory had before; it is kept in the memory's history (get_memory_history, restore_memory).",
            ),
        }),
      )
      .describe('Existing memories of the caller whose text a fact corrected.'),
    skipped: z
      .array(
        z.object({
          text: z.string(),
          reason: z.string(),
          memory_id: z.uuid().optional().describe('The existing memory it duplicates, when there is one.'),
        }),
      )
      .describe('Facts not stored, with why (a duplicate, or over the per-call limit).'),
    generated: z
      .boolean()
      .describe('true when an LLM extracted and judged the facts; false: one fact per user message.'),
  })
  .openapi('RememberConversationResult');

export const rememberConversationResultToJson = (r: personaPb.RememberConversationResponse) => ({
  added: r.added.map((m) => ({ memory_id: m.memoryId, text: m.text })),
  updated: r.updated.map((m) => ({
    memory_id: m.memoryId,
    text: m.text,
    previous_text: m.previousText ?? '',
  })),
  skipped: r.skipped.map((s) => ({
    text: s.text,
    reason: s.reason,
    ...(s.memoryId ? { memory_id: s.memoryId } : {}),
  })),
  generated: r.generated,
});
