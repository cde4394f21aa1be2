import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { personaSchema, personaToJson } from '../../schemas/persona.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const getPersonaTool = defineTool({
  name: 'get_persona',
  title: "Read a user's persona",
  description:
    'The persona of any user: how they describe themselves (display name, description, tone, tags) and how ' +
    'query_user answers for them (model, temperature, max_tokens, memory_limit). A user who never saved one ' +
    'has the defaults (updated_at is then null).',
  scope: SCOPES.read,
  input: z.object({ user_id: z.uuid().describe('Whose persona.') }).strict(),
  output: personaSchema,
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const persona = await callUnary(
      clients.persona.getPersona.bind(clients.persona),
      { userId: input.user_id },
      metadata,
    );
    return personaToJson(persona);
  },
});
