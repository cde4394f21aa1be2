import { runStandaloneService } from '@picard/service-kit';
import { memoryConfigSchema } from './config.js';
import { startMemoryService } from './service.js';

await runStandaloneService({
  name: 'memory-service',
  configSchema: memoryConfigSchema,
  ownDatabaseUrl: (c) => c.MEMORY_DATABASE_URL,
  start: (deps) => startMemoryService(deps),
});
