/**
 * Workload drivers: each scenario workload kind (docs/scenario-format.md "Workloads") turned into engine commands,
 * one tick at a time. A driver only decides WHICH syscalls a simulated program makes and when; what those calls do
 * (accounting, faults, refusals, OOM) is the engine's business. Results are recorded, never invented.
 *
 * Targets are exact functions of the time since the program started (BigInt arithmetic, pages and ns), so a run
 * is deterministic for a scenario and a tick length. Page-level randomness (zipf) is drawn inside the engine from
 * its seeded PRNG (touchPattern), so millions of accesses cross the boundary in one command.
 */
import type { NormalizedWorkload } from '../scenario/normalize.js';
import type { Rate } from '../scenario/size.js';

/** The syscall surface a driver may use. `queueTouch*` go through the command buffer and are flushed per process. */
export interface Sys {
  mmapAnon(pid: number, pages: number): number;
  mmapNone(pid: number, pages: number): number;
  mmapFile(pid: number, file: number, pages: number): number;
  munmap(pid: number, vpn: number, pages: number): number;
  mprotectRw(pid: number, vpn: number, pages: number): number;
  madviseDontneed(pid: number, vpn: number, pages: number): number;
  fileCreate(name: string, pages: number): number;
  queueTouch(pid: number, vpn: number, pages: number, access: 'read' | 'write'): void;
  queueTouchZipf(pid: number, vpn: number, npages: number, count: number, access: 'read' | 'write'): void;
  queueFileRead(pid: number, file: number, first: number, count: number): void;
  /** fork(parent, child) + start `child` as a new program with `workload` (the runner allocates the pid). */
  forkChild(parent: number, spec: ChildSpec): number;
  exit(pid: number): void;
  /** Record something the driver could not do (never an engine outcome). */
  note(pid: number, text: string): void;
}

export type ChildSpec =
  | { kind: 'fork_exec_child'; comm: string; pages: bigint; lifetimeNs: bigint }
  | { kind: 'fork_bomb_child'; pages: bigint; intervalNs: bigint; root: number };

/** Pages written after `elapsedNs` at `rate`, floored: bytes * elapsed / (interval * 4096). */
export function pagesAtRate(rate: Rate, elapsedNs: bigint): bigint {
  if (elapsedNs <= 0n) return 0n;
  return (rate.bytes * elapsedNs) / (rate.intervalNs * 4096n);
}

const n = (x: bigint) => Number(x);

/** A contiguous private anonymous region that grows by mapping chunks and writing them. */
class Heap {
  /** Mapped chunks: first vpn and pages. */
  private chunks: { vpn: number; pages: number }[] = [];
  /** Pages mapped in total, and pages written (confirmed by a successful touch result). */
  mapped = 0;
  private dirty: { vpn: number; pages: number }[] = [];
  constructor(private readonly pid: number) {}

  /** Grow to `target` pages: map what is missing (one mmap), then write every page not yet confirmed. */
  growTo(sys: Sys, target: number): void {
    // A program whose earlier writes did not complete is still inside that page fault: it retries them and maps
    // nothing new until they succeed.
    if (target > this.mapped && this.dirty.length === 0) {
      const want = target - this.mapped;
      const vpn = sys.mmapAnon(this.pid, want);
      if (vpn >= 0) {
        this.chunks.push({ vpn, pages: want });
        this.dirty.push({ vpn, pages: want });
        this.mapped += want;
      }
    }
    for (const d of this.dirty) sys.queueTouch(this.pid, d.vpn, d.pages, 'write');
  }
  /** Touch results arrive in order of the touches queued by the last growTo. */
  get pendingTouches(): number {
    return this.dirty.length;
  }
  /** Called with the results of the touches of the last growTo: fully written chunks are confirmed. */
  confirm(results: number[]): void {
    const keep: { vpn: number; pages: number }[] = [];
    this.dirty.forEach((d, i) => {
      if (!(results[i] !== undefined && results[i] >= d.pages)) keep.push(d);
    });
    this.dirty = keep;
  }
  /** Unmap everything. */
  release(sys: Sys): void {
    for (const c of this.chunks) sys.munmap(this.pid, c.vpn, c.pages);
    this.chunks = [];
    this.dirty = [];
    this.mapped = 0;
  }
}

export abstract class Driver {
  /** Results of the touches this driver queued in the current tick, delivered by the runner. */
  constructor(readonly pid: number, readonly startNs: bigint) {}
  /** Issue this tick's commands so the program is in its state at time `nowNs`. */
  abstract step(sys: Sys, nowNs: bigint, tickNs: bigint): void;
  /** Results of the queued commands, in order. */
  onResults(_results: number[]): void {}
  elapsed(nowNs: bigint): bigint {
    return nowNs - this.startNs;
  }
}

