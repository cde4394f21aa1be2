import {
  connectEventBus,
  createLogger,
  exitOnStartupError,
  loadConfig,
  onShutdownSignal,
  resolveDatabaseTarget,
} from '@picard/service-kit';
import { memoryConfigSchema } from './config.js';
import { startMemoryService } from './service.js';

try {
  const config = loadConfig(memoryConfigSchema);
  const logger = createLogger('memory-service', config.LOG_LEVEL);
  const database = await resolveDatabaseTarget(
    config.MEMORY_DATABASE_URL ?? config.DATABASE_URL,
    config.PICARD_DATA_DIR,
    'memory',
  );
  const bus = await connectEventBus(config.NATS_URL, 'memory-service', logger);
  const service = await startMemoryService({ config, logger, database, bus });
  onShutdownSignal(logger, async () => {
    await service.stop();
    await bus.close();
  });
} catch (err) {
  exitOnStartupError(err);
}
