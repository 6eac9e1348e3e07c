/**
 * The TS face of the wasm engine: one opaque handle, a command buffer written through a typed-array view, counters
 * read through views that are rebuilt whenever wasm memory grows, events drained after each call, typed errors,
 * and poisoning: if the engine ever traps (a bug), this handle refuses every later call with a clear message.
 */
import { OomsimError, fromEngineError } from './errors.js';
import { OPS, type OpName } from './generated/ops.js';
import { VMSTAT_NAMES, type VmstatName } from './generated/vmstat.js';
import { MEMINFO_NAMES, type MeminfoName } from './generated/meminfo.js';
import { SYSCTL_NAMES, type SysctlName } from './generated/sysctl.js';
import { RawEngine, StopReason, wasmMemory } from './wasm.js';

export { MEMINFO_NAMES, SYSCTL_NAMES };
export type { MeminfoName, SysctlName };

/** Errno names by number (include/uapi/asm-generic/errno-base.h), for syscall results. */
export const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY',
  22: 'EINVAL', 28: 'ENOSPC', 95: 'EOPNOTSUPP',
};
/**
 * A syscall's result as the simulated process sees it: `>= 0` success (a value such as the first page of a new
 * mapping), `< 0` a negated errno. Returning ENOMEM to a process is a simulation outcome, not an exception.
 */
export type SysResult = number;
/** 'ok' for a non-negative result, else the errno name ('ENOMEM', 'EINVAL', ...). */
export function resultName(r: SysResult | bigint): string {
  const n = Number(r);
  return n >= 0 ? 'ok' : (ERRNO[-n] ?? `E${-n}`);
}

export type Prot = 'none' | 'r' | 'rw';
const PROT_CODE: Record<Prot, number> = { none: 0, r: 1, rw: 3 };
export interface MmapOptions {
  prot?: Prot;
  /** MAP_SHARED (default MAP_PRIVATE). */
  shared?: boolean;
  /** A file id from `fileCreate` (default: anonymous memory). */
  file?: number;
  /** MAP_NORESERVE (honoured only when vm.overcommit_memory != 2, as in the kernel). */
  noreserve?: boolean;
}
export type Access = 'read' | 'write';
export type Pattern = { kind: 'strided'; stride: number } | { kind: 'uniform' } | { kind: 'zipf' };
export type FileSystem = 'disk' | 'tmpfs' | 'hugetlbfs';
export interface SpawnOptions {
  comm?: string;
  uid?: number;
  capSysAdmin?: boolean;
  oomScoreAdj?: number;
  /** Absolute cgroup path the process starts in (default '/'); create it first with `cgroupCreate`. */
  cgroup?: string;
}
export interface TaskRow {
  pid: number;
  ppid: number;
  comm: string;
  uid: number;
  oom_score_adj: number;
  state: string;
  in_vfork: boolean;
  min_flt: number;
  maj_flt: number;
  cgroup: string;
  vm_size_kb: number;
  vm_rss_kb: number;
  rss_anon_kb: number;
  rss_file_kb: number;
  rss_shmem_kb: number;
  vm_pte_kb: number;
  vm_swap_kb: number;
}
const lo = (v: number) => v % 0x1_0000_0000;
const hi = (v: number) => Math.floor(v / 0x1_0000_0000);

export type StopReasonName = 'done' | 'panic';
const STOP_NAMES: Record<number, StopReasonName> = {
  [StopReason.Done]: 'done',
  [StopReason.Panic]: 'panic',
};

export const EVENT_KINDS = { 1: 'syscall_error', 2: 'task_new', 3: 'task_exit', 4: 'oom_kill', 5: 'panic', 6: 'signal' } as const;
export type EventKindName = (typeof EVENT_KINDS)[keyof typeof EVENT_KINDS];
export interface EngineEvent {
  kind: EventKindName;
  pid: number;
  a: number;
  b: number;
  c: bigint;
  timeNs: bigint;
}
const EVENT_WORDS = 8;