class IdleDriver extends Driver {
  step(): void {}
}

/** steady, leak, and the baseline of spike/periodic: a heap that grows to a target and keeps it. */
class HeapDriver extends Driver {
  protected heap: Heap;
  constructor(pid: number, startNs: bigint, private readonly target: (elapsedNs: bigint) => bigint) {
    super(pid, startNs);
    this.heap = new Heap(pid);
  }
  step(sys: Sys, nowNs: bigint): void {
    this.heap.growTo(sys, n(this.target(this.elapsed(nowNs))));
  }
  override onResults(r: number[]): void {
    this.heap.confirm(r);
  }
}

/** spike and periodic: a baseline heap plus an extra region that exists only while `on(elapsed)` is true. */
class BurstDriver extends Driver {
  private base: Heap;
  private burst: Heap;
  private wasOn = false;
  private nBase = 0;
  constructor(pid: number, startNs: bigint, private readonly baseline: bigint, private readonly size: bigint, private readonly on: (e: bigint) => boolean) {
    super(pid, startNs);
    this.base = new Heap(pid);
    this.burst = new Heap(pid);
  }
  step(sys: Sys, nowNs: bigint): void {
    this.base.growTo(sys, n(this.baseline));
    this.nBase = this.base.pendingTouches;
    const on = this.on(this.elapsed(nowNs));
    if (on) this.burst.growTo(sys, n(this.size));
    else if (this.wasOn) this.burst.release(sys);
    this.wasOn = on;
  }
  override onResults(r: number[]): void {
    this.base.confirm(r.slice(0, this.nBase));
    if (this.wasOn) this.burst.confirm(r.slice(this.nBase));
  }
}

/** file_scan: sequential read(2) (or mmap + read faults) through the page cache at `rate`, looping. */
class FileScanDriver extends Driver {
  private file = -1;
  private vpn = -1;
  private pos = 0n; // pages read since start, over all loops
  constructor(pid: number, startNs: bigint, private readonly w: Extract<NormalizedWorkload, { kind: 'file_scan' }>) {
    super(pid, startNs);
  }
  step(sys: Sys, nowNs: bigint): void {
    const size = this.w.filePages;
    if (size === 0n) return;
    if (this.file < 0) {
      this.file = sys.fileCreate(`scan-${this.pid}-${this.startNs}`, n(size));
      if (this.file < 0) return;
      if (this.w.mapped) {
        this.vpn = sys.mmapFile(this.pid, this.file, n(size));
        if (this.vpn < 0) return;
      }
    }
    if (this.w.mapped && this.vpn < 0) return;
    let target = pagesAtRate(this.w.rate, this.elapsed(nowNs));
    if (this.w.loops > 0) {
      const cap = size * BigInt(this.w.loops);
      if (target > cap) target = cap;
    }
    while (this.pos < target) {
      const off = this.pos % size;
      const count = target - this.pos < size - off ? target - this.pos : size - off;
      if (this.w.mapped) sys.queueTouch(this.pid, this.vpn + n(off), n(count), 'read');
      else sys.queueFileRead(this.pid, this.file, n(off), n(count));
      this.pos += count;
    }
  }
}

/** zipf: map the working set once, then `touchRate` accesses per second with Zipf weights, drawn in the engine. */
class ZipfDriver extends Driver {
  private vpn = -1;
  private done = 0n; // accesses issued so far
  constructor(pid: number, startNs: bigint, private readonly w: Extract<NormalizedWorkload, { kind: 'zipf' }>) {
    super(pid, startNs);
  }
  step(sys: Sys, nowNs: bigint): void {
    const np = n(this.w.workingSetPages);
    if (np === 0) return;
    if (this.vpn < 0) {
      this.vpn = sys.mmapAnon(this.pid, np);
      if (this.vpn < 0) return;
    }
    // Accesses due by now (touchRate per second, floored), split by write_fraction.
    const due = BigInt(Math.floor((Number(this.elapsed(nowNs)) * this.w.touchRate) / 1e9));
    const count = n(due - this.done);
    this.done = due;
    if (count <= 0) return;
    const writes = Math.round(count * this.w.writeFraction);
    if (writes > 0) sys.queueTouchZipf(this.pid, this.vpn, np, writes, 'write');
    if (count - writes > 0) sys.queueTouchZipf(this.pid, this.vpn, np, count - writes, 'read');
  }
}

