/**
 * The TS face of the wasm engine: one opaque handle, a command buffer written through a typed-array view, counters
 * read through views that are rebuilt whenever wasm memory grows, events drained after each call, typed errors,
 * and poisoning: if the engine ever traps (a bug), this handle refuses every later call with a clear message.
 */
import { OomsimError, fromEngineError } from './errors.js';
import { OPS, type OpName } from './generated/ops.js';
import { VMSTAT_NAMES, type VmstatName } from './generated/vmstat.js';
import { RawEngine, StopReason, wasmMemory } from './wasm.js';

export const MEMINFO_NAMES = ['MemTotal', 'MemFree'] as const;
export type MeminfoName = (typeof MEMINFO_NAMES)[number];

export type StopReasonName = 'done' | 'policy_tick' | 'oom_decision' | 'limit' | 'panic';
const STOP_NAMES: Record<number, StopReasonName> = {
  [StopReason.Done]: 'done',
  [StopReason.PolicyTick]: 'policy_tick',
  [StopReason.OomDecision]: 'oom_decision',
  [StopReason.Limit]: 'limit',
  [StopReason.Panic]: 'panic',
};

export const EVENT_KINDS = { 1: 'syscall_error', 2: 'task_new', 3: 'task_exit', 4: 'oom_kill', 5: 'panic' } as const;
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

export interface EngineOptions {
  /** Managed RAM in 4 KiB pages (MemTotal). */
  totalramPages: number;
  /** PRNG seed for generated workloads. Same seed, same results, native and wasm. */
  seed?: bigint | number;
  /** Command-buffer size in u32 words (default 65536). */
  cmdCapacity?: number;
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
    if (!Number.isInteger(pages) || pages < 1 || pages > 0xffff_ffff) {
      throw new OomsimError('E_ARG', `totalramPages: ${pages} is not allowed; expected an integer 1..4294967295`);
    }
    const cap = opts.cmdCapacity ?? 65536;
    if (!Number.isInteger(cap) || cap < 16 || cap > 1 << 26) {
      throw new OomsimError('E_ARG', `cmdCapacity: ${cap} is not allowed; expected an integer 16..67108864 words`);
    }
    const seed = BigInt(opts.seed ?? 0);
    if (seed < 0n || seed >= 1n << 64n) throw new OomsimError('E_ARG', `seed: ${seed} is not allowed; expected 0..2^64-1`);
    try {
      this.raw = new RawEngine(pages, seed, cap);
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

  private flush(): void {
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

  // --- single calls ------------------------------------------------------------------------------------------
  spawn(pid: number): void {
    this.call('spawn', (r) => r.spawn(pid));
  }
  mmapAnon(pid: number, pages: number): number {
    return this.call('mmap_anon', (r) => r.mmap_anon(pid, pages));
  }
  touch(pid: number, region: number, first: number, count: number, write: boolean): number {
    return this.call('touch', (r) => r.touch(pid, region, first, count, write));
  }
  exit(pid: number): void {
    this.call('exit', (r) => r.exit(pid));
  }
  /** Advance simulated time; returns why it stopped. */
  run(untilNs: bigint): StopReasonName {
    return STOP_NAMES[this.call('run', (r) => r.run(untilNs))];
  }

  // --- reading state ---------------------------------------------------------------------------------------
  /** /proc/vmstat as a copied object. */
  vmstat(): Record<VmstatName, bigint> {
    const v = this.vmstatRaw();
    const out = {} as Record<VmstatName, bigint>;
    VMSTAT_NAMES.forEach((n, i) => (out[n] = v[i]));
    return out;
  }
  /** Zero-copy view of the vmstat array (indices: VMSTAT_NAMES). Valid until the next engine call. */
  vmstatRaw(): BigUint64Array {
    return this.call('vmstat_ptr', (r) => this.vmstatView.get(r.vmstat_ptr(), r.vmstat_len()));
  }
  /** /proc/meminfo values in kB. */
  meminfo(): Record<MeminfoName, number> {
    const v = this.call('meminfo_ptr', (r) => this.meminfoView.get(r.meminfo_ptr(), r.meminfo_len()));
    const out = {} as Record<MeminfoName, number>;
    MEMINFO_NAMES.forEach((n, i) => (out[n] = Number(v[i])));
    return out;
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
