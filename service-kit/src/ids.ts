import { randomUUID } from 'node:crypto';
import { invalid } from './errors.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export const newId = (): string => randomUUID();
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_V4.test(value);

/** Throws invalid_argument naming the field unless value is a UUID v4. */
export function assertUuid(field: string, value: unknown): string {
  if (!isUuid(value)) throw invalid(field, `${field} must be a UUID v4`);
  return value.toLowerCase();
}
