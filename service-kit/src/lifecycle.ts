import type { Logger } from './logger.js';

/**
 * Runs `stop` once on SIGINT/SIGTERM, then exits. A second signal exits at once, for the
 * impatient operator; a stop that hangs past timeoutMs is cut short.
 */
export function onShutdownSignal(logger: Logger, stop: () => Promise<void>, timeoutMs = 15_000): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

/** Prints a start-up failure (a bad configuration above all) readably and exits non-zero. */
export function exitOnStartupError(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`\nPicard could not start:\n${message}\n\n`);
  process.exit(1);
}
