import { requireCaller, serverStream, unary, type Logger } from '@picard/service-kit';
import type { personaPb } from '@picard/proto';
import type { PersonaService } from '../domain/persona.service.js';
import type { QueryService } from '../domain/query.service.js';
import type { RememberService } from '../domain/remember/remember.service.js';

/**
 * decode → domain → encode; the proto types are already the wire shapes. Handlers are async so a
 * synchronous throw (requireCaller) still becomes a promise rejection that `unary` maps.
 */
export function personaHandlers(
  service: PersonaService,
  query: QueryService,
  remember: RememberService,
  logger: Logger,
): personaPb.PersonaServiceServer {
  return {
    getPersona: unary<personaPb.GetPersonaRequest, personaPb.Persona>(
      logger,
      'GetPersona',
      async (req, call) => service.get(requireCaller(call.metadata), req.userId),
    ),
    updatePersona: unary<personaPb.UpdatePersonaRequest, personaPb.Persona>(
      logger,
      'UpdatePersona',
      async (req, call) => service.update(requireCaller(call.metadata), req),
    ),
    listPersonas: unary<personaPb.ListPersonasRequest, personaPb.ListPersonasResponse>(
      logger,
      'ListPersonas',
      async (req, call) => service.list(requireCaller(call.metadata), req),
    ),
    queryUser: unary<personaPb.QueryUserRequest, personaPb.QueryUserResponse>(
      logger,
      'QueryUser',
      async (req, call) => query.ask(requireCaller(call.metadata), req),
    ),
    queryUserStream: serverStream<personaPb.QueryUserRequest, personaPb.QueryUserChunk>(
      logger,
      'QueryUserStream',
      (req, call) => query.askStream(requireCaller(call.metadata), req),
    ),
    rememberConversation: unary<
      personaPb.RememberConversationRequest,
      personaPb.RememberConversationResponse
    >(logger, 'RememberConversation', async (req, call) =>
      remember.remember(requireCaller(call.metadata), req),
    ),
  };
}
