import { createLogger, exitOnStartupError, loadConfig, onShutdownSignal } from '@picard/service-kit';
import { gatewayConfigSchema } from './config.js';
import { startGateway } from './service.js';

try {
  const config = loadConfig(gatewayConfigSchema);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const gateway = await startGateway({ config, logger });
  onShutdownSignal(logger, () => gateway.stop());
} catch (err) {
  exitOnStartupError(err);
}
