/**
 * The file-system calls the capture readers make, in one object, so that tests can make a read fail the way a live
 * machine does (EACCES for a root test process, ESRCH, a file cut short) without root-only tricks.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export const fsio = {
  readText: (path: string): string => readFileSync(path, 'utf8'),
  readDir: (path: string): string[] => readdirSync(path),
  readSubdirs: (path: string): string[] => readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name),
  readLink: (path: string): string => readlinkSync(path),
};
