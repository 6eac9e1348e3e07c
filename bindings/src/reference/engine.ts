/**
 * The pure-TypeScript reference engine: a second, independent reading of linux-mm-semantics.md (the dossier),
 * measured-rules.md and vectors-format.md §6. Its syscall surface is the `ops` vocabulary (§6.3); runOps() in
 * ops.ts turns vectors into calls of `ReferenceEngine.apply()` and observations.
 *
 * Model (all quantities in pages):
 * - frames: one Normal zone of `totalram_pages`; the hugetlb pool is carved out at boot. A user page (anon, page
 *   cache, shmem) takes one frame. Page tables and other kernel memory are not modelled (§6.2 rule 4).
 * - a `Folio` is one user page; PTEs map folios (`rmap` lists every PTE mapping it, so mapcount = rmap.length).
 * - every user page is charged in exactly one place, `allocFolio()` (memcg charge, then a frame), and uncharged in
 *   exactly one place, `freeFolio()`.
 * - allocation honours the min watermark (dossier §5.2-5.3: the slow path allocates only while
 *   __zone_watermark_ok(free, WMARK_MIN) holds, i.e. free > min; an OOM victim may use half of it, ALLOC_OOM);
 *   below it direct reclaim runs (clean page cache, anon/shmem to swap) and, when that frees nothing, the global
 *   OOM killer (dossier §2.2).
 *
 * Control flow of a task's kernel entry that cannot complete is an exception (`Killed`, `Blocked`, `NoMem`,
 * `Panicked`, `SegFault`, `SigBus`), caught where the op's result is decided (entry.ts).
 *
 * Layout: this file is the facade (the API ops.ts, the tests and the bench use) and the composition root that
 * wires the hooks of the state. The state is one `Kernel` object of parts (state.ts); the code is in modules named
 * after the kernel files they mirror — page_alloc, memory, mmap, mprotect, madvise, fork, exit, rmap, filemap, shmem,
 * read_write, swapfile, swap_state, vmscan, memcontrol, memcontrol_v1, cgroup, oom_kill, util, vmstat, meminfo,
 * sysctl — with the vocabulary in types.ts. docs/reference-engine.md has the map.
 */
import { cgroupCreate, cgroupOpen, cgroupRead, cgroupWrite, charge, fdRead, fdWrite, unchargeOp } from './cgroup.js';
import { drainWakeups, runTaskAccesses, syscall } from './entry.js';
import { exit, exitTask } from './exit.js';
import { dropFromMapping, fileCreate } from './filemap.js';
import { fork, spawn } from './fork.js';
import { madvise, swapout } from './madvise.js';
import type { CgroupVersion, FileValue, Memcg } from './memcontrol.js';
import { oomRecover } from './memcontrol_v1.js';
import { meminfo } from './meminfo.js';
import { runAccesses } from './memory.js';
import { brk, mmap, munmap } from './mmap.js';
import { mprotect } from './mprotect.js';
import { badness, outOfMemory } from './oom_kill.js';
import { type Watermarks, watermarks } from './page_alloc.js';
import { fileRead, fileWrite } from './read_write.js';
import { folioReferenced, tryToUnmap } from './rmap.js';
import { shmemWriteout } from './shmem.js';
import { Kernel, liveTask } from './state.js';
import { addToSwap, dropSwapCache, swapWritepage } from './swap_state.js';
import { dropSwapEntryOfMapped, memSwapFull } from './swapfile.js';
import { bootSysctls, writeSysctl } from './sysctl.js';
import {
  type Access, type CowKind, type FaultKind, type Folio, InvalidOp, type LruName, type MachineConfig, type Mapping,
  type OomRecord, type OpResult, type Task, type VmFlags,
} from './types.js';
import { commitLimit } from './util.js';
import { tryToFreeMemCgroupPages } from './vmscan.js';
import { memcgStats, nrFilePages, vmstat } from './vmstat.js';

