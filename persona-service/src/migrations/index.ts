import type { Migration } from '@picard/service-kit';
import { init } from './001_init.js';

export const migrations: Migration[] = [init];
