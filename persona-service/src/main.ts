import { runStandaloneService } from '@picard/service-kit';
import { personaConfigSchema } from './config.js';
import { startPersonaService } from './service.js';

await runStandaloneService({
  name: 'persona-service',
  configSchema: personaConfigSchema,
  ownDatabaseUrl: (c) => c.PERSONA_DATABASE_URL,
  start: (deps) => startPersonaService(deps),
});
