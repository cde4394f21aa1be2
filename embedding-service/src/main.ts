import { createLogger, exitOnStartupError, loadConfig, onShutdownSignal } from '@picard/service-kit';
import { embeddingConfigSchema } from './config.js';
import { startEmbeddingService } from './service.js';

try {
  const config = loadConfig(embeddingConfigSchema);
  const logger = createLogger('embedding-service', config.LOG_LEVEL);
  const service = await startEmbeddingService({ config, logger });
  onShutdownSignal(logger, () => service.stop());
} catch (err) {
  exitOnStartupError(err);
}
