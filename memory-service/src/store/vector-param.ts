import { toSql } from 'pgvector/knex';

/**
 * A vector as a bind parameter. node-postgres sends a Buffer as a binary parameter, and pgvector
 * reads its binary form (int16 dimensions, int16 zero, then float4s, big-endian): 2 KB instead of
 * ~9 KB of text for 512 dimensions, with no float formatting here (~0.1 ms a vector) or parsing
 * in PostgreSQL. PGlite's driver sends parameters as text, so it gets pgvector's text form.
 * The parameter must be typed vector where it is used (`?::vector`, or a vector column).
 */
export function vectorParam(vector: readonly number[], binary: boolean): Buffer | string {
  if (!binary) return toSql(vector) as string;
  const out = Buffer.allocUnsafe(4 + 4 * vector.length);
  out.writeInt16BE(vector.length, 0);
  out.writeInt16BE(0, 2);
  for (let i = 0; i < vector.length; i++) out.writeFloatBE(vector[i]!, 4 + 4 * i);
  return out;
}