/** Fill in the hooks of the state: the calls that go up the module layers (state.ts). */
function wire(k: Kernel): void {
  k.host = {
    get totalSwapPages() {
      return k.swap.total;
    },
    get vmSwappiness() {
      return k.sysctl['vm.swappiness'];
    },
    reclaimMemcg: (memcg, nr, maySwap) => tryToFreeMemCgroupPages(k.reclaim, memcg, nr, maySwap),
    memcgOutOfMemory: (memcg, order) => outOfMemory(k, memcg, order),
    oomRecover: (memcg) => oomRecover(k, memcg),
    statsOf: (memcg) => memcgStats(k, memcg),
    rootUsagePages: () => nrFilePages(k) + k.lru.nrAnonMapped,
  };
  k.reclaim = {
    lru: k.lru.lists,
    rootMemcg: k.cgroups.root,
    totalSwapPages: k.swap.total,
    swapFreePages: () => k.swap.free,
    freePages: () => k.freePages,
    highWmark: () => watermarks(k).high,
    vmSwappiness: () => k.sysctl['vm.swappiness'],
    count: (event, n = 1) => k.stat.count(event, n),
    lruvecCost: (m) => {
      let c = k.lru.costs.get(m);
      if (!c) k.lru.costs.set(m, (c = { anon: 0, file: 0 }));
      return c;
    },
    folioReferenced: (f, target) => folioReferenced(k, f, target),
    addToSwap: (f) => addToSwap(k, f),
    tryToUnmap: (f) => tryToUnmap(k, f),
    swapWritepage: (f) => swapWritepage(k, f),
    shmemWriteout: (f) => shmemWriteout(k, f),
    removeMapping: (f) => (f.swap ? dropSwapCache(k, f) : dropFromMapping(k, f)),
    memSwapFull: (m) => memSwapFull(k, m),
    folioFreeSwap: (f) => {
      if (f.swap && f.swap.count === 0) dropSwapEntryOfMapped(k, f);
    },
  };
  k.oomKiller = (memcg, order) => outOfMemory(k, memcg, order);
}

export class ReferenceEngine {
  /** the whole state of the modelled machine */
  readonly k: Kernel;

  constructor(m: MachineConfig) {
    if ((m.page_size ?? 4096) !== 4096) throw new InvalidOp('page_size must be 4096');
    this.k = new Kernel({
      totalram: m.totalram_pages,
      totalSwap: m.total_swap_pages ?? 0,
      hugetlbTotal: m.hugetlb_total_pages ?? 0,
      cgroupVersion: m.cgroup ?? 'v2',
      committedBaseline: m.committed_as_pages ?? 0,
      sysctl: bootSysctls(m.totalram_pages, m.sysctl),
    });
    wire(this.k);
  }

  // ---- the machine and its state, read-only views ------------------------------------------------------------

