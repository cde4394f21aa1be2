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

/**
 * Scales a vector to unit length so cosine distance and dot product agree. In place (the providers
 * own the arrays they return; a copy per vector was garbage on every search); returns the vector.
 */
export function normalize(vector: number[]): number[] {
  // A loop, not Math.hypot(...vector): spreading 512 numbers into arguments is another copy.
  // Embedding components are float32 values, whose squares a double holds without overflow or underflow.
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm !== 0) for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
  return vector;
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
