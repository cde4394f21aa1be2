import type { Migration } from '@picard/service-kit';
import { init } from './001_init.js';
import { authorization } from './002_authorization.js';
import { clientMetadataUrl } from './003_client_metadata_url.js';
import { signingKeyRotation } from './004_signing_key_rotation.js';
import { rateLimits } from './005_rate_limits.js';
import { securityHardening } from './006_security_hardening.js';
import { configuredAdmin } from './007_configured_admin.js';

export const migrations: Migration[] = [
  init,
  authorization,
  clientMetadataUrl,
  signingKeyRotation,
  rateLimits,
  securityHardening,
  configuredAdmin,
];
