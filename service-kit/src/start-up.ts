/**
 * What the embedded launcher's entry starts before the rest of Picard's code has loaded: the data
 * directory's claim and the embedded databases. Only Node built-ins and the PGlite thread behind
 * it, so importing this costs milliseconds (the package's index loads knex, gRPC, NATS...).
 */
export { claimDataDir, DataDirInUseError, type Claim, type ClaimRole } from './data-dir-claim.js';
export { resolveDatabaseTarget, type DatabaseTarget } from './database-target.js';