/** fork_exec: fork every `interval`; the child execs, writes its size and exits after its lifetime. */
class ForkExecDriver extends Driver {
  private forks = 0n;
  constructor(pid: number, startNs: bigint, private readonly w: Extract<NormalizedWorkload, { kind: 'fork_exec' }>) {
    super(pid, startNs);
  }
  step(sys: Sys, nowNs: bigint): void {
    if (this.w.intervalNs <= 0n) return;
    const due = this.elapsed(nowNs) / this.w.intervalNs + 1n; // a fork at 0, interval, 2*interval, ...
    for (; this.forks < due; this.forks++) {
      sys.forkChild(this.pid, { kind: 'fork_exec_child', comm: this.w.childComm, pages: this.w.childPages, lifetimeNs: this.w.childLifetimeNs });
    }
  }
}

/** The child of fork_exec: execs `comm` (the runner does it at birth), writes its size, exits after its lifetime. */
class ExecChildDriver extends Driver {
  private heap: Heap;
  constructor(pid: number, startNs: bigint, private readonly pages: bigint, private readonly lifetimeNs: bigint) {
    super(pid, startNs);
    this.heap = new Heap(pid);
  }
  step(sys: Sys, nowNs: bigint): void {
    if (this.elapsed(nowNs) >= this.lifetimeNs) {
      sys.exit(this.pid);
      return;
    }
    this.heap.growTo(sys, n(this.pages));
  }
  override onResults(r: number[]): void {
    this.heap.confirm(r);
  }
}

/** fork_bomb: every task of the bomb forks every `interval`; each child writes `child_size` and forks in turn. */
class ForkBombDriver extends Driver {
  private forks = 0n;
  private heap: Heap;
  constructor(pid: number, startNs: bigint, private readonly intervalNs: bigint, private readonly childPages: bigint, private readonly ownPages: bigint, readonly root: number) {
    super(pid, startNs);
    this.heap = new Heap(pid);
  }
  step(sys: Sys, nowNs: bigint): void {
    if (this.ownPages > 0n) this.heap.growTo(sys, n(this.ownPages));
    if (this.intervalNs <= 0n) return;
    const due = this.elapsed(nowNs) / this.intervalNs; // first fork one interval after birth
    for (; this.forks < due; this.forks++) {
      if (sys.forkChild(this.pid, { kind: 'fork_bomb_child', pages: this.childPages, intervalNs: this.intervalNs, root: this.root }) < 0) break;
    }
  }
  override onResults(r: number[]): void {
    this.heap.confirm(r);
  }
}

/**
 * jvm: reserve the whole heap PROT_NONE (a private PROT_NONE mapping is not accountable: no commit charge), then
 * commit by mprotect(PROT_READ|PROT_WRITE) (charged by mprotect_fixup) and write at `growth`; a GC drops the
 * written heap to `live_fraction` with MADV_DONTNEED while the commitment stays. MAP_NORESERVE is not used for the
 * reserve: the kernel would then never charge the later mprotect (VM_NORESERVE), unlike HotSpot's MAP_FIXED commit.
 */
class JvmDriver extends Driver {
  private vpn = -1;
  private committed = 0;
  private touched = 0; // pages written and live
  private written = 0n; // pages of allocation so far (drives growth)
  private gcs = 0n;
  constructor(pid: number, startNs: bigint, private readonly w: Extract<NormalizedWorkload, { kind: 'jvm' }>) {
    super(pid, startNs);
  }
  step(sys: Sys, nowNs: bigint): void {
    const reserve = n(this.w.reservePages);
    if (reserve === 0) return;
    if (this.vpn < 0) {
      this.vpn = sys.mmapNone(this.pid, reserve);
      if (this.vpn < 0) return;
    }
    const e = this.elapsed(nowNs);
    if (this.w.gcEveryNs > 0n) {
      const due = e / this.w.gcEveryNs;
      if (due > this.gcs) {
        this.gcs = due;
        const live = Math.floor(this.touched * this.w.liveFraction);
        if (live < this.touched) sys.madviseDontneed(this.pid, this.vpn + live, this.touched - live);
        this.touched = live;
      }
    }
    const alloc = this.w.initialPages + pagesAtRate(this.w.growth, e);
    const grow = n(alloc - this.written);
    this.written = alloc;
    const want = Math.min(reserve, this.touched + grow);
    if (want > this.committed) {
      if (sys.mprotectRw(this.pid, this.vpn + this.committed, want - this.committed) < 0) return;
      this.committed = want;
    }
    if (want > this.touched) {
      sys.queueTouch(this.pid, this.vpn + this.touched, want - this.touched, 'write');
      this.touched = want;
    }
  }
}

