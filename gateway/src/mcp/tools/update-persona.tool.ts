import { callUnary } from '@picard/service-kit';
import {
  personaPatchInput,
  personaPatchToProto,
  personaSchema,
  personaToJson,
} from '../../schemas/persona.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const updatePersonaTool = defineTool({
  name: 'update_persona',
  title: 'Update your persona',
  description:
    "Changes the caller's own persona (nobody can change another user's): only the fields given change; " +
    'tags, when given, replace the list. Returns the persona as stored.',
  scope: SCOPES.write,
  input: personaPatchInput(),
  output: personaSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  async run(input, { clients, metadata }) {
    // No user id goes along: persona-service takes the persona owner from the caller's identity.
    const persona = await callUnary(
      clients.persona.updatePersona.bind(clients.persona),
      personaPatchToProto(input),
      metadata,
    );
    return personaToJson(persona);
  },
});
