import { createLogger, exitOnStartupError, loadConfig, onShutdownSignal } from '@picard/service-kit';
import { authConfigSchema } from './config.js';
import { authDatabaseTarget, startAuthService } from './service.js';

/** Standalone auth-service: `node auth-service/dist/main.js`. */
async function main() {
  const config = loadConfig(authConfigSchema);
  const logger = createLogger('auth-service', config.LOG_LEVEL);
  const database = await authDatabaseTarget(config);
  const service = await startAuthService({ config, database, logger });
  onShutdownSignal(logger, () => service.stop());
}

main().catch(exitOnStartupError);
