/**
 * Streaming text input for traces and imports: the lines of a file (plain, gzip by its magic bytes 1f 8b, or zstd
 * by 28 b5 2f fd, whatever the name), one at a time, with their 1-based line numbers, in bounded memory (readline
 * over a stream). Node 20's zlib has no zstd: fzstd (a pure-JS streaming decompressor) reads it
 * (docs/decisions/0016-replay.md).
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Transform, type Readable } from 'node:stream';
import { Decompress } from 'fzstd';
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

/** A zstd decompressor as a stream (frames back to back, as the zstd tool writes them, are one stream). */
function unzstd(): Transform {
  let out: Transform;
  const d = new Decompress((data) => void out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  out = new Transform({
    transform(b: Buffer, _enc, done) {
      try {
        d.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
        done();
      } catch (e) {
        done(new Error(`zstd: ${(e as Error).message}`));
      }
    },
    flush(done) {
      try {
        d.push(new Uint8Array(0), true);
        done();
      } catch (e) {
        done(new Error(`zstd: ${(e as Error).message || 'truncated input'}`));
      }
    },
  });
  return out;
}

/** The file as a byte stream, decompressed when it is gzip or zstd; `chunk`: the size of the chunks read (bytes). */
export function openInput(file: string, chunk?: number): Readable {
  const m = magic(file);
  const raw = createReadStream(file, chunk ? { highWaterMark: chunk } : {});
  if (m.length >= 4 && m[0] === 0x28 && m[1] === 0xb5 && m[2] === 0x2f && m[3] === 0xfd) {
    const z = unzstd();
    raw.on('error', (e) => z.destroy(e));
    return raw.pipe(z);
  }
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
