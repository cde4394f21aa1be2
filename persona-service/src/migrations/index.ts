import type { Migration } from '@picard/service-kit';
import { init } from './001_init.js';
import { listed } from './002_listed.js';

export const migrations: Migration[] = [init, listed];
