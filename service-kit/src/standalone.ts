import type { z } from 'zod';
import { loadConfig } from './config.js';
import { resolveDatabaseTarget, type DatabaseTarget } from './database.js';
import { connectEventBus } from './events/bus-factory.js';
import type { EventBus } from './events/event-bus.js';
import { exitOnStartupError, onShutdownSignal } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { serveMetricsIfConfigured } from './metrics-server.js';

interface StandaloneConfig {
  LOG_LEVEL: string;
  METRICS_PORT?: number;
  METRICS_HOST: string;
  METRICS_TOKEN?: string;
  NATS_URL?: string;
  DATABASE_URL?: string;
  PICARD_DATA_DIR: string;
}

/**
 * `node <service>/dist/main.js` for a service that owns a database: validate the environment,
 * open the database (PostgreSQL or PGlite under PICARD_DATA_DIR/<name>) and the bus, start,
 * and stop cleanly on SIGINT/SIGTERM. A start-up failure is printed and exits 1.
 */
export async function runStandaloneService<C extends StandaloneConfig>(o: {
  name: string;
  configSchema: z.ZodType<C>;
  /** The service's own database URL variable, which wins over DATABASE_URL. */
  ownDatabaseUrl: (config: C) => string | undefined;
  start: (deps: {
    config: C;
    logger: Logger;
    database: DatabaseTarget;
    bus: EventBus;
  }) => Promise<{ stop(): Promise<void> }>;
}): Promise<void> {
  try {
    const config = loadConfig(o.configSchema);
    const logger = createLogger(o.name, config.LOG_LEVEL);
    // Served while the service still waits for its dependencies.
    const metrics = await serveMetricsIfConfigured(config, logger);
    const short = o.name.replace(/-service$/, '');
    const database = await resolveDatabaseTarget(
      o.ownDatabaseUrl(config) ?? config.DATABASE_URL,
      config.PICARD_DATA_DIR,
      short,
    );
    const bus = await connectEventBus(config.NATS_URL, o.name, logger);
    const service = await o.start({ config, logger, database, bus });
    onShutdownSignal(logger, async () => {
      await service.stop();
      await bus.close();
      await metrics?.close();
    });
  } catch (err) {
    exitOnStartupError(err);
  }
}
