/**
 * Text → vectors. Implementations return one unit-length vector per input text, in order,
 * each `dimensions` long; they throw on any failure (the service turns that into `unavailable`).
 */
export interface EmbeddingProvider {
  /** "offline" | "openai": reported by GetModelInfo and named in error messages. */
  readonly name: string;
  readonly model: string;
  readonly dimensions: number;
  /** How it computes, for the start-up log (the offline model: where its matrix products run). */
  readonly runtime?: string;
  /** Calls worth running at once (the service's micro-batcher sends no more); 1 unless said. */
  readonly parallelism?: number;
  embed(texts: string[]): Promise<number[][]>;
  /** Releases what the provider holds (the offline model's worker thread); whoever created it calls this. */
  close?(): Promise<void>;
}

/** Scales a vector to unit length so cosine distance and dot product agree. */
export function normalize(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

/** Guards the provider contract, so a misbehaving backend fails loudly instead of mis-aligning rows. */
export function checkShape(provider: string, texts: string[], vectors: number[][], dimensions: number): void {
  if (vectors.length !== texts.length) {
    throw new Error(`${provider} returned ${vectors.length} vectors for ${texts.length} texts`);
  }
  for (const v of vectors) {
    if (v.length !== dimensions)
      throw new Error(`${provider} returned a ${v.length}-d vector, expected ${dimensions}`);
  }
}
