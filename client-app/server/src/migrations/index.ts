import type { Knex } from 'knex';
import { initial } from './001-initial.js';
import { refreshClaim } from './002-refresh-claim.js';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

/** In order; a migration, once released, is never edited (add a new one). */
export const MIGRATIONS: Migration[] = [initial, refreshClaim];
