/**
 * Reads newline-delimited JSON from a byte stream as it arrives: one value per non-empty line, a
 * line split across chunks (or a multi-byte character split across chunks) waits for its end, and
 * a last line without a newline still counts.
 */
export interface ByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  releaseLock?(): void;
}

export class NdjsonLineError extends Error {
  constructor(readonly line: string) {
    super('The server sent a line that is not JSON.');
  }
}

export async function* readNdjson<T>(reader: ByteReader, decoder = new TextDecoder()): AsyncGenerator<T> {
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) yield parseLine<T>(line);
      }
      if (done) break;
    }
    const rest = buffer.trim();
    if (rest) yield parseLine<T>(rest);
  } finally {
    reader.releaseLock?.();
  }
}

function parseLine<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new NdjsonLineError(line);
  }
}
