/**
 * The scenario runner: a NormalizedScenario (bindings/src/scenario/normalize.ts) driven through the wasm engine in
 * ticks of simulated time, with a time series sampled every tick.
 *
 * The runner owns what user space and the admin do (start programs, their syscalls, timed actions, supervisors
 * restarting services) and records what the engine answers. Kernel outcomes (refusals, OOM kills, panics, log
 * lines) come only from the engine: when the engine does not simulate something yet (the OOM killer, memory
 * cgroups, the clock, PSI), the result says so in `notSimulated` instead of inventing an outcome.
 *
 * Boundary crossings per tick: one batch of queued touches/reads per running program (so an OOM kill caused by one
 * program is seen before the next program's commands), plus the rare direct calls (mmap, fork, exec, munmap) and
 * three reads for the sample (meminfo, the task table, vmstat).
 */
import { Engine, resultName, type EngineEvent, type TaskRow } from './engine.js';
import { OPS } from './generated/ops.js';
import { OomsimError } from './errors.js';
import type { NormalizedAction, NormalizedProcess, NormalizedScenario, NormalizedSupervisor, NormalizedWorkload } from './scenario/normalize.js';
import { childDriver, driverFor, type ChildSpec, type Driver, type Sys } from './workload/drivers.js';
import { PolicyHost, type PolicyRunInfo } from './policy/host.js';
import type { Policy } from './policy/types.js';
import type { PsiProvider } from './policy/psi.js';

export const DEFAULT_TICK_NS = 100_000_000n;
/** A runner limit (not a kernel one) on the tasks of one fork bomb when the scenario gives no `max_tasks`. */
export const FORK_BOMB_RUNNER_CAP = 4096;
/** The meminfo fields sampled every tick (kB). */
export const SAMPLED_MEMINFO = ['MemTotal', 'MemFree', 'MemAvailable', 'Cached', 'Inactive(file)', 'AnonPages', 'Shmem', 'SwapTotal', 'SwapFree', 'CommitLimit', 'Committed_AS', 'PageTables'] as const;
export type SampledMeminfo = (typeof SAMPLED_MEMINFO)[number];
/** The vmstat counters whose per-tick deltas are sampled. */
export const SAMPLED_VMSTAT = ['pgfault', 'pgmajfault', 'pswpin', 'pswpout', 'pgscan_direct', 'allocstall_normal', 'oom_kill'] as const;
export type SampledVmstat = (typeof SAMPLED_VMSTAT)[number];
/** "Low memory" in reports: MemAvailable below this fraction of MemTotal (a report threshold, not a kernel rule). */
export const LOW_MEMORY_FRACTION = 0.05;

export interface RunOptions {
  /** Simulated time per tick (default 100 ms). */
  tickNs?: bigint;
  /** Stop at this time instead of the scenario's duration (explain --at). */
  untilNs?: bigint;
  /** Called after every tick. */
  onTick?: (nowNs: bigint, endNs: bigint) => void;
  /** Call the engine's oomExplain() after each OOM kill (when the engine has it). */
  explain?: boolean;
  /** Keep the engine alive after the run (the caller frees it): for explain and embedding. */
  keepEngine?: boolean;
  /**
   * Userspace OOM policies (bindings/src/policy/): polled at their own intervals in simulated time, at tick
   * boundaries (a policy due inside a tick runs at the end of that tick, after the programs' steps). Fresh instances
   * per run. Without this option the run is exactly as before.
   */
  policies?: Policy[];
  /** PSI source for the policies (default: the engine's, zeros while not simulated). */
  psi?: PsiProvider;
  /** Time a process takes to exit after a policy's SIGTERM without a grace of its own (default 100 ms). */
  sigtermExitNs?: bigint;
  /** What a policy error does: 'throw' (default) or 'disable' the policy and record the error. */
  onPolicyError?: 'throw' | 'disable';
}

/** Columnar samples, one entry per tick (index i is time tNs[i]). */
export interface Series {
  tNs: bigint[];
  meminfo: Record<SampledMeminfo, number[]>;
  vmstatDelta: Record<SampledVmstat, number[]>;
  /** VmRSS in kB per tracked process (declared processes and fork-action children); null while not running. */
  rssKb: Record<string, (number | null)[]>;
  /** Tasks alive after each tick. */
  tasks: number[];
  /** Memory charged to each declared cgroup (its subtree), kB: v1 memory.usage_in_bytes, v2 memory.current. */
  cgroupKb: Record<string, number[]>;
}

