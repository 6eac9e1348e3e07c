/**
 * The JSON report: stable key order (objects are built in a fixed order), BigInt values as decimal strings.
 * `seriesStride` keeps every n-th sample (and the last) to make small files; 1 keeps every tick.
 */
import type { RunResult } from '../run.js';
import { detectLeaks } from './leaks.js';
import { formatLog } from './log.js';
import { outcomeLine } from './text.js';

export const JSON_REPORT_VERSION = 1;

export function toJsonObject(r: RunResult, o: { seriesStride?: number } = {}): unknown {
  const stride = Math.max(1, o.seriesStride ?? 1);
  const n = r.series.tNs.length;
  const idx: number[] = [];
  for (let i = 0; i < n; i += stride) idx.push(i);
  if (n > 0 && idx[idx.length - 1] !== n - 1) idx.push(n - 1);
  const pick = <T>(a: T[]) => idx.map((i) => a[i]);
  const sortedObj = <T>(rec: Record<string, T>, f: (v: T) => unknown) => Object.fromEntries(Object.keys(rec).map((k) => [k, f(rec[k])]));
  return {
    version: JSON_REPORT_VERSION,
    name: r.name,
    description: r.description,
    seed: r.seed,
    durationNs: r.durationNs,
    endNs: r.endNs,
    tickNs: r.tickNs,
    outcome: outcomeLine(r),
    // only in a partial report (oomsim run stopped by a signal), so complete reports keep their shape
    ...(r.interrupted ? { interrupted: true, interruption: { ...r.interrupted } } : {}),
    machine: { totalramPages: r.machine.totalramPages, totalSwapPages: r.machine.totalSwapPages, sysctl: sortedObj(r.machine.sysctl, (v) => v) },
    features: { ...r.features },
    notSimulated: r.notSimulated,
    notSimulatedTags: r.notSimulatedTags,
    processes: r.processes.map((p) => ({
      pid: p.pid, comm: p.comm, origin: p.origin, startNs: p.startNs, outcome: p.outcome, restarts: p.restarts, peakRssKb: p.peakRssKb,
      workloadChildren: p.workloadChildren, errors: p.errors.map((e) => ({ syscall: e.syscall, errno: e.errno, count: e.count, firstNs: e.firstNs, lastNs: e.lastNs })),
    })),
    oomKills: r.oomKills.map((k) => ({ tNs: k.tNs, pid: k.pid, comm: k.comm, constraint: k.constraint, killedBy: k.killedBy, badness: k.badness })),
    panic: r.panic,
    leaks: detectLeaks(r).map((l) => ({ pid: l.pid, comm: l.comm, rateKbPerS: Math.round(l.rateKbPerS * 1000) / 1000, fromNs: l.fromNs, flaggedAtNs: l.flaggedAtNs, memAvailableKb: l.memAvailableKb, projectedOomS: Math.round(l.projectedOomS * 1000) / 1000 })),
    events: r.events.map((e) => ({ tNs: e.tNs, kind: e.kind, pid: e.pid, comm: e.comm, text: e.text })),
    log: formatLog(r),
    explanations: r.explanations,
    procSwaps: r.procSwaps,
    series: {
      stride,
      tNs: pick(r.series.tNs),
      meminfo: sortedObj(r.series.meminfo, pick),
      vmstatDelta: sortedObj(r.series.vmstatDelta, pick),
      rssKb: sortedObj(r.series.rssKb, pick),
      cgroupKb: sortedObj(r.series.cgroupKb, pick),
      tasks: pick(r.series.tasks),
    },
  };
}

export const bigintReplacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

export function toJson(r: RunResult, o: { seriesStride?: number; indent?: number } = {}): string {
  return JSON.stringify(toJsonObject(r, o), bigintReplacer, o.indent ?? 1) + '\n';
}
