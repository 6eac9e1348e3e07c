/**
 * Atomic file writes for the CLI: the data goes to a temporary file beside the target (same directory, so the same
 * file system), is flushed, and is renamed over the target. rename(2) replaces the name in one step, so a reader (or
 * a run killed half way) sees either the old file or the whole new one, never a half-written file.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let seq = 0;
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${seq++}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    try {
      writeFileSync(fd, data); // all of it (writeSync may write part of a buffer)
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