/** One row of the OOM explanation table (memory in pages). */
export interface OomCandidate {
  pid: number;
  comm: string;
  memcg: string;
  rss_pages: number;
  swapents: number;
  pgtables_pages: number;
  oom_score_adj: number;
  /** adj * (totalpages / 1000), the division first. */
  adj_points: number;
  /** The points select_bad_process compares; null when unkillable (LONG_MIN). */
  badness: number | null;
  oom_score: number;
  eligible: boolean;
  /** Why not eligible, or null. */
  reason: string | null;
  /** The task this OOM would kill. */
  chosen: boolean;
}
export interface OomExplanation {
  constraint: string;
  totalpages: number;
  /** Eligible tasks first, best victim first; then the ineligible ones in task-list order. */
  rows: OomCandidate[];
}

export interface EngineOptions {
  /** Managed RAM in 4 KiB pages (MemTotal), the hugetlb pool included. */
  totalramPages: number;
  /** Swap space in pages (default 0). */
  totalSwapPages?: number;
  /** Preallocated hugetlb pool in base pages (default 0). */
  hugetlbTotalPages?: number;
  /** PRNG seed for generated workloads. Same seed, same results, native and wasm. */
  seed?: bigint | number;
  /** Command-buffer size in u32 words (default 65536). */
  cmdCapacity?: number;
  /** Memory cgroup hierarchy: 'v2' (default) or 'v1' (legacy, with memsw accounting). Only the root `/` exists at boot. */
  cgroup?: 'v1' | 'v2';
}

type ArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T };

/** A typed-array view over wasm memory that is rebuilt when the memory buffer changes (growth detaches it). */
class MemView<T extends { length: number }> {
  private buffer: ArrayBufferLike | undefined;
  private ptr = -1;
  private len = -1;
  private view: T | undefined;
  constructor(private readonly ctor: ArrayCtor<T>) {}
  get(ptr: number, len: number): T {
    const buf = wasmMemory().buffer;
    if (this.view === undefined || buf !== this.buffer || ptr !== this.ptr || len !== this.len) {
      this.view = new this.ctor(buf, ptr, len);
      this.buffer = buf;
      this.ptr = ptr;
      this.len = len;
    }
    return this.view;
  }
}

export class Engine {
  private raw: RawEngine | undefined;
  private poisoned: string | undefined;
  private readonly cmdView = new MemView(Uint32Array);
  private readonly vmstatView = new MemView(BigUint64Array);
  private readonly meminfoView = new MemView(BigUint64Array);
  private readonly eventView = new MemView(Uint32Array);
  private readonly resultView = new MemView(BigInt64Array);
  private cmdLen = 0;
  private readonly cmdCapacity: number;
  private pendingResults: bigint[] = [];

  /** Create an engine. The wasm module must be loaded (`await load()` from 'oomsim'). */
  constructor(opts: EngineOptions) {
    const pages = opts.totalramPages;
    // the largest frame number a simulated PTE holds (engine/core mm_types.rs MAX_PTE_FRAME: 2^28 - 3, 1 TiB)
    if (!Number.isInteger(pages) || pages < 1 || pages > 0xfff_fffd) {
      throw new OomsimError('E_ARG', `totalramPages: ${pages} is not allowed; expected an integer 1..268435453 (1 TiB)`);
    }
    const cap = opts.cmdCapacity ?? 65536;
    if (!Number.isInteger(cap) || cap < 16 || cap > 1 << 26) {
      throw new OomsimError('E_ARG', `cmdCapacity: ${cap} is not allowed; expected an integer 16..67108864 words`);
    }
    const u32 = (name: string, v: number | undefined) => {
      const x = v ?? 0;
      if (!Number.isInteger(x) || x < 0 || x > 0xffff_ffff) throw new OomsimError('E_ARG', `${name}: ${x} is not allowed; expected an integer 0..4294967295`);
      return x;
    };
    const swap = u32('totalSwapPages', opts.totalSwapPages);
    const huge = u32('hugetlbTotalPages', opts.hugetlbTotalPages);
    const seed = BigInt(opts.seed ?? 0);
    if (seed < 0n || seed >= 1n << 64n) throw new OomsimError('E_ARG', `seed: ${seed} is not allowed; expected 0..2^64-1`);
    try {
      const cg = opts.cgroup ?? 'v2';
      if (cg !== 'v1' && cg !== 'v2') throw new OomsimError('E_ARG', `cgroup: ${String(cg)} is not allowed; expected 'v1' or 'v2'`);
      this.raw = new RawEngine(pages, swap, huge, seed, cap, cg === 'v1');
    } catch (e) {
      throw fromEngineError(e);
    }
    this.cmdCapacity = cap;
  }

