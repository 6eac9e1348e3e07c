/**
 * The concise text summary of a run: outcome, kills with reasons, OOM events, ENOMEMs, peak usage, time with low
 * memory, leaks found from the metrics, the outcome per process, and what the engine does not simulate yet.
 * Deterministic: only simulated times.
 */
import { kubeletWorkingSetKb } from '../model/metrics.js';
import { LOW_MEMORY_FRACTION, type ProcessOutcome, type RunResult } from '../run.js';
import { detectLeaks } from './leaks.js';
import { mib, sec } from './format.js';

const CONSTRAINT = ['CONSTRAINT_NONE', 'CONSTRAINT_CPUSET', 'CONSTRAINT_MEMORY_POLICY', 'CONSTRAINT_MEMCG'];

/** One line: what happened in the run. */
export function outcomeLine(r: RunResult): string {
  if (r.panic) return `kernel panic at ${sec(r.panic.tNs)}`;
  const parts: string[] = [];
  if (r.oomKills.length > 0) parts.push(`${r.oomKills.length} OOM kill${r.oomKills.length > 1 ? 's' : ''} (${r.oomKills.map((k) => `${k.comm} at ${sec(k.tNs)}`).join(', ')})`);
  const errs = new Map<string, number>();
  for (const p of r.processes) for (const e of p.errors) errs.set(`${e.syscall} ${e.errno}`, (errs.get(`${e.syscall} ${e.errno}`) ?? 0) + e.count);
  for (const [k, n] of errs) parts.push(`${k} x${n}`);
  if (parts.length === 0) parts.push('no OOM kill, no failed allocation');
  const line = parts.join('; ');
  return r.notSimulatedTags.length > 0 ? `${line} [not simulated yet: ${r.notSimulatedTags.join(', ')}]` : line;
}

export function describeOutcome(o: ProcessOutcome): string {
  switch (o.kind) {
    case 'running':
      return 'running at the end';
    case 'not_started':
      return 'never started';
    case 'exited':
      return `${o.how} at ${sec(o.atNs)}`;
    case 'oom_killed':
      return `OOM-killed at ${sec(o.atNs)} (${CONSTRAINT[o.constraint] ?? o.constraint})`;
    case 'fork_failed':
      return `not created: fork() failed with ${o.errno} at ${sec(o.atNs)}`;
    case 'blocked':
      return `blocked in a memcg OOM wait (state D) since ${sec(o.sinceNs)}`;
  }
}

import { explainTable } from './explain.js';
import type { OomExplanation } from '../engine.js';

