/**
 * Writes a trace line by line to a temporary file beside the target, compressed by the target's name (`.gz`: gzip
 * through node:zlib; `.zst`: zstd through @hpcc-js/wasm-zstd, libzstd built to wasm, since Node 20's zlib has none),
 * and renames it over the target only when closed: an interrupted recorder leaves the previous file or the whole
 * new one. The writer holds at most one block of lines (bounded memory):
 *
 * - gzip: one stream, sync-flushed every 64 lines.
 * - zstd: one zstd frame per block of 64 lines (or 1 MiB of text, whichever comes first), frames back to back.
 *   The zstd format defines a file as a sequence of frames and the zstd tool and every reader decode them as one
 *   stream, so each block on disk is complete on its own: a recorder killed with SIGKILL leaves a decodable file
 *   up to its last block, as the gzip flush does. One-shot frames also keep no compressor state between blocks
 *   (the library's streaming state is one per wasm instance, shared by every caller in the process).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGzip, constants, type Gzip } from 'node:zlib';
import { OomsimError } from '../errors.js';

/** Lines and bytes of text per compressed block (the gzip flush, the zstd frame). */
export const BLOCK_LINES = 64;
export const ZSTD_BLOCK_BYTES = 1 << 20;
/** zstd's own default level (the zstd tool's -3). */
export const ZSTD_LEVEL = 3;

/** One-shot zstd compression of a block into one frame. */
export type ZstdFrame = (block: Uint8Array) => Uint8Array;

let zstdFrame: Promise<ZstdFrame> | null = null;
/** Loads libzstd (wasm) once; later calls share it. */
export function loadZstd(): Promise<ZstdFrame> {
  zstdFrame ??= import('@hpcc-js/wasm-zstd').then(async ({ Zstd }) => {
    const z = await Zstd.load();
    return (block: Uint8Array) => z.compress(block, ZSTD_LEVEL);
  });
  return zstdFrame;
}

export class TraceWriter {
  readonly tmp: string;
  private fd: number;
  private gz: Gzip | null = null;
  private gzError: Error | null = null;
  private zst: ZstdFrame | null = null;
  private block: Buffer[] = [];
  private blockBytes = 0;
  /** Bytes of JSON text written (before compression) and bytes on disk so far. */
  textBytes = 0;
  fileBytes = 0;
  lines = 0;
  /** zstd frames written so far. */
  frames = 0;
  private closed = false;

  /** Opens a writer for `file` (loads the zstd compressor first when the name ends in .zst). */
  static async open(file: string): Promise<TraceWriter> {
    return new TraceWriter(file, /\.zst$/i.test(file) ? await loadZstd() : undefined);
  }

  /** `zstd`: the compressor, required for a .zst name (TraceWriter.open loads it). */
  constructor(readonly file: string, zstd?: ZstdFrame) {
    const isZst = /\.zst$/i.test(file);
    if (isZst && !zstd) throw new OomsimError('E_INTERNAL', `${file}: a .zst writer needs the zstd compressor (use TraceWriter.open)`);
    this.tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'w', 0o644);
    } catch (e) {
      throw new OomsimError('E_ARG', `-o ${file}: cannot create ${this.tmp}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (isZst) this.zst = zstd!;
    else if (/\.gz$/i.test(file)) {
      this.gz = createGzip({ level: 6 });
      this.gz.on('data', (b: Buffer) => this.out(b));
      this.gz.on('error', (e) => (this.gzError = e));
    }
  }

  private out(b: Uint8Array): void {
    writeSync(this.fd, b);
    this.fileBytes += b.length;
  }

  /** Compresses the lines held into one zstd frame and writes it. */
  private frame(): void {
    if (!this.zst || this.block.length === 0) return;
    const f = this.zst(Buffer.concat(this.block, this.blockBytes));
    this.block = [];
    this.blockBytes = 0;
    this.out(f);
    this.frames++;
  }

  /** Appends one JSON value as a line. */
  write(value: unknown): void {
    if (this.closed) throw new OomsimError('E_INTERNAL', 'trace writer already closed');
    const text = JSON.stringify(value) + '\n';
    const b = Buffer.from(text);
    this.textBytes += b.length;
    this.lines++;
    if (this.zst) {
      this.block.push(b);
      this.blockBytes += b.length;
      if (this.lines % BLOCK_LINES === 0 || this.blockBytes >= ZSTD_BLOCK_BYTES) this.frame();
    } else if (this.gz) {
      this.gz.write(b);
      // Push the compressed bytes out regularly so a crash loses little (a full flush every 64 lines).
      if (this.lines % BLOCK_LINES === 0) this.gz.flush(constants.Z_SYNC_FLUSH);
    } else this.out(b);
  }

  /** Finishes the file: the last block, fsync, rename over the target. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.frame();
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
