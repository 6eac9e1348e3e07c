/// <reference lib="esnext.disposable" preserve="true" />
/**
 * The TS face of the wasm engine: one opaque handle, a command buffer written through a typed-array view, counters
 * read through views that are rebuilt whenever wasm memory grows, events drained after each call, typed errors,
 * and poisoning: if the engine ever traps (a bug), this handle refuses every later call with a clear message.
 *
 * Transactional: every public method checks its arguments (engine-args.ts) before it writes the command buffer or
 * calls into wasm, and the engine validates a whole batch before running any of it (cmd::validate), so a rejected
 * call leaves the engine as it was. Handles are freed by `free()`, `using` (Symbol.dispose), or, for handles
 * dropped without either, by a FinalizationRegistry once the wrapper is garbage-collected.
 */
import { OomsimError, fromEngineError } from './errors.js';
import * as arg from './engine-args.js';
import { ACCESS_CODES, ADVICE_CODES, ERRNO_CODES, EVENT_KIND_CODES, FS_CODES, MAP_FLAG_BITS, PATTERN_CODES, PROT_CODES } from './generated/codes.js';
import { OPS, type OpName } from './generated/ops.js';
import { VMSTAT_NAMES, type VmstatName } from './generated/vmstat.js';
import { MEMINFO_NAMES, type MeminfoName } from './generated/meminfo.js';
import { SYSCTL_NAMES, type SysctlName } from './generated/sysctl.js';
import { RawEngine, StopReason, takePanicMessage, wasmMemory } from './wasm.js';

export { MEMINFO_NAMES, SYSCTL_NAMES };
export type { MeminfoName, SysctlName };

/** Errno names by number (include/uapi/asm-generic/errno-base.h), for syscall results. */
export const ERRNO: Record<number, string> = Object.fromEntries(Object.entries(ERRNO_CODES).map(([name, n]) => [n, name]));
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

export type Prot = keyof typeof PROT_CODES;
export interface MmapOptions {
  prot?: Prot;
  /** MAP_SHARED (default MAP_PRIVATE). */
  shared?: boolean;
  /** A file id from `fileCreate` (default: anonymous memory). */
  file?: number;
  /** MAP_NORESERVE (honoured only when vm.overcommit_memory != 2, as in the kernel). */
  noreserve?: boolean;
}
export type Access = keyof typeof ACCESS_CODES;
export type Advice = keyof typeof ADVICE_CODES;
export type Pattern = { kind: 'strided'; stride: number } | { kind: 'uniform' } | { kind: 'zipf' };
export type FileSystem = keyof typeof FS_CODES;
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

export type EventKindName = keyof typeof EVENT_KIND_CODES;
/** Event kind names by their number (generated from engine/core/src/event.rs). */
export const EVENT_KINDS: Readonly<Record<number, EventKindName>> = Object.fromEntries(
  Object.entries(EVENT_KIND_CODES).map(([name, n]) => [n, name as EventKindName]),
);
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

const U32 = 0xffff_ffff;
const NO_FILE = U32;
const SWAP_KINDS = { disk: 0, ssd: 1, zram: 2 } as const;
const SPAWN_KEYS = ['comm', 'uid', 'capSysAdmin', 'oomScoreAdj', 'cgroup'] as const;
const MMAP_KEYS = ['prot', 'shared', 'file', 'noreserve'] as const;

/** Frees the wasm side of engines whose wrapper was garbage-collected without `free()`. */
const finalizer =
  typeof FinalizationRegistry === 'undefined'
    ? undefined
    : new FinalizationRegistry<RawEngine>((raw) => {
        try {
          raw.free();
        } catch {
          // a handle that trapped may still be borrowed inside wasm-bindgen; leave it (it is leaked, not reused)
        }
      });

/** How a call failed: a wasm trap (RuntimeError, or a wasm stack overflow) is a bug, never bad input. */
function isTrap(e: unknown): e is Error {
  return e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message));
}

