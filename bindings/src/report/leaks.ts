/**
 * Leak detection from metrics (the seed article's first prevention advice): a process whose RSS grows steadily is
 * flagged with its growth rate and the projected time until it has used up MemAvailable, before any kill.
 *
 * Method (a report heuristic, not a kernel rule): over the samples of one life of the process (from one second
 * after its start to its last sample), a least-squares line of RSS over time; flagged when the slope is positive,
 * the fit explains most of the variance (R^2 >= 0.9), RSS rose in at least 80% of the intervals where it changed,
 * and it grew by at least 1% of MemTotal. `flaggedAtNs` is the first sample at which these held over the samples
 * so far (at least 10 of them, spanning at least 5 s): how early the metrics alone would have told. The rate and the projection are those
 * of the samples up to that moment.
 */
import type { RunResult } from '../run.js';

export interface LeakFinding {
  key: string;
  pid: number;
  comm: string;
  /** kB per second. */
  rateKbPerS: number;
  fromNs: bigint;
  toNs: bigint;
  r2: number;
  flaggedAtNs: bigint;
  /** MemAvailable (kB) at the flag time, and MemAvailable / rate in seconds. */
  memAvailableKb: number;
  projectedOomS: number;
}

const MIN_SAMPLES = 10;
/** The samples must span at least this much simulated time (a ramp-up is not a leak). */
const MIN_SPAN_S = 5;

function fit(ts: number[], ys: number[]): { slope: number; r2: number } {
  const n = ts.length;
  let st = 0, sy = 0;
  for (let i = 0; i < n; i++) { st += ts[i]; sy += ys[i]; }
  const mt = st / n, my = sy / n;
  let stt = 0, sty = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dt = ts[i] - mt, dy = ys[i] - my;
    stt += dt * dt; sty += dt * dy; syy += dy * dy;
  }
  if (stt === 0 || syy === 0) return { slope: 0, r2: 0 };
  const slope = sty / stt;
  return { slope, r2: (sty * sty) / (stt * syy) };
}

function steady(ts: number[], ys: number[], memTotalKb: number): { slope: number; r2: number } | null {
  if (ts.length < MIN_SAMPLES || ts[ts.length - 1] - ts[0] < MIN_SPAN_S) return null;
  const { slope, r2 } = fit(ts, ys);
  let up = 0, changed = 0;
  for (let i = 1; i < ys.length; i++) if (ys[i] !== ys[i - 1]) { changed++; if (ys[i] > ys[i - 1]) up++; }
  const growth = ys[ys.length - 1] - ys[0];
  if (slope > 0 && r2 >= 0.9 && changed > 0 && up / changed >= 0.8 && growth >= memTotalKb / 100) return { slope, r2 };
  return null;
}

export function detectLeaks(r: RunResult): LeakFinding[] {
  const out: LeakFinding[] = [];
  const t = r.series.tNs.map((x) => Number(x) / 1e9);
  const memTotal = r.series.meminfo.MemTotal[0] ?? 0;
  for (const p of r.processes) {
    const col = r.series.rssKb[p.key];
    if (!col) continue;
    // The last life: the last run of non-null samples.
    let end = col.length - 1;
    while (end >= 0 && col[end] === null) end--;
    if (end < 0) continue;
    let start = end;
    while (start > 0 && col[start - 1] !== null) start--;
    const skip = Math.max(1, Math.round(1e9 / Number(r.tickNs))); // one second after the start
    const from = start + skip;
    const ts: number[] = [], ys: number[] = [];
    for (let i = from; i <= end; i++) {
      ts.push(t[i]); ys.push(col[i] as number);
      const s = steady(ts, ys, memTotal);
      if (!s) continue;
      const avail = r.series.meminfo.MemAvailable[i];
      out.push({
        key: p.key, pid: p.pid, comm: p.comm, rateKbPerS: s.slope, fromNs: r.series.tNs[from], toNs: r.series.tNs[i], r2: s.r2,
        flaggedAtNs: r.series.tNs[i], memAvailableKb: avail, projectedOomS: avail / s.slope,
      });
      break;
    }
  }
  return out;
}