  /** Run `f` on the raw handle: typed errors, and poisoning after a trap. */
  private call<T>(what: string, f: (raw: RawEngine) => T): T {
    if (this.poisoned !== undefined) {
      throw new OomsimError('E_POISONED', `this engine handle is unusable since ${this.poisoned}; create a new Engine`);
    }
    if (this.raw === undefined) throw new OomsimError('E_FREED', `${what}: this engine handle was freed`);
    try {
      return f(this.raw);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        this.poisoned = `${what}() trapped (${e.message})`;
        throw new OomsimError('E_TRAP', `${what}() trapped inside the engine (${e.message}); this handle is now poisoned`);
      }
      throw fromEngineError(e);
    }
  }

  get isPoisoned(): boolean {
    return this.poisoned !== undefined;
  }

  // --- command buffer ----------------------------------------------------------------------------------------
  /** Queue a command. Flushes automatically when the buffer is full. */
  push(op: OpName, ...args: number[]): this {
    const spec = OPS[op];
    if (spec === undefined) {
      throw new OomsimError('E_ARG', `unknown op '${op}'; allowed: ${Object.keys(OPS).join(', ')}`);
    }
    if (args.length !== spec.nargs) {
      throw new OomsimError('E_ARG', `${op} takes ${spec.nargs} arguments, got ${args.length}`);
    }
    const need = 2 + args.length;
    if (this.cmdLen + need > this.cmdCapacity) this.flush();
    const words = this.call('cmd_ptr', (r) => this.cmdView.get(r.cmd_ptr(), this.cmdCapacity));
    words[this.cmdLen++] = spec.code;
    words[this.cmdLen++] = spec.nargs;
    for (const a of args) {
      if (!Number.isInteger(a) || a < 0 || a > 0xffff_ffff) {
        this.cmdLen -= 2 + args.indexOf(a);
        throw new OomsimError('E_ARG', `${op}: argument ${a} is not a u32`);
      }
      words[this.cmdLen++] = a;
    }
    return this;
  }

  /** Execute queued commands now (results are kept for the next `submit`). */
  flush(): void {
    if (this.cmdLen === 0) return;
    const len = this.cmdLen;
    this.cmdLen = 0;
    const n = this.call('exec', (r) => r.exec(len));
    const res = this.call('results_ptr', (r) => this.resultView.get(r.results_ptr(), n));
    for (let i = 0; i < n; i++) this.pendingResults.push(res[i]);
  }

  /** Execute every queued command; returns one result per command (>= 0 a value, < 0 a negated errno). */
  submit(): bigint[] {
    this.flush();
    const out = this.pendingResults;
    this.pendingResults = [];
    return out;
  }

  /**
   * Write raw command words straight into the engine's buffer and execute them: the fastest path, for callers
   * that encode commands themselves (benchmarks, generated workloads). Returns the number of commands executed.
   */
  execWords(fill: (words: Uint32Array) => number): number {
    const words = this.call('cmd_ptr', (r) => this.cmdView.get(r.cmd_ptr(), this.cmdCapacity));
    const len = fill(words);
    return this.call('exec', (r) => r.exec(len));
  }

  // --- syscalls (each one command through the buffer; batch with push/submit for speed) ------------------------
  /** Run one command now (after any queued ones) and return its result without touching `submit`'s results. */
  private one(op: OpName, ...args: number[]): SysResult {
    this.flush();
    this.push(op, ...args);
    const len = this.cmdLen;
    this.cmdLen = 0;
    this.call('exec', (r) => r.exec(len));
    return Number(this.call('results_ptr', (r) => this.resultView.get(r.results_ptr(), 1))[0]);
  }
  /** Create a process with an empty address space (as after exec): uid 1000, no capabilities, adj 0 by default. */
  spawn(pid: number, o: SpawnOptions = {}): void {
    this.flush();
    this.call('spawn_task', (r) => r.spawn_task(pid, o.comm ?? `task${pid}`, o.uid ?? 1000, o.capSysAdmin ?? false, o.oomScoreAdj ?? 0, o.cgroup ?? '/'));
  }
  /** mkdir of a memory cgroup (absolute path, parent must exist): 0 or a negated errno. */
  cgroupCreate(path: string): SysResult {
    this.flush();
    return Number(this.call('cgroup_create', (r) => r.cgroup_create(path)));
  }
  /** Write a cgroup control file (`memory.max`, `memory.limit_in_bytes`, `memory.oom_control`, ...): 0 or -errno. */
  cgroupWrite(path: string, file: string, value: string): SysResult {
    this.flush();
    return Number(this.call('cgroup_write', (r) => r.cgroup_write(path, file, value)));
  }
  /** Read a cgroup file with a fresh open: its exact text, or null when the cgroup or the file does not exist. */
  cgroupRead(path: string, file: string): string | null {
    this.flush();
    return this.call('cgroup_read', (r) => r.cgroup_read(path, file)) ?? null;
  }
  /** Move a task to another cgroup (a cgroup.procs write; charges stay behind): 0 or a negated errno. */
  moveTask(pid: number, path: string): SysResult {
    this.flush();
    return Number(this.call('move_task', (r) => r.move_task(pid, path)));
  }
  /** Whether the task sleeps in a v1 memcg OOM wait (state D, memory.oom_control oom_kill_disable 1). */
  taskBlocked(pid: number): boolean {
    this.flush();
    return this.call('task_blocked', (r) => r.task_blocked(pid));
  }
  fork(parent: number, child: number): SysResult {
    return this.one('fork', parent, child);
  }
  vfork(parent: number, child: number): SysResult {
    return this.one('vfork', parent, child);
  }
  exec(pid: number, comm = ''): SysResult {
    this.flush();
    return Number(this.call('exec_comm', (r) => r.exec_comm(pid, comm)));
  }
  exit(pid: number): void {
    this.one('exit', pid);
  }
  /** mmap(): returns the first virtual page number of the new mapping, or a negated errno (ENOMEM, EINVAL). */
  mmap(pid: number, pages: number, o: MmapOptions = {}): SysResult {
    const flags = (o.shared ? 1 : 0) | (o.file === undefined ? 2 : 0) | (o.noreserve ? 4 : 0);
    return this.one('mmap', pid, pages, PROT_CODE[o.prot ?? 'rw'], flags, o.file ?? 0xffff_ffff);
  }
  /** mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE). */
  mmapAnon(pid: number, pages: number): SysResult {
    return this.one('mmap_anon', pid, pages);
  }
  munmap(pid: number, vpn: number, pages: number): SysResult {
    return this.one('munmap', pid, lo(vpn), hi(vpn), pages);
  }
  mprotect(pid: number, vpn: number, pages: number, prot: Prot): SysResult {
    return this.one('mprotect', pid, lo(vpn), hi(vpn), pages, PROT_CODE[prot]);
  }
  madvise(pid: number, vpn: number, pages: number, advice: 'MADV_DONTNEED' | 'MADV_DONTFORK' | 'MADV_DOFORK'): SysResult {
    const code = { MADV_DONTNEED: 4, MADV_DONTFORK: 10, MADV_DOFORK: 11 }[advice];
    return this.one('madvise', pid, lo(vpn), hi(vpn), pages, code);
  }
  /** Set the program break to `pages` pages past the start of the heap. */
  brk(pid: number, pages: number): SysResult {
    return this.one('brk', pid, pages);
  }
  /** Access `count` pages from virtual page `vpn` in order, faulting as needed; returns the pages accessed. */
  touch(pid: number, vpn: number, count: number, access: Access = 'write'): SysResult {
    return this.one('touch', pid, lo(vpn), hi(vpn), count, access === 'write' ? 1 : 0);
  }
  /** The same as `touch`, through a direct wasm call instead of the command buffer (one crossing per call). */
  touchDirect(pid: number, vpn: number, count: number, access: Access = 'write'): number {
    this.flush();
    return this.call('touch', (r) => r.touch(pid, BigInt(vpn), count, access === 'write'));
  }
  /** `count` accesses inside `npages` pages from `vpn`, drawn from the seeded PRNG in the engine. */
  touchPattern(pid: number, vpn: number, npages: number, pattern: Pattern, count: number, access: Access = 'write'): SysResult {
    const [code, stride] = pattern.kind === 'strided' ? [0, pattern.stride] : pattern.kind === 'uniform' ? [1, 0] : [2, 0];
    return this.one('touch_pattern', pid, lo(vpn), hi(vpn), npages, code, stride, count, access === 'write' ? 1 : 0);
  }
  /** Reclaim targets these pages as MADV_PAGEOUT would: present anon pages go to swap. Returns pages swapped. */
  swapout(pid: number, vpn: number, pages: number, keepSwapcache = false): SysResult {
    return this.one('swapout', pid, lo(vpn), hi(vpn), pages, keepSwapcache ? 1 : 0);
  }
  /** Create a file; returns its id. `cached`: all its pages are already in the page cache (disk files). */
  fileCreate(name: string, fs: FileSystem, pages = 0, cached = false): SysResult {
    this.flush();
    const code = { disk: 0, tmpfs: 1, hugetlbfs: 2 }[fs];
    return Number(this.call('file_create', (r) => r.file_create(name, code, BigInt(pages), cached)));
  }
  fileRead(pid: number, file: number, first: number, count: number): SysResult {
    return this.one('file_read', pid, file, first, count);
  }
  fileWrite(pid: number, file: number, first: number, count: number): SysResult {
    return this.one('file_write', pid, file, first, count);
  }
  /** Write /proc/<pid>/oom_score_adj: 0, or -EINVAL outside -1000..1000. */
  setOomScoreAdj(pid: number, adj: number): SysResult {
    return this.one('oom_score_adj', pid, adj >>> 0);
  }
  /** Read a sysctl by its real name (`vm.overcommit_memory`). */
  sysctl(name: SysctlName | string): number {
    return Number(this.call('sysctl_read', (r) => r.sysctl_read(name)));
  }
  /** Write a sysctl through the kernel's handler: 0, or -EINVAL when the value is outside its range. */
  setSysctl(name: SysctlName | string, value: number): SysResult {
    this.flush();
    return Number(this.call('sysctl_write', (r) => r.sysctl_write(name, BigInt(value))));
  }
  /** Run simulated time to `untilNs` (OOM reaper timers fire); 'done', or 'panic' once the kernel has panicked. */
  run(untilNs: bigint): StopReasonName {
    this.flush();
    return STOP_NAMES[this.call('run', (r) => r.run(untilNs))];
  }
  /** Advance simulated time by `ns`; returns why it stopped ('done' or 'panic'). */
  advance(ns: bigint): StopReasonName {
    this.flush();
    return STOP_NAMES[this.call('advance', (r) => r.advance(ns))];
  }
  /** The simulated clock, ns. */
  nowNs(): bigint {
    return this.call('now_ns', (r) => r.now_ns());
  }
  /** The kernel panic message, or undefined while the machine runs. After a panic every syscall throws E_PANICKED. */
  panicMessage(): string | undefined {
    this.flush();
    const m = this.call('panic_message', (r) => r.panic_message());
    return m === '' ? undefined : m;
  }

  // --- the OOM killer --------------------------------------------------------------------------------------------
  /** /proc/<pid>/oom_score (0..2000, 0 for unkillable tasks). */
  oomScore(pid: number): number {
    this.flush();
    return Number(this.call('oom_score', (r) => r.oom_score(pid)));
  }
  /** /proc/<pid>/oom_score_adj. */
  oomScoreAdj(pid: number): number {
    this.flush();
    return Number(this.call('oom_score_adj', (r) => r.oom_score_adj(pid)));
  }
  /** Write /proc/<pid>/oom_score_adj: 0, -EINVAL outside -1000..1000, -EACCES below oom_score_adj_min without
   * CAP_SYS_RESOURCE. A capable writer (the default) also sets oom_score_adj_min. */
  writeOomScoreAdj(pid: number, value: number, capSysResource = true): SysResult {
    this.flush();
    return Number(this.call('write_oom_score_adj', (r) => r.write_oom_score_adj(pid, BigInt(value), capSysResource)));
  }
  /** /proc/<pid>/oom_adj (legacy, -17..15). */
  oomAdj(pid: number): number {
    this.flush();
    return Number(this.call('oom_adj', (r) => r.oom_adj(pid)));
  }
  /** Write the legacy /proc/<pid>/oom_adj: 0 or -EINVAL/-EACCES; the first write logs the deprecation line. */
  writeOomAdj(pid: number, value: number, capSysResource = true, writer: { comm: string; pid: number } = { comm: 'oomsim', pid: 0 }): SysResult {
    this.flush();
    return Number(this.call('write_oom_adj', (r) => r.write_oom_adj(pid, BigInt(value), capSysResource, writer.comm, writer.pid)));
  }
  /** "Which process dies, and why?": the ranked candidate table of a global OOM in the current state. */
  oomExplain(): OomExplanation {
    this.flush();
    return JSON.parse(this.call('oom_explain_json', (r) => r.oom_explain_json())) as OomExplanation;
  }
  /** Record the candidate table of every OOM kill from now on, as the OOM killer saw it before the kill. */
  setExplainSelections(on: boolean): void {
    this.flush();
    this.call('set_explain_selections', (r) => r.set_explain_selections(on));
  }
  /** The tables recorded since the last call (see setExplainSelections), oldest first. */
  takeSelectionExplanations(): { timeNs: bigint; table: OomExplanation }[] {
    this.flush();
    const items = JSON.parse(this.call('take_selection_explanations_json', (r) => r.take_selection_explanations_json())) as { time_ns: string; table: OomExplanation }[];
    return items.map((x) => ({ timeNs: BigInt(x.time_ns), table: x.table }));
  }
  /** SIMULATION SWITCH, not a sysctl (mainline has no `vm.oom_kill`): the kernel's `oom_killer_disable()` state.
   * While disabled, an allocation that would need the OOM killer fails instead. */
  setOomKillerDisabled(disabled: boolean): void {
    this.flush();
    this.call('set_oom_killer_disabled', (r) => r.set_oom_killer_disabled(disabled));
  }
  get oomKillerDisabled(): boolean {
    return this.call('oom_killer_disabled', (r) => r.oom_killer_disabled());
  }

  // --- reading state ---------------------------------------------------------------------------------------
  /** /proc/vmstat as a copied object. */
  vmstat(): Record<VmstatName, bigint> {
    this.flush();
    const v = this.vmstatRaw();
    const out = {} as Record<VmstatName, bigint>;
    VMSTAT_NAMES.forEach((n, i) => (out[n] = v[i]));
    return out;
  }
  /** Zero-copy view of the vmstat array (indices: VMSTAT_NAMES). Valid until the next engine call. */
  vmstatRaw(): BigUint64Array {
    return this.call('vmstat_ptr', (r) => this.vmstatView.get(r.vmstat_ptr(), r.vmstat_len()));
  }
  /** /proc/meminfo values in kB (HugePages_* are counts), by field name. */
  meminfo(): Record<MeminfoName, number> {
    this.flush();
    const v = this.call('meminfo_ptr', (r) => this.meminfoView.get(r.meminfo_ptr(), r.meminfo_len()));
    const out = {} as Record<MeminfoName, number>;
    MEMINFO_NAMES.forEach((n, i) => (out[n] = Number(v[i])));
    return out;
  }
  /** The zone watermarks in pages (from vm.min_free_kbytes and vm.watermark_scale_factor). */
  watermarks(): { min: number; low: number; high: number } {
    const [min, low, high] = Array.from(this.call('watermarks', (r) => r.watermarks()), Number);
    return { min, low, high };
  }
  /** /proc/meminfo text, byte for byte as the kernel prints it. */
  meminfoText(): string {
    this.flush();
    return this.call('meminfo_text', (r) => r.meminfo_text());
  }
  /** /proc/pressure/memory (some/full avg10/60/300 and total µs) at the current simulated time. */
  psiText(): string {
    this.flush();
    return this.call('psi_text', (r) => r.psi_text());
  }
  /**
   * swapon of one more swap area of `pages` slots (mm/swapfile.c): higher `priority` is used first, equal priorities
   * take turns; `kind` sets the read latency of swap-ins; a zram area keeps its contents in RAM, compressed by
   * `compressionRatio` (uncompressed/compressed, >= 1). SwapTotal and CommitLimit grow. Returns the area's index.
   */
  swapon(pages: number, priority: number, kind: 'disk' | 'ssd' | 'zram', compressionRatio?: number): number {
    this.flush();
    const ratio = kind === 'zram' ? Math.round((compressionRatio ?? 3) * 100) : 0;
    return this.call('swapon', (r) => r.swapon(pages, priority, kind, ratio));
  }
  /** /proc/swaps, byte for byte. */
  procSwaps(): string {
    this.flush();
    return this.call('proc_swaps', (r) => r.proc_swaps());
  }
  /** memory.pressure of a cgroup (the root's is /proc/pressure/memory); undefined for an unknown path. */
  cgroupPressure(path: string): string | undefined {
    this.flush();
    return this.call('cgroup_pressure', (r) => r.cgroup_pressure(path) ?? undefined);
  }
  /** A task's accumulated memory stall time in ns (direct reclaim, swap-in waits). */
  taskStallNs(pid: number): bigint {
    this.flush();
    return this.call('task_stall_ns', (r) => r.task_stall_ns(pid));
  }
  /** The memory lines of /proc/<pid>/status (VmPeak … VmSwap). */
  procStatus(pid: number): string {
    this.flush();
    return this.call('proc_status', (r) => r.proc_status(pid));
  }
  /** Live tasks in creation order. */
  tasks(): TaskRow[] {
    this.flush();
    return JSON.parse(this.call('tasks_json', (r) => r.tasks_json())) as TaskRow[];
  }
  /** Kernel log lines printed since the last call. */
  drainLog(): string[] {
    const t = this.call('drain_log', (r) => r.drain_log());
    return t === '' ? [] : t.slice(0, -1).split('\n');
  }
  /** Events queued since the last drain, in order. */
  drainEvents(): EngineEvent[] {
    const n = this.call('drain_events', (r) => r.drain_events());
    if (n === 0) return [];
    const w = this.call('events_ptr', (r) => this.eventView.get(r.events_ptr(), n * EVENT_WORDS));
    const out: EngineEvent[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * EVENT_WORDS;
      out.push({
        kind: EVENT_KINDS[w[o] as keyof typeof EVENT_KINDS] ?? ('unknown' as EventKindName),
        pid: w[o + 1],
        a: w[o + 2],
        b: w[o + 3],
        c: BigInt(w[o + 4]) | (BigInt(w[o + 5]) << 32n),
        timeNs: BigInt(w[o + 6]) | (BigInt(w[o + 7]) << 32n),
      });
    }
    return out;
  }

  /** For tests of the poisoning path only: makes the engine trap. */
  debugTrap(): void {
    this.call('debug_trap', (r) => r.debug_trap());
  }

  /** Release the wasm memory held by this handle. Later calls throw E_FREED. */
  free(): void {
    this.raw?.free();
    this.raw = undefined;
  }
}
