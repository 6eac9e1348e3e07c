/**
 * The state of one run, shared by the runner's parts (boot, processes, actions, sampling): the engine, the
 * processes the runner tracks, and what the result collects. One object passed explicitly; no part keeps its own.
 */
import { resultName, type Engine } from '../engine.js';
import type { NormalizedProcess, NormalizedScenario } from '../scenario/normalize.js';
import type { ChildSpec, Driver } from '../workload/drivers.js';
import type { ProcessOutcome, RunEvent, RunOptions, RunResult, SyscallErrorTally } from './types.js';

export interface Proc {
  pid: number;
  comm: string;
  key: string | null; // tracked series key; null for workload children
  origin: 'scenario' | 'fork_action' | 'workload_child';
  decl: NormalizedProcess | null;
  /** The tracked process whose family a workload child belongs to. */
  family: string;
  driver: Driver | null;
  /** Where the driver's workload comes from (a snapshot rebuilds the driver from it, then loads its position). */
  program: ProgramRef | null;
  alive: boolean;
  startNs: bigint | null;
  outcome: ProcessOutcome;
  restarts: number;
  restartTimes: bigint[];
  peakRssKb: number;
  children: number;
  errors: Map<string, SyscallErrorTally>;
  pendingExitHow: string | null;
  restartAt: bigint | null;
  backoffNs: bigint;
  blocked: { fromNs: bigint; toNs: bigint | null }[];
  /** The engine's stall total for this pid when the current driver started (stalls are counted from there). */
  stallBaseNs: bigint;
}

/** The workload a driver was built from: a declared process's, a fork/exec action's, or a workload child's spec. */
export type ProgramRef = { from: 'process'; index: number } | { from: 'action'; index: number } | { from: 'child'; spec: ChildSpec };

export interface RunState {
  readonly sc: NormalizedScenario;
  readonly opts: RunOptions;
  readonly e: Engine;
  readonly tickNs: bigint;
  /** Simulated time of the tick being run. */
  now: bigint;
  readonly procs: Map<number, Proc>;
  /** Declared processes and fork-action children, in creation order (the series and report rows). */
  readonly tracked: Proc[];
  nextPid: number;
  readonly events: RunEvent[];
  readonly log: { tNs: bigint; line: string }[];
  readonly oomKills: RunResult['oomKills'];
  readonly explanations: RunResult['explanations'];
  panic: RunResult['panic'];
  readonly notSimulated: string[];
  readonly notSimulatedTags: string[];
  /** Tasks alive per fork bomb root pid, and each bomb's cap. */
  readonly bombTasks: Map<number, number>;
  readonly bombCap: Map<number, number>;
  /** What the current batch's queued commands were (pid and the name a failure is tallied under). */
  queued: { pid: number; what: string }[];
}

export function newRunState(sc: NormalizedScenario, opts: RunOptions, e: Engine, tickNs: bigint): RunState {
  const nextPid = Math.max(999, ...sc.processes.map((p) => p.pid), ...sc.actions.flatMap((a) => (a.action === 'fork' ? [a.child.pid] : []))) + 1;
  // explain: the engine records each OOM kill's candidate table as the OOM killer saw it (handleEvents collects it)
  if (opts.explain) e.setExplainSelections(true);
  return {
    sc, opts, e, tickNs, now: 0n, procs: new Map(), tracked: [], nextPid, events: [], log: [], oomKills: [], explanations: [], panic: null,
    notSimulated: [], notSimulatedTags: [], bombTasks: new Map(), bombCap: new Map(), queued: [],
  };
}

/** Record something the scenario uses that the engine does not simulate (stated once, never faked). */
export function notSimulated(st: RunState, text: string, tag?: string): void {
  if (text && !st.notSimulated.includes(text)) st.notSimulated.push(text);
  if (tag && !st.notSimulatedTags.includes(tag)) st.notSimulatedTags.push(tag);
}

export function event(st: RunState, kind: string, pid: number, text: string, tNs = st.now): void {
  st.events.push({ tNs, kind, pid, comm: st.procs.get(pid)?.comm ?? '', text });
}

/** Count a failed syscall against its process (a workload child's against its family), with an event the first time. */
export function tally(st: RunState, pid: number, syscall: string, r: number): void {
  if (r >= 0) return;
  const p = st.procs.get(pid);
  if (!p) return;
  const owner = p.origin === 'workload_child' ? (st.procs.get(Number(p.family)) ?? p) : p;
  const errno = resultName(r);
  const k = `${syscall} ${errno}`;
  const t = owner.errors.get(k);
  if (t) {
    t.count++;
    t.lastNs = st.now;
  } else {
    owner.errors.set(k, { syscall, errno, count: 1, firstNs: st.now, lastNs: st.now });
    event(st, 'syscall_error', pid, `${syscall} failed with ${errno}${owner !== p ? ` (a child of ${owner.comm})` : ''}`);
  }
}

export const fmtSec = (ns: bigint) => (Number(ns) / 1e9).toFixed(3).replace(/\.?0+$/, '') + 's';