export function textSummary(r: RunResult, o: { explain?: boolean } = {}): string[] {
  const m = r.series.meminfo;
  const n = r.series.tNs.length;
  const L: string[] = [];
  const swap = r.machine.totalSwapPages > 0n ? `${mib(Number(r.machine.totalSwapPages) * 4)} swap` : 'no swap';
  L.push(`== ${r.name}${r.description ? `: ${r.description}` : ''}`);
  const sys = Object.entries(r.machine.sysctl).filter(([k]) => ['vm.overcommit_memory', 'vm.overcommit_ratio', 'vm.panic_on_oom', 'vm.oom_kill_allocating_task', 'vm.oom_dump_tasks'].includes(k)).map(([k, v]) => `${k.slice(3)}=${v}`).join(' ');
  L.push(`machine: ${mib(Number(r.machine.totalramPages) * 4)} RAM, ${swap}; ${sys}`);
  L.push(`run: ${sec(r.endNs)} of ${sec(r.durationNs)} simulated in ${sec(r.tickNs)} ticks, seed ${r.seed}`);
  if (r.interrupted) {
    const i = r.interrupted;
    L.push(`interrupted: by ${i.signal} after ${i.ticks} of ${i.totalTicks} ticks, ${r.events.length} events so far; this report covers 0 to ${sec(r.endNs)} only`);
  }
  L.push(`outcome: ${outcomeLine(r)}`);
  if (n > 0) {
    let peakUsed = 0, peakAt = 0, peakCommit = 0, peakCommitAt = 0, peakSwap = 0, low = 0;
    for (let i = 0; i < n; i++) {
      const used = m.MemTotal[i] - m.MemFree[i];
      if (used > peakUsed) { peakUsed = used; peakAt = i; }
      if (m.Committed_AS[i] > peakCommit) { peakCommit = m.Committed_AS[i]; peakCommitAt = i; }
      peakSwap = Math.max(peakSwap, m.SwapTotal[i] - m.SwapFree[i]);
      if (m.MemAvailable[i] < m.MemTotal[i] * LOW_MEMORY_FRACTION) low++;
    }
    L.push(`peak: ${mib(peakUsed)} of ${mib(m.MemTotal[0])} used (MemTotal - MemFree) at ${sec(r.series.tNs[peakAt])}; Committed_AS ${mib(peakCommit)} at ${sec(r.series.tNs[peakCommitAt])} (CommitLimit ${mib(m.CommitLimit[peakCommitAt])}); swap used ${mib(peakSwap)}`);
    L.push(`low memory (MemAvailable < ${LOW_MEMORY_FRACTION * 100}% of MemTotal): ${sec(BigInt(low) * r.tickNs)}`);
    // the tightest point: the lowest MemAvailable; the three figures users confuse, side by side
    let t = 0;
    for (let i = 1; i < n; i++) if (m.MemAvailable[i] < m.MemAvailable[t]) t = i;
    const ws = kubeletWorkingSetKb({ MemTotal: m.MemTotal[t], MemFree: m.MemFree[t], 'Inactive(file)': m['Inactive(file)'][t] });
    L.push(`at the tightest point (${sec(r.series.tNs[t])}): MemFree ${mib(m.MemFree[t])}, MemAvailable ${mib(m.MemAvailable[t])}, kubelet working set ${mib(ws)} (memory.available ${mib(m.MemTotal[t] - ws)})`);
  }
  if (r.procSwaps) L.push('swap areas at the end (/proc/swaps):', ...r.procSwaps.trimEnd().split('\n').map((l) => `  ${l}`));
  L.push(r.oomKills.length === 0 ? 'OOM kills: none' : 'OOM kills:');
  for (const k of r.oomKills) L.push(`  ${sec(k.tNs)} pid ${k.pid} (${k.comm}): ${CONSTRAINT[k.constraint] ?? k.constraint}, ${['selected by badness', 'oom_kill_allocating_task', 'memory.oom.group'][k.killedBy] ?? k.killedBy}, badness ${k.badness}`);
  if (r.panic) L.push(`panic: at ${sec(r.panic.tNs)} (reason ${r.panic.reason}); the run stops there`);
  const errs = r.processes.flatMap((p) => p.errors.map((e) => ({ p, e })));
  if (errs.length > 0) {
    L.push('failed syscalls:');
    for (const { p, e } of errs) L.push(`  ${p.comm} (${p.pid}): ${e.syscall} ${e.errno} x${e.count}, first at ${sec(e.firstNs)}, last at ${sec(e.lastNs)}`);
  }
  L.push('processes:');
  const w = Math.max(4, ...r.processes.map((p) => p.comm.length));
  for (const p of r.processes) {
    const blocked = p.blocked.map((b) => `${sec(b.fromNs)}-${b.toNs === null ? 'end' : sec(b.toNs)}`).join(', ');
    const extra = [
      p.restarts > 0 ? `${p.restarts} restarts` : '',
      p.workloadChildren > 0 ? `${p.workloadChildren} children` : '',
      blocked ? `blocked in memcg OOM wait (state D) ${blocked}` : '',
    ].filter(Boolean).join(', ');
    L.push(`  ${String(p.pid).padStart(7)} ${p.comm.padEnd(w)}  peak RSS ${mib(p.peakRssKb).padStart(11)}  ${describeOutcome(p.outcome)}${extra ? ` (${extra})` : ''}`);
  }
  const cgroups = Object.entries(r.series.cgroupKb);
  if (cgroups.length > 0 && n > 0) {
    L.push('cgroups (memory charged to the subtree):');
    const cw = Math.max(...cgroups.map(([p]) => p.length));
    for (const [p, kb] of cgroups) {
      let peak = 0, peakAt = 0;
      kb.forEach((v, i) => { if (v > peak) { peak = v; peakAt = i; } });
      L.push(`  ${p.padEnd(cw)}  peak ${mib(peak).padStart(11)} at ${sec(r.series.tNs[peakAt])}, at the end ${mib(kb[kb.length - 1])}`);
    }
  }
  const leaks = detectLeaks(r);
  L.push(leaks.length === 0 ? 'leaks: none found' : 'leaks (steady RSS growth):');
  for (const l of leaks) {
    L.push(`  ${l.comm} (${l.pid}): +${mib(l.rateKbPerS)}/s since ${sec(l.fromNs)}, flagged at ${sec(l.flaggedAtNs)}; MemAvailable ${mib(l.memAvailableKb)} then: used up in ~${l.projectedOomS.toFixed(1)}s at this rate`);
  }
  if (o.explain) {
    for (const x of r.explanations) L.push(`OOM candidates at ${sec(x.tNs)}:`, ...explainTable(x.table as OomExplanation).map((s) => `  ${s}`));
  }
  if (r.notSimulated.length > 0) {
    L.push('not yet simulated:');
    for (const s of r.notSimulated) L.push(`  - ${s}`);
  }
  return L;
}