export type ProcessOutcome =
  | { kind: 'running' }
  | { kind: 'not_started' }
  | { kind: 'exited'; atNs: bigint; how: string }
  | { kind: 'oom_killed'; atNs: bigint; constraint: number; killedBy: number; badness: bigint }
  /** Asleep in a v1 memcg OOM wait (oom_kill_disable=1, state D) since `sinceNs`, at the end of the run. */
  | { kind: 'blocked'; sinceNs: bigint }
  | { kind: 'fork_failed'; atNs: bigint; errno: string };

export interface SyscallErrorTally {
  syscall: string;
  errno: string;
  count: number;
  firstNs: bigint;
  lastNs: bigint;
}

export interface ProcessReport {
  /** Key in series.rssKb. */
  key: string;
  pid: number;
  comm: string;
  origin: 'scenario' | 'fork_action';
  startNs: bigint | null;
  outcome: ProcessOutcome;
  restarts: number;
  peakRssKb: number;
  workloadChildren: number;
  errors: SyscallErrorTally[];
  /** Intervals spent asleep in a v1 memcg OOM wait (state D); `toNs` null: still asleep at the end or killed. */
  blocked: { fromNs: bigint; toNs: bigint | null }[];
}

export interface RunEvent {
  tNs: bigint;
  kind: string;
  pid: number;
  comm: string;
  text: string;
}

export interface RunResult {
  name: string;
  description: string;
  seed: number;
  durationNs: bigint;
  /** Where the run stopped (the duration, --at, or a panic). */
  endNs: bigint;
  tickNs: bigint;
  machine: { totalramPages: bigint; totalSwapPages: bigint; sysctl: Record<string, number> };
  features: EngineFeatures;
  /** What this scenario uses that the engine does not simulate yet (stated, never faked). */
  notSimulated: string[];
  /** Short names of the notSimulated items that change this scenario's outcome (for one-line summaries). */
  notSimulatedTags: string[];
  series: Series;
  /** /proc/swaps at the end of the run (empty without swap). */
  procSwaps: string;
  events: RunEvent[];
  /** Kernel log lines, each with the simulated time at which the runner drained it. */
  log: { tNs: bigint; line: string }[];
  processes: ProcessReport[];
  oomKills: { tNs: bigint; pid: number; comm: string; constraint: number; killedBy: number; badness: bigint }[];
  panic: { tNs: bigint; reason: number } | null;
  /** Explanation tables captured after each OOM kill (engine oomExplain()), when requested and available. */
  explanations: { tNs: bigint; table: unknown }[];
  /** The engine, when `keepEngine` was set. */
  engine?: Engine;
  /** What the policies did (only when `policies` was given). */
  policies?: PolicyRunInfo;
}

export interface EngineFeatures {
  oomKiller: boolean;
  explain: boolean;
  cgroups: boolean;
  clock: boolean;
  oomKillerDisableSwitch: boolean;
  /** LRU reclaim, kswapd, swap-out under pressure and PSI (the engine has psiText). */
  reclaim: boolean;
}

type AnyEngine = Engine & Record<string, unknown>;
const has = (e: Engine, m: string) => typeof (e as AnyEngine)[m] === 'function';

/** Which optional engine features exist (the OOM and cgroup work adds them). */
export function engineFeatures(e: Engine): EngineFeatures {
  return {
    oomKiller: has(e, 'oomExplain'),
    explain: has(e, 'oomExplain'),
    cgroups: has(e, 'cgroupCreate'),
    clock: has(e, 'advance') || has(e, 'now'),
    oomKillerDisableSwitch: has(e, 'setOomKillerDisabled'),
    reclaim: has(e, 'psiText'),
  };
}

/** A scenario the engine refused at boot or setup: the message names the scenario field. */
export class ScenarioRunError extends OomsimError {
  constructor(readonly path: string, message: string) {
    super('E_SCENARIO', `${path}: ${message}`);
  }
}

const OP_NAME_BY_CODE: Record<number, string> = Object.fromEntries(Object.entries(OPS).map(([k, v]) => [v.code, k]));

