/**
 * Streaming text input for traces and imports: the lines of a file (plain, or gzip by its magic bytes 1f 8b,
 * whatever the name), one at a time, with their 1-based line numbers, in bounded memory (readline over a
 * stream). zstd (.zst) input is refused with a message: Node 20's zlib has no zstd (docs/decisions/0016-replay.md).
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { OomsimError } from '../errors.js';

export interface Line {
  text: string;
  /** 1-based. */
  no: number;
}

/** A located input error: `file:line: message`. */
export class TraceError extends OomsimError {
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super('E_TRACE', `${line > 0 ? `${file}:${line}` : file}: ${detail}`);
  }
}

function magic(file: string): Buffer {
  const b = Buffer.alloc(4);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new TraceError(file, 0, `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const n = readSync(fd, b, 0, 4, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The file as a byte stream, gunzipped when it is gzip; `chunk`: the size of the chunks read (bytes). */
export function openInput(file: string, chunk?: number): Readable {
  const m = magic(file);
  if (m.length >= 4 && m[0] === 0x28 && m[1] === 0xb5 && m[2] === 0x2f && m[3] === 0xfd) {
    throw new TraceError(file, 0, 'zstd-compressed input is not supported (Node 20 has no zstd); decompress it first (zstd -d) or use .gz');
  }
  const raw = createReadStream(file, chunk ? { highWaterMark: chunk } : {});
  if (m.length >= 2 && m[0] === 0x1f && m[1] === 0x8b) {
    const gz = createGunzip(chunk ? { chunkSize: Math.max(64, chunk) } : {});
    raw.on('error', (e) => gz.destroy(e));
    return raw.pipe(gz);
  }
  return raw;
}

/** The lines of `file` (without their line ends), streaming. A gzip error is a TraceError at the line reached. */
export async function* readLines(file: string): AsyncGenerator<Line> {
  const input = openInput(file);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let no = 0;
  let failed: Error | null = null;
  input.on('error', (e) => {
    failed = e;
    rl.close();
  });
  try {
    for await (const text of rl) yield { text, no: ++no };
    if (failed) throw new TraceError(file, no + 1, `cannot read: ${(failed as Error).message}`);
  } catch (e) {
    if (e instanceof OomsimError) throw e;
    throw new TraceError(file, no + 1, `cannot read: ${(e as Error).message}`);
  } finally {
    rl.close();
    input.destroy();
  }
}
