/**
 * The built-in demo: a 1 GiB machine, two processes mapping and touching anonymous memory. It shows the pipe end to
 * end (command buffer in, counters out) and is what `npm start` runs until the scenario suite replaces it.
 * Same code in Node (CLI) and in the browser page.
 */
import { Engine } from './engine.js';

export interface DemoResult {
  memTotalKb: number;
  memFreeKb: number;
  pgfault: bigint;
  lines: string[];
}

export const DEMO_MACHINE_PAGES = 262144; // 1 GiB of 4 KiB pages

export function runDemo(): DemoResult {
  const e = new Engine({ totalramPages: DEMO_MACHINE_PAGES, seed: 1 });
  try {
    // pid 1 "db": maps 128 MiB and writes all of it (32768 write faults, each allocating a frame).
    // pid 2 "web": maps 256 MiB, reads 64 MiB (zero-page faults, nothing allocated), then writes the first
    // 32 MiB (each of those pages takes a second fault, as on Linux: read-then-write is two faults).
    e.spawn(1, { comm: 'db' });
    e.spawn(2, { comm: 'web' });
    const db = e.mmapAnon(1, 32768);
    const web = e.mmapAnon(2, 65536);
    e.touch(1, db, 32768, 'write');
    e.touch(2, web, 16384, 'read');
    e.touch(2, web, 8192, 'write');
    const m = e.meminfo();
    const pgfault = e.vmstat().pgfault;
    const lines = [
      'oomsim demo: 1 GiB machine, two processes',
      `  MemTotal: ${String(m.MemTotal).padStart(8)} kB`,
      `  MemFree:  ${String(m.MemFree).padStart(8)} kB`,
      `  pgfault:  ${String(pgfault).padStart(8)}`,
      `  used: ${(m.MemTotal - m.MemFree) / 1024} MiB = 128 MiB (db) + 32 MiB (web); the 64 MiB web only read maps the zero page`,
    ];
    return { memTotalKb: m.MemTotal, memFreeKb: m.MemFree, pgfault, lines };
  } finally {
    e.free();
  }
}
