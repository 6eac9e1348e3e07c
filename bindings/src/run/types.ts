/** The runner's public types: options, the time series, per-process reports and the run result. */
import type { Engine } from '../engine.js';
import { OomsimError } from '../errors.js';
import type { PolicyRunInfo } from '../policy/host.js';
import type { Policy } from '../policy/types.js';
import type { PsiProvider } from '../policy/psi.js';

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
  /** Record the OOM candidate table of each OOM kill as the OOM killer saw it, before the kill (`explanations`). */
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
  /**
   * Set when the run was stopped by a signal before its end (`oomsim run` on SIGINT/SIGTERM): the result covers
   * the ticks run, up to `endNs`.
   */
  interrupted?: RunInterruption;
}

export interface RunInterruption {
  signal: 'SIGINT' | 'SIGTERM';
  /** Ticks run before the stop, and the ticks the whole run would have had. */
  ticks: number;
  totalTicks: number;
}

/**
 * What the engine simulates, kept in the result (and the JSON report) for readers of older reports. Every feature
 * exists in the engine now; the runner no longer probes for them.
 */
export interface EngineFeatures {
  oomKiller: boolean;
  explain: boolean;
  cgroups: boolean;
  clock: boolean;
  oomKillerDisableSwitch: boolean;
  /** LRU reclaim, kswapd, swap-out under pressure and PSI. */
  reclaim: boolean;
}

export const ENGINE_FEATURES: Readonly<EngineFeatures> = Object.freeze({ oomKiller: true, explain: true, cgroups: true, clock: true, oomKillerDisableSwitch: true, reclaim: true });

/** A scenario the engine refused at boot or setup: the message names the scenario field. */
export class ScenarioRunError extends OomsimError {
  constructor(readonly path: string, message: string) {
    super('E_SCENARIO', `${path}: ${message}`);
  }
}
