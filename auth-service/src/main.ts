import { runStandaloneService } from '@picard/service-kit';
import { authConfigSchema } from './config.js';
import { startAuthService } from './service.js';

await runStandaloneService({
  name: 'auth-service',
  configSchema: authConfigSchema,
  ownDatabaseUrl: (c) => c.AUTH_DATABASE_URL,
  start: (deps) => startAuthService(deps),
});
