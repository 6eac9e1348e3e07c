/**
 * Writes a trace line by line to a temporary file beside the target (gzip when the name ends in .gz), and renames
 * it over the target only when closed: an interrupted recorder leaves the previous file or the whole new one. The
 * writer holds no samples (bounded memory); gzip output is flushed to the file as the compressor produces it.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGzip, constants, type Gzip } from 'node:zlib';
import { OomsimError } from '../errors.js';

export class TraceWriter {
  readonly tmp: string;
  private fd: number;
  private gz: Gzip | null = null;
  private gzError: Error | null = null;
  /** Bytes of JSON text written (before compression) and bytes on disk so far. */
  textBytes = 0;
  fileBytes = 0;
  lines = 0;
  private closed = false;

  constructor(readonly file: string) {
    if (/\.zst$/i.test(file)) {
      throw new OomsimError('E_ARG', `-o ${file}: zstd output is not supported (Node 20's zlib has no zstd, and no pure-JS zstd compressor is a dependency); use .jsonl or .jsonl.gz`);
    }
    this.tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'w', 0o644);
    } catch (e) {
      throw new OomsimError('E_ARG', `-o ${file}: cannot create ${this.tmp}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (/\.gz$/i.test(file)) {
      this.gz = createGzip({ level: 6 });
      this.gz.on('data', (b: Buffer) => {
        writeSync(this.fd, b);
        this.fileBytes += b.length;
      });
      this.gz.on('error', (e) => (this.gzError = e));
    }
  }

  /** Appends one JSON value as a line. */
  write(value: unknown): void {
    if (this.closed) throw new OomsimError('E_INTERNAL', 'trace writer already closed');
    const text = JSON.stringify(value) + '\n';
    this.textBytes += Buffer.byteLength(text);
    this.lines++;
    if (this.gz) {
      this.gz.write(text);
      // Push the compressed bytes out at every line so a crash loses little (a full flush every 64 lines).
      if (this.lines % 64 === 0) this.gz.flush(constants.Z_SYNC_FLUSH);
    } else {
      const b = Buffer.from(text);
      writeSync(this.fd, b);
      this.fileBytes += b.length;
    }
  }

  /** Finishes the file: flush, fsync, rename over the target. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.gz) {
        const gz = this.gz;
        await new Promise<void>((res, rej) => {
          gz.on('end', res);
          gz.on('error', rej);
          gz.end();
          gz.resume();
        });
        if (this.gzError) throw this.gzError;
      }
      fsyncSync(this.fd);
      closeSync(this.fd);
      renameSync(this.tmp, this.file);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Drops the temporary file (the target is left as it was). */
  abort(): void {
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    rmSync(this.tmp, { force: true });
  }
}