interface Proc {
  pid: number;
  comm: string;
  key: string | null; // tracked series key; null for workload children
  origin: 'scenario' | 'fork_action' | 'workload_child';
  decl: NormalizedProcess | null;
  /** The tracked process whose family a workload child belongs to. */
  family: string;
  driver: Driver | null;
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

const fmtSec = (ns: bigint) => (Number(ns) / 1e9).toFixed(3).replace(/\.?0+$/, '') + 's';

export function runScenario(sc: NormalizedScenario, opts: RunOptions = {}): RunResult {
  const tickNs = opts.tickNs ?? DEFAULT_TICK_NS;
  if (tickNs <= 0n) throw new OomsimError('E_ARG', `tick: ${tickNs} ns is not allowed; expected > 0`);
  const endNs = opts.untilNs !== undefined && opts.untilNs < sc.durationNs ? opts.untilNs : sc.durationNs;
  if (sc.machine.totalramPages > 0xfff_fffdn) throw new ScenarioRunError('machine.ram', 'more than 2^28-3 pages (1 TiB) is not supported by the engine');
  if (sc.machine.totalSwapPages > 0xffff_ffffn) throw new ScenarioRunError('machine.swap', 'more than 2^32-1 pages of swap is not supported by the engine');

  const e = new Engine({ totalramPages: Number(sc.machine.totalramPages), totalSwapPages: 0, seed: sc.seed, cgroup: sc.cgroups.version });
  // swapon in the scenario's order (mm/swapfile.c); an area's first page is its swap header, not usable
  let usableSwapPages = 0n;
  for (const d of sc.machine.swap) {
    if (d.pages <= 1n) continue;
    e.swapon(Number(d.pages - 1n), d.priority, d.type, d.compressionRatio ?? undefined);
    usableSwapPages += d.pages - 1n;
  }
  const features = engineFeatures(e);
  const notSimulated: string[] = [];
  const notSimulatedTags: string[] = [];
  const ok = (cond: boolean, text: string, tag?: string) => {
    if (!cond && text && !notSimulated.includes(text)) notSimulated.push(text);
    if (!cond && tag && !notSimulatedTags.includes(tag)) notSimulatedTags.push(tag);
  };

  try {
    // --- machine -------------------------------------------------------------------------------------------
    for (const [name, v] of Object.entries(sc.machine.sysctl)) {
      if (v === null) continue; // computed by the kernel at boot
      if (BigInt(e.sysctl(name)) === v) continue; // unchanged (writing ratio/kbytes resets the other: write only changes)
      const r = e.setSysctl(name, Number(v));
      if (r < 0) throw new ScenarioRunError(`machine.sysctl["${name}"]`, `the kernel rejected ${v} (${resultName(r)})`);
    }
    if (sc.machine.oomKillerDisabled) {
      if (features.oomKillerDisableSwitch) (e as AnyEngine & { setOomKillerDisabled(b: boolean): void }).setOomKillerDisabled(true);
      else ok(false, 'machine.oom_killer_disabled: the oom_killer_disable() switch is not simulated yet', 'oom_killer_disabled');
    }
    const cgroupsUsed = sc.cgroups.groups.some((g) => g.path !== '/') || sc.processes.some((p) => p.cgroup !== '/');
    if (cgroupsUsed && !features.cgroups) ok(false, `memory cgroups (${sc.cgroups.version}): not simulated yet; every process runs in the root cgroup without limits`, 'cgroups');
    if (features.cgroups) {
      // mkdir parent-first, then each group's files in an order the kernel accepts; a write the kernel refuses
      // (EINVAL, EBUSY) is a scenario error naming the file, as `echo` would have failed on a real machine.
      for (const g of sc.cgroups.groups) {
        if (g.path !== '/') {
          const r = e.cgroupCreate(g.path);
          if (r < 0) throw new ScenarioRunError(`cgroups.groups["${g.path}"]`, `mkdir failed (${resultName(r)})`);
        }
        for (const w of g.files) {
          const r = e.cgroupWrite(g.path, w.file, w.text);
          if (r < 0) throw new ScenarioRunError(`cgroups.groups["${g.path}"]["${w.file}"]`, `the kernel rejected ${JSON.stringify(w.text)} (${resultName(r)})`);
        }
      }
    }
    if (!features.oomKiller) ok(false, 'the OOM killer: not simulated yet; a page fault that finds no memory returns ENOMEM to the program (see failed syscalls; a stuck program retries once per tick) where the kernel would reclaim or kill');
    const wantsPsi = sc.machine.totalSwapPages > 0n;
    if (wantsPsi && !features.reclaim) ok(false, 'reclaim to swap (kswapd, direct reclaim) and PSI: not simulated yet', 'swap reclaim');
    if (sc.processes.some((p) => p.supervisor) && !features.oomKiller) ok(false, 'supervisors restart services after kills; no OOM kill happens until the OOM killer is simulated');

    // --- state ---------------------------------------------------------------------------------------------
    const procs = new Map<number, Proc>();
    const tracked: Proc[] = [];
    let nextPid = Math.max(999, ...sc.processes.map((p) => p.pid), ...sc.actions.flatMap((a) => (a.action === 'fork' ? [a.child.pid] : []))) + 1;
    const allocPid = () => {
      while (procs.get(nextPid)?.alive) nextPid++;
      return nextPid++;
    };
    const events: RunEvent[] = [];
    const log: { tNs: bigint; line: string }[] = [];
    const oomKills: RunResult['oomKills'] = [];
    const explanations: RunResult['explanations'] = [];
    let panic: RunResult['panic'] = null;
    let now = 0n;
    const bombTasks = new Map<number, number>();

    const newProc = (pid: number, comm: string, origin: Proc['origin'], decl: NormalizedProcess | null, family: string | null): Proc => {
      const key = origin === 'workload_child' ? null : String(pid);
      const p: Proc = {
        pid, comm, key, origin, decl, family: family ?? String(pid), driver: null, alive: false, startNs: null,
        outcome: { kind: 'not_started' }, restarts: 0, restartTimes: [], peakRssKb: 0, children: 0, errors: new Map(), pendingExitHow: null, restartAt: null, backoffNs: 0n, blocked: [], stallBaseNs: 0n,
      };
      procs.set(pid, p);
      if (key !== null) tracked.push(p);
      return p;
    };
    const event = (kind: string, pid: number, text: string, tNs = now) => events.push({ tNs, kind, pid, comm: procs.get(pid)?.comm ?? '', text });
    const tally = (pid: number, syscall: string, r: number) => {
      if (r >= 0) return;
      const p = procs.get(pid);
      if (!p) return;
      const owner = p.origin === 'workload_child' ? (procs.get(Number(p.family)) ?? p) : p;
      const errno = resultName(r);
      const k = `${syscall} ${errno}`;
      const t = owner.errors.get(k);
      if (t) {
        t.count++;
        t.lastNs = now;
      } else {
        owner.errors.set(k, { syscall, errno, count: 1, firstNs: now, lastNs: now });
        event('syscall_error', pid, `${syscall} failed with ${errno}${owner !== p ? ` (a child of ${owner.comm})` : ''}`);
      }
    };

    // --- syscalls for drivers ------------------------------------------------------------------------------
    /** The engine's accumulated memory stall of a pid (0 without the clock feature). */
    const stallNs = (pid: number): bigint => (features.clock ? e.taskStallNs(pid) : 0n);
    let queued: { pid: number; what: string }[] = [];
    const sys: Sys = {
      mmapAnon: (pid, pages) => {
        const r = e.mmapAnon(pid, pages);
        tally(pid, 'mmap', r);
        return r;
      },
      mmapNone: (pid, pages) => {
        const r = e.mmap(pid, pages, { prot: 'none' });
        tally(pid, 'mmap', r);
        return r;
      },
      mmapFile: (pid, file, pages) => {
        const r = e.mmap(pid, pages, { prot: 'r', file });
        tally(pid, 'mmap', r);
        return r;
      },
      munmap: (pid, vpn, pages) => {
        const r = e.munmap(pid, vpn, pages);
        tally(pid, 'munmap', r);
        return r;
      },
      mprotectRw: (pid, vpn, pages) => {
        const r = e.mprotect(pid, vpn, pages, 'rw');
        tally(pid, 'mprotect', r);
        return r;
      },
      madviseDontneed: (pid, vpn, pages) => {
        const r = e.madvise(pid, vpn, pages, 'MADV_DONTNEED');
        tally(pid, 'madvise', r);
        return r;
      },
      fileCreate: (name, pages) => e.fileCreate(name, 'disk', pages, false),
      queueTouch: (pid, vpn, pages, access) => {
        e.push('touch', pid, vpn % 0x1_0000_0000, Math.floor(vpn / 0x1_0000_0000), pages, access === 'write' ? 1 : 0);
        queued.push({ pid, what: 'page fault' });
      },
      queueTouchZipf: (pid, vpn, npages, count, access) => {
        e.push('touch_pattern', pid, vpn % 0x1_0000_0000, Math.floor(vpn / 0x1_0000_0000), npages, 2, 0, count, access === 'write' ? 1 : 0);
        queued.push({ pid, what: 'page fault' });
      },
      queueFileRead: (pid, file, first, count) => {
        e.push('file_read', pid, file, first, count);
        queued.push({ pid, what: 'read' });
      },
      forkChild: (parent, spec) => forkChild(parent, spec),
      exit: (pid) => exitProc(pid, 'exited (end of its lifetime)'),
      note: (pid, text) => event('note', pid, text),
    };

    const startProgram = (p: Proc, w: NormalizedWorkload) => {
      p.driver = driverFor(p.pid, now, w);
      p.stallBaseNs = stallNs(p.pid);
    };
    const spawnDeclared = (d: NormalizedProcess, p: Proc) => {
      e.spawn(d.pid, { comm: d.comm, uid: d.uid, capSysAdmin: d.capSysAdmin, oomScoreAdj: d.oomScoreAdj, ...(features.cgroups ? { cgroup: d.cgroup } : {}) });
      p.alive = true;
      p.startNs ??= now;
      p.outcome = { kind: 'running' };
      startProgram(p, d.workload);
      event('start', d.pid, p.restarts > 0 ? `restarted by its supervisor (restart ${p.restarts})` : `started (${d.workload.kind})`);
    };
    const forkChild = (parent: number, spec: ChildSpec): number => {
      const pp = procs.get(parent);
      if (!pp?.alive) return -3;
      if (spec.kind === 'fork_bomb_child') {
        const cap = bombCap.get(spec.root) ?? FORK_BOMB_RUNNER_CAP;
        const nTasks = bombTasks.get(spec.root) ?? 1;
        if (nTasks >= cap) return -11;
      }
      const child = allocPid();
      const r = e.fork(parent, child);
      tally(parent, 'fork', r);
      if (r < 0) return r;
      const family = pp.origin === 'workload_child' ? pp.family : String(parent);
      const c = newProc(child, pp.comm, 'workload_child', null, family);
      c.alive = true;
      c.startNs = now;
      c.outcome = { kind: 'running' };
      (procs.get(Number(family)) ?? pp).children++;
      if (spec.kind === 'fork_exec_child') {
        const x = e.exec(child, spec.comm);
        tally(child, 'execve', x);
        if (x >= 0) c.comm = spec.comm;
      } else {
        bombTasks.set(spec.root, (bombTasks.get(spec.root) ?? 1) + 1);
      }
      c.driver = childDriver(child, now, spec);
      c.stallBaseNs = stallNs(c.pid);
      return child;
    };
    const bombCap = new Map<number, number>();
    for (const d of sc.processes) if (d.workload.kind === 'fork_bomb') bombCap.set(d.pid, d.workload.maxTasks ?? FORK_BOMB_RUNNER_CAP);
    if (sc.processes.some((d) => d.workload.kind === 'fork_bomb' && d.workload.maxTasks === null)) {
      ok(false, `fork_bomb without max_tasks: the runner stops a bomb at ${FORK_BOMB_RUNNER_CAP} tasks (a runner limit; kernel.threads-max and pid_max are not simulated yet)`);
    }

    const exitProc = (pid: number, how: string) => {
      const p = procs.get(pid);
      if (!p?.alive) return;
      p.pendingExitHow = how;
      e.exit(pid);
      handleEvents();
    };

    const markDead = (p: Proc, outcome: ProcessOutcome) => {
      if (!p.alive) return;
      p.alive = false;
      p.driver = null;
      if (p.outcome.kind !== 'oom_killed') p.outcome = outcome;
      for (const [rootPid, nTasks] of bombTasks) if (p.family === String(rootPid) && p.origin === 'workload_child') bombTasks.set(rootPid, nTasks - 1);
      scheduleRestart(p);
    };

    const scheduleRestart = (p: Proc) => {
      const sup: NormalizedSupervisor | null = p.decl?.supervisor ?? null;
      if (!sup || p.outcome.kind === 'running' || p.outcome.kind === 'not_started') return;
      const killed = p.outcome.kind === 'oom_killed' || (p.outcome.kind === 'exited' && p.outcome.how.startsWith('killed'));
      const clean = p.outcome.kind === 'exited' && p.outcome.how.includes('code 0');
      if (sup.kind === 'systemd') {
        const wants =
          sup.restart === 'always' ||
          (sup.restart === 'on-success' && clean) ||
          (sup.restart === 'on-failure' && !clean) ||
          ((sup.restart === 'on-abnormal' || sup.restart === 'on-abort') && killed);
        if (!wants) return;
        const recent = p.restartTimes.filter((t) => now - t < sup.startLimitIntervalNs);
        if (recent.length >= sup.startLimitBurst) {
          event('supervisor', p.pid, `systemd: start request repeated too quickly (StartLimitBurst=${sup.startLimitBurst}); not restarting`);
          return;
        }
        p.restartAt = now + sup.restartSecNs;
      } else {
        const wants = sup.restartPolicy === 'Always' || (sup.restartPolicy === 'OnFailure' && !clean);
        if (!wants) return;
        p.backoffNs = p.backoffNs === 0n ? sup.backoffInitialNs : p.backoffNs * 2n > sup.backoffMaxNs ? sup.backoffMaxNs : p.backoffNs * 2n;
        p.restartAt = now + (p.restarts === 0 ? 0n : p.backoffNs);
      }
      event('supervisor', p.pid, `${sup.kind}: restart scheduled at ${fmtSec(p.restartAt)}`);
    };

    const handleEvents = () => {
      for (const ev of e.drainEvents()) onEngineEvent(ev);
      for (const line of e.drainLog()) log.push({ tNs: now, line });
    };
    const onEngineEvent = (ev: EngineEvent) => {
      const t = ev.timeNs > 0n ? ev.timeNs : now;
      const p = procs.get(ev.pid);
      switch (ev.kind) {
        case 'oom_kill': {
          oomKills.push({ tNs: t, pid: ev.pid, comm: p?.comm ?? '', constraint: ev.a, killedBy: ev.b, badness: ev.c });
          event('oom_kill', ev.pid, `OOM-killed (constraint ${ev.a}, killed by ${['the OOM killer', 'oom_kill_allocating_task', 'memory.oom.group'][ev.b] ?? ev.b}, badness ${ev.c})`, t);
          if (p) {
            p.outcome = { kind: 'oom_killed', atNs: t, constraint: ev.a, killedBy: ev.b, badness: ev.c };
            const open = p.blocked.at(-1);
            if (open && open.toNs === null) open.toNs = t;
          }
          if (opts.explain && features.explain) explanations.push({ tNs: t, table: (e as AnyEngine & { oomExplain(): unknown }).oomExplain() });
          break;
        }
        case 'task_exit': {
          if (p) {
            const how = p.pendingExitHow ?? (ev.a === 1 ? 'killed (SIGKILL)' : 'exited');
            p.pendingExitHow = null;
            if (p.origin !== 'workload_child') event('exit', ev.pid, how, t);
            markDead(p, { kind: 'exited', atNs: t, how });
          }
          break;
        }
        case 'panic':
          panic = { tNs: t, reason: ev.a };
          event('panic', ev.pid, `kernel panic (reason ${ev.a})`, t);
          break;
        case 'signal':
          event('signal', ev.pid, `signal ${ev.a === 11 ? 'SIGSEGV' : ev.a === 7 ? 'SIGBUS' : ev.a} at page ${ev.c}`, t);
          break;
        case 'syscall_error':
        case 'task_new':
          break; // syscall results are tallied from the results the program saw; children are created by the runner
        default:
          event(String(ev.kind), ev.pid, `engine event a=${ev.a} b=${ev.b} c=${ev.c} (${OP_NAME_BY_CODE[ev.a] ?? ''})`, t);
      }
    };

    for (const d of sc.processes) newProc(d.pid, d.comm, 'scenario', d, null);

    const runAction = (a: NormalizedAction) => {
      switch (a.action) {
        case 'fork': {
          const pp = procs.get(a.pid);
          if (!pp?.alive) {
            event('action', a.pid, `fork skipped: pid ${a.pid} is not running`);
            return;
          }
          const r = e.fork(a.pid, a.child.pid);
          tally(a.pid, 'fork', r);
          const c = newProc(a.child.pid, a.child.comm, 'fork_action', null, null);
          if (r < 0) {
            c.outcome = { kind: 'fork_failed', atNs: now, errno: resultName(r) };
            event('action', a.pid, `fork() = ${resultName(r)}: child ${a.child.pid} not created`);
            return;
          }
          c.alive = true;
          c.startNs = now;
          c.outcome = { kind: 'running' };
          if (a.child.comm !== pp.comm) ok(false, `a fork child's own comm (${a.child.comm}): the engine keeps the parent's comm until exec (no prctl(PR_SET_NAME) yet)`);
          startProgram(c, a.child.workload);
          event('action', a.pid, `fork() = ${a.child.pid}`);
          return;
        }
        case 'exec': {
          const p = procs.get(a.pid);
          if (!p?.alive) {
            event('action', a.pid, `exec skipped: pid ${a.pid} is not running`);
            return;
          }
          const r = e.exec(a.pid, a.comm);
          tally(a.pid, 'execve', r);
          event('action', a.pid, `execve(${a.comm}) = ${resultName(r)}`);
          if (r >= 0) {
            p.comm = a.comm;
            startProgram(p, a.workload);
          }
          return;
        }
        case 'kill': {
          // The engine has no signal delivery yet: the default action of both signals terminates the process,
          // which the engine performs as an exit (mm teardown). Recorded as killed by the signal.
          ok(false, 'kill actions: the engine has no signal delivery yet; the process is terminated through exit (the default action of SIGKILL/SIGTERM)');
          if (procs.get(a.pid)?.alive) exitProc(a.pid, `killed (${a.signal}, action)`);
          return;
        }
        case 'exit':
          if (procs.get(a.pid)?.alive) exitProc(a.pid, `exited with code ${a.code} (action)`);
          return;
        case 'set_adj': {
          if (!procs.get(a.pid)?.alive) return;
          const r = e.setOomScoreAdj(a.pid, a.oomScoreAdj);
          tally(a.pid, 'write oom_score_adj', r);
          event('action', a.pid, `oom_score_adj = ${a.oomScoreAdj}: ${resultName(r)}`);
          return;
        }
        case 'sysctl':
          for (const w of a.writes) {
            const r = e.setSysctl(w.name, Number(w.value));
            event('action', 0, `sysctl ${w.name} = ${w.value}: ${resultName(r)}`);
          }
          return;
        case 'cgroup_write':
          if (!features.cgroups) {
            event('action', 0, `cgroup write ${a.cgroup} ${a.writes.map((w) => `${w.file}=${w.text}`).join(' ')}: not simulated yet`);
            return;
          }
          for (const w of a.writes) {
            const r = e.cgroupWrite(a.cgroup, w.file, w.text);
            event('action', 0, `echo ${w.text} > ${a.cgroup === '/' ? '' : a.cgroup}/${w.file}: ${resultName(r)}`);
          }
          return;
      }
    };

    // --- series ---------------------------------------------------------------------------------------------
    const series: Series = {
      tNs: [],
      meminfo: Object.fromEntries(SAMPLED_MEMINFO.map((k) => [k, []])) as unknown as Series['meminfo'],
      vmstatDelta: Object.fromEntries(SAMPLED_VMSTAT.map((k) => [k, []])) as unknown as Series['vmstatDelta'],
      rssKb: {},
      tasks: [],
      cgroupKb: {},
    };
    const usageFile = sc.cgroups.version === 'v1' ? 'memory.usage_in_bytes' : 'memory.current';
    const sampledCgroups = features.cgroups ? sc.cgroups.groups.map((g) => g.path).filter((p) => p !== '/') : [];
    for (const p of sampledCgroups) series.cgroupKb[p] = [];
    let lastVm: Record<string, bigint> | null = null;
    const sample = () => {
      const m = e.meminfo();
      series.tNs.push(now);
      for (const k of SAMPLED_MEMINFO) series.meminfo[k].push(m[k]);
      const vm = e.vmstat() as Record<string, bigint>;
      for (const k of SAMPLED_VMSTAT) series.vmstatDelta[k].push(Number(vm[k] - (lastVm?.[k] ?? 0n)));
      lastVm = vm;
      const rows: TaskRow[] = e.tasks();
      series.tasks.push(rows.length);
      for (const p of sampledCgroups) series.cgroupKb[p].push(Number(e.cgroupRead(p, usageFile) ?? 0) / 1024);
      const rss = new Map<number, number>();
      for (const r of rows) rss.set(r.pid, r.vm_rss_kb);
      for (const p of tracked) {
        const col = (series.rssKb[p.key!] ??= new Array(series.tNs.length - 1).fill(null));
        const v = p.alive ? (rss.get(p.pid) ?? null) : null;
        col.push(v);
        if (v !== null && v > p.peakRssKb) p.peakRssKb = v;
      }
    };

    // --- policies ----------------------------------------------------------------------------------------------
    const host = opts.policies?.length
      ? new PolicyHost(
          opts.policies,
          {
            engine: e,
            psi: opts.psi,
            cgroupPaths: sc.cgroups.groups.map((g) => g.path),
            isAlive: (pid) => procs.get(pid)?.alive ?? e.tasks().some((t) => t.pid === pid),
            exit: (pid, how) => exitProc(pid, how),
            event: (kind, pid, text) => event(kind, pid, text),
          },
          { sigtermExitNs: opts.sigtermExitNs, onError: opts.onPolicyError },
        )
      : null;

    // --- the tick loop ---------------------------------------------------------------------------------------
    let ai = 0;
    for (now = 0n; now <= endNs; now += tickNs) {
      e.run(now);
      handleEvents();
      // Restarts and starts due by now, in declaration order.
      for (const d of sc.processes) {
        const p = procs.get(d.pid)!;
        if (p.alive) continue;
        if (p.outcome.kind === 'not_started' && d.startNs <= now) spawnDeclared(d, p);
        else if (p.restartAt !== null && p.restartAt <= now) {
          p.restartAt = null;
          p.restarts++;
          p.restartTimes.push(now);
          spawnDeclared(d, p);
        }
      }
      while (ai < sc.actions.length && sc.actions[ai].atNs <= now && panic === null) {
        runAction(sc.actions[ai++]);
        handleEvents();
      }
      // Each running program's commands for this tick, flushed per program.
      for (const p of [...procs.values()]) {
        if (panic !== null) break;
        if (!p.alive || !p.driver) continue;
        // A task asleep in a v1 memcg OOM wait (mm/memcontrol-v1.c: mem_cgroup_oom_synchronize) does nothing
        // until the kernel wakes it (limit raised, memory freed in its memcg, oom_kill_disable written 0).
        if (features.cgroups && e.taskBlocked(p.pid)) {
          if (p.outcome.kind !== 'blocked') {
            p.outcome = { kind: 'blocked', sinceNs: now };
            p.blocked.push({ fromNs: now, toNs: null });
            event('note', p.pid, 'blocked in a memcg OOM wait (oom_kill_disable=1): state D, under_oom=1, no kill');
          }
          continue;
        }
        if (p.outcome.kind === 'blocked') {
          event('note', p.pid, 'woken from the memcg OOM wait');
          p.blocked[p.blocked.length - 1].toNs = now;
          p.outcome = { kind: 'running' };
        }
        const d = p.driver;
        queued = [];
        try {
          // A program's own progress stops while it stalls in the kernel (direct reclaim, swap-in, memory.high
          // penalty sleeps): its driver runs on the time it was not stalled, so a throttled leak grows slower.
          const progressNs = now - (stallNs(p.pid) - p.stallBaseNs);
          d.step(sys, progressNs > d.startNs ? progressNs : d.startNs, tickNs);
          const res = e.submit().map(Number);
          res.forEach((r, i) => tally(queued[i]?.pid ?? p.pid, queued[i]?.what ?? 'command', r));
          d.onResults(res);
        } catch (err) {
          // A program killed in the middle of its own batch (e.g. oom_kill_allocating_task): its later commands
          // name a dead pid; or one that went to sleep in a memcg OOM wait: its later commands are refused until
          // it is woken (the pending fault is retried by the kernel then). Anything else is a real error.
          if (!(err instanceof OomsimError && (err.code === 'E_NOPID' || err.code === 'E_BLOCKED'))) throw err;
          e.submit();
        }
        handleEvents();
      }
      if (host && panic === null) {
        host.runExits(now);
        host.poll(now);
        handleEvents();
      }
      sample();
      opts.onTick?.(now, endNs);
      if (panic !== null) break;
    }
    const stoppedAt = panic !== null ? (panic as { tNs: bigint }).tNs : now > endNs ? endNs : now;

    if (!features.oomKiller && tracked.some((p) => p.errors.has('page fault ENOMEM'))) ok(false, '', 'OOM killer');
    const processes: ProcessReport[] = tracked.map((p) => ({
      key: p.key!,
      pid: p.pid,
      comm: p.comm,
      origin: p.origin === 'scenario' ? 'scenario' : 'fork_action',
      startNs: p.startNs,
      outcome: p.outcome,
      restarts: p.restarts,
      peakRssKb: p.peakRssKb,
      workloadChildren: p.children,
      errors: [...p.errors.values()],
      blocked: p.blocked,
    }));
    const sysctl: Record<string, number> = {};
    for (const name of Object.keys(sc.machine.sysctl)) sysctl[name] = e.sysctl(name);

    const result: RunResult = {
      name: sc.name,
      description: sc.description,
      seed: sc.seed,
      durationNs: sc.durationNs,
      endNs: stoppedAt,
      tickNs,
      machine: { totalramPages: sc.machine.totalramPages, totalSwapPages: usableSwapPages, sysctl },
      features,
      notSimulated,
      notSimulatedTags,
      series,
      procSwaps: usableSwapPages > 0n ? e.procSwaps() : '',
      events,
      log,
      processes,
      oomKills,
      panic,
      explanations,
    };
    if (host) result.policies = host.info;
    if (opts.keepEngine) result.engine = e;
    return result;
  } finally {
    if (!opts.keepEngine) e.free();
  }
}
