import {
  createLogger,
  exitOnStartupError,
  loadConfig,
  onShutdownSignal,
  serveMetricsIfConfigured,
} from '@picard/service-kit';
import { embeddingConfigSchema } from './config.js';
import { startEmbeddingService } from './service.js';

try {
  const config = loadConfig(embeddingConfigSchema);
  const logger = createLogger('embedding-service', config.LOG_LEVEL);
  const metrics = await serveMetricsIfConfigured(config, logger);
  const service = await startEmbeddingService({ config, logger });
  onShutdownSignal(logger, async () => {
    await service.stop();
    await metrics?.close();
  });
} catch (err) {
  exitOnStartupError(err);
}
