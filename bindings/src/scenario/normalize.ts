/**
 * The normalized scenario: what the engine adapter consumes. Everything is resolved and explicit:
 *
 * - memory in **pages** (BigInt; 4096-byte pages), time in **nanoseconds** (BigInt), rates as an exact
 *   `{ bytes, intervalNs }` pair (no rounding: `1k/s` is 1024 bytes per 1e9 ns);
 * - every default filled in (the defaults are the ones in schema.ts and docs/scenario-format.md);
 * - every process has a pid; every action target is a pid; fork children have pids;
 * - cgroups are listed parent-first, including implicit ancestors and the root `/`;
 * - actions are sorted by time (stable: same-time actions keep file order).
 *
 * Rounding: RAM, swap and cgroup limits are floored to pages (the kernel's conversions: memparse then
 * bytes/PAGE_SIZE); sizes a workload touches are rounded UP to pages (a touched byte occupies its whole page).
 */
import {
  CGROUP_V1_FILES,
  type ActionKind,
  type CgroupFile,
  type Scenario,
  type SysctlName,
  type Workload,
  type WorkloadKind,
} from './schema.js';
import {
  PAGE_SIZE,
  bytesToPagesCeil,
  bytesToPagesFloor,
  parseCgroupLimit,
  parseDuration,
  parseKernelInt,
  parseRate,
  parseSize,
  type CgroupVersion,
  type Rate,
} from './size.js';

// ---------------------------------------------------------------------------------------------------------------
// Types

export type SwapType = 'disk' | 'ssd' | 'zram';

export interface NormalizedSwapDevice {
  /** Index in machine.swap (swapon order). */
  index: number;
  pages: bigint;
  type: SwapType;
  /** The swapon priority; unspecified devices get -2, -3, ... in order, as mm/swapfile.c assigns them. */
  priority: number;
  /** zram: uncompressed/compressed (default 3); null for disk and ssd. */
  compressionRatio: number | null;
}

/**
 * Sysctl values after boot, by real name. `null` means "computed by the kernel at boot" (the engine computes it:
 * vm.admin_reserve_kbytes and vm.user_reserve_kbytes per dossier §1.4, vm.min_free_kbytes per §5.1).
 * Values are BigInt because unsigned-long sysctls can exceed 2^53.
 */
export type NormalizedSysctls = Record<SysctlName, bigint | null>;

/** The fixed compile-time defaults (dossier §1.1, §2.11, §5.1, §5.4). */
export const SYSCTL_DEFAULTS: NormalizedSysctls = {
  'vm.overcommit_memory': 0n,
  'vm.overcommit_ratio': 50n,
  'vm.overcommit_kbytes': 0n,
  'vm.admin_reserve_kbytes': null,
  'vm.user_reserve_kbytes': null,
  'vm.panic_on_oom': 0n,
  'vm.oom_kill_allocating_task': 0n,
  'vm.oom_dump_tasks': 1n,
  'vm.swappiness': 60n,
  'vm.min_free_kbytes': null,
  'vm.watermark_scale_factor': 10n,
};

/**
 * One cgroup file write. `value` is:
 * - limit files (`memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`, `memory.soft_limit_in_bytes`,
 *   `memory.kmem.limit_in_bytes`, `memory.max`, `memory.high`, `memory.low`, `memory.min`, `memory.swap.max`):
 *   **pages**, floored, PAGE_COUNTER_MAX (2251799813685247) for `-1`/`max`;
 * - `memory.oom_control`: the oom_kill_disable value 0/1;
 * - `memory.swappiness`: 0..200; `memory.use_hierarchy`: 1; `memory.oom.group`: 0/1.
 * `text` is the value as the scenario wrote it (for logs and for replaying the write through the kernel parser).
 */
export interface NormalizedCgroupWrite {
  file: CgroupFile;
  value: bigint;
  text: string;
}

export interface NormalizedCgroup {
  /** Absolute path; `/` is the root. */
  path: string;
  /** Parent path, null for the root. */
  parent: string | null;
  /** True when the group was not declared itself but is an ancestor of a declared one (mkdir -p). */
  implicit: boolean;
  /**
   * Files to write at creation, in an order the kernel accepts: v1 `memory.limit_in_bytes` before
   * `memory.memsw.limit_in_bytes` (memsw must stay >= limit at every write), otherwise as written.
   */
  files: NormalizedCgroupWrite[];
}

