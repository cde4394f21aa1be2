export { loadConfig, ConfigError, env, metricsEnv, unsetIfEmpty } from './config.js';
export {
  metricsRegistry,
  grpcServerSeconds,
  toolSeconds,
  embeddingBatchTexts,
  embeddingBatchTotals,
  watchQueue,
  watchOutbox,
  watchBus,
} from './metrics.js';
export { mayScrape, startMetricsServer, serveMetricsIfConfigured } from './metrics-server.js';
export { localHealth, type LocalHealth } from './health-report.js';
export { createLogger, type Logger } from './logger.js';
export {
  DomainError,
  RateLimitedError,
  ERROR_CODES,
  type ErrorCode,
  invalid,
  notFound,
  forbidden,
  unauthenticated,
  notYet,
  toServiceError,
  publicError,
  fromServiceError,
} from './errors.js';
export { type Caller, callerMetadata, callerFrom, requireCaller, requireScope } from './identity.js';
export {
  InternalTokens,
  INTERNAL_TOKEN_HEADER,
  MIN_INTERNAL_KEY_LENGTH,
  type InternalTokenOptions,
} from './internal-token.js';
export { newId, isUuid, assertUuid } from './ids.js';
export {
  startGrpcServer,
  unary,
  serverStream,
  type GrpcService,
  type GrpcServerHandle,
} from './grpc-server.js';
export { createGrpcClient, callUnary, readStream, waitForReady } from './grpc-client.js';
export { createHealthChecker, type ServingState } from './health-client.js';
export {
  openDatabase,
  openPglite,
  resolveDatabaseTarget,
  type Knex,
  type Migration,
  type DatabaseTarget,
  type EmbeddedDatabase,
  type EmbeddedQueryable,
} from './database.js';
export {
  subjectMatches,
  type EventBus,
  type BusMessage,
  type BusHandler,
  type SubscribeOptions,
  type Subscription,
} from './events/event-bus.js';
export { PeriodicJob, type PeriodicJobOptions } from './periodic-job.js';
export { waitForDependency, isNotUpYet, type DependencyWaitOptions } from './dependency-wait.js';
export { InProcessEventBus } from './events/in-process-bus.js';
export { connectEventBus } from './events/bus-factory.js';
export {
  createOutboxTable,
  enqueueEvent,
  enqueueEvents,
  OutboxRelay,
  OUTBOX_TABLE,
} from './events/outbox.js';
export {
  RATE_LIMIT_TABLE,
  createRateLimitTable,
  pgRateLimiter,
  consumeOrThrow,
  rateLimited,
  waitText,
  boundedKey,
  sourceKey,
  type PgLimiterOptions,
} from './rate-limits.js';
export { onShutdownSignal, exitOnStartupError } from './lifecycle.js';
export { runStandaloneService } from './standalone.js';
export {
  CONTROL_SOCKET,
  claimDataDir,
  controlRequest,
  dataDirHolder,
  DataDirInUseError,
  type Claim,
  type ClaimRole,
  type ControlRoutes,
  type Holder,
} from './data-dir-claim.js';
