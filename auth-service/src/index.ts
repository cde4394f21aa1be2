export {
  startAuthService,
  openAuthDatabase,
  authDatabaseTarget,
  type AuthServiceOptions,
  type AuthServiceHandle,
} from './service.js';
export { authConfigSchema, loadAuthConfig, type AuthConfig } from './config.js';