  get totalram(): number {
    return this.k.totalram;
  }
  get totalSwap(): number {
    return this.k.swap.total;
  }
  get hugetlbTotal(): number {
    return this.k.hugetlbTotal;
  }
  get cgroupVersion(): CgroupVersion {
    return this.k.cgroupVersion;
  }
  get committedBaseline(): number {
    return this.k.commit.baseline;
  }
  get sysctl(): Record<string, number> {
    return this.k.sysctl;
  }
  get lru(): Record<LruName, Set<Folio>> {
    return this.k.lru.lists;
  }
  /** live tasks in task-list (creation) order */
  get tasks(): Map<number, Task> {
    return this.k.tasks.live;
  }
  /** every task that ever existed, by pid (the latest one for a reused pid) */
  get allTasks(): Map<number, Task> {
    return this.k.tasks.all;
  }
  get files(): Map<string, Mapping> {
    return this.k.files.named;
  }
  get memcgs(): Map<string, Memcg> {
    return this.k.cgroups.memcgs;
  }
  get root(): Memcg {
    return this.k.cgroups.root;
  }
  /** open cgroup files */
  get fds(): Map<string, { memcg: Memcg; file: string; peakBaseline?: number }> {
    return this.k.cgroups.fds;
  }
  get pagesAllocated(): number {
    return this.k.frames.pagesAllocated;
  }
  get faultsMinor(): number {
    return this.k.stat.faultsMinor;
  }
  get faultsMajor(): number {
    return this.k.stat.faultsMajor;
  }
  /** the kernel log */
  get log(): string[] {
    return this.k.log;
  }
  get ooms(): OomRecord[] {
    return this.k.oom.records;
  }
  get panicked(): string | null {
    return this.k.oom.panicked;
  }
  get freePages(): number {
    return this.k.freePages;
  }
  get usedFrames(): number {
    return this.k.frames.nrFolios;
  }
  get swapFree(): number {
    return this.k.swap.free;
  }
  /** vm_memory_committed(): the modelled processes plus the machine's baseline, clamped at 0. */
  get committedAs(): number {
    return this.k.commit.committedAs;
  }
  /** Committed_AS of the modelled processes only. */
  get committedModelled(): number {
    return this.k.commit.committed;
  }
  commitLimit(): number {
    return commitLimit(this.k);
  }
  watermarks(): Watermarks {
    return watermarks(this.k);
  }
  /** /proc/vmstat: event counters plus the state counters derived from the model. */
  vmstat(): Record<string, number> {
    return vmstat(this.k);
  }
  /** fs/proc/meminfo.c:meminfo_proc_show(): field values in kB. */
  meminfo(v?: Record<string, number>): Record<string, number> {
    return meminfo(this.k, v);
  }

  // ---- the ops --------------------------------------------------------------------------------------------------

  writeSysctl(name: string, value: number): OpResult {
    return writeSysctl(this.k, name, value);
  }
  spawn(pid: number, cgroup = '/', comm = `task${pid}`, oomScoreAdj = 0, uid = 1000, capSysAdmin = false): OpResult {
    return spawn(this.k, pid, cgroup, comm, oomScoreAdj, uid, capSysAdmin);
  }
  fork(pid: number, childPid: number): OpResult {
    return fork(this.k, pid, childPid);
  }
  exitTask(t: Task): void {
    exitTask(this.k, t);
  }
  exit(pid: number): OpResult {
    return exit(this.k, pid);
  }
  mmap(pid: number, name: string, pages: number, prot: string, flags: string[], file?: string): OpResult {
    return mmap(this.k, pid, name, pages, prot, flags, file);
  }
  munmap(pid: number, name: string, first: number, count: number): OpResult {
    return munmap(this.k, pid, name, first, count);
  }
  mprotect(pid: number, name: string, first: number, count: number, prot: string): OpResult {
    return mprotect(this.k, pid, name, first, count, prot);
  }
  madvise(pid: number, name: string, first: number, count: number, advice: string): OpResult {
    return madvise(this.k, pid, name, first, count, advice);
  }
  brk(pid: number, pages: number): OpResult {
    return brk(this.k, pid, pages);
  }
  swapout(pid: number, name: string, first: number, count: number, swapcache = false): OpResult {
    return swapout(this.k, pid, name, first, count, swapcache);
  }
  fileCreate(name: string, fs: 'disk' | 'tmpfs' | 'hugetlbfs', pages = 0, cached = false): OpResult {
    return fileCreate(this.k, name, fs, pages, cached);
  }
  fileRead(pid: number, name: string, first: number, count: number): OpResult {
    return fileRead(this.k, pid, name, first, count);
  }
  fileWrite(pid: number, name: string, first: number, count: number): OpResult {
    return fileWrite(this.k, pid, name, first, count);
  }
  /** Run accesses for `task` in order (memory.ts); throws the Abort that stopped them. */
  runAccesses(task: Task, list: Access[]): { fault: FaultKind; cow: CowKind } {
    return runAccesses(this.k, task, list);
  }
  outOfMemory(memcg: Memcg | null, order: number): boolean {
    return outOfMemory(this.k, memcg, order);
  }
  cgroupCreate(path: string): OpResult {
    return cgroupCreate(this.k, path);
  }
  cgroupWrite(path: string, file: string, value: string, fdState?: { peakBaseline?: number }): OpResult {
    return cgroupWrite(this.k, path, file, value, fdState);
  }
  cgroupRead(path: string, file: string): FileValue {
    return cgroupRead(this.k, path, file);
  }
  cgroupOpen(path: string, file: string, fd: string): OpResult {
    return cgroupOpen(this.k, path, file, fd);
  }
  fdWrite(fd: string, value: string): OpResult {
    return fdWrite(this.k, fd, value);
  }
  fdRead(fd: string): FileValue {
    return fdRead(this.k, fd);
  }
  charge(path: string, pages: number): OpResult {
    return charge(this.k, path, pages);
  }
  unchargeOp(path: string, pages: number): OpResult {
    return unchargeOp(this.k, path, pages);
  }

