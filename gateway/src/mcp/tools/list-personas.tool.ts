import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import {
  listPersonasInput,
  listPersonasToProto,
  personaSchema,
  personaToJson,
} from '../../schemas/persona.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const listPersonasTool = defineTool({
  name: 'list_personas',
  title: 'Browse the persona directory',
  description:
    'The personas whose owners chose to be listed (update_persona with listed: true), ordered by display name, ' +
    'optionally only those whose display name contains `query`. One page at a time: pass next_cursor back as ' +
    'cursor for the next page (null on the last page).',
  scope: SCOPES.read,
  input: listPersonasInput(),
  output: z.object({ personas: z.array(personaSchema), next_cursor: z.string().nullable() }),
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const page = await callUnary(
      clients.persona.listPersonas.bind(clients.persona),
      listPersonasToProto(input),
      metadata,
    );
    return { personas: page.personas.map(personaToJson), next_cursor: page.nextCursor || null };
  },
});
