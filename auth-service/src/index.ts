export {
  startAuthService,
  openAuthDatabase,
  authDatabaseTarget,
  type AuthServiceOptions,
  type AuthServiceHandle,
} from './service.js';
export { authConfigSchema, type AuthConfig } from './config.js';