export type NormalizedWorkload =
  | { kind: 'idle' }
  | { kind: 'steady'; workingSetPages: bigint; rampNs: bigint }
  | { kind: 'leak'; rate: Rate; initialPages: bigint; limitPages: bigint | null }
  | { kind: 'spike'; baselinePages: bigint; sizePages: bigint; atNs: bigint; durationNs: bigint }
  | { kind: 'periodic'; baselinePages: bigint; sizePages: bigint; periodNs: bigint; duty: number }
  | { kind: 'file_scan'; filePages: bigint; rate: Rate; loops: number; mapped: boolean }
  | { kind: 'zipf'; workingSetPages: bigint; skew: number; touchRate: number; writeFraction: number }
  | { kind: 'fork_exec'; intervalNs: bigint; childComm: string; childPages: bigint; childLifetimeNs: bigint }
  | { kind: 'fork_bomb'; intervalNs: bigint; childPages: bigint; maxTasks: number | null }
  | { kind: 'jvm'; reservePages: bigint; initialPages: bigint; growth: Rate; gcEveryNs: bigint; liveFraction: number }
  | { kind: 'rss_curve'; points: { atNs: bigint; pages: bigint }[] };

export type NormalizedSupervisor =
  | { kind: 'systemd'; restart: 'no' | 'on-success' | 'on-failure' | 'on-abnormal' | 'on-abort' | 'always'; restartSecNs: bigint; startLimitBurst: number; startLimitIntervalNs: bigint }
  | { kind: 'kubernetes'; restartPolicy: 'Always' | 'OnFailure' | 'Never'; backoffInitialNs: bigint; backoffMaxNs: bigint };

export interface NormalizedProcess {
  pid: number;
  comm: string;
  uid: number;
  /** Explicit, or uid == 0 when the scenario did not say. */
  capSysAdmin: boolean;
  cgroup: string;
  oomScoreAdj: number;
  startNs: bigint;
  workload: NormalizedWorkload;
  supervisor: NormalizedSupervisor | null;
}

export type NormalizedAction =
  | { action: 'fork'; atNs: bigint; pid: number; child: { pid: number; comm: string; workload: NormalizedWorkload } }
  | { action: 'exec'; atNs: bigint; pid: number; comm: string; workload: NormalizedWorkload }
  | { action: 'kill'; atNs: bigint; pid: number; signal: 'SIGKILL' | 'SIGTERM' }
  | { action: 'exit'; atNs: bigint; pid: number; code: number }
  | { action: 'set_adj'; atNs: bigint; pid: number; oomScoreAdj: number }
  /** Writes in the order written; sysctl values are BigInt. */
  | { action: 'sysctl'; atNs: bigint; writes: { name: SysctlName; value: bigint }[] }
  | { action: 'cgroup_write'; atNs: bigint; cgroup: string; writes: NormalizedCgroupWrite[] };

export interface NormalizedScenario {
  name: string;
  description: string;
  seed: number;
  durationNs: bigint;
  pageSize: 4096;
  machine: {
    totalramPages: bigint;
    swap: NormalizedSwapDevice[];
    /** Sum of swap device pages. */
    totalSwapPages: bigint;
    sysctl: NormalizedSysctls;
    /** Simulation switch (oom_killer_disable()), not a sysctl. */
    oomKillerDisabled: boolean;
  };
  cgroups: { version: CgroupVersion; groups: NormalizedCgroup[] };
  processes: NormalizedProcess[];
  actions: NormalizedAction[];
}

// ---------------------------------------------------------------------------------------------------------------
// Conversion (input is already validated: the parse helpers cannot fail here; `must` guards regardless)

function must<T>(r: { ok: true; value: T } | { ok: false; error: string }, what: string): T {
  if (!r.ok) throw new Error(`normalize: ${what}: ${r.error} (was the scenario validated?)`);
  return r.value;
}
const bytes = (v: string | number) => must(parseSize(v), 'size');
const ceilPages = (v: string | number) => bytesToPagesCeil(bytes(v));
const ns = (v: string | number) => must(parseDuration(v), 'duration');
const rate = (v: string) => must(parseRate(v), 'rate');
const kint = (v: string | number) => must(parseKernelInt(v), 'integer');

