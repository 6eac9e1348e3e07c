/**
 * runOps(): executes the inputs of an `ops` vector (vectors-format.md §6) on a ReferenceEngine and produces the
 * observations of §6.4, for chosen `at` entries (with `from_op` intervals) and `final`.
 */
import { type FileValue, V1_FILES, V2_FILES } from './memcontrol.js';
import { ReferenceEngine } from './engine.js';
import { type Access, type CowKind, type FaultKind, InvalidOp, type MachineConfig, type OomRecord, type OpResult } from './types.js';
import { patternPages, type PatternKind } from './workload.js';

/** One op of §6.3 (plus `touch_pattern`, see docs/workload-patterns.md). */
export type Op = { op: string } & Record<string, unknown>;

export interface OpsInputs {
  machine: MachineConfig;
  ops: Op[];
}

export interface PageRef {
  task: number;
  region: string;
  page: number;
}

/** What to observe: `op`/`from_op` for at entries; pages and files that need naming. */
export interface ObservationQuery {
  op?: number;
  from_op?: number;
  pte?: PageRef[];
  vma_flags?: PageRef[];
  /** cgroup path → file names; default: every documented file of every cgroup */
  cgroup_files?: Record<string, string[]>;
}

export interface TaskState {
  alive: boolean;
  blocked: boolean;
  rss: number;
  rss_anon: number;
  rss_file: number;
  rss_shmem: number;
  swapents: number;
  total_vm_pages: number;
  min_flt: number;
  maj_flt: number;
}
export interface CounterState {
  usage: number;
  max: number;
  watermark: number;
  failcnt: number;
}

export interface Observation {
  op?: number;
  from_op?: number;
  result?: OpResult;
  fault?: FaultKind;
  cow?: CowKind;
  pages_allocated: number;
  faults_minor: number;
  faults_major: number;
  committed_as_pages: number;
  committed_as_delta_pages: number;
  commit_limit_pages: number;
  meminfo_kb: Record<string, number>;
  sysctl: Record<string, number>;
  vmstat_delta: Record<string, number>;
  tasks: Record<string, TaskState>;
  tasks_delta: Record<string, Record<string, number>>;
  pte: (PageRef & { state: string })[];
  vma_flags: (PageRef & Record<string, boolean | number | string>)[];
  counters: Record<string, CounterState>;
  counters_delta: Record<string, CounterState>;
  cgroup_files: Record<string, Record<string, FileValue>>;
  fd_reads: Record<string, FileValue>;
  ooms: OomRecord[];
  log: string[];
  /** extension: the panic message once the machine panicked, else null */
  panic: string | null;
}

export interface RunOpsOutput {
  results: OpResult[];
  at: Observation[];
  final: Observation;
  engine: ReferenceEngine;
}

interface Snapshot {
  pagesAllocated: number;
  faultsMinor: number;
  faultsMajor: number;
  committed: number;
  commitLimit: number;
  meminfo: Record<string, number>;
  sysctl: Record<string, number>;
  vmstat: Record<string, number>;
  tasks: Record<string, TaskState>;
  counters: Record<string, CounterState>;
  logLen: number;
  oomsLen: number;
}

function snapshot(e: ReferenceEngine): Snapshot {
  const tasks: Record<string, TaskState> = {};
  for (const [pid, t] of e.allTasks) {
    const mm = t.alive ? t.mm : null;
    const anon = mm?.rssAnon ?? 0;
    const file = mm?.rssFile ?? 0;
    const shmem = mm?.rssShmem ?? 0;
    tasks[String(pid)] = {
      alive: t.alive, blocked: t.blocked, rss: anon + file + shmem, rss_anon: anon, rss_file: file, rss_shmem: shmem,
      swapents: mm?.swapents ?? 0, total_vm_pages: mm?.totalVm ?? 0, min_flt: t.minFlt, maj_flt: t.majFlt,
    };
  }
  const counters: Record<string, CounterState> = {};
  for (const [path, m] of e.memcgs) {
    counters[path] = { usage: m.memory.usage, max: m.memory.max, watermark: m.memory.watermark, failcnt: m.memory.failcnt };
  }
  const vmstat = e.vmstat();
  return {
    pagesAllocated: e.pagesAllocated, faultsMinor: e.faultsMinor, faultsMajor: e.faultsMajor, committed: e.committedAs,
    commitLimit: e.commitLimit(), meminfo: e.meminfo(vmstat), sysctl: { ...e.sysctl }, vmstat, tasks, counters,
    logLen: e.log.length, oomsLen: e.ooms.length,
  };
}

