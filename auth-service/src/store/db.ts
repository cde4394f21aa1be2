import type { Knex } from '@picard/service-kit';

export type Db = Knex | Knex.Transaction;

export const isTransaction = (db: Db): db is Knex.Transaction =>
  (db as Knex.Transaction).isTransaction === true;

/** jsonb comes back parsed from pg and PGlite alike, but be lenient with a string. */
export const jsonArray = (value: unknown): string[] =>
  (typeof value === 'string' ? JSON.parse(value) : (value ?? [])) as string[];

export const toDate = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
export const toDateOrNull = (value: unknown): Date | null => (value == null ? null : toDate(value));