/** First pid handed out to processes without one. */
export const FIRST_AUTO_PID = 1000;

function cgroupWrite(file: CgroupFile, v: unknown, version: CgroupVersion): NormalizedCgroupWrite {
  if (file === 'memory.oom_control') {
    const raw = typeof v === 'object' && v !== null ? (v as { oom_kill_disable: string | number }).oom_kill_disable : (v as string | number);
    return { file, value: kint(raw), text: String(raw) };
  }
  if (file === 'memory.swappiness' || file === 'memory.use_hierarchy' || file === 'memory.oom.group') {
    return { file, value: kint(v as string | number), text: String(v) };
  }
  const fileVersion: CgroupVersion = file in CGROUP_V1_FILES ? 'v1' : 'v2';
  const r = parseCgroupLimit(v as string | number, fileVersion ?? version);
  if (!r.ok) throw new Error(`normalize: ${file}: ${r.error}`);
  return { file, value: r.pages, text: String(v) };
}

function normalizeWorkload(w: Workload): NormalizedWorkload {
  switch (w.kind as WorkloadKind) {
    case 'idle':
      return { kind: 'idle' };
    case 'steady': {
      const x = w as Extract<Workload, { kind: 'steady' }>;
      return { kind: 'steady', workingSetPages: ceilPages(x.working_set), rampNs: ns(x.ramp) };
    }
    case 'leak': {
      const x = w as Extract<Workload, { kind: 'leak' }>;
      return { kind: 'leak', rate: rate(x.rate), initialPages: ceilPages(x.initial), limitPages: x.limit === undefined ? null : ceilPages(x.limit) };
    }
    case 'spike': {
      const x = w as Extract<Workload, { kind: 'spike' }>;
      return { kind: 'spike', baselinePages: ceilPages(x.baseline), sizePages: ceilPages(x.size), atNs: ns(x.at), durationNs: ns(x.duration) };
    }
    case 'periodic': {
      const x = w as Extract<Workload, { kind: 'periodic' }>;
      return { kind: 'periodic', baselinePages: ceilPages(x.baseline), sizePages: ceilPages(x.size), periodNs: ns(x.period), duty: x.duty };
    }
    case 'file_scan': {
      const x = w as Extract<Workload, { kind: 'file_scan' }>;
      return { kind: 'file_scan', filePages: ceilPages(x.file_size), rate: rate(x.rate), loops: x.loops, mapped: x.mapped };
    }
    case 'zipf': {
      const x = w as Extract<Workload, { kind: 'zipf' }>;
      return { kind: 'zipf', workingSetPages: ceilPages(x.working_set), skew: x.skew, touchRate: x.touch_rate, writeFraction: x.write_fraction };
    }
    case 'fork_exec': {
      const x = w as Extract<Workload, { kind: 'fork_exec' }>;
      return { kind: 'fork_exec', intervalNs: ns(x.interval), childComm: x.child_comm, childPages: ceilPages(x.child_size), childLifetimeNs: ns(x.child_lifetime) };
    }
    case 'fork_bomb': {
      const x = w as Extract<Workload, { kind: 'fork_bomb' }>;
      return { kind: 'fork_bomb', intervalNs: ns(x.interval), childPages: ceilPages(x.child_size), maxTasks: x.max_tasks ?? null };
    }
    case 'jvm': {
      const x = w as Extract<Workload, { kind: 'jvm' }>;
      return { kind: 'jvm', reservePages: ceilPages(x.reserve), initialPages: ceilPages(x.initial), growth: rate(x.growth), gcEveryNs: ns(x.gc_every), liveFraction: x.live_fraction };
    }
    case 'rss_curve': {
      const x = w as Extract<Workload, { kind: 'rss_curve' }>;
      // Out-of-order points are sorted (stable): the curve is a function of time.
      const points = x.points.map((p) => ({ atNs: ns(p.at), pages: ceilPages(p.rss) })).sort((a, b) => (a.atNs < b.atNs ? -1 : a.atNs > b.atNs ? 1 : 0));
      return { kind: 'rss_curve', points };
    }
  }
}

