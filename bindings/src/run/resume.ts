/**
 * The runner's state as plain data, for a snapshot (docs/snapshot-format.md): what RunState holds between ticks,
 * with every class instance and Map turned into data. The engine's part is the engine's own bytes
 * (Engine.snapshot()); this is everything the TypeScript side adds: the process table with each driver's position,
 * what the run recorded so far, and the counters the loop keeps.
 *
 * A Proc object can be reachable from both the pid map and the tracked list, so procs are saved once each and
 * referred to by index; the pid map is saved in its iteration order (stepPrograms runs programs in that order).
 * A driver is saved with where its workload came from (ProgramRef) and rebuilt from that workload on load.
 */
import { OomsimError } from '../errors.js';
import type { NormalizedWorkload } from '../scenario/normalize.js';
import { childDriver, driverFor, type Driver, type DriverState } from '../workload/drivers.js';
import type { Proc, ProgramRef, RunState } from './state.js';
import type { RunResult, SyscallErrorTally } from './types.js';

export interface ProcState extends Omit<Proc, 'decl' | 'driver' | 'errors'> {
  /** Index of the declared process in sc.processes, or null. */
  decl: number | null;
  driver: DriverState | null;
  errors: [string, SyscallErrorTally][];
}

export interface RunStateData {
  now: bigint;
  nextPid: number;
  procs: ProcState[];
  /** The pid map in iteration order: [pid, index in procs]. */
  pidMap: [number, number][];
  /** Indexes in procs of the tracked processes, in order. */
  tracked: number[];
  events: RunResult['events'];
  log: RunResult['log'];
  oomKills: RunResult['oomKills'];
  explanations: RunResult['explanations'];
  panic: RunResult['panic'];
  notSimulated: string[];
  notSimulatedTags: string[];
  bombTasks: [number, number][];
  bombCap: [number, number][];
}

const bad = (what: string) => new OomsimError('E_SNAPSHOT', `runner state does not fit this scenario: ${what}`);

export function saveRunState(st: RunState): RunStateData {
  const index = new Map<Proc, number>();
  const procs: ProcState[] = [];
  const add = (p: Proc): number => {
    let i = index.get(p);
    if (i === undefined) {
      index.set(p, (i = procs.length));
      const { decl, driver, errors, ...rest } = p;
      procs.push(structuredClone({ ...rest, decl: decl === null ? null : st.sc.processes.indexOf(decl), driver: driver?.state() ?? null, errors: [...errors] }));
    }
    return i;
  };
  const pidMap: [number, number][] = [...st.procs].map(([pid, p]) => [pid, add(p)]);
  const tracked = st.tracked.map(add);
  return structuredClone({
    now: st.now, nextPid: st.nextPid, procs, pidMap, tracked, events: st.events, log: st.log, oomKills: st.oomKills, explanations: st.explanations, panic: st.panic,
    notSimulated: st.notSimulated, notSimulatedTags: st.notSimulatedTags, bombTasks: [...st.bombTasks], bombCap: [...st.bombCap],
  });
}

/** Load `d` into a fresh RunState of the same scenario (no processes declared yet). */
export function loadRunState(st: RunState, d: RunStateData): void {
  const procs = d.procs.map((x): Proc => {
    const decl = x.decl === null ? null : st.sc.processes[x.decl];
    if (decl === undefined) throw bad(`process #${x.decl} is not declared`);
    const { driver, errors, ...rest } = structuredClone(x);
    const p: Proc = { ...rest, decl, driver: null, errors: new Map(errors) };
    if (driver !== null) p.driver = loadDriver(st, p, driver);
    return p;
  });
  st.now = d.now;
  st.nextPid = d.nextPid;
  for (const [pid, i] of d.pidMap) st.procs.set(pid, procs[i]!);
  for (const i of d.tracked) st.tracked.push(procs[i]!);
  const c = structuredClone(d);
  st.events.push(...c.events);
  st.log.push(...c.log);
  st.oomKills.push(...c.oomKills);
  st.explanations.push(...c.explanations);
  st.panic = c.panic;
  st.notSimulated.push(...c.notSimulated);
  st.notSimulatedTags.push(...c.notSimulatedTags);
  for (const [k, v] of c.bombTasks) st.bombTasks.set(k, v);
  for (const [k, v] of c.bombCap) st.bombCap.set(k, v);
}

function loadDriver(st: RunState, p: Proc, s: DriverState): Driver {
  const ref: ProgramRef | null = p.program;
  let d: Driver;
  if (ref === null) throw bad(`pid ${p.pid} has a driver and no program`);
  if (ref.from === 'child') d = childDriver(s.pid, s.startNs, ref.spec);
  else {
    let w: NormalizedWorkload | undefined;
    if (ref.from === 'process') w = st.sc.processes[ref.index]?.workload;
    else {
      const a = st.sc.actions[ref.index];
      w = a?.action === 'fork' ? a.child.workload : a?.action === 'exec' ? a.workload : undefined;
    }
    if (w === undefined) throw bad(`pid ${p.pid}'s program (${ref.from} #${ref.index}) is not in the scenario`);
    d = driverFor(s.pid, s.startNs, w);
  }
  try {
    d.fromState(s);
  } catch (e) {
    throw bad(`pid ${p.pid}: ${(e as Error).message}`);
  }
  return d;
}