/**
 * JS engines schedule garbage collection by JS-heap pressure, and an engine's wasm memory adds none: without a hint,
 * thousands of dropped, unfreed engines pile up in wasm memory before any wrapper is collected (2,000 took 580 MB).
 * An untouched ArrayBuffer of about the handle's wasm size counts as external memory to V8 (so it collects sooner)
 * while costing no resident memory: large zeroed allocations are mapped lazily by the OS.
 */
function gcHint(cmdWords: number, pages: number): ArrayBuffer | undefined {
  const bytes = Math.min(cmdWords * 4 + pages * 16, 1 << 28);
  return bytes >= 1 << 17 ? new ArrayBuffer(bytes) : undefined;
}

/** Set by `clone()`/`restore()` around their `new Engine(...)`: the raw engine the new handle takes instead of creating one. */
let adopt: RawEngine | undefined;

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
  /** totalramPages, for clones' GC hint. */
  private readonly pages: number;
  private pendingResults: bigint[] = [];
  /** See `gcHint`: makes the JS garbage collector see roughly what this handle holds in wasm memory. */
  private readonly gcHint: ArrayBuffer | undefined;

  /** Create an engine. The wasm module must be loaded (`await load()` from 'oomsim'). */
  constructor(opts: EngineOptions) {
    const o = arg.opts<EngineOptions>('Engine options', opts, ['totalramPages', 'totalSwapPages', 'hugetlbTotalPages', 'seed', 'cmdCapacity', 'cgroup']);
    const pages = o.totalramPages;
    // what fits in wasm32's 4 GiB (engine/core types.rs MAX_RAM_PAGES: 2^27, 512 GiB)
    if (typeof pages !== 'number' || !Number.isInteger(pages) || pages < 1 || pages > 2 ** 27) {
      throw new OomsimError('E_ARG', `totalramPages: ${arg.show(pages)} is not allowed; expected an integer 1..134217728 (512 GiB)`);
    }
    const cap = o.cmdCapacity ?? 65536;
    if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 16 || cap > 1 << 26) {
      throw new OomsimError('E_ARG', `cmdCapacity: ${arg.show(cap)} is not allowed; expected an integer 16..67108864 words`);
    }
    const swap = arg.intIn('totalSwapPages', o.totalSwapPages ?? 0, 0, 2 ** 26); // MAX_SWAP_PAGES, 256 GiB
    const huge = arg.u32('hugetlbTotalPages', o.hugetlbTotalPages ?? 0);
    const seed = arg.u64('seed', o.seed ?? 0n);
    const cg = o.cgroup ?? 'v2';
    if (cg !== 'v1' && cg !== 'v2') throw new OomsimError('E_ARG', `cgroup: ${arg.show(cg)} is not allowed; expected 'v1' or 'v2'`);
    wasmMemory(); // E_LOAD before anything else when the module is not loaded
    try {
      this.raw = adopt ?? new RawEngine(pages, swap, huge, seed, cap, cg === 'v1');
    } catch (e) {
      if (isTrap(e)) {
        const mib = Math.round(wasmMemory().buffer.byteLength / 2 ** 20);
        throw new OomsimError('E_TRAP', `creating the engine trapped (${takePanicMessage() || e.message}); wasm memory is ${mib} MiB: free() engines no longer used`);
      }
      throw fromEngineError(e);
    }
    this.cmdCapacity = cap;
    this.pages = pages;
    finalizer?.register(this, this.raw, this);
    this.gcHint = gcHint(cap, pages);
  }

  /**
   * A new, independent handle in this one's state, as if it had made the same calls: "what if from here" without
   * replaying the run. Queued commands are flushed first (their results stay with this handle's `submit()`);
   * undrained events and log lines are in both. A poisoned or freed handle cannot be cloned. Both must be freed.
   * In-process only; `snapshot()` and `Engine.restore()` do the same through bytes.
   */
  clone(): Engine {
    this.live('clone');
    this.flush();
    adopt = this.call('duplicate', (r) => r.duplicate());
    try {
      return new Engine({ totalramPages: this.pages, cmdCapacity: this.cmdCapacity });
    } finally {
      adopt = undefined;
    }
  }

  /**
   * This engine's state as bytes: versioned, checksummed, and deterministic (equal states give equal bytes).
   * `Engine.restore(bytes)` gives a handle that continues exactly as this one would. Queued commands are flushed
   * first (their results stay with this handle's `submit()`); undrained events and log lines are saved; a
   * page-reference walk in progress is not. A poisoned or freed handle cannot be saved. Format:
   * docs/decisions/0015-robustness.md ("Snapshot and restore").
   */
  snapshot(): Uint8Array {
    this.live('snapshot');
    this.flush();
    return this.call('snapshot', (r) => r.snapshot());
  }

  /**
   * A new engine in the state `bytes` (from `snapshot()`) saved. Throws `E_SNAPSHOT` saying what is wrong with
   * bytes that are not an oomsim snapshot, come from another format version or engine build, are truncated,
   * fail their checksum, or decode to an inconsistent state; `E_ARG` for a bad `cmdCapacity` or non-bytes.
   */
  static restore(bytes: Uint8Array, opts: { cmdCapacity?: number } = {}): Engine {
    if (!(bytes instanceof Uint8Array)) {
      throw new OomsimError('E_ARG', `restore: bytes: ${arg.show(bytes)} is not allowed; expected a Uint8Array from Engine.snapshot()`);
    }
    const o = arg.opts<{ cmdCapacity?: number }>('restore options', opts, ['cmdCapacity']);
    const cap = o.cmdCapacity ?? 65536;
    if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 16 || cap > 1 << 26) {
      throw new OomsimError('E_ARG', `cmdCapacity: ${arg.show(cap)} is not allowed; expected an integer 16..67108864 words`);
    }
    wasmMemory();
    let raw: RawEngine;
    try {
      raw = RawEngine.restore(bytes, cap);
    } catch (e) {
      if (isTrap(e)) throw new OomsimError('E_TRAP', `restoring the engine trapped (${takePanicMessage() || e.message})`);
      throw fromEngineError(e);
    }
    adopt = raw;
    try {
      return new Engine({ totalramPages: raw.totalram_pages(), cmdCapacity: cap });
    } finally {
      adopt = undefined;
    }
  }

  /** Throw if this handle cannot take calls (poisoned or freed). */
  private live(what: string): RawEngine {
    if (this.poisoned !== undefined) {
      throw new OomsimError('E_POISONED', `this engine handle is unusable since ${this.poisoned}; create a new Engine (refused: ${what})`);
    }
    if (this.raw === undefined) throw new OomsimError('E_FREED', `${what}: this engine handle was freed`);
    return this.raw;
  }

  private poison(why: string): void {
    this.poisoned ??= why;
    this.cmdLen = 0;
    this.pendingResults = [];
    // The wasm object is left alone (it may still be borrowed inside wasm-bindgen after a trap); unregistering
    // leaves it to wasm-bindgen's own finalizer, which copes with that.
    finalizer?.unregister(this);
  }

  /** Run `f` on the raw handle: typed errors, and poisoning after a trap or an internal inconsistency. */
  private call<T>(what: string, f: (raw: RawEngine) => T): T {
    const raw = this.live(what);
    try {
      return f(raw);
    } catch (e) {
      if (isTrap(e)) {
        const panic = takePanicMessage() || e.message;
        this.poison(`${what}() trapped (${panic})`);
        throw new OomsimError('E_TRAP', `${what}() trapped inside the engine (${panic}); this handle is now poisoned`);
      }
      const err = fromEngineError(e);
      if (err.code === 'E_INTERNAL') {
        this.poison(`${what}() failed inside the engine (${err.message})`);
      }
      throw err;
    }
  }

  get isPoisoned(): boolean {
    return this.poisoned !== undefined;
  }
  /** Why this handle is poisoned (the first failure), or undefined. */
  get poisonReason(): string | undefined {
    return this.poisoned;
  }

  // --- command buffer ----------------------------------------------------------------------------------------
  /** Check one command before anything is written; returns its words. */
  private encode(op: unknown, args: readonly unknown[]): number[] {
    const spec = typeof op === 'string' && Object.prototype.hasOwnProperty.call(OPS, op) ? OPS[op as OpName] : undefined;
    if (spec === undefined) {
      throw new OomsimError('E_ARG', `push: unknown op ${arg.show(op)}; allowed: ${Object.keys(OPS).join(', ')}`);
    }
    if (args.length !== spec.nargs) {
      throw new OomsimError('E_ARG', `${op} takes ${spec.nargs} arguments (${spec.args.join(', ')}), got ${args.length}`);
    }
    const words: number[] = [spec.code, spec.nargs];
    args.forEach((a, i) => words.push(arg.u32(`${op}.${spec.args[i]}`, a)));
    return words;
  }

  private write(words: readonly number[]): void {
    if (words.length > this.cmdCapacity) {
      throw new OomsimError('E_ARG', `a ${words.length}-word command does not fit the ${this.cmdCapacity}-word command buffer`);
    }
    if (this.cmdLen + words.length > this.cmdCapacity) this.flush();
    const buf = this.call('cmd_ptr', (r) => this.cmdView.get(r.cmd_ptr(), this.cmdCapacity));
    buf.set(words, this.cmdLen);
    this.cmdLen += words.length;
  }

  /** Queue a command. Flushes automatically when the buffer is full. A rejected command queues nothing. */
  push(op: OpName, ...args: number[]): this {
    const words = this.encode(op, args);
    this.live('push');
    this.write(words);
    return this;
  }

  /** Run the queued words (written by this wrapper); returns the results. */
  private execQueued(): BigInt64Array {
    const len = this.cmdLen;
    this.cmdLen = 0;
    let n: number;
    try {
      n = this.call('exec', (r) => r.exec(len));
    } catch (e) {
      // A malformed header in words this wrapper encoded is our bug, not the caller's: poison.
      if (e instanceof OomsimError && e.code === 'E_CMD') this.poison(`exec() rejected the wrapper's own command words (${e.message})`);
      throw e;
    }
    return this.call('results_ptr', (r) => this.resultView.get(r.results_ptr(), n));
  }

  /**
   * Execute queued commands now (results are kept for the next `submit`). The batch is validated as a whole
   * first: if any command is malformed none runs. An error that depends on the kernel's state (an unknown pid)
   * stops the batch at that command, after the ones before it ran; the queue is empty afterwards either way.
   */
  flush(): void {
    this.live('flush');
    if (this.cmdLen === 0) return;
    const res = this.execQueued();
    for (let i = 0; i < res.length; i++) this.pendingResults.push(res[i]);
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
   * that encode commands themselves (benchmarks, generated workloads). `fill` gets a view of the whole buffer
   * and returns how many words it wrote. Returns the number of commands executed. Queued `push` commands run
   * first. A malformed batch (E_CMD, E_ARG) runs nothing.
   */
  execWords(fill: (words: Uint32Array) => number): number {
    if (typeof fill !== 'function') throw new OomsimError('E_ARG', `execWords: ${arg.show(fill)} is not allowed; expected a function (words: Uint32Array) => number of words written`);
    this.flush();
    const words = this.call('cmd_ptr', (r) => this.cmdView.get(r.cmd_ptr(), this.cmdCapacity));
    let len: unknown;
    try {
      len = fill(words);
    } catch (e) {
      if (e instanceof OomsimError) throw e;
      throw new OomsimError('E_ARG', `execWords: the fill callback threw (${e instanceof Error ? e.message : arg.show(e)}); nothing ran`);
    }
    arg.intIn('execWords: the fill callback returned', len, 0, this.cmdCapacity);
    return this.call('exec', (r) => r.exec(len as number));
  }

  // --- syscalls (each one command through the buffer; batch with push/submit for speed) ------------------------
  /** Run one command now (after any queued ones) and return its result without touching `submit`'s results. */
  private one(op: OpName, ...args: number[]): SysResult {
    const words = this.encode(op, args);
    this.flush();
    this.write(words);
    return Number(this.execQueued()[0]);
  }
  /** Create a process with an empty address space (as after exec): uid 1000, no capabilities, adj 0 by default. */
  spawn(pid: number, o: SpawnOptions = {}): void {
    arg.u32('spawn.pid', pid);
    const x = arg.opts<SpawnOptions>('spawn options', o, SPAWN_KEYS);
    const comm = arg.str('spawn.comm', x.comm ?? `task${pid}`);
    const uid = arg.u32('spawn.uid', x.uid ?? 1000);
    const cap = arg.bool('spawn.capSysAdmin', x.capSysAdmin ?? false);
    const adj = arg.intIn('spawn.oomScoreAdj', x.oomScoreAdj ?? 0, -1000, 1000);
    const cg = arg.str('spawn.cgroup', x.cgroup ?? '/');
    this.flush();
    this.call('spawn_task', (r) => r.spawn_task(pid, comm, uid, cap, adj, cg));
  }
  /** mkdir of a memory cgroup (absolute path, parent must exist): 0 or a negated errno. */
  cgroupCreate(path: string): SysResult {
    arg.str('cgroupCreate.path', path);
    this.flush();
    return Number(this.call('cgroup_create', (r) => r.cgroup_create(path)));
  }
  /** Write a cgroup control file (`memory.max`, `memory.limit_in_bytes`, `memory.oom_control`, ...): 0 or -errno. */
  cgroupWrite(path: string, file: string, value: string): SysResult {
    arg.str('cgroupWrite.path', path);
    arg.str('cgroupWrite.file', file);
    arg.str('cgroupWrite.value', value);
    this.flush();
    return Number(this.call('cgroup_write', (r) => r.cgroup_write(path, file, value)));
  }
  /** Read a cgroup file with a fresh open: its exact text, or null when the cgroup or the file does not exist. */
  cgroupRead(path: string, file: string): string | null {
    arg.str('cgroupRead.path', path);
    arg.str('cgroupRead.file', file);
    this.flush();
    return this.call('cgroup_read', (r) => r.cgroup_read(path, file)) ?? null;
  }
  /** Move a task to another cgroup (a cgroup.procs write; charges stay behind): 0 or a negated errno. */
  moveTask(pid: number, path: string): SysResult {
    arg.u32('moveTask.pid', pid);
    arg.str('moveTask.path', path);
    this.flush();
    return Number(this.call('move_task', (r) => r.move_task(pid, path)));
  }
  /** Whether the task sleeps in a v1 memcg OOM wait (state D, memory.oom_control oom_kill_disable 1). */
  taskBlocked(pid: number): boolean {
    arg.u32('taskBlocked.pid', pid);
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
    arg.u32('exec.pid', pid);
    arg.str('exec.comm', comm);
    this.flush();
    return Number(this.call('exec_comm', (r) => r.exec_comm(pid, comm)));
  }
  exit(pid: number): void {
    this.one('exit', pid);
  }
  /** mmap(): returns the first virtual page number of the new mapping, or a negated errno (ENOMEM, EINVAL). */
  mmap(pid: number, pages: number, o: MmapOptions = {}): SysResult {
    const x = arg.opts<MmapOptions>('mmap options', o, MMAP_KEYS);
    const prot = arg.code('mmap.prot', x.prot ?? 'rw', PROT_CODES);
    const bit = (name: string, v: unknown, b: number) => (arg.bool(name, v ?? false) ? b : 0);
    const file = x.file === undefined ? NO_FILE : arg.intIn('mmap.file', x.file, 0, U32 - 1);
    const flags = bit('mmap.shared', x.shared, MAP_FLAG_BITS.shared) | (x.file === undefined ? MAP_FLAG_BITS.anonymous : 0) | bit('mmap.noreserve', x.noreserve, MAP_FLAG_BITS.noreserve);
    return this.one('mmap', pid, pages, prot, flags, file);
  }
  /** mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE). */
  mmapAnon(pid: number, pages: number): SysResult {
    return this.one('mmap_anon', pid, pages);
  }
  munmap(pid: number, vpn: number, pages: number): SysResult {
    arg.vpn('munmap.vpn', vpn);
    return this.one('munmap', pid, lo(vpn), hi(vpn), pages);
  }
  mprotect(pid: number, vpn: number, pages: number, prot: Prot): SysResult {
    arg.vpn('mprotect.vpn', vpn);
    return this.one('mprotect', pid, lo(vpn), hi(vpn), pages, arg.code('mprotect.prot', prot, PROT_CODES));
  }
  madvise(pid: number, vpn: number, pages: number, advice: Advice): SysResult {
    arg.vpn('madvise.vpn', vpn);
    return this.one('madvise', pid, lo(vpn), hi(vpn), pages, arg.code('madvise.advice', advice, ADVICE_CODES));
  }
  /** Set the program break to `pages` pages past the start of the heap. */
  brk(pid: number, pages: number): SysResult {
    return this.one('brk', pid, pages);
  }
  /** Access `count` pages from virtual page `vpn` in order, faulting as needed; returns the pages accessed. */
  touch(pid: number, vpn: number, count: number, access: Access = 'write'): SysResult {
    arg.vpn('touch.vpn', vpn);
    return this.one('touch', pid, lo(vpn), hi(vpn), count, arg.code('touch.access', access, ACCESS_CODES));
  }
  /** The same as `touch`, through a direct wasm call instead of the command buffer (one crossing per call). */
  touchDirect(pid: number, vpn: number, count: number, access: Access = 'write'): number {
    arg.u32('touchDirect.pid', pid);
    arg.vpn('touchDirect.vpn', vpn);
    arg.u32('touchDirect.count', count);
    const w = arg.code('touchDirect.access', access, ACCESS_CODES) === ACCESS_CODES.write;
    this.flush();
    return this.call('touch', (r) => r.touch(pid, BigInt(vpn), count, w));
  }
  /** `count` accesses inside `npages` pages from `vpn`, drawn from the seeded PRNG in the engine. */
  touchPattern(pid: number, vpn: number, npages: number, pattern: Pattern, count: number, access: Access = 'write'): SysResult {
    arg.vpn('touchPattern.vpn', vpn);
    const p = arg.opts<{ kind: string; stride: number }>('touchPattern.pattern', pattern, ['kind', 'stride']);
    const code = arg.code('touchPattern.pattern.kind', p.kind, PATTERN_CODES);
    const stride = code === PATTERN_CODES.strided ? arg.u32('touchPattern.pattern.stride', p.stride) : 0;
    return this.one('touch_pattern', pid, lo(vpn), hi(vpn), npages, code, stride, count, arg.code('touchPattern.access', access, ACCESS_CODES));
  }
  /** Reclaim targets these pages as MADV_PAGEOUT would: present anon pages go to swap. Returns pages swapped. */
  swapout(pid: number, vpn: number, pages: number, keepSwapcache = false): SysResult {
    arg.vpn('swapout.vpn', vpn);
    return this.one('swapout', pid, lo(vpn), hi(vpn), pages, arg.bool('swapout.keepSwapcache', keepSwapcache) ? 1 : 0);
  }
  /** Create a file; returns its id. `cached`: all its pages are already in the page cache (disk files). */
  fileCreate(name: string, fs: FileSystem, pages = 0, cached = false): SysResult {
    arg.str('fileCreate.name', name);
    const code = arg.code('fileCreate.fs', fs, FS_CODES);
    arg.vpn('fileCreate.pages', pages);
    arg.bool('fileCreate.cached', cached);
    this.flush();
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
    return this.one('oom_score_adj', pid, arg.intIn('setOomScoreAdj.adj', adj, -0x8000_0000, 0x7fff_ffff) >>> 0);
  }
  /** Read a sysctl by its real name (`vm.overcommit_memory`). */
  sysctl(name: SysctlName | string): number {
    arg.str('sysctl.name', name);
    return Number(this.call('sysctl_read', (r) => r.sysctl_read(name)));
  }
  /** Write a sysctl through the kernel's handler: 0, or -EINVAL when the value is outside its range. */
  setSysctl(name: SysctlName | string, value: number): SysResult {
    arg.str('setSysctl.name', name);
    arg.safeInt('setSysctl.value', value);
    this.flush();
    return Number(this.call('sysctl_write', (r) => r.sysctl_write(name, BigInt(value))));
  }
  /** Run simulated time to `untilNs` (OOM reaper timers fire); 'done', or 'panic' once the kernel has panicked. */
  run(untilNs: bigint): StopReasonName {
    const t = arg.u64('run.untilNs', untilNs);
    this.flush();
    return STOP_NAMES[this.call('run', (r) => r.run(t))];
  }
  /** Advance simulated time by `ns`; returns why it stopped ('done' or 'panic'). */
  advance(ns: bigint): StopReasonName {
    const t = arg.u64('advance.ns', ns);
    this.flush();
    return STOP_NAMES[this.call('advance', (r) => r.advance(t))];
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
    arg.u32('oomScore.pid', pid);
    this.flush();
    return Number(this.call('oom_score', (r) => r.oom_score(pid)));
  }
  /** /proc/<pid>/oom_score_adj. */
  oomScoreAdj(pid: number): number {
    arg.u32('oomScoreAdj.pid', pid);
    this.flush();
    return Number(this.call('oom_score_adj', (r) => r.oom_score_adj(pid)));
  }
  /** Write /proc/<pid>/oom_score_adj: 0, -EINVAL outside -1000..1000, -EACCES below oom_score_adj_min without
   * CAP_SYS_RESOURCE. A capable writer (the default) also sets oom_score_adj_min. */
  writeOomScoreAdj(pid: number, value: number, capSysResource = true): SysResult {
    arg.u32('writeOomScoreAdj.pid', pid);
    arg.safeInt('writeOomScoreAdj.value', value);
    arg.bool('writeOomScoreAdj.capSysResource', capSysResource);
    this.flush();
    return Number(this.call('write_oom_score_adj', (r) => r.write_oom_score_adj(pid, BigInt(value), capSysResource)));
  }
  /** /proc/<pid>/oom_adj (legacy, -17..15). */
  oomAdj(pid: number): number {
    arg.u32('oomAdj.pid', pid);
    this.flush();
    return Number(this.call('oom_adj', (r) => r.oom_adj(pid)));
  }
  /** Write the legacy /proc/<pid>/oom_adj: 0 or -EINVAL/-EACCES; the first write logs the deprecation line. */
  writeOomAdj(pid: number, value: number, capSysResource = true, writer: { comm: string; pid: number } = { comm: 'oomsim', pid: 0 }): SysResult {
    arg.u32('writeOomAdj.pid', pid);
    arg.safeInt('writeOomAdj.value', value);
    arg.bool('writeOomAdj.capSysResource', capSysResource);
    const w = arg.opts<{ comm: string; pid: number }>('writeOomAdj.writer', writer, ['comm', 'pid']);
    const comm = arg.str('writeOomAdj.writer.comm', w.comm);
    const wpid = arg.u32('writeOomAdj.writer.pid', w.pid);
    this.flush();
    return Number(this.call('write_oom_adj', (r) => r.write_oom_adj(pid, BigInt(value), capSysResource, comm, wpid)));
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
    arg.bool('setOomKillerDisabled.disabled', disabled);
    this.flush();
    this.call('set_oom_killer_disabled', (r) => r.set_oom_killer_disabled(disabled));
  }
  get oomKillerDisabled(): boolean {
    return this.call('oom_killer_disabled', (r) => r.oom_killer_disabled());
  }

  // --- page-reference traces (engine/core/src/pageref.rs) ------------------------------------------------------
  /**
   * Start walking a page-reference trace as `pid` (a live task) over its mapping of `maxPages` pages at `vpn`
   * (`oomsim pagetrace`, trace/pageref.ts). Replaces a walk already started.
   */
  pagerefStart(pid: number, vpn: number, maxPages: number): void {
    arg.u32('pagerefStart.pid', pid);
    arg.vpn('pagerefStart.vpn', vpn);
    arg.intIn('pagerefStart.maxPages', maxPages, 1, 0xffff_fffe);
    this.flush();
    this.call('pageref_start', (r) => r.pageref_start(pid, BigInt(vpn), BigInt(maxPages)));
  }
  /**
   * Walk a batch of references in one call: `words` holds two per reference, `[page_lo, page_hi | write << 31]`
   * (the trace's page number, below 2^52). Each page gets a slot of the mapping in first-touch order; each
   * reference not equal to the one before is one page `touch`, as the `touch` command makes it. Returns the walk's
   * state: 'running', 'gone' (the process died, e.g. OOM-killed: later references are only counted) or 'full'
   * (more distinct pages than `maxPages`: the reference needing one more slot and the rest did not run).
   */
  pagerefRun(words: Uint32Array): 'running' | 'gone' | 'full' {
    if (!(words instanceof Uint32Array)) throw new OomsimError('E_ARG', `pagerefRun.words: ${arg.show(words)} is not allowed; expected a Uint32Array`);
    this.flush();
    const s = this.call('pageref_run', (r) => r.pageref_run(words));
    return (['running', 'gone', 'full'] as const)[s];
  }
  /** The walk's references handed over, touches made and distinct pages given a slot. */
  pagerefCounts(): { references: number; touches: number; distinctPages: number } {
    const c = this.call('pageref_counts', (r) => r.pageref_counts());
    return { references: Number(c[0]), touches: Number(c[1]), distinctPages: Number(c[2]) };
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
    arg.u32('swapon.pages', pages);
    arg.intIn('swapon.priority', priority, -0x8000_0000, 0x7fff_ffff);
    arg.code('swapon.kind', kind, SWAP_KINDS);
    const cr = compressionRatio ?? 3;
    if (kind === 'zram' && (typeof cr !== 'number' || !Number.isFinite(cr) || cr < 1 || cr > 1000)) {
      throw new OomsimError('E_ARG', `swapon.compressionRatio: ${arg.show(cr)} is not allowed; expected a number 1..1000 (uncompressed/compressed)`);
    }
    this.flush();
    const ratio = kind === 'zram' ? Math.round(cr * 100) : 0;
    return this.call('swapon', (r) => r.swapon(pages, priority, kind, ratio));
  }
  /** /proc/swaps, byte for byte. */
  procSwaps(): string {
    this.flush();
    return this.call('proc_swaps', (r) => r.proc_swaps());
  }
  /** memory.pressure of a cgroup (the root's is /proc/pressure/memory); undefined for an unknown path. */
  cgroupPressure(path: string): string | undefined {
    arg.str('cgroupPressure.path', path);
    this.flush();
    return this.call('cgroup_pressure', (r) => r.cgroup_pressure(path) ?? undefined);
  }
  /** A task's accumulated memory stall time in ns (direct reclaim, swap-in waits). */
  taskStallNs(pid: number): bigint {
    arg.u32('taskStallNs.pid', pid);
    this.flush();
    return this.call('task_stall_ns', (r) => r.task_stall_ns(pid));
  }
  /** The memory lines of /proc/<pid>/status (VmPeak … VmSwap). */
  procStatus(pid: number): string {
    arg.u32('procStatus.pid', pid);
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

  /**
   * @internal Test hook only (the poisoning tests, the sweep's poisoned-job seam): makes the engine panic, which
   * traps. Not part of the public types.
   */
  debugTrap(): void {
    this.call('debug_trap', (r) => r.debug_trap());
  }

  /**
   * Release the wasm memory held by this handle. Idempotent; later calls throw E_FREED. A poisoned handle's
   * memory is not reused (it is left to wasm-bindgen's finalizer). `using e = new Engine(...)` calls this too.
   */
  free(): void {
    const raw = this.raw;
    this.raw = undefined;
    this.cmdLen = 0;
    this.pendingResults = [];
    if (raw === undefined) return;
    finalizer?.unregister(this);
    if (this.poisoned === undefined) raw.free();
  }
}

// `using` support where the runtime has Symbol.dispose (Node 20 has it); declared below for the types.
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Engine.prototype, Symbol.dispose, { value: Engine.prototype.free, writable: true, configurable: true });
}
export interface Engine {
  /** The same as `free()`: `using e = new Engine(...)` frees the handle at the end of the block. */
  [Symbol.dispose](): void;
}