/** Normalize a validated scenario. `file` supplies the default name (its base name without extension). */
export function normalizeScenario(s: Scenario, opts: { file?: string } = {}): NormalizedScenario {
  const version: CgroupVersion = s.cgroups?.version ?? 'v2';

  // Machine.
  let nextPrio = -2;
  const swap: NormalizedSwapDevice[] = s.machine.swap.map((d, index) => ({
    index,
    pages: bytesToPagesFloor(bytes(d.size)),
    type: d.type,
    priority: d.priority === undefined ? nextPrio-- : Number(kint(d.priority)),
    compressionRatio: d.type === 'zram' ? (d.compression_ratio ?? 3) : null,
  }));
  const sysctl: NormalizedSysctls = { ...SYSCTL_DEFAULTS };
  for (const [k, v] of Object.entries(s.machine.sysctl)) if (v !== undefined) sysctl[k as SysctlName] = kint(v as string | number);

  // Cgroups, parent-first.
  const declared = s.cgroups?.groups ?? {};
  const paths = new Set<string>(['/']);
  for (const p of Object.keys(declared)) {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) paths.add('/' + parts.slice(0, i).join('/'));
  }
  const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
  const groups: NormalizedCgroup[] = [...paths]
    .sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((path) => {
      const files = declared[path] ?? {};
      const writes = Object.entries(files)
        .filter(([, v]) => v !== undefined)
        .map(([f, v]) => cgroupWrite(f as CgroupFile, v, version));
      const rank = (w: NormalizedCgroupWrite) => (w.file === 'memory.limit_in_bytes' ? 0 : w.file === 'memory.memsw.limit_in_bytes' ? 1 : 2);
      writes.sort((a, b) => rank(a) - rank(b));
      const parent = path === '/' ? null : path.lastIndexOf('/') === 0 ? '/' : path.slice(0, path.lastIndexOf('/'));
      return { path, parent, implicit: path !== '/' && !(path in declared), files: writes };
    });

  // Pids: fixed ones first, then auto-assigned from FIRST_AUTO_PID in file order (processes, then fork children
  // in time order).
  const used = new Set<number>();
  for (const p of s.processes) if (p.pid !== undefined) used.add(p.pid);
  for (const a of s.actions) if (a.action === 'fork' && a.child.pid !== undefined) used.add(a.child.pid);
  let next = FIRST_AUTO_PID;
  const alloc = () => {
    while (used.has(next)) next++;
    used.add(next);
    return next;
  };
  const byComm = new Map<string, number>();
  const processes: NormalizedProcess[] = s.processes.map((p) => {
    const pid = p.pid ?? alloc();
    byComm.set(p.comm, pid);
    return {
      pid,
      comm: p.comm,
      uid: p.uid,
      capSysAdmin: p.cap_sys_admin ?? p.uid === 0,
      cgroup: p.cgroup,
      oomScoreAdj: Number(kint(p.oom_score_adj)),
      startNs: ns(p.start),
      workload: normalizeWorkload(p.workload as Workload),
      supervisor: p.supervisor ? normalizeSupervisor(p.supervisor) : null,
    };
  });

  // Actions in time order; targets resolved to pids.
  const timed = s.actions.map((a, i) => ({ a, i, at: ns(a.at) })).sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.i - y.i));
  const commOf = new Map<number, string>(processes.map((p) => [p.pid, p.comm]));
  // Names introduced by fork children and exec are resolvable wherever they appear (validation made them unique).
  const childPid = new Map<number, number>();
  for (const { a, i } of timed) {
    if (a.action === 'fork') {
      const pid = a.child.pid ?? alloc();
      childPid.set(i, pid);
      if (a.child.comm) byComm.set(a.child.comm, pid);
    }
  }
  const resolve = (t: string | number): number => {
    if (typeof t === 'number') return t;
    const pid = byComm.get(t);
    if (pid === undefined) throw new Error(`normalize: unknown target ${t} (was the scenario validated?)`);
    return pid;
  };
  for (const { a } of timed) if (a.action === 'exec') byComm.set(a.comm, resolve(a.target));

  const actions: NormalizedAction[] = timed.map(({ a, i, at }): NormalizedAction => {
    const kind = a.action as ActionKind;
    switch (kind) {
      case 'fork': {
        const x = a as Extract<Scenario['actions'][number], { action: 'fork' }>;
        const parent = resolve(x.target);
        const pid = childPid.get(i)!;
        const comm = x.child.comm ?? commOf.get(parent) ?? 'child';
        commOf.set(pid, comm);
        return { action: 'fork', atNs: at, pid: parent, child: { pid, comm, workload: x.child.workload ? normalizeWorkload(x.child.workload as Workload) : { kind: 'idle' } } };
      }
      case 'exec': {
        const x = a as Extract<Scenario['actions'][number], { action: 'exec' }>;
        return { action: 'exec', atNs: at, pid: resolve(x.target), comm: x.comm, workload: x.workload ? normalizeWorkload(x.workload as Workload) : { kind: 'idle' } };
      }
      case 'kill': {
        const x = a as Extract<Scenario['actions'][number], { action: 'kill' }>;
        return { action: 'kill', atNs: at, pid: resolve(x.target), signal: x.signal };
      }
      case 'exit': {
        const x = a as Extract<Scenario['actions'][number], { action: 'exit' }>;
        return { action: 'exit', atNs: at, pid: resolve(x.target), code: x.code };
      }
      case 'set_adj': {
        const x = a as Extract<Scenario['actions'][number], { action: 'set_adj' }>;
        return { action: 'set_adj', atNs: at, pid: resolve(x.target), oomScoreAdj: Number(kint(x.oom_score_adj)) };
      }
      case 'sysctl': {
        const x = a as Extract<Scenario['actions'][number], { action: 'sysctl' }>;
        const writes = Object.entries(x.set)
          .filter(([, v]) => v !== undefined)
          .map(([name, v]) => ({ name: name as SysctlName, value: kint(v as string | number) }));
        return { action: 'sysctl', atNs: at, writes };
      }
      case 'cgroup_write': {
        const x = a as Extract<Scenario['actions'][number], { action: 'cgroup_write' }>;
        const writes = Object.entries(x.set)
          .filter(([, v]) => v !== undefined)
          .map(([f, v]) => cgroupWrite(f as CgroupFile, v, version));
        return { action: 'cgroup_write', atNs: at, cgroup: x.cgroup, writes };
      }
    }
  });

  const name = s.name ?? (opts.file ? fileStem(opts.file) : 'scenario');
  return {
    name,
    description: s.description ?? '',
    seed: s.seed,
    durationNs: ns(s.duration),
    pageSize: Number(PAGE_SIZE) as 4096,
    machine: {
      totalramPages: bytesToPagesFloor(bytes(s.machine.ram)),
      swap,
      totalSwapPages: swap.reduce((t, d) => t + d.pages, 0n),
      sysctl,
      oomKillerDisabled: s.machine.oom_killer_disabled,
    },
    cgroups: { version, groups },
    processes,
    actions,
  };
}

