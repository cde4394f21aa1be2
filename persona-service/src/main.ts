import {
  connectEventBus,
  createLogger,
  exitOnStartupError,
  loadConfig,
  onShutdownSignal,
  resolveDatabaseTarget,
} from '@picard/service-kit';
import { personaConfigSchema } from './config.js';
import { startPersonaService } from './service.js';

async function main() {
  const config = loadConfig(personaConfigSchema);
  const logger = createLogger('persona-service', config.LOG_LEVEL);
  const database = await resolveDatabaseTarget(
    config.PERSONA_DATABASE_URL ?? config.DATABASE_URL,
    config.PICARD_DATA_DIR,
    'persona',
  );
  const bus = await connectEventBus(config.NATS_URL, 'persona-service', logger);
  const service = await startPersonaService({ config, database, bus, logger });
  onShutdownSignal(logger, async () => {
    await service.stop();
    await bus.close();
  });
}

main().catch(exitOnStartupError);
