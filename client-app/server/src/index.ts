/** The BFF as a library: the root launcher starts it in-process; tests start it with explicit settings. */
export { startBff, ensureRegistered, type BffOptions, type RunningBff } from './bff.js';
export { configSchema, parseConfig, ConfigError, type BffConfig, type ConfigInput } from './config.js';
export { adminFromEnv, type AdminCredentials } from './registration.js';
export type { DatabaseTarget } from './db.js';
