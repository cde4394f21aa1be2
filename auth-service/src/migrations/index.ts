import type { Migration } from '@picard/service-kit';
import { init } from './001_init.js';
import { authorization } from './002_authorization.js';

export const migrations: Migration[] = [init, authorization];
