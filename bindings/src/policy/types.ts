/**
 * The policy API: a userspace OOM daemon as a plain object. The runner (bindings/src/run.ts) stops at each policy's
 * polling time in simulated time, hands it a read-only `PolicyView` holding only what the real daemon can read
 * (/proc/meminfo, /proc/pressure/memory, /proc/<pid>/{oom_score,oom_score_adj,status VmRSS,comm,cgroup}, cgroupfs
 * files), and applies the actions it returns with the daemon's delays.
 *
 * Signal model (the engine has no signal delivery): SIGKILL = the runner calls `exit` on the victim `killDelayNs`
 * after the action (default 0). SIGTERM = the victim keeps running for its shutdown time (`graceNs` on the action,
 * else the runner's `sigtermExitNs`, default 100 ms), then exits; a later SIGKILL to the same pid cuts the grace short.
 */
import type { z } from 'zod';
import type { PsiReading } from './psi.js';

export type Signal = 'SIGTERM' | 'SIGKILL';

export type PolicyAction =
  | { type: 'kill'; pid: number; signal: Signal; graceNs?: bigint; reason?: string }
  /** Every task in the cgroup and its descendants (systemd-oomd, kubelet pod eviction, `cgroup.kill`). */
  | { type: 'kill_cgroup'; cgroup: string; signal: Signal; graceNs?: bigint; reason?: string }
  | { type: 'set_oom_score_adj'; pid: number; value: number; reason?: string }
  | { type: 'cgroup_write'; cgroup: string; file: string; value: string; reason?: string }
  | { type: 'none'; reason?: string };

export interface ViewTask {
  pid: number;
  ppid: number;
  comm: string;
  /** /proc/<pid>/cmdline: the engine has no argv; the comm stands in for it. */
  cmdline: string;
  uid: number;
  /** /proc/<pid>/oom_score (0..2000). */
  oomScore: number;
  oomScoreAdj: number;
  vmRssKb: number;
  vmSwapKb: number;
  cgroup: string;
  state: string;
}

/** A kill the runner has carried out or is carrying out for this policy and whose victim has not exited yet. */
export interface PendingKill {
  pid: number;
  signal: Signal;
  sinceNs: bigint;
  /** When the runner will make the process exit. */
  exitAtNs: bigint;
}

export interface PolicyView {
  readonly nowNs: bigint;
  /** /proc/meminfo, kB. */
  readonly meminfo: Readonly<Record<string, number>>;
  /** /proc/vmstat counters. */
  readonly vmstat: Readonly<Record<string, bigint>>;
  /**
   * /proc/zoneinfo watermarks summed over the populated zones, pages (min, low, high; the engine has one zone and no
   * lowmem protection above it). Absent in hand-built views.
   */
  readonly zoneinfo?: Readonly<{ min: number; low: number; high: number }>;
  /** /proc/pressure/memory as the engine simulates it (zeros and `simulated: false` when the provider has none). */
  readonly psi: PsiReading;
  /** The task table (/proc/<pid>/...), pid order. */
  readonly tasks: readonly Readonly<ViewTask>[];
  /** Memory cgroups known to the machine (scenario groups and every task's cgroup), parent-first. */
  readonly cgroups: readonly string[];
  /** Read a cgroupfs file (fresh open each call): its text or null. */
  cgroupRead(path: string, file: string): string | null;
  /** A cgroup's memory.pressure (zeros and `simulated: false` when the provider has none for it). */
  cgroupPsi(path: string): PsiReading;
  /** This policy's kills whose victims have not exited yet (the daemon's kill wait). */
  readonly pending: readonly PendingKill[];
}

export interface Policy<P = Record<string, unknown>> {
  readonly name: string;
  readonly params: Readonly<P>;
  /** Simulated time until the next poll, from what the daemon sees now (adaptive polling allowed). */
  intervalNs(view: PolicyView): bigint;
  tick(view: PolicyView): PolicyAction[];
  /**
   * The daemon's runtime state as plain data (numbers, bigints, strings, booleans, null, arrays, plain objects), for
   * a snapshot of the run (docs/snapshot-format.md). Optional: a run with a policy that has none cannot be
   * snapshotted. What follows from the parameters alone is not state: a snapshot continued with other parameters
   * (`oomsim run --from --set`) keeps the state and takes the new parameters, as a daemon reloading its config.
   */
  state?(): unknown;
  /** Take over a state saved by `state()` (called on a fresh instance, before its first tick). */
  fromState?(state: unknown): void;
}

/** A built-in policy: its parameter schema (zod, with defaults) and a factory of fresh instances. */
export interface PolicyDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  /** Where the defaults and rules come from (daemon source file and version). */
  source: string;
  params: S;
  create(params: z.output<S>): Policy<z.output<S>>;
}