function normalizeSupervisor(x: NonNullable<Scenario['processes'][number]['supervisor']>): NormalizedSupervisor {
  if (x.kind === 'systemd') {
    const y = x as Extract<typeof x, { kind: 'systemd' }>;
    return { kind: 'systemd', restart: y.restart, restartSecNs: ns(y.restart_sec), startLimitBurst: y.start_limit_burst, startLimitIntervalNs: ns(y.start_limit_interval) };
  }
  const y = x as Extract<typeof x, { kind: 'kubernetes' }>;
  return { kind: 'kubernetes', restartPolicy: y.restart_policy, backoffInitialNs: ns(y.backoff_initial), backoffMaxNs: ns(y.backoff_max) };
}

/** A rate as pages per second (a float; for display and quick estimates only). */
export function ratePagesPerSecond(r: Rate): number {
  return (Number(r.bytes) / Number(PAGE_SIZE)) * (1e9 / Number(r.intervalNs));
}

/** node:path's posix `basename(p, extname(p))`: the file name without its folder and its extension (a last dot
 * that is not the name's first character, and not in `..`), so the normalizer also runs in browsers. */
export function fileStem(path: string): string {
  const b = path.replace(/\/+$/, '').split('/').pop() ?? '';
  if (b === '..') return b;
  const dot = b.lastIndexOf('.');
  return dot > 0 ? b.slice(0, dot) : b;
}