function diffNumeric<T extends object>(after: T, before: T | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (typeof v !== 'number') continue;
    const b = before ? (before as Record<string, unknown>)[k] : 0;
    out[k] = v - (typeof b === 'number' ? b : 0);
  }
  return out;
}

function observe(e: ReferenceEngine, before: Snapshot, after: Snapshot, q: ObservationQuery): Observation {
  const vmstatDelta: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.vmstat)) vmstatDelta[k] = v - (before.vmstat[k] ?? 0);
  const tasksDelta: Record<string, Record<string, number>> = {};
  for (const [pid, s] of Object.entries(after.tasks)) tasksDelta[pid] = diffNumeric(s, before.tasks[pid]);
  const countersDelta: Record<string, CounterState> = {};
  for (const [p, c] of Object.entries(after.counters)) countersDelta[p] = diffNumeric(c, before.counters[p]) as unknown as CounterState;
  const cgroupFiles: Record<string, Record<string, FileValue>> = {};
  const wanted = q.cgroup_files ?? Object.fromEntries([...e.memcgs.keys()].map((p) => [p, [...(e.cgroupVersion === 'v1' ? V1_FILES : V2_FILES)]]));
  for (const [path, files] of Object.entries(wanted)) {
    cgroupFiles[path] = {};
    for (const f of files) cgroupFiles[path][f] = e.cgroupRead(path, f);
  }
  const fdReads: Record<string, FileValue> = {};
  for (const fd of e.fds.keys()) fdReads[fd] = e.fdRead(fd);
  const flagsOf = (r: PageRef) => {
    const f = e.vmaFlags(r.task, r.region, r.page);
    return {
      ...r,
      VM_ACCOUNT: f?.account ?? false, VM_NORESERVE: f?.noreserve ?? false, VM_SHARED: f?.shared ?? false,
      VM_WRITE: f?.write ?? false, VM_READ: f?.read ?? false, VM_DONTCOPY: f?.dontcopy ?? false,
      VM_HUGETLB: f?.hugetlb ?? false, mapped: f !== null,
    };
  };
  return {
    pages_allocated: after.pagesAllocated - before.pagesAllocated,
    faults_minor: after.faultsMinor - before.faultsMinor,
    faults_major: after.faultsMajor - before.faultsMajor,
    committed_as_pages: after.committed,
    committed_as_delta_pages: after.committed - before.committed,
    commit_limit_pages: after.commitLimit,
    meminfo_kb: after.meminfo,
    sysctl: after.sysctl,
    vmstat_delta: vmstatDelta,
    tasks: after.tasks,
    tasks_delta: tasksDelta,
    pte: (q.pte ?? []).map((r) => ({ task: r.task, region: r.region, page: r.page, state: e.pteState(r.task, r.region, r.page) })),
    vma_flags: (q.vma_flags ?? []).map(flagsOf),
    counters: after.counters,
    counters_delta: countersDelta,
    cgroup_files: cgroupFiles,
    fd_reads: fdReads,
    ooms: e.ooms.slice(before.oomsLen, after.oomsLen).map((o) => ({ ...o, killed: [...o.killed] })),
    log: e.log.slice(before.logLen, after.logLen),
    panic: e.panicked,
  };
}