/**
 * rss_curve: anonymous memory that follows a recorded curve (linear between points, integer pages). The largest
 * point is reserved once (PROT_NONE, no commit charge), committed (mprotect RW, charged) as the curve first reaches
 * it, written as it grows, and given back with MADV_DONTNEED as it falls (the commitment stays, as after free(3)
 * of a large block that glibc trims with madvise).
 */
class RssCurveDriver extends Driver {
  private vpn = -1;
  private committed = 0;
  private touched = 0;
  private readonly max: number;
  constructor(pid: number, startNs: bigint, private readonly pts: { atNs: bigint; pages: bigint }[]) {
    super(pid, startNs);
    this.max = n(pts.reduce((m, p) => (p.pages > m ? p.pages : m), 0n));
  }
  target(e: bigint): number {
    const p = this.pts;
    if (e <= p[0].atNs) return e < p[0].atNs && p[0].atNs > 0n ? n((p[0].pages * (e < 0n ? 0n : e)) / p[0].atNs) : n(p[0].pages);
    for (let i = 1; i < p.length; i++) {
      if (e < p[i].atNs) {
        const a = p[i - 1], b = p[i];
        return n(a.pages + ((b.pages - a.pages) * (e - a.atNs)) / (b.atNs - a.atNs));
      }
    }
    return n(p[p.length - 1].pages);
  }
  step(sys: Sys, nowNs: bigint): void {
    if (this.max === 0) return;
    if (this.vpn < 0) {
      this.vpn = sys.mmapNone(this.pid, this.max);
      if (this.vpn < 0) return;
    }
    const want = this.target(this.elapsed(nowNs));
    if (want > this.committed) {
      if (sys.mprotectRw(this.pid, this.vpn + this.committed, want - this.committed) < 0) return;
      this.committed = want;
    }
    if (want > this.touched) sys.queueTouch(this.pid, this.vpn + this.touched, want - this.touched, 'write');
    else if (want < this.touched) sys.madviseDontneed(this.pid, this.vpn + want, this.touched - want);
    this.touched = want;
  }
}

/** The driver of a program started with `workload` at `startNs`. */
export function driverFor(pid: number, startNs: bigint, w: NormalizedWorkload): Driver {
  switch (w.kind) {
    case 'idle':
      return new IdleDriver(pid, startNs);
    case 'steady':
      return new HeapDriver(pid, startNs, (e) => (w.rampNs === 0n || e >= w.rampNs ? w.workingSetPages : (w.workingSetPages * e) / w.rampNs));
    case 'leak':
      return new HeapDriver(pid, startNs, (e) => {
        const t = w.initialPages + pagesAtRate(w.rate, e);
        return w.limitPages !== null && t > w.limitPages ? w.limitPages : t;
      });
    case 'spike':
      return new BurstDriver(pid, startNs, w.baselinePages, w.sizePages, (e) => e >= w.atNs && e < w.atNs + w.durationNs);
    case 'periodic': {
      const onNs = BigInt(Math.round(Number(w.periodNs) * w.duty));
      return new BurstDriver(pid, startNs, w.baselinePages, w.sizePages, (e) => w.periodNs > 0n && e % w.periodNs < onNs);
    }
    case 'file_scan':
      return new FileScanDriver(pid, startNs, w);
    case 'zipf':
      return new ZipfDriver(pid, startNs, w);
    case 'fork_exec':
      return new ForkExecDriver(pid, startNs, w);
    case 'fork_bomb':
      return new ForkBombDriver(pid, startNs, w.intervalNs, w.childPages, 0n, pid);
    case 'jvm':
      return new JvmDriver(pid, startNs, w);
    case 'rss_curve':
      return new RssCurveDriver(pid, startNs, w.points);
  }
}

/** The driver of a child created by a workload (fork_exec, fork_bomb). */
export function childDriver(pid: number, startNs: bigint, spec: ChildSpec): Driver {
  if (spec.kind === 'fork_exec_child') return new ExecChildDriver(pid, startNs, spec.pages, spec.lifetimeNs);
  return new ForkBombDriver(pid, startNs, spec.intervalNs, spec.pages, spec.pages, spec.root);
}

export function isForkBomb(d: Driver): d is ForkBombDriver {
  return d instanceof ForkBombDriver;
}
export function forkBombRoot(d: Driver): number | null {
  return d instanceof ForkBombDriver ? d.root : null;
}
