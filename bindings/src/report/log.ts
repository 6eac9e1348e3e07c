/** The kernel log of a run, dmesg style: each line with the simulated time at which the runner drained it. */
import type { RunResult } from '../run.js';
import { dmesgTime } from './format.js';

export function formatLog(r: RunResult): string[] {
  return r.log.map((l) => `${dmesgTime(l.tNs)} ${l.line}`);
}