const int = (o: Op, k: string, def?: number): number => {
  const v = o[k];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InvalidOp(`op ${o.op}: ${k} must be an integer`);
  return v;
};
const str = (o: Op, k: string, def?: string): string => {
  const v = o[k];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'string') throw new InvalidOp(`op ${o.op}: ${k} must be a string`);
  return v;
};
const bool = (o: Op, k: string, def: boolean): boolean => {
  const v = o[k];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new InvalidOp(`op ${o.op}: ${k} must be a bool`);
  return v;
};

export interface ApplyOutcome {
  result: OpResult;
  fault?: FaultKind;
  cow?: CowKind;
}

/** Execute one op (and the wake-ups it causes). Ops naming a task that does not exist (exited, killed, or never
 *  created) return "ESRCH", as the kernel answers for a pid with no process. */
export function applyOp(e: ReferenceEngine, o: Op): ApplyOutcome {
  if (e.panicked) return { result: 'panic' };
  const out = dispatch(e, o);
  e.drainWakeups();
  return out;
}

function dispatch(e: ReferenceEngine, o: Op): ApplyOutcome {
  const taskOp = (body: (pid: number) => OpResult): ApplyOutcome => {
    const pid = int(o, 'task');
    const t = e.allTasks.get(pid);
    // no such process: exited, killed, or never created (e.g. the child of a fork that failed)
    if (!t || !t.alive) return { result: 'ESRCH' };
    const task = e.opTask(pid);
    return { result: e.syscall(task, () => body(pid)) };
  };
  switch (o.op) {
    case 'spawn': {
      const pid = int(o, 'task');
      return { result: e.spawn(pid, str(o, 'cgroup', '/'), str(o, 'comm', `task${pid}`), int(o, 'oom_score_adj', 0), int(o, 'uid', 1000), bool(o, 'cap_sys_admin', false)) };
    }
    case 'fork':
      return taskOp((pid) => e.fork(pid, int(o, 'child')));
    case 'exit':
      return taskOp((pid) => e.exit(pid));
    case 'mmap': {
      const flags = o.flags;
      if (!Array.isArray(flags)) throw new InvalidOp('mmap: flags must be a list');
      return taskOp((pid) => e.mmap(pid, str(o, 'region'), int(o, 'pages'), str(o, 'prot'), flags as string[], o.file === undefined ? undefined : str(o, 'file')));
    }
    case 'munmap':
      return taskOp((pid) => e.munmap(pid, str(o, 'region'), int(o, 'first'), int(o, 'count')));
    case 'mprotect':
      return taskOp((pid) => e.mprotect(pid, str(o, 'region'), int(o, 'first'), int(o, 'count'), str(o, 'prot')));
    case 'madvise':
      return taskOp((pid) => e.madvise(pid, str(o, 'region'), int(o, 'first'), int(o, 'count'), str(o, 'advice')));
    case 'brk':
      return taskOp((pid) => e.brk(pid, int(o, 'pages')));
    case 'touch':
    case 'touch_pattern': {
      const pid = int(o, 'task');
      const t0 = e.allTasks.get(pid);
      if (!t0 || !t0.alive) return { result: 'ESRCH' };
      const task = e.opTask(pid);
      const region = str(o, 'region');
      const access = str(o, 'access');
      if (access !== 'read' && access !== 'write') throw new InvalidOp('touch: access must be read or write');
      const write = access === 'write';
      const first = int(o, 'first');
      const count = int(o, 'count');
      let pages: number[];
      if (o.op === 'touch') {
        pages = Array.from({ length: Math.max(count, 0) }, (_, i) => first + i);
      } else {
        const seed = o.seed;
        pages = patternPages({
          pattern: str(o, 'pattern') as PatternKind, count, n: int(o, 'n'),
          seed: typeof seed === 'bigint' ? seed : int(o, 'seed', 0), stride: int(o, 'stride', 1), s: int(o, 's', 1),
        }).map((p) => first + p);
      }
      const list: Access[] = pages.map((page) => ({ region, page, write }));
      const r = e.runTaskAccesses(task, list);
      const out: ApplyOutcome = { result: r.result };
      if (o.op === 'touch' && count === 1) {
        out.fault = r.fault;
        if (write) out.cow = r.cow;
      }
      return out;
    }
    case 'swapout':
      return taskOp((pid) => e.swapout(pid, str(o, 'region'), int(o, 'first'), int(o, 'count'), bool(o, 'swapcache', false)));
    case 'file_create': {
      const fs = str(o, 'fs');
      if (fs !== 'disk' && fs !== 'tmpfs' && fs !== 'hugetlbfs') throw new InvalidOp(`file_create: bad fs ${fs}`);
      return { result: e.syscall(null, () => e.fileCreate(str(o, 'file'), fs, int(o, 'pages', 0), bool(o, 'cached', false))) };
    }
    case 'file_read':
      return taskOp((pid) => e.fileRead(pid, str(o, 'file'), int(o, 'first'), int(o, 'count')));
    case 'file_write':
      return taskOp((pid) => e.fileWrite(pid, str(o, 'file'), int(o, 'first'), int(o, 'count')));
    case 'sysctl':
      return { result: e.writeSysctl(str(o, 'name'), int(o, 'value')) };
    case 'cgroup_create':
      return { result: e.cgroupCreate(str(o, 'path')) };
    case 'cgroup_write':
      return { result: e.syscall(null, () => e.cgroupWrite(str(o, 'path'), str(o, 'file'), str(o, 'value'))) };
    case 'cgroup_open':
      return { result: e.cgroupOpen(str(o, 'path'), str(o, 'file'), str(o, 'fd')) };
    case 'fd_write':
      return { result: e.syscall(null, () => e.fdWrite(str(o, 'fd'), str(o, 'value'))) };
    case 'charge':
      return { result: e.charge(str(o, 'path'), int(o, 'pages')) };
    case 'uncharge':
      return { result: e.unchargeOp(str(o, 'path'), int(o, 'pages')) };
  }
  throw new InvalidOp(`unknown op ${String(o.op)}`);
}

