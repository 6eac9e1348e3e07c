/**
 * PSI adapter. The engine simulates memory pressure (/proc/pressure/memory and per-cgroup memory.pressure, in the
 * kernel's text format, kernel/sched/psi.c:psi_show); a provider without a reading for something (an injected
 * trace, a cgroup it does not know) gives zeros with `simulated: false`.
 *
 * What the adapter looks for on the engine (first match wins): a method `psiText(resource: 'memory')` returning the
 * /proc/pressure/memory text; for cgroups, `cgroupRead(path, 'memory.pressure')` returning non-null text.
 */
import type { Engine } from '../engine.js';

export interface PsiLine {
  /** Percent of wall time (0..100). */
  avg10: number;
  avg60: number;
  avg300: number;
  /** Total stall time, microseconds. */
  totalUs: bigint;
}
export interface PsiReading {
  some: PsiLine;
  full: PsiLine;
  /** False while the engine does not simulate PSI (all values are zero then). */
  simulated: boolean;
}

const ZERO: PsiLine = Object.freeze({ avg10: 0, avg60: 0, avg300: 0, totalUs: 0n });
export const PSI_NOT_SIMULATED: PsiReading = Object.freeze({ some: ZERO, full: ZERO, simulated: false });

/** Parse "some avg10=1.00 avg60=0.50 avg300=0.10 total=12345\nfull ..." (psi_show's format). Null when malformed. */
export function parsePsi(text: string): PsiReading | null {
  const out: { some?: PsiLine; full?: PsiLine } = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full) avg10=(\d+(?:\.\d+)?) avg60=(\d+(?:\.\d+)?) avg300=(\d+(?:\.\d+)?) total=(\d+)\s*$/.exec(line);
    if (m) out[m[1] as 'some' | 'full'] = { avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), totalUs: BigInt(m[5]) };
  }
  if (!out.some) return null;
  return { some: out.some, full: out.full ?? ZERO, simulated: true };
}

/** Where PSI comes from: the engine (default) or an injected trace (tests, what-if studies). */
export interface PsiProvider {
  system(nowNs: bigint): PsiReading;
  cgroup(path: string, nowNs: bigint): PsiReading;
}

export function enginePsi(e: Engine): PsiProvider {
  const any = e as unknown as { psiText?: (r: string) => string };
  return {
    system: () => {
      if (typeof any.psiText !== 'function') return PSI_NOT_SIMULATED;
      return parsePsi(any.psiText('memory')) ?? PSI_NOT_SIMULATED;
    },
    cgroup: (path) => {
      let t: string | null = null;
      try {
        t = e.cgroupRead(path, 'memory.pressure');
      } catch {
        t = null;
      }
      return t === null ? PSI_NOT_SIMULATED : (parsePsi(t) ?? PSI_NOT_SIMULATED);
    },
  };
}