  // ---- running ops (entry.ts) --------------------------------------------------------------------------------------

  runTaskAccesses(task: Task, list: Access[]): { result: OpResult; fault: FaultKind; cow: CowKind } {
    return runTaskAccesses(this.k, task, list);
  }
  syscall(task: Task | null, body: () => OpResult): OpResult {
    return syscall(this.k, task, body);
  }
  drainWakeups(): void {
    drainWakeups(this.k);
  }
  /** Task lookup for the op layer (a live, non-blocked task). */
  opTask(pid: number): Task {
    return liveTask(this.k, pid);
  }

  // ---- observations ------------------------------------------------------------------------------------------------

  /** PTE state of one page for the `pte` observation. */
  pteState(pid: number, region: string, page: number): 'none' | 'zero_page' | 'present' | 'swap' {
    const r = this.k.tasks.all.get(pid)?.mm?.regions.get(region);
    const p = r?.ptes.get(page);
    if (!p) return 'none';
    return p.t === 'zero' ? 'zero_page' : p.t === 'swap' ? 'swap' : 'present';
  }

  /** Flags of the VMA covering a page for the `vma_flags` observation (null when unmapped). */
  vmaFlags(pid: number, region: string, page: number): VmFlags | null {
    const v = this.k.tasks.all.get(pid)?.mm?.regions.get(region)?.vmaAt(page);
    return v ? { ...v.flags } : null;
  }

  /** Badness of a live task against the global totalpages (for /proc/<pid>/oom_score style checks). */
  badness(pid: number): number {
    return badness(this.k, pid);
  }

  /** Recount everything from the page tables and caches; used by the property tests. */
  audit(): { folios: number; presentByPid: Map<number, { anon: number; file: number; shmem: number; swap: number }>; accountedVmaPages: number; shmemAcct: number } {
    const k = this.k;
    const all = new Set<Folio>();
    for (const l of Object.values(k.lru.lists)) for (const f of l) all.add(f);
    const presentByPid = new Map<number, { anon: number; file: number; shmem: number; swap: number }>();
    let accounted = 0;
    for (const t of k.tasks.live.values()) {
      const c = { anon: 0, file: 0, shmem: 0, swap: 0 };
      for (const r of t.mm!.regions.values()) {
        for (const v of r.vmas) if (v.flags.account) accounted += v.len;
        for (const p of r.ptes.values()) {
          if (p.t === 'folio') c[p.folio.kind]++;
          else if (p.t === 'swap') c.swap++;
        }
      }
      presentByPid.set(t.pid, c);
    }
    let shmemAcct = 0;
    for (const m of [...k.files.named.values(), ...k.files.anonShmem]) shmemAcct += m.acctBlocks + m.acctSize;
    return { folios: all.size, presentByPid, accountedVmaPages: accounted, shmemAcct };
  }
}