/**
 * Run an `ops` vector's inputs. Without `opts.at`, every op gets an at entry (interval = the op alone); `final`
 * covers all ops. Observations are taken right after their op (including the wake-ups it caused).
 */
export function runOps(inputs: OpsInputs, opts: { at?: ObservationQuery[]; final?: ObservationQuery } = {}): RunOpsOutput {
  const e = new ReferenceEngine(inputs.machine);
  const ops = inputs.ops;
  const atQ: ObservationQuery[] = opts.at ?? ops.map((_, k) => ({ op: k }));
  for (const q of atQ) {
    const k = q.op ?? -1;
    const j = q.from_op ?? k;
    if (!(k >= 0 && k < ops.length) || !(j >= 0 && j <= k)) throw new InvalidOp(`observation op ${k} / from_op ${j} out of range`);
  }
  const needBefore = new Set(atQ.map((q) => q.from_op ?? q.op!));
  const byOp = new Map<number, ObservationQuery[]>();
  for (const q of atQ) byOp.set(q.op!, [...(byOp.get(q.op!) ?? []), q]);
  const before = new Map<number, Snapshot>();
  const initial = snapshot(e);
  const results: OpResult[] = [];
  const atOut = new Map<ObservationQuery, Observation>();
  for (let k = 0; k < ops.length; k++) {
    if (needBefore.has(k)) before.set(k, k === 0 ? initial : snapshot(e));
    const out = applyOp(e, ops[k]);
    results.push(out.result);
    const qs = byOp.get(k);
    if (!qs) continue;
    const after = snapshot(e);
    for (const q of qs) {
      const j = q.from_op ?? k;
      const obs = observe(e, before.get(j)!, after, q);
      const full: Observation = { op: k, ...(q.from_op !== undefined ? { from_op: q.from_op } : {}), result: out.result, ...obs };
      if (out.fault !== undefined) full.fault = out.fault;
      if (out.cow !== undefined) full.cow = out.cow;
      atOut.set(q, full);
    }
  }
  const final = observe(e, initial, snapshot(e), opts.final ?? {});
  return { results, at: atQ.map((q) => atOut.get(q)!), final, engine: e };
}
