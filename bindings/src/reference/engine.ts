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
 * `Panicked`, `SegFault`, `SigBus`), caught where the op's result is decided.
 */
import { VMSTAT_NAMES } from '../generated/vmstat.js';
import {
  Memcg, type CgroupVersion, type MemcgHost, type MemcgStats, tryChargeMemcg, readFile, writeFile, fileExists,
  SWAP_CLUSTER_MAX, type FileValue,
} from './memcontrol.js';
import {
  type Constraint, LONG_MIN, oomBadness, selectBadProcess, checkPanicOnOom, invokedLine, DUMP_TASKS_HEADER,
  dumpTaskRow, oomKillLine, killedProcessLine, alreadyExitingLine, memcgCounterLine, type TaskMemView,
} from './oom_kill.js';
import { calculateMinFreeKbytes, setupZoneWmarks, totalreservePages, type Watermarks, zoneWatermarkOk } from './page_alloc.js';
import { PAGE_COUNTER_MAX } from './page_counter.js';
import {
  vmCommitLimit, vmEnoughMemory, initAdminReserveKbytes, initUserReserveKbytes, OVERCOMMIT_NEVER, type CommitState,
} from './util.js';
import {
  type LruvecCost, type ReclaimHost, folioMarkAccessed, MAX_RECLAIM_RETRIES, tryToFreeMemCgroupPages,
  tryToFreePages, zoneReclaimablePages,
} from './vmscan.js';
import {
  type Access, Blocked, type CowKind, type FaultKind, Folio, type FolioKind, InvalidOp, Killed, type LruName,
  type MachineConfig, Mapping, Mm, NoMem, NoSpace, type OomRecord, type OpResult, Panicked, Region, SegFault, SigBus,
  START_BRK, SwapEntry, Task, Vma, type VmFlags, Abort,
} from './types.js';

/** Sysctl ranges (proc_dointvec_minmax & co) and defaults; null bounds = unchecked int. */
interface SysctlDef {
  min: number | null;
  max: number | null;
}
const SYSCTLS: Record<string, SysctlDef> = {
  'vm.overcommit_memory': { min: 0, max: 2 }, // mm/util.c (proc_dointvec_minmax 0..2)
  'vm.overcommit_ratio': { min: null, max: null }, // mm/util.c: plain int
  'vm.overcommit_kbytes': { min: 0, max: null }, // mm/util.c: unsigned long
  'vm.user_reserve_kbytes': { min: 0, max: null },
  'vm.admin_reserve_kbytes': { min: 0, max: null },
  'vm.swappiness': { min: 0, max: 200 }, // mm/vmscan.c: 0..MAX_SWAPPINESS
  'vm.panic_on_oom': { min: 0, max: 2 }, // mm/oom_kill.c
  'vm.oom_kill_allocating_task': { min: null, max: null },
  'vm.oom_dump_tasks': { min: null, max: null },
  'vm.min_free_kbytes': { min: 0, max: null }, // mm/page_alloc.c
  'vm.watermark_scale_factor': { min: 1, max: 3000 },
};

/** The most out_of_memory() calls one allocation makes before it fails (an engine bound; see allocFrame). */
const MAX_OOM_CALLS_PER_ALLOC = 4;
const GFP_USER_FAULT = ['0x140cca', 'GFP_HIGHUSER_MOVABLE|__GFP_COMP'] as const;
const GFP_KERNEL = ['0xcc0', 'GFP_KERNEL'] as const;

export class ReferenceEngine {
  readonly totalram: number;
  readonly totalSwap: number;
  readonly hugetlbTotal: number;
  readonly cgroupVersion: CgroupVersion;
  readonly committedBaseline: number;
  readonly sysctl: Record<string, number>;

  // frames
  private nrFolios = 0;
  private swapUsed = 0;
  private hugeFree: number;
  private hugeResv = 0;
  /** vm_committed_as of the modelled processes, pages */
  private committed = 0;
  readonly lru: Record<LruName, Set<Folio>> = {
    inactive_anon: new Set(), active_anon: new Set(), inactive_file: new Set(), active_file: new Set(),
  };
  private nrAnonMapped = 0;
  private nrFileMapped = 0;

  /** live tasks in task-list (creation) order */
  readonly tasks = new Map<number, Task>();
  /** every task that ever existed, by pid (the latest one for a reused pid) */
  readonly allTasks = new Map<number, Task>();
  readonly files = new Map<string, Mapping>();
  readonly memcgs = new Map<string, Memcg>();
  readonly root: Memcg;

  /** event counters of /proc/vmstat (the state counters are derived in vmstat()) */
  private events: Record<string, number> = {};
  pagesAllocated = 0;
  faultsMinor = 0;
  faultsMajor = 0;
  readonly log: string[] = [];
  readonly ooms: OomRecord[] = [];
  panicked: string | null = null;

  /** the task running the current op (null: the admin process) */
  private current: Task | null = null;
  /** tasks woken from a v1 OOM wait, resumed at the end of the current op */
  private wakeQueue: Task[] = [];
  /** open cgroup files */
  readonly fds = new Map<string, { memcg: Memcg; file: string; peakBaseline?: number }>();
  private readonly host: MemcgHost;
  /** reclaim's view of the engine (vmscan.ts) */
  private readonly reclaim: ReclaimHost;
  /** lruvec->anon_cost / file_cost per memcg (mm/swap.c:lru_note_cost) */
  private readonly lruvecCosts = new Map<Memcg, LruvecCost>();

  constructor(m: MachineConfig) {
    if ((m.page_size ?? 4096) !== 4096) throw new InvalidOp('page_size must be 4096');
    this.totalram = m.totalram_pages;
    this.totalSwap = m.total_swap_pages ?? 0;
    this.hugetlbTotal = m.hugetlb_total_pages ?? 0;
    this.hugeFree = Math.floor(this.hugetlbTotal / 512);
    this.cgroupVersion = m.cgroup ?? 'v2';
    this.committedBaseline = m.committed_as_pages ?? 0;
    const freeKbAtBoot = this.totalram * 4;
    // Kernel defaults (dossier §1, §2.11, §5); the reserves as init_user_reserve/init_admin_reserve compute them.
    this.sysctl = {
      'vm.overcommit_memory': 0,
      'vm.overcommit_ratio': 50,
      'vm.overcommit_kbytes': 0,
      'vm.user_reserve_kbytes': initUserReserveKbytes(freeKbAtBoot),
      'vm.admin_reserve_kbytes': initAdminReserveKbytes(freeKbAtBoot),
      'vm.swappiness': 60,
      'vm.panic_on_oom': 0,
      'vm.oom_kill_allocating_task': 0,
      'vm.oom_dump_tasks': 1,
      'vm.min_free_kbytes': calculateMinFreeKbytes(this.totalram * 4),
      'vm.watermark_scale_factor': 10,
    };
    for (const [k, v] of Object.entries(m.sysctl ?? {})) {
      if (!(k in SYSCTLS)) throw new InvalidOp(`unknown sysctl ${k}`);
      this.sysctl[k] = v;
    }
    for (const n of VMSTAT_NAMES) this.events[n] = 0;
    this.root = new Memcg('/', null, this.cgroupVersion);
    this.memcgs.set('/', this.root);
    const self = this;
    this.host = {
      get totalSwapPages() {
        return self.totalSwap;
      },
      get vmSwappiness() {
        return self.sysctl['vm.swappiness'];
      },
      reclaimMemcg: (memcg, nr, maySwap) => tryToFreeMemCgroupPages(this.reclaim, memcg, nr, maySwap),
      memcgOutOfMemory: (memcg, order) => this.outOfMemory(memcg, order),
      oomRecover: (memcg) => this.oomRecover(memcg),
      statsOf: (memcg) => this.memcgStats(memcg),
      rootUsagePages: () => this.nrFilePages() + this.nrAnonMapped,
    };
    this.reclaim = {
      lru: this.lru,
      rootMemcg: this.root,
      totalSwapPages: this.totalSwap,
      swapFreePages: () => this.swapFree,
      freePages: () => this.freePages,
      highWmark: () => this.watermarks().high,
      vmSwappiness: () => this.sysctl['vm.swappiness'],
      count: (event, n = 1) => this.count(event, n),
      lruvecCost: (m) => {
        let c = this.lruvecCosts.get(m);
        if (!c) this.lruvecCosts.set(m, (c = { anon: 0, file: 0 }));
        return c;
      },
      folioReferenced: (f, target) => this.folioReferenced(f, target),
      addToSwap: (f) => this.addToSwap(f),
      tryToUnmap: (f) => this.tryToUnmap(f),
      swapWritepage: (f) => this.swapWritepage(f),
      shmemWriteout: (f) => this.shmemWriteout(f),
      removeMapping: (f) => (f.swap ? this.dropSwapCache(f) : this.dropFromMapping(f)),
      memSwapFull: (m) => this.memSwapFull(m),
      folioFreeSwap: (f) => {
        if (f.swap && f.swap.count === 0) this.dropSwapEntryOfMapped(f);
      },
    };
  }

  // ---- counters ---------------------------------------------------------------------------------------------

  get freePages(): number {
    return this.totalram - this.hugetlbTotal - this.nrFolios;
  }
  get usedFrames(): number {
    return this.nrFolios;
  }
  get swapFree(): number {
    return this.totalSwap - this.swapUsed;
  }
  /** vm_memory_committed(): the modelled processes plus the machine's baseline, clamped at 0. */
  get committedAs(): number {
    return Math.max(0, this.committed + this.committedBaseline);
  }
  /** Committed_AS of the modelled processes only. */
  get committedModelled(): number {
    return this.committed;
  }
  commitLimit(): number {
    return vmCommitLimit(this.totalram, this.totalSwap, this.hugetlbTotal, {
      overcommit_ratio: this.sysctl['vm.overcommit_ratio'],
      overcommit_kbytes: this.sysctl['vm.overcommit_kbytes'],
    });
  }
  watermarks(): Watermarks {
    return setupZoneWmarks(this.totalram, this.sysctl['vm.min_free_kbytes'], this.sysctl['vm.watermark_scale_factor']);
  }

  private count(name: string, n = 1): void {
    this.events[name] = (this.events[name] ?? 0) + n;
  }

  private nrFilePages(): number {
    let n = 0;
    for (const l of ['inactive_file', 'active_file'] as const) n += this.lru[l].size;
    for (const l of ['inactive_anon', 'active_anon'] as const) for (const f of this.lru[l]) if (f.kind === 'shmem' || f.swap) n++;
    return n;
  }

  /** /proc/vmstat: event counters plus the state counters derived from the model. */
  vmstat(): Record<string, number> {
    let shmem = 0;
    let swapcached = 0;
    let dirty = 0;
    let anonListFilePages = 0;
    for (const l of Object.values(this.lru)) {
      for (const f of l) {
        // mm/shmem.c:shmem_delete_from_page_cache(): a shmem folio moved to the swap cache no longer counts in NR_SHMEM
        if (f.kind === 'shmem' && !f.swap) shmem++;
        if (f.swap) swapcached++;
        if (f.dirty && f.kind === 'file') dirty++;
        if (f.kind !== 'file' && (f.kind === 'shmem' || f.swap)) anonListFilePages++;
      }
    }
    return {
      ...this.events,
      nr_free_pages: this.freePages,
      nr_zspages: 0,
      nr_inactive_anon: this.lru.inactive_anon.size,
      nr_active_anon: this.lru.active_anon.size,
      nr_inactive_file: this.lru.inactive_file.size,
      nr_active_file: this.lru.active_file.size,
      nr_unevictable: 0,
      nr_anon_pages: this.nrAnonMapped,
      nr_mapped: this.nrFileMapped,
      // NR_FILE_PAGES: page cache, shmem and swap cache (nrFilePages())
      nr_file_pages: this.lru.inactive_file.size + this.lru.active_file.size + anonListFilePages,
      nr_dirty: dirty,
      nr_writeback: 0,
      nr_shmem: shmem,
      nr_swapcached: swapcached,
      nr_slab_reclaimable: 0,
      nr_slab_unreclaimable: 0,
      nr_page_table_pages: 0,
    };
  }

  /** fs/proc/meminfo.c:meminfo_proc_show(): field values in kB. */
  meminfo(vmstat?: Record<string, number>): Record<string, number> {
    const v = vmstat ?? this.vmstat();
    const w = this.watermarks();
    const K = (p: number) => p * 4;
    // mm/show_mem.c:si_mem_available()
    let avail = v.nr_free_pages - totalreservePages(this.totalram, w);
    const pc = v.nr_active_file + v.nr_inactive_file;
    avail += pc - Math.min(Math.trunc(pc / 2), w.low);
    const available = Math.max(avail, 0);
    const hugePages = Math.floor(this.hugetlbTotal / 512);
    return {
      MemTotal: K(this.totalram),
      MemFree: K(v.nr_free_pages),
      MemAvailable: K(available),
      Buffers: 0,
      Cached: K(Math.max(v.nr_file_pages - v.nr_swapcached, 0)),
      SwapCached: K(v.nr_swapcached),
      Active: K(v.nr_active_anon + v.nr_active_file),
      Inactive: K(v.nr_inactive_anon + v.nr_inactive_file),
      'Active(anon)': K(v.nr_active_anon),
      'Inactive(anon)': K(v.nr_inactive_anon),
      'Active(file)': K(v.nr_active_file),
      'Inactive(file)': K(v.nr_inactive_file),
      Unevictable: 0,
      Mlocked: 0,
      SwapTotal: K(this.totalSwap),
      SwapFree: K(this.swapFree),
      Dirty: K(v.nr_dirty),
      Writeback: 0,
      AnonPages: K(v.nr_anon_pages),
      Mapped: K(v.nr_mapped),
      Shmem: K(v.nr_shmem),
      KReclaimable: 0,
      Slab: 0,
      SReclaimable: 0,
      SUnreclaim: 0,
      KernelStack: 0,
      PageTables: 0,
      CommitLimit: K(this.commitLimit()),
      Committed_AS: K(this.committedAs),
      HugePages_Total: hugePages,
      HugePages_Free: this.hugeFree,
      HugePages_Rsvd: this.hugeResv,
      Hugepagesize: 2048,
      Hugetlb: K(this.hugetlbTotal),
    };
  }

  private memcgStats(m: Memcg): MemcgStats {
    const s: MemcgStats = { anon: 0, file: 0, shmem: 0, file_mapped: 0, file_dirty: 0, swapcached: 0, swap: 0, inactive_anon: 0, active_anon: 0, inactive_file: 0, active_file: 0, unevictable: 0 };
    for (const [name, l] of Object.entries(this.lru) as [LruName, Set<Folio>][]) {
      for (const f of l) {
        if (f.memcg !== m) continue;
        s[name]++;
        if (f.kind === 'anon') s.anon++;
        else s.file++;
        if (f.kind === 'shmem' && !f.swap) s.shmem++;
        if (f.kind !== 'anon' && f.rmap.length > 0) s.file_mapped++;
        if (f.kind === 'file' && f.dirty) s.file_dirty++;
        if (f.swap) s.swapcached++;
      }
    }
    for (const e of this.allSwapEntries()) if (e.memcg === m && !e.folio) s.swap++;
    return s;
  }

  private *allSwapEntries(): Generator<SwapEntry> {
    const seen = new Set<SwapEntry>();
    for (const t of this.tasks.values()) {
      if (!t.mm) continue;
      for (const r of t.mm.regions.values()) for (const p of r.ptes.values()) if (p.t === 'swap' && !seen.has(p.entry)) seen.add(p.entry);
    }
    for (const f of this.files.values()) for (const e of f.swapped.values()) seen.add(e);
    for (const f of this.anonShmem) for (const e of f.swapped.values()) seen.add(e);
    yield* seen;
  }
  private anonShmem = new Set<Mapping>();

  // ---- sysctl ---------------------------------------------------------------------------------------------

  /** A sysctl write through its handler: range check, then side effects (mm/util.c overcommit handlers). */
  writeSysctl(name: string, value: number): OpResult {
    const def = SYSCTLS[name];
    if (!def) throw new InvalidOp(`unknown sysctl ${name}`);
    if ((def.min !== null && value < def.min) || (def.max !== null && value > def.max)) return 'EINVAL';
    this.sysctl[name] = value;
    // mm/util.c:overcommit_ratio_handler / overcommit_kbytes_handler: a successful write of one zeroes the other,
    // even when the value written is 0.
    if (name === 'vm.overcommit_ratio') this.sysctl['vm.overcommit_kbytes'] = 0;
    if (name === 'vm.overcommit_kbytes') this.sysctl['vm.overcommit_ratio'] = 0;
    return 'ok';
  }

  // ---- overcommit -------------------------------------------------------------------------------------------

  private commitState(): CommitState {
    return {
      committed: this.committed + this.committedBaseline,
      totalramPages: this.totalram,
      totalSwapPages: this.totalSwap,
      commitLimit: this.commitLimit(),
      sysctl: {
        overcommit_memory: this.sysctl['vm.overcommit_memory'],
        overcommit_ratio: this.sysctl['vm.overcommit_ratio'],
        overcommit_kbytes: this.sysctl['vm.overcommit_kbytes'],
        admin_reserve_kbytes: this.sysctl['vm.admin_reserve_kbytes'],
        user_reserve_kbytes: this.sysctl['vm.user_reserve_kbytes'],
      },
    };
  }

  /** security_vm_enough_memory_mm(mm, pages) for `task` (its mm's total_vm, its CAP_SYS_ADMIN). */
  private vmEnough(task: Task, pages: number, mm: Mm | null = task.mm): boolean {
    const st = this.commitState();
    const ok = vmEnoughMemory(st, pages, mm ? mm.totalVm : null, task.capSysAdmin);
    if (ok) this.committed += pages;
    else this.log.push(`__vm_enough_memory: pid: ${task.pid}, comm: ${task.comm}, bytes: ${pages * 4096} not enough memory for the allocation`);
    return ok;
  }
  /** vm_unacct_memory() */
  private unacct(pages: number): void {
    this.committed -= pages;
  }

  // ---- tasks ------------------------------------------------------------------------------------------------

  private liveTask(pid: number): Task {
    const t = this.tasks.get(pid);
    if (!t) throw new InvalidOp(`task ${pid} does not exist`);
    if (t.blocked) throw new InvalidOp(`task ${pid} is blocked and may not be given new ops`);
    return t;
  }

  private memcgAt(path: string): Memcg {
    const m = this.memcgs.get(path);
    if (!m) throw new InvalidOp(`cgroup ${path} does not exist`);
    return m;
  }

  spawn(pid: number, cgroup = '/', comm = `task${pid}`, oomScoreAdj = 0, uid = 1000, capSysAdmin = false): OpResult {
    if (this.tasks.has(pid)) throw new InvalidOp(`task ${pid} already exists`);
    if (oomScoreAdj < -1000 || oomScoreAdj > 1000) throw new InvalidOp('oom_score_adj out of range');
    const t = new Task(pid, comm, uid, capSysAdmin, oomScoreAdj, this.memcgAt(cgroup));
    this.tasks.set(pid, t);
    this.allTasks.set(pid, t);
    return 'ok';
  }

  /**
   * fork(): mm/mmap.c:dup_mmap(). The child copies every VMA except VM_DONTCOPY ones; each VM_ACCOUNT VMA is
   * charged (checked against the PARENT's mm in mode 2; a failure undoes the copy: ENOMEM, no child).
   * mm/memory.c:copy_page_range() copies PTEs only for private VMAs that have an anon_vma (vma_needs_copy):
   * anon pages become shared and write-protected in both, counted in both RSS; no page is allocated.
   */
  fork(pid: number, childPid: number): OpResult {
    const p = this.liveTask(pid);
    if (this.tasks.has(childPid)) throw new InvalidOp(`task ${childPid} already exists`);
    const pmm = p.mm!;
    // mm/mmap.c:dup_mmap() walks the VMAs in address order and, for each, checks the commit charge (mode 2 against
    // the parent's mm) BEFORE copying it; VMAs copied before a failing check have already write-protected the
    // parent's anon PTEs (copy_present_pte), and tearing down the half-built child does not undo that, so the
    // parent's next write to such a page takes a do_wp_page fault (reuse).
    let charged = 0;
    const copiedBefore: [Region, Vma][] = [];
    for (const [r, v] of pmm.vmasInAddressOrder()) {
      if (v.flags.dontcopy) continue;
      if (v.flags.account && !this.vmEnough(p, v.len, pmm)) {
        this.unacct(charged);
        for (const [cr, cv] of copiedBefore) {
          if (cv.flags.shared || !cv.anonVma || cv.flags.hugetlb) continue;
          for (let i = cv.start; i < cv.end; i++) {
            const pte = cr.ptes.get(i);
            if (pte && pte.t !== 'zero' && pte.t !== 'swap') pte.writable = false;
          }
        }
        return 'ENOMEM';
      }
      if (v.flags.account) charged += v.len;
      copiedBefore.push([r, v]);
    }
    const c = new Task(childPid, p.comm, p.uid, p.capSysAdmin, p.oomScoreAdj, p.memcg);
    const cmm = c.mm!;
    cmm.brk = pmm.brk;
    for (const r of pmm.regions.values()) {
      const copied = r.vmas.filter((v) => !v.flags.dontcopy);
      if (copied.length === 0) continue;
      const cr = new Region(r.name, cmm, r.base);
      cmm.regions.set(r.name, cr);
      for (const v of copied) {
        cr.vmas.push(new Vma(v.start, v.end, { ...v.flags }, v.mapping, v.anonVma));
        if (v.mapping) v.mapping.mappers++;
        if (v.flags.hugetlb) cmm.totalVm += v.len;
        else cmm.totalVm += v.len;
        // mm/memory.c:vma_needs_copy(): PTEs are copied only when the VMA has an anon_vma (some anon page was
        // created in it); otherwise the child's faults fill them (a zero-page-only VMA has no anon_vma: do_anonymous_page
        // maps the zero page before anon_vma_prepare).
        if (v.flags.shared || !v.anonVma || v.flags.hugetlb) continue;
        for (let i = v.start; i < v.end; i++) {
          const pte = r.ptes.get(i);
          if (!pte) continue;
          if (pte.t === 'zero') cr.ptes.set(i, { t: 'zero' });
          else if (pte.t === 'swap') {
            pte.entry.count++;
            cmm.swapents++;
            cr.ptes.set(i, { t: 'swap', entry: pte.entry });
          } else {
            // copy_present_pte(): COW — both PTEs write-protected; the child's copy is old (pte_mkold).
            pte.writable = false;
            this.mapFolio(cr, i, pte.folio, false, false);
          }
        }
      }
    }
    this.tasks.set(childPid, c);
    this.allTasks.set(childPid, c);
    return 'ok';
  }

  /** do_exit() → exit_mmap(): every mapping goes; page cache stays; Committed_AS of VM_ACCOUNT VMAs returns. */
  exitTask(t: Task): void {
    if (!t.alive) return;
    if (t.blockedOn) this.unblock(t);
    const mm = t.mm;
    if (mm) {
      // exit_mmap(): unmap_vmas() zaps every VMA in address order, then remove_vma() releases each (Committed_AS,
      // the file reference: a shmem object's pages go when its last mapping does)
      const vmas = mm.vmasInAddressOrder();
      for (const [r, v] of vmas) for (let i = v.start; i < v.end; i++) this.zapPte(r, i);
      for (const [, v] of vmas) this.releaseVma(mm, v);
      mm.regions.clear();
      mm.mmfOomSkip = true;
    }
    t.mm = null;
    t.alive = false;
    t.pending = [];
    this.tasks.delete(t.pid);
  }

  exit(pid: number): OpResult {
    this.exitTask(this.liveTask(pid));
    return 'ok';
  }

  // ---- mappings ---------------------------------------------------------------------------------------------

  /**
   * mmap(): mm/mmap.c:do_mmap() + mm/vma.c:__mmap_region(). MAP_NORESERVE sets VM_NORESERVE only when
   * overcommit_memory != 2. accountable_mapping(): VM_WRITE without VM_SHARED/VM_NORESERVE and not hugetlbfs is
   * charged in full (admission per __vm_enough_memory). MAP_SHARED|MAP_ANONYMOUS: the shmem object is charged in
   * full when it is set up (shmem_zero_setup → shmem_acct_size), or per page when VM_NORESERVE. hugetlbfs: length
   * rounded up to 2 MiB, huge pages reserved from the pool, never charged.
   */
  mmap(pid: number, name: string, pages: number, prot: string, flags: string[], file?: string): OpResult {
    const t = this.liveTask(pid);
    const mm = t.mm!;
    if (mm.regions.has(name)) throw new InvalidOp(`region ${name} exists`);
    const shared = flags.includes('shared');
    const priv = flags.includes('private');
    const anon = flags.includes('anon');
    if (shared === priv) throw new InvalidOp('mmap needs exactly one of private/shared');
    if (anon === (file !== undefined)) throw new InvalidOp('mmap needs anon or a file');
    if (!['none', 'r', 'rw'].includes(prot)) throw new InvalidOp(`bad prot ${prot}`);
    if (pages <= 0) return 'EINVAL';
    let mapping: Mapping | null = null;
    if (file !== undefined) {
      mapping = this.files.get(file) ?? null;
      if (!mapping) throw new InvalidOp(`file ${file} does not exist`);
    }
    const hugetlb = mapping?.fs === 'hugetlbfs';
    const len = hugetlb ? Math.ceil(pages / 512) * 512 : pages;
    // get_unmapped_area() comes first in do_mmap()
    const base = mm.unmappedArea(len, hugetlb ? 512 : 1);
    if (base === null) return 'ENOMEM';
    const noreserve = flags.includes('noreserve') && this.sysctl['vm.overcommit_memory'] !== OVERCOMMIT_NEVER;
    const f: VmFlags = { read: prot !== 'none', write: prot === 'rw', shared, noreserve, account: false, dontcopy: false, hugetlb };
    if (hugetlb) {
      // mm/hugetlb.c:hugetlb_reserve_pages()
      const need = len / 512;
      if (this.hugeFree - this.hugeResv < need) return 'ENOMEM';
      this.hugeResv += need;
    } else if (f.write && !f.shared && !f.noreserve) {
      if (!this.vmEnough(t, len)) return 'ENOMEM';
      f.account = true;
    }
    if (shared && anon) {
      const obj = new Mapping(`dev/zero:${pid}:${name}`, 'shmem_anon', len, noreserve);
      if (!noreserve) {
        if (!this.vmEnough(t, len)) return 'ENOMEM';
        obj.acctSize = len;
      }
      this.anonShmem.add(obj);
      mapping = obj;
    }
    const r = new Region(name, mm, base);
    r.vmas.push(new Vma(0, len, f, mapping, false));
    if (mapping) mapping.mappers++;
    mm.regions.set(name, r);
    mm.totalVm += len;
    return 'ok';
  }

  private region(t: Task, name: string): Region {
    const r = t.mm?.regions.get(name);
    if (!r) throw new InvalidOp(`task ${t.pid} has no region ${name}`);
    return r;
  }

  /** Unmap pages [first, first+count) of a region: PTEs, VMAs, Committed_AS (mm/vma.c:do_vmi_munmap). */
  private unmapRange(r: Region, first: number, count: number): void {
    const end = first + count;
    r.splitAt(first);
    r.splitAt(end);
    const mm = r.mm;
    const gone = r.vmas.filter((x) => x.start >= first && x.end <= end);
    for (const v of gone) for (let i = v.start; i < v.end; i++) this.zapPte(r, i);
    for (const v of gone) this.releaseVma(mm, v);
    r.vmas = r.vmas.filter((x) => !(x.start >= first && x.end <= end));
    if (r.vmas.length === 0) mm.regions.delete(r.name);
  }

  /** remove_vma() after the VMA's pages are zapped: Committed_AS, hugetlb reservation, total_vm, file reference. */
  private releaseVma(mm: Mm, v: Vma): void {
    if (v.flags.account) this.unacct(v.len);
    if (v.flags.hugetlb) this.hugeResv = Math.max(0, this.hugeResv - Math.ceil(v.len / 512));
    mm.totalVm -= v.len;
    if (v.mapping) this.putMapping(v.mapping);
  }

  munmap(pid: number, name: string, first: number, count: number): OpResult {
    const t = this.liveTask(pid);
    if (count <= 0 || first < 0) return 'EINVAL';
    const r = t.mm!.regions.get(name);
    if (!r) return 'ok';
    this.unmapRange(r, first, count);
    return 'ok';
  }

  /** A VMA no longer maps `m`; the anonymous shmem object dies with its last mapping (shmem_evict_inode). */
  private putMapping(m: Mapping): void {
    m.mappers--;
    if (m.fs !== 'shmem_anon' || m.mappers > 0) return;
    for (const f of [...m.cache.values()]) this.dropFromMapping(f);
    for (const [, e] of m.swapped) this.putSwapEntry(e);
    m.swapped.clear();
    this.unacct(m.acctSize + m.acctBlocks);
    m.acctSize = 0;
    m.acctBlocks = 0;
    this.anonShmem.delete(m);
  }

  /**
   * mprotect(): mm/mprotect.c:mprotect_fixup(). Making writable a private mapping that was never charged (not
   * writable, not VM_ACCOUNT/SHARED/NORESERVE/hugetlb) charges it and sets VM_ACCOUNT; making an accounted
   * anonymous VMA without an anon_vma read-only returns the charge. Write-protecting clears PTE write bits;
   * making writable upgrades exclusive anon PTEs at once (change_pte_range + can_change_pte_writable).
   */
  mprotect(pid: number, name: string, first: number, count: number, prot: string): OpResult {
    const t = this.liveTask(pid);
    const r = t.mm!.regions.get(name);
    // a region with no VMA left (fully unmapped, or whose mmap failed) is an unmapped range: ENOMEM
    if (!r) return count <= 0 ? 'EINVAL' : 'ENOMEM';
    if (count <= 0) return 'EINVAL';
    const end = first + count;
    r.splitAt(first);
    r.splitAt(end);
    const write = prot === 'rw';
    const read = prot !== 'none';
    // mm/mprotect.c:do_mprotect_pkey(): the VMAs are changed in address order; a hole (or a refused charge) stops
    // the walk with ENOMEM, the VMAs before it keeping their new protection.
    let pos = first;
    for (const v of r.vmas.filter((x) => x.start >= first && x.end <= end)) {
      if (v.start !== pos) return 'ENOMEM';
      pos = v.end;
      const old = v.flags;
      let account = old.account;
      if (write) {
        if (!old.write && !old.account && !old.hugetlb && !old.shared && !old.noreserve) {
          if (!this.vmEnough(t, v.len)) return 'ENOMEM';
          account = true;
        }
      } else if (old.account && v.isAnonymous && !v.anonVma) {
        account = false;
        this.unacct(v.len);
      }
      // mprotect_fixup(): unchanged flags change nothing (no change_protection: write-protected PTEs stay so)
      if (old.read === read && old.write === write && old.account === account) continue;
      v.flags = { ...old, read, write, account };
      for (let i = v.start; i < v.end; i++) {
        const pte = r.ptes.get(i);
        if (pte?.t !== 'folio') continue;
        // mm/mprotect.c:can_change_pte_writable(): a private anon page is made writable at once only when exclusive;
        // a shared shmem PTE only when it is dirty (written through); a shared file mapping needs write notification,
        // so never.
        if (!write) pte.writable = false;
        else if (v.flags.shared ? pte.folio.kind === 'shmem' && pte.dirty === true : pte.folio.kind === 'anon' && pte.folio.rmap.length === 1) {
          pte.writable = true;
        }
      }
    }
    return pos < end ? 'ENOMEM' : 'ok';
  }

  /** madvise(MADV_DONTFORK / MADV_DOFORK): set / clear VM_DONTCOPY (mm/madvise.c). */
  madvise(pid: number, name: string, first: number, count: number, advice: string): OpResult {
    const t = this.liveTask(pid);
    if (advice !== 'MADV_DONTFORK' && advice !== 'MADV_DOFORK') throw new InvalidOp(`unknown advice ${advice}`);
    const r = t.mm!.regions.get(name);
    // mm/madvise.c: a range with unmapped pages gives ENOMEM
    if (!r) return 'ENOMEM';
    const end = first + count;
    // mm/madvise.c:madvise_walk_vmas(): every mapped part is advised; a hole anywhere gives ENOMEM at the end
    let hole = false;
    for (let i = first; i < end; i++) if (!r.vmaAt(i)) hole = true;
    r.splitAt(first);
    r.splitAt(end);
    for (const v of r.vmas) if (v.start >= first && v.end <= end) v.flags.dontcopy = advice === 'MADV_DONTFORK';
    return hole ? 'ENOMEM' : 'ok';
  }

  /**
   * brk(): mm/mmap.c:brk → do_brk_flags(). Growth is admitted and charged (brk VMAs always have VM_ACCOUNT);
   * shrinking unmaps the tail and returns its charge. `pages` is the new heap size.
   */
  brk(pid: number, pages: number): OpResult {
    const t = this.liveTask(pid);
    const mm = t.mm!;
    if (pages < 0) return 'ENOMEM';
    const r = mm.regions.get('[heap]');
    // SYSCALL_DEFINE1(brk): old and new break compare with mm->brk, not with what is mapped (a munmap of the heap
    // does not move the break: brk to the same value is a no-op)
    const cur = mm.brk;
    if (pages > cur) {
      const delta = pages - cur;
      if (r?.vmas.some((v) => v.start < pages && v.end > cur)) return 'ENOMEM'; // runs into a mapping
      if (!this.vmEnough(t, delta)) return 'ENOMEM';
      const heap = r ?? new Region('[heap]', mm, START_BRK);
      // do_brk_flags(): expand the VMA ending at the old break when it is a plain brk VMA, else a new VMA
      const prev = heap.vmas.find((v) => v.end === cur && v.flags.read && v.flags.write && v.flags.account && !v.flags.dontcopy && !v.flags.shared);
      if (prev) prev.end = pages;
      else heap.vmas.push(new Vma(cur, pages, { read: true, write: true, shared: false, noreserve: false, account: true, dontcopy: false, hugetlb: false }, null, false));
      heap.vmas.sort((a, b) => a.start - b.start);
      mm.regions.set('[heap]', heap);
      mm.totalVm += delta;
    } else if (pages < cur && r) {
      this.unmapRange(r, pages, cur - pages);
    }
    mm.brk = pages;
    return 'ok';
  }

  // ---- page tables ------------------------------------------------------------------------------------------

  private rssAdd(mm: Mm, kind: FolioKind, d: number): void {
    if (kind === 'anon') mm.rssAnon += d;
    else if (kind === 'file') mm.rssFile += d;
    else mm.rssShmem += d;
  }

  /** Install a PTE for `folio` (young: the access that faulted it in sets the accessed bit). */
  private mapFolio(r: Region, page: number, folio: Folio, writable: boolean, young = true): void {
    r.ptes.set(page, { t: 'folio', folio, writable, young });
    folio.rmap.push({ region: r, page });
    if (folio.rmap.length === 1) {
      if (folio.kind === 'anon') this.nrAnonMapped++;
      else this.nrFileMapped++;
    }
    this.rssAdd(r.mm, folio.kind, 1);
  }

  /** Remove one PTE mapping of a folio (page_remove_rmap); returns true when it was the last one. */
  private unmapFolio(r: Region, page: number, folio: Folio): boolean {
    const k = folio.rmap.findIndex((x) => x.region === r && x.page === page);
    if (k >= 0) folio.rmap.splice(k, 1);
    r.ptes.delete(page);
    this.rssAdd(r.mm, folio.kind, -1);
    if (folio.rmap.length === 0) {
      if (folio.kind === 'anon') this.nrAnonMapped--;
      else this.nrFileMapped--;
      return true;
    }
    return false;
  }

  /** zap_pte_range() for one page: anon pages die with their last mapping (unless swap cache keeps them). */
  private zapPte(r: Region, page: number): void {
    const pte = r.ptes.get(page);
    if (!pte) return;
    if (pte.t === 'zero') {
      r.ptes.delete(page);
    } else if (pte.t === 'swap') {
      r.ptes.delete(page);
      r.mm.swapents--;
      this.putSwapEntry(pte.entry);
    } else {
      const f = pte.folio;
      // mm/memory.c:zap_present_folio_ptes(): a young PTE of a page-cache (file or shmem) page passes its
      // reference on to the folio (folio_mark_accessed)
      if (f.kind !== 'anon' && pte.young) folioMarkAccessed(this.reclaim, f);
      const last = this.unmapFolio(r, page, f);
      if (last && f.kind === 'anon') {
        if (!f.swap) this.freeFolio(f);
        // mm/swap_state.c:free_swap_cache() (via free_pages_and_swap_cache after the zap): an unmapped swap-cache
        // folio whose slot no swap PTE references any more gives the slot back and is freed.
        else if (f.swap.count === 0) this.freeUnmappedSwapCache(f);
      }
    }
  }

  /** folio_free_swap() + free of an unmapped anon folio whose swap slot has no other reference. */
  private freeUnmappedSwapCache(f: Folio): void {
    const e = f.swap!;
    f.swap = null;
    e.folio = null;
    this.swapUsed--;
    if (e.holdsCharge && !e.memcg.isRoot) e.memcg.swap.uncharge(1);
    e.holdsCharge = false;
    this.freeFolio(f);
  }

  // ---- page allocation, charging, freeing --------------------------------------------------------------------

  /**
   * Allocate one user page for `memcg`: the memcg charge first (dossier §8.4; mm/memcontrol.c:try_charge_memcg),
   * then a frame (mm/page_alloc.c: direct reclaim, then __alloc_pages_may_oom). The one place pages are charged.
   * `userFault`: a user page fault (v1 oom_kill_disable then waits instead of failing).
   */
  private allocFolio(kind: FolioKind, memcg: Memcg, userFault: boolean, lru?: LruName): Folio {
    const cur = this.current;
    // (the root is never limited: try_charge_memcg returns at once)
    const out = memcg.isRoot ? 'ok' : tryChargeMemcg(memcg, 1, this.host, { inUserFault: userFault, dying: () => cur?.sigkill ?? false });
    // a task with SIGKILL pending charges like any other (try_charge_memcg gives up on it only after an OOM, the
    // `dying` test); a charge it did not get ends its entry. The page allocator then serves an OOM victim from
    // the reserve (allocFrame).
    if (cur?.sigkill && out !== 'ok') throw new Killed();
    if (out === 'oom_wait') throw new Blocked(memcg);
    if (out === 'nomem') throw new NoMem();
    if (!this.allocFrame()) {
      this.uncharge(memcg, 1);
      if (cur?.sigkill) throw new Killed();
      throw new NoMem();
    }
    const folio = new Folio(kind, memcg, lru ?? (kind === 'file' ? 'inactive_file' : 'inactive_anon'));
    this.lru[folio.lru].add(folio);
    this.pagesAllocated++;
    this.count('pgalloc_normal');
    return folio;
  }

  /**
   * Take one frame: mm/page_alloc.c:__alloc_pages_slowpath() for an order-0 GFP_HIGHUSER_MOVABLE page (dossier
   * §5.3). While no frame is free above the min watermark: a direct-reclaim round (try_to_free_pages); then
   * should_reclaim_retry() — a round that made progress resets no_progress_loops, otherwise it grows; after more
   * than MAX_RECLAIM_RETRIES fruitless rounds, or when even free + reclaimable pages would not pass the min mark,
   * the global OOM killer runs (__alloc_pages_may_oom), whose victims exit at once (§6.2 rule 2); a kill restarts
   * the count. A task killed by it gives up (its entry ends). The kernel calls the OOM killer as often as the
   * allocation needs — each call kills another task, or finds none killable and panics; the engines allow an
   * allocation at most MAX_OOM_CALLS_PER_ALLOC calls (then ENOMEM), a bound shared with the Rust engine
   * (oom_kill/engine.rs) that also ends the loops of OOM calls that kill nobody (an earlier victim still exiting).
   */
  private allocFrame(): boolean {
    let oomCalls = 0;
    let noProgressLoops = 0;
    for (;;) {
      // mm/page_alloc.c:get_page_from_freelist() with ALLOC_WMARK_MIN (the slow path's mark; the fast path's low
      // mark only decides whether kswapd is woken, and kswapd does not run within an op): dossier §5.2-5.3.
      const min = this.watermarks().min;
      const victim = this.current?.oomVictim ?? false;
      if (zoneWatermarkOk(this.freePages, min, victim)) {
        this.nrFolios++;
        return true;
      }
      if (this.current?.sigkill) return false;
      const progress = tryToFreePages(this.reclaim) > 0;
      if (zoneWatermarkOk(this.freePages, min, victim)) continue;
      // should_reclaim_retry()
      if (progress) noProgressLoops = 0;
      else noProgressLoops++;
      const available = this.freePages + zoneReclaimablePages(this.reclaim);
      if (noProgressLoops <= MAX_RECLAIM_RETRIES && zoneWatermarkOk(available, min, victim)) continue;
      if (oomCalls === MAX_OOM_CALLS_PER_ALLOC) return false;
      oomCalls++;
      const oomProgress = this.outOfMemory(null, 0);
      if (!oomProgress) return false;
      noProgressLoops = 0;
    }
  }

  private uncharge(memcg: Memcg, n: number): void {
    if (memcg.isRoot) return;
    memcg.memory.uncharge(n);
    if (memcg.version === 'v1') memcg.swap.uncharge(n);
  }

  /** Free a folio: off the LRU, uncharged (mem_cgroup_uncharge → memcg1_oom_recover), frame returned. */
  private freeFolio(f: Folio): void {
    this.lru[f.lru].delete(f);
    this.nrFolios--;
    this.count('pgfree');
    this.uncharge(f.memcg, 1);
    if (!f.memcg.isRoot) this.oomRecover(f.memcg);
  }

  /** Remove a page-cache/shmem folio from its mapping and free it, unmapping it everywhere first. */
  private dropFromMapping(f: Folio): void {
    for (const ref of [...f.rmap]) this.unmapFolio(ref.region, ref.page, f);
    f.mapping?.cache.delete(f.index);
    if (f.mapping?.perBlockAcct) {
      f.mapping.acctBlocks--;
      this.unacct(1);
    }
    this.freeFolio(f);
  }

  /** swap_free(): drop one reference; the last one frees the slot, its charge and any swap-cache folio. */
  private putSwapEntry(e: SwapEntry): void {
    e.count--;
    if (e.count > 0) return;
    // mm/swapfile.c:free_swap_and_cache_nr() → __try_to_reclaim_swap(TTRS_UNMAPPED | TTRS_FULL): a swap-cache
    // folio that some PTE still maps keeps its slot unless swap is full (mem_cgroup_swap_full)
    if (e.folio && e.folio.rmap.length > 0 && !this.memSwapFull(e.memcg)) return;
    this.swapUsed--;
    if (e.holdsCharge && !e.memcg.isRoot) e.memcg.swap.uncharge(1);
    e.holdsCharge = false;
    const f = e.folio;
    if (f) {
      f.swap = null;
      e.folio = null;
      if (f.rmap.length === 0) this.freeFolio(f);
    }
  }

  // ---- reclaim (the decisions are in vmscan.ts) ---------------------------------------------------------------

  /**
   * mm/rmap.c:folio_referenced(): how many PTEs mapping `f` have the accessed bit, clearing it. For memcg reclaim
   * only the mappings of processes in `target`'s subtree are looked at (invalid_folio_referenced_vma).
   */
  private folioReferenced(f: Folio, target: Memcg | null): number {
    let referenced = 0;
    for (const ref of f.rmap) {
      if (target && !this.mmInSubtree(ref.region.mm, target)) continue;
      const pte = ref.region.ptes.get(ref.page);
      if (pte?.t === 'folio' && pte.young) {
        pte.young = false;
        referenced++;
      }
    }
    return referenced;
  }

  /** mm_match_cgroup(): the mm's owner task is in `memcg`'s subtree. */
  private mmInSubtree(mm: Mm, memcg: Memcg): boolean {
    for (const t of this.tasks.values()) if (t.mm === mm) return t.memcg.isDescendantOf(memcg);
    return false;
  }

  /** A swap slot for `m`'s folio: a free slot and, in v2, the memcg swap charge (failure: swap.events max+fail). */
  private allocSwapEntry(m: Memcg): SwapEntry | null {
    if (this.swapFree <= 0) return null;
    const e = new SwapEntry(m);
    if (m.version === 'v2' && !m.isRoot) {
      // mm/memcontrol.c:__mem_cgroup_try_charge_swap()
      if (m.swap.tryCharge(1)) {
        m.swapEvent('max');
        m.swapEvent('fail');
        return null;
      }
      e.holdsCharge = true;
    }
    this.swapUsed++;
    return e;
  }

  /** mm/swap_state.c:add_to_swap() (folio_alloc_swap): an anon folio enters the swap cache with a new slot. */
  private addToSwap(f: Folio): boolean {
    const e = this.allocSwapEntry(f.memcg);
    if (!e) return false;
    f.swap = e;
    e.folio = f;
    return true;
  }

  /**
   * mm/rmap.c:try_to_unmap(): every PTE mapping `f` is cleared; an anon page's PTEs become swap entries of its
   * swap-cache slot.
   */
  private tryToUnmap(f: Folio): void {
    for (const ref of [...f.rmap]) {
      this.unmapFolio(ref.region, ref.page, f);
      if (f.kind === 'anon' && f.swap) {
        ref.region.ptes.set(ref.page, { t: 'swap', entry: f.swap });
        f.swap.count++;
        ref.region.mm.swapents++;
      }
    }
  }

  /** The swap write of pageout() (swap_writeout): pswpout, pgpgout in kB, the memcg's pswpout. */
  private swapWritepage(f: Folio): void {
    f.swapUnwritten = false;
    this.count('pswpout');
    this.count('pgpgout', 4);
    f.memcg.vmEvents.pswpout++;
  }

  /**
   * mm/shmem.c:shmem_writeout() for an unmapped shmem folio: a slot (no swap, no free slot or a refused v2 swap
   * charge: false, the folio stays), the mapping's entry becomes the swap entry (shmem_delete_from_page_cache), the
   * folio moves to the swap cache and is written.
   */
  private shmemWriteout(f: Folio): boolean {
    const m = f.mapping;
    if (!m || this.totalSwap === 0) return false;
    const e = this.allocSwapEntry(f.memcg);
    if (!e) return false;
    m.cache.delete(f.index);
    m.swapped.set(f.index, e);
    e.count++;
    f.swap = e;
    e.folio = f;
    this.swapWritepage(f);
    return true;
  }

  /** A swap-cache folio leaves the cache and is freed; in v1 its memsw charge moves to the swap entry. */
  private dropSwapCache(f: Folio): void {
    const e = f.swap!;
    e.folio = null;
    f.swap = null;
    if (e.memcg.version === 'v1' && !e.memcg.isRoot && !e.holdsCharge) {
      // mem_cgroup_swapout(): the folio's memory charge goes, the memsw charge stays with the entry.
      f.memcg.memory.uncharge(1);
      e.holdsCharge = true;
      this.lru[f.lru].delete(f);
      this.nrFolios--;
      this.count('pgfree');
      this.oomRecover(f.memcg);
      return;
    }
    this.freeFolio(f);
  }

  /**
   * Page out one anon or shmem folio (shrink_folio_list: add_to_swap, try_to_unmap, pageout): a swap slot and, in
   * v2, the memcg swap charge (failure: swap.events max+fail, the page stays); every PTE becomes a swap entry;
   * pswpout. Unless `keepInSwapCache`, the folio is then freed.
   */
  private swapOutFolio(f: Folio, keepInSwapCache: boolean): boolean {
    if (f.kind === 'file') return false;
    if (f.swap) {
      // shrink_folio_list(): a mapped anon folio already in the swap cache keeps its slot (no add_to_swap);
      // try_to_unmap turns every PTE into an entry for that slot, then the folio is written and dropped as usual.
      // (Known shared inaccuracy: the kernel writes it only if dirty; both engines count pswpout.)
      if (f.kind !== 'anon' || f.rmap.length === 0) return false;
      const e = f.swap;
      for (const ref of [...f.rmap]) {
        this.unmapFolio(ref.region, ref.page, f);
        ref.region.ptes.set(ref.page, { t: 'swap', entry: e });
        e.count++;
        ref.region.mm.swapents++;
      }
      this.count('pswpout');
      this.count('pgpgout', 4);
      f.memcg.vmEvents.pswpout++;
      // (this write leaves swapUnwritten as it was, as the Rust swapout does: a page reclaim kept unwritten while
      // a fault held it and that is mapped again is then written once more by reclaim; shared inaccuracy)
      if (!keepInSwapCache) this.dropSwapCache(f);
      return true;
    }
    const m = f.memcg;
    const e = this.allocSwapEntry(m);
    if (!e) return false;
    for (const ref of [...f.rmap]) {
      this.unmapFolio(ref.region, ref.page, f);
      if (f.kind === 'anon') {
        ref.region.ptes.set(ref.page, { t: 'swap', entry: e });
        e.count++;
        ref.region.mm.swapents++;
      }
    }
    if (f.kind === 'shmem' && f.mapping) {
      f.mapping.cache.delete(f.index);
      f.mapping.swapped.set(f.index, e);
      e.count++;
    }
    this.count('pswpout');
    this.count('pgpgout', 4);
    m.vmEvents.pswpout++;
    f.swap = e;
    e.folio = f;
    if (!keepInSwapCache) this.dropSwapCache(f);
    if (e.count === 0) this.putSwapEntry(e);
    return true;
  }

  /** The swapout op: MADV_PAGEOUT-like reclaim of the present anon/shmem pages of a range. */
  swapout(pid: number, name: string, first: number, count: number, swapcache = false): OpResult {
    const t = this.liveTask(pid);
    const r = t.mm!.regions.get(name);
    if (!r) return 'ok'; // nothing mapped there
    for (let i = first; i < first + count; i++) {
      const pte = r.ptes.get(i);
      if (pte?.t === 'folio') this.swapOutFolio(pte.folio, swapcache);
    }
    return 'ok';
  }

  // ---- files ------------------------------------------------------------------------------------------------

  fileCreate(name: string, fs: 'disk' | 'tmpfs' | 'hugetlbfs', pages = 0, cached = false): OpResult {
    if (this.files.has(name)) throw new InvalidOp(`file ${name} exists`);
    const m = new Mapping(name, fs, pages, fs === 'tmpfs');
    this.files.set(name, m);
    if (fs === 'disk' && cached) {
      try {
        // "already in the page cache": as if read(2) once — inactive, PG_referenced (filemap_read marks each page)
        for (let i = 0; i < pages; i++) this.addToPageCache(m, i, this.root, false).referenced = true;
      } catch (e) {
        if (e instanceof Abort) return 'ENOMEM';
        throw e;
      }
    }
    return 'ok';
  }

  private addToPageCache(m: Mapping, index: number, memcg: Memcg, userFault: boolean, kind: FolioKind = 'file'): Folio {
    const f = this.allocFolio(kind, memcg, userFault);
    f.mapping = m;
    f.index = index;
    m.cache.set(index, f);
    return f;
  }

  private file(name: string): Mapping {
    const m = this.files.get(name);
    if (!m) throw new InvalidOp(`file ${name} does not exist`);
    return m;
  }

  /**
   * Find or create the page-cache folio of a disk file (mm/filemap.c:filemap_fault / filemap_read): a hit is
   * minor; a miss reads the page (IO: major for a fault), charged to the reader's memcg.
   */
  private filemapGet(m: Mapping, index: number, task: Task, userFault: boolean): { folio: Folio; io: boolean } {
    const hit = m.cache.get(index);
    if (hit) return { folio: hit, io: false };
    // filemap_fault(): "No page in the page cache at all" — PGMAJFAULT before the page is allocated
    if (userFault) this.countMajfault(task);
    const folio = this.addToPageCache(m, index, task.memcg, userFault);
    this.count('pgpgin', 4);
    task.memcg.vmEvents.pgpgin++;
    return { folio, io: true };
  }

  /**
   * Find or create a shmem folio (mm/shmem.c:shmem_get_folio_gfp): in the cache → minor; in swap → swap-in
   * (major unless still in the swap cache); a hole → a new page, charged to the memcg and, for VM_NORESERVE objects
   * (tmpfs files), to Committed_AS by shmem_acct_blocks (mode 2 failure: ENOSPC). `allocate` false (read(2) of a
   * hole): no page.
   */
  private shmemGet(m: Mapping, index: number, task: Task, userFault: boolean, allocate = true): { folio: Folio | null; io: boolean } {
    const hit = m.cache.get(index);
    if (hit) return { folio: hit, io: false };
    const e = m.swapped.get(index);
    if (e) {
      // shmem_swapin_folio() with a fault_type: PGMAJFAULT when the page must be read, before it is allocated
      if (userFault && !e.folio) this.countMajfault(task);
      const { folio, io } = this.swapIn(e, task, userFault, 'shmem');
      m.swapped.delete(index);
      folio.mapping = m;
      folio.index = index;
      m.cache.set(index, folio);
      this.putSwapEntry(e);
      return { folio, io };
    }
    if (!allocate) return { folio: null, io: false };
    if (m.perBlockAcct) {
      if (!this.vmEnough(task, 1)) throw new NoSpace();
      m.acctBlocks++;
    }
    try {
      const f = this.addToPageCache(m, index, task.memcg, userFault, 'shmem');
      f.dirty = true;
      return { folio: f, io: false };
    } catch (err) {
      if (m.perBlockAcct) {
        m.acctBlocks--;
        this.unacct(1);
      }
      throw err;
    }
  }

  /** PGMAJFAULT, in the vmstat and in the faulting mm's memcg (count_memcg_event_mm). */
  private countMajfault(task: Task): void {
    this.count('pgmajfault');
    task.memcg.vmEvents.pgmajfault++;
  }

  /**
   * Bring a swapped page back (mm/memory.c:do_swap_page / shmem swap-in): from the swap cache (minor), or read
   * from the device into a new page charged to the entry's memcg (major, pswpin; pgmajfault counted by the
   * caller). v1: the memsw charge of the entry is handed back (mem_cgroup_swapin_uncharge_swap).
   */
  private swapIn(e: SwapEntry, task: Task, userFault: boolean, kind: FolioKind): { folio: Folio; io: boolean } {
    if (e.folio) {
      const f = e.folio;
      e.folio = null;
      f.swap = null;
      return { folio: f, io: false };
    }
    const memcg = this.memcgs.get(e.memcg.path) === e.memcg ? e.memcg : task.memcg;
    const f = this.allocFolio(kind, memcg, userFault);
    if (memcg.version === 'v1' && e.holdsCharge && !e.memcg.isRoot) {
      e.memcg.swap.uncharge(1);
      e.holdsCharge = false;
    }
    this.count('pswpin');
    this.count('pgpgin', 4);
    memcg.vmEvents.pswpin++;
    return { folio: f, io: true };
  }

  /** read(2) of a file by a task: page cache filled in kernel context (no OOM wait; ENOMEM on failure). */
  fileRead(pid: number, name: string, first: number, count: number): OpResult {
    const t = this.liveTask(pid);
    const m = this.file(name);
    const end = Math.min(first + count, m.size);
    for (let i = first; i < end; i++) {
      // mm/filemap.c:filemap_read() marks every folio it copies accessed (the first one only if the previous read
      // ended in it: each op reads through a fresh open, so never); mm/shmem.c:shmem_file_read_iter() marks a page
      // read from its start. A tmpfs hole has no page.
      let f: Folio | null = null;
      if (m.fs === 'disk') f = this.filemapGet(m, i, t, false).folio;
      else if (m.isShmem) f = this.shmemGet(m, i, t, false, false).folio;
      if (f) folioMarkAccessed(this.reclaim, f);
      // filemap_get_pages(): a fatal signal ends the read (the OOM killer chose this task for this page)
      if (t.sigkill) throw new Killed();
    }
    return 'ok';
  }

  /** write(2): disk files get dirty page-cache pages; tmpfs pages are allocated and accounted one by one. */
  fileWrite(pid: number, name: string, first: number, count: number): OpResult {
    const t = this.liveTask(pid);
    const m = this.file(name);
    if (m.fs === 'hugetlbfs') return 'EINVAL';
    for (let i = first; i < first + count; i++) {
      // a disk file's write_begin takes the page with FGP_WRITEBEGIN (no FGP_ACCESSED): no reference; tmpfs
      // (shmem_get_folio, SGP_WRITE) marks a cached or swapped-in page accessed and a new one referenced
      let f: Folio | null;
      if (m.fs === 'disk') {
        f = m.cache.get(i) ?? this.addToPageCache(m, i, t.memcg, false);
      } else {
        const had = m.cache.has(i) || m.swapped.has(i);
        f = this.shmemGet(m, i, t, false).folio;
        if (f && had) folioMarkAccessed(this.reclaim, f);
        else if (f) f.referenced = true;
      }
      if (f) f.dirty = true;
      if (i + 1 > m.size) m.size = i + 1;
      // generic_perform_write(): fatal_signal_pending ends the write before the next page
      if (t.sigkill) throw new Killed();
    }
    return 'ok';
  }

  // ---- faults -----------------------------------------------------------------------------------------------

  /**
   * One access by `task` (mm/memory.c:handle_mm_fault and friends). Returns the fault taken and what do_wp_page
   * did. Accounting (mm_account_fault): pgfault for every fault that is not retried, failed ones included;
   * min_flt/maj_flt for completed ones (major when IO was needed). pgmajfault is counted where the IO is decided,
   * so also for a fault that fails afterwards: filemap_fault and shmem_swapin_folio before the page is allocated,
   * do_swap_page once it is read.
   */
  private access(task: Task, a: Access): { fault: FaultKind; cow: CowKind } {
    const r = task.mm?.regions.get(a.region);
    const v = r?.vmaAt(a.page);
    // arch fault handler: no VMA (bad_area) or an access the VMA does not allow (access_error) → SIGSEGV
    if (!r || !v) throw new SegFault();
    if (a.write ? !v.flags.write : !v.flags.read) throw new SegFault();
    const pte = r.ptes.get(a.page);
    if (pte?.t === 'zero' && !a.write) return { fault: 'none', cow: 'none' };
    if (pte?.t === 'folio' && (!a.write || pte.writable)) {
      // the hardware sets the accessed bit of the PTE used
      pte.young = true;
      if (a.write) {
        pte.folio.dirty = true;
        pte.dirty = true;
      }
      return { fault: 'none', cow: 'none' };
    }
    let io = false;
    let cow: CowKind | 'retry' = 'none';
    try {
      ({ io, cow } = this.handleFault(task, r, v, a));
    } catch (e) {
      if (e instanceof Killed || e instanceof Blocked || e instanceof NoMem || e instanceof NoSpace || e instanceof SigBus) {
        this.count('pgfault');
        task.memcg.vmEvents.pgfault++;
      }
      throw e;
    }
    this.count('pgfault');
    task.memcg.vmEvents.pgfault++;
    if (io) {
      task.majFlt++;
      this.faultsMajor++;
    } else {
      task.minFlt++;
      this.faultsMinor++;
    }
    if (cow === 'retry') {
      // the fault returned without completing the access (wp_page_copy found the PTE changed): the access runs
      // again — unless the task got SIGKILL meanwhile, which it dies of as the fault returns (runAccesses)
      if (!task.sigkill) return this.access(task, a);
      cow = 'none';
    }
    return { fault: io ? 'major' : 'minor', cow };
  }

  private handleFault(task: Task, r: Region, v: Vma, a: Access): { io: boolean; cow: CowKind | 'retry' } {
    const page = a.page;
    const pte = r.ptes.get(page);
    if (v.flags.hugetlb) {
      // hugetlb_fault(): the huge page comes from the reservation; not user RSS in this model.
      r.ptes.set(page, { t: 'zero' });
      return { io: false, cow: 'none' };
    }
    if (pte?.t === 'swap') return this.doSwapPage(task, r, page, pte.entry, a.write);
    if (pte?.t === 'zero' || pte?.t === 'folio') return { io: false, cow: this.doWpPage(task, r, v, page) };
    // no PTE yet
    if (v.isAnonymous) {
      // mm/memory.c:do_anonymous_page()
      if (!a.write) {
        r.ptes.set(page, { t: 'zero' });
        return { io: false, cow: 'none' };
      }
      const f = this.allocFolio('anon', task.memcg, true);
      v.anonVma = true;
      f.dirty = true;
      this.mapFolio(r, page, f, true);
      return { io: false, cow: 'none' };
    }
    const m = v.mapping!;
    const index = page;
    // filemap_fault / shmem_get_folio: past EOF → VM_FAULT_SIGBUS
    if (index >= m.size) throw new SigBus();
    let got: { folio: Folio | null; io: boolean };
    try {
      got = m.isShmem ? this.shmemGet(m, index, task, true) : this.filemapGet(m, index, task, true);
    } catch (err) {
      // shmem_fault: -ENOSPC from shmem_acct_blocks becomes VM_FAULT_SIGBUS (vmf_error)
      if (err instanceof NoSpace) throw new SigBus();
      throw err;
    }
    const folio = got.folio!;
    if (v.flags.shared) {
      // do_shared_fault / do_read_fault on a shared mapping. A read fault maps the page writable only when the
      // VMA needs no write notification (mm/mmap.c:vma_wants_writenotify: shmem has no page_mkwrite and no dirty
      // accounting); a disk file's page is mapped read-only and the first write takes a do_wp_page fault
      // (wp_page_shared) so the page is dirtied through the filesystem.
      this.mapFolio(r, page, folio, v.flags.write && (a.write || m.isShmem));
      if (a.write) {
        folio.dirty = true;
        (r.ptes.get(page) as { dirty?: boolean }).dirty = true;
      }
      return { io: got.io, cow: 'none' };
    }
    if (!a.write) {
      this.mapFolio(r, page, folio, false);
      return { io: got.io, cow: 'none' };
    }
    // do_cow_fault(): a private copy of the file page
    const copy = this.allocFolio('anon', task.memcg, true);
    v.anonVma = true;
    copy.dirty = true;
    this.mapFolio(r, page, copy, true);
    return { io: got.io, cow: 'none' };
  }

  /**
   * mm/memory.c:do_wp_page(): a write to a write-protected PTE. Shared mappings just become writable. The zero page
   * is always copied. An anon page mapped only here is reused (wp_can_reuse_anon_folio); otherwise
   * (COW-shared anon, or a file page in a private mapping) wp_page_copy() allocates and charges a new page.
   */
  private doWpPage(task: Task, r: Region, v: Vma, page: number): CowKind | 'retry' {
    const pte = r.ptes.get(page)!;
    if (pte.t === 'folio' && v.flags.shared) {
      pte.writable = true;
      pte.young = true;
      pte.dirty = true;
      pte.folio.dirty = true;
      return 'reuse';
    }
    // wp_can_reuse_anon_folio(): a swap-cache folio is reusable only once folio_free_swap() succeeded, i.e. no other
    // swap PTE still references its slot (folio_swapped()); otherwise the extra reference forces a copy.
    if (pte.t === 'folio' && pte.folio.kind === 'anon' && pte.folio.rmap.length === 1 && (!pte.folio.swap || pte.folio.swap.count === 0)) {
      const f = pte.folio;
      if (f.swap) this.dropSwapEntryOfMapped(f);
      pte.writable = true;
      pte.young = true;
      f.dirty = true;
      return 'reuse';
    }
    // wp_page_copy(): the page copied from is held (a reference) while the copy is allocated — reclaim may unmap it
    // then, but not free it; afterwards the PTE is checked again (pte_same): changed, the copy is dropped and the
    // fault returns to be taken again
    const held = pte.t === 'folio' ? pte.folio : null;
    if (held) held.pinned = true;
    let copy: Folio;
    try {
      copy = this.allocFolio('anon', task.memcg, true);
    } finally {
      if (held) held.pinned = false;
    }
    if (r.ptes.get(page) !== pte) {
      this.freeFolio(copy);
      return 'retry';
    }
    v.anonVma = true;
    copy.dirty = true;
    if (pte.t === 'folio') {
      const old = pte.folio;
      const last = this.unmapFolio(r, page, old);
      if (last && old.kind === 'anon' && !old.swap) this.freeFolio(old);
      else if (last && old.kind === 'anon' && old.swap!.count === 0) this.freeUnmappedSwapCache(old);
    } else {
      r.ptes.delete(page);
    }
    this.mapFolio(r, page, copy, true);
    return 'copy';
  }

  /** folio_free_swap() for a folio that is mapped again and exclusive: its swap slot is no longer needed. */
  private dropSwapEntryOfMapped(f: Folio): void {
    const e = f.swap!;
    f.swap = null;
    e.folio = null;
    e.count++;
    this.putSwapEntryKeepFolio(e);
  }
  private putSwapEntryKeepFolio(e: SwapEntry): void {
    e.count--;
    if (e.count > 0) return;
    this.swapUsed--;
    if (e.holdsCharge && !e.memcg.isRoot) e.memcg.swap.uncharge(1);
    e.holdsCharge = false;
  }

  /**
   * mm/memory.c:do_swap_page(): the page comes from the swap cache (minor) or the device (major, and it stays in
   * the swap cache). The PTE's reference to the slot is dropped (swap_free_nr); the slot itself is freed only when
   * should_try_to_free_swap() says so: swap (or the memcg's swap) is more than half full, or a write fault maps the
   * page exclusively — and only if no other swap PTE still references it (folio_free_swap → folio_swapped()).
   * Otherwise the folio stays in the swap cache (SwapCached). A write to a page still shared with other PTEs is
   * then COW-copied within the same fault.
   */
  private doSwapPage(task: Task, r: Region, page: number, e: SwapEntry, write: boolean): { io: boolean; cow: CowKind | 'retry' } {
    let folio = e.folio;
    let io = false;
    if (!folio) {
      ({ folio, io } = this.swapIn(e, task, true, 'anon'));
      // "Had to read the page from swap area: Major fault" — counted once the page is read, whatever follows
      this.countMajfault(task);
      folio.swap = e;
      e.folio = folio;
    }
    r.ptes.delete(page);
    r.mm.swapents--;
    e.count--;
    const exclusive = e.count === 0 && folio.rmap.length === 0;
    this.mapFolio(r, page, folio, false);
    if (e.count === 0 && (this.memSwapFull(e.memcg) || (write && exclusive))) {
      this.swapUsed--;
      if (e.holdsCharge && !e.memcg.isRoot) e.memcg.swap.uncharge(1);
      e.holdsCharge = false;
      e.folio = null;
      folio.swap = null;
    }
    const pte = r.ptes.get(page) as { t: 'folio'; folio: Folio; writable: boolean };
    if (exclusive) {
      pte.writable = r.vmaAt(page)!.flags.write;
      if (write) folio.dirty = true;
      return { io, cow: 'none' };
    }
    if (!write) return { io, cow: 'none' };
    return { io, cow: this.doWpPage(task, r, r.vmaAt(page)!, page) };
  }

  /**
   * mm/memcontrol.c:mem_cgroup_swap_full(): vm_swap_full() (include/linux/swap.h: free slots * 2 < total), or on
   * cgroup v2 some non-root ancestor's swap usage * 2 >= its swap.max (swap.high is not modelled: unlimited).
   */
  private memSwapFull(memcg: Memcg): boolean {
    if (this.swapFree * 2 < this.totalSwap) return true;
    if (memcg.version !== 'v2') return false;
    for (let m: Memcg | null = memcg; m && !m.isRoot; m = m.parent) if (m.swap.usage * 2 >= m.swap.max) return true;
    return false;
  }

  /**
   * Run accesses for `task` in order. Returns the last access's fault/cow, or throws the Abort that stopped it;
   * a Blocked task keeps the rest (the faulting access first) in `pending`.
   */
  runAccesses(task: Task, list: Access[]): { fault: FaultKind; cow: CowKind } {
    let last: { fault: FaultKind; cow: CowKind } = { fault: 'none', cow: 'none' };
    for (let k = 0; k < list.length; k++) {
      try {
        last = this.access(task, list[k]);
        // §6.2 rule 2: a task that got SIGKILL during this fault (an OOM victim that then allocated from the
        // ALLOC_OOM reserve, __alloc_pages_slowpath) dies when the fault returns; the rest of its op is abandoned.
        if (task.sigkill) throw new Killed();
      } catch (e) {
        if (e instanceof Blocked) {
          this.block(task, e.memcg, list.slice(k));
        }
        throw e;
      }
    }
    return last;
  }

  /** mem_cgroup_oom_synchronize(): sleep on the memcg OOM wait queue; under_oom for the subtree. */
  private block(task: Task, memcg: Memcg, rest: Access[]): void {
    task.blockedOn = memcg;
    task.pending = rest;
    for (const m of memcg.subtree()) m.underOom++;
  }

  private unblock(task: Task): void {
    const m = task.blockedOn!;
    for (const c of m.subtree()) c.underOom = Math.max(0, c.underOom - 1);
    task.blockedOn = null;
  }

  /** memcg1_oom_recover(): wake the waiters whose memcg is in the same hierarchy branch as `memcg`. */
  private oomRecover(memcg: Memcg): void {
    if (memcg.underOom === 0) return;
    for (const t of this.tasks.values()) {
      const w = t.blockedOn;
      if (!w || this.wakeQueue.includes(t)) continue;
      if (w.isDescendantOf(memcg) || memcg.isDescendantOf(w)) this.wakeQueue.push(t);
    }
  }

  // ---- OOM killer -------------------------------------------------------------------------------------------

  private taskView(t: Task): TaskMemView {
    const mm = t.mm;
    return {
      pid: t.pid, tgid: t.pid, uid: t.uid, comm: t.comm, totalVm: mm?.totalVm ?? 0, rssAnon: mm?.rssAnon ?? 0,
      rssFile: mm?.rssFile ?? 0, rssShmem: mm?.rssShmem ?? 0, pgtablesBytes: 0, swapents: mm?.swapents ?? 0,
      oomScoreAdj: t.oomScoreAdj,
    };
  }

  /** Tasks of a memcg subtree in mem_cgroup_scan_tasks order: cgroups pre-order, tasks in list order. */
  private tasksOf(memcg: Memcg | null): Task[] {
    const live = [...this.tasks.values()];
    if (!memcg) return live;
    const out: Task[] = [];
    for (const m of memcg.subtree()) for (const t of live) if (t.memcg === m) out.push(t);
    return out;
  }

  /** task_will_free_mem(): already dying (SIGKILL pending), still holding an mm that is not MMF_OOM_SKIP. */
  private taskWillFreeMem(t: Task): boolean {
    return t.sigkill && t.mm !== null && !t.mm.mmfOomSkip;
  }

  /**
   * mm/oom_kill.c:out_of_memory() for a global (`memcg` null) or memcg OOM of order `order`, allocating task =
   * the current op's task. Dossier §2.2: current dying → mark only; panic_on_oom; oom_kill_allocating_task
   * (global); select_bad_process (abort while an earlier victim lives); no victim → dump + "Out of memory and no
   * killable processes..." (global: panic); else oom_kill_process with the v2 oom.group sweep. Killed tasks other
   * than current exit as soon as this returns (§6.2 rule 2). Returns whether anything was chosen.
   */
  outOfMemory(memcg: Memcg | null, order: number): boolean {
    const cur = this.current;
    const constraint: Constraint = memcg ? 'CONSTRAINT_MEMCG' : 'CONSTRAINT_NONE';
    let totalpages = this.totalram + this.totalSwap;
    if (memcg) totalpages = memcg.getMax(this.totalSwap, this.sysctl['vm.swappiness']) || 1;
    const rec: OomRecord = { constraint, memcg: memcg?.path ?? null, totalpages, outcome: 'kill', victim: null, oom_group: null, killed: [] };
    this.ooms.push(rec);
    const msg = memcg ? 'Memory cgroup out of memory' : 'Out of memory';
    const killedNow: Task[] = [];
    try {
      if (cur && this.taskWillFreeMem(cur)) {
        cur.oomVictim = true;
        rec.outcome = 'current_will_free_mem';
        return true;
      }
      const panic = checkPanicOnOom(this.sysctl['vm.panic_on_oom'], constraint, false);
      if (panic) {
        this.dumpHeader(memcg, order);
        rec.outcome = 'panic';
        this.panic(panic);
      }
      // pid 1 is global init: never the allocating-task victim, never a candidate (mm/oom_kill.c:oom_unkillable_task)
      if (!memcg && this.sysctl['vm.oom_kill_allocating_task'] !== 0 && cur && cur.mm && cur.pid !== 1 && cur.oomScoreAdj !== -1000) {
        this.dumpHeader(memcg, order);
        this.log.push(oomKillLine(constraint, null, cur.memcg.path, cur));
        rec.victim = cur.pid;
        rec.outcome = 'kill_allocating_task';
        this.oomKillOne(cur, 'Out of memory (oom_kill_allocating_task)', rec, killedNow);
        return true;
      }
      const cands = this.tasksOf(memcg).map((t) => ({
        task: t,
        isGlobalInit: t.pid === 1,
        isKthread: false,
        isOomVictim: t.oomVictim,
        mmfOomSkip: t.mm?.mmfOomSkip ?? true,
        oomOrigin: false,
        points: oomBadness(
          { isGlobalInit: t.pid === 1, isKthread: false, hasMm: t.mm !== null, oomScoreAdj: t.oomScoreAdj, mmfOomSkip: t.mm?.mmfOomSkip ?? false, inVfork: false, rss: t.mm ? t.mm.rssAnon + t.mm.rssFile + t.mm.rssShmem : 0, swapents: t.mm?.swapents ?? 0, pgtablesBytes: 0 },
          totalpages,
        ),
      }));
      const sel = selectBadProcess(cands, false);
      if (sel.abort) {
        rec.outcome = 'abort';
        return true;
      }
      if (!sel.chosen) {
        this.dumpHeader(memcg, order);
        this.log.push('Out of memory and no killable processes...');
        rec.outcome = 'no_victim';
        if (!memcg) this.panic('System is deadlocked on memory');
        return false;
      }
      const victim = sel.chosen;
      rec.victim = victim.pid;
      if (this.taskWillFreeMem(victim)) {
        victim.oomVictim = true;
        return true;
      }
      this.dumpHeader(memcg, order);
      this.log.push(oomKillLine(constraint, memcg?.path ?? null, victim.memcg.path, victim));
      const group = this.getOomGroup(victim, memcg);
      this.oomKillOne(victim, msg, rec, killedNow);
      if (group) {
        rec.oom_group = group.path;
        group.memoryEvent('oom_group_kill');
        this.log.push(`Tasks in ${group.path} are going to be killed due to memory.oom.group set`);
        for (const t of this.tasksOf(group)) if (t.oomScoreAdj !== -1000) this.oomKillOne(t, msg, rec, killedNow);
      }
      return true;
    } finally {
      for (const t of killedNow) if (t !== cur) this.exitTask(t);
    }
  }

  /** mm/memcontrol.c:mem_cgroup_get_oom_group(): the highest memory.oom.group=1 cgroup up to the OOM domain. */
  private getOomGroup(victim: Task, domain: Memcg | null): Memcg | null {
    const dom = domain ?? this.root;
    if (victim.memcg.isRoot || !victim.memcg.isDescendantOf(dom)) return null;
    let group: Memcg | null = null;
    for (let m: Memcg | null = victim.memcg; m; m = m.parent) {
      if (m.oomGroup) group = m;
      if (m === dom) break;
    }
    return group;
  }

  /** mm/oom_kill.c:__oom_kill_process(): counted, SIGKILLed, marked, logged. */
  private oomKillOne(v: Task, msg: string, rec: OomRecord, killedNow: Task[]): void {
    if (!v.mm) {
      this.log.push(alreadyExitingLine(msg, v.pid, v.comm));
      return;
    }
    this.count('oom_kill');
    v.memcg.memoryEvent('oom_kill');
    rec.killed.push(v.pid);
    v.sigkill = true;
    v.oomVictim = true;
    this.log.push(killedProcessLine(msg, this.taskView(v)));
    if (!killedNow.includes(v)) killedNow.push(v);
  }

  /** mm/oom_kill.c:dump_header(): invoked line, memcg counters or Mem-Info, the task table. */
  private dumpHeader(memcg: Memcg | null, order: number): void {
    const cur = this.current;
    const [mask, flags] = memcg ? GFP_KERNEL : GFP_USER_FAULT;
    this.log.push(invokedLine(cur?.comm ?? 'sh', mask, flags, order, cur?.oomScoreAdj ?? 0));
    if (memcg) {
      if (memcg.version === 'v2') {
        this.log.push(memcgCounterLine('memory', memcg.memory.usage, memcg.memory.max, memcg.events.max));
        this.log.push(memcgCounterLine('swap', memcg.swap.usage, memcg.swap.max, memcg.swapEvents.max));
      } else {
        this.log.push(memcgCounterLine('memory', memcg.memory.usage, memcg.memory.max, memcg.memory.failcnt));
        this.log.push(memcgCounterLine('memory+swap', memcg.swap.usage, memcg.swap.max, memcg.swap.failcnt));
        this.log.push(memcgCounterLine('kmem', 0, PAGE_COUNTER_MAX, 0));
      }
      this.log.push(`Memory cgroup stats for ${memcg.path}:`);
    } else {
      this.log.push('Mem-Info:');
    }
    if (this.sysctl['vm.oom_dump_tasks'] !== 0) {
      this.log.push(...DUMP_TASKS_HEADER);
      for (const t of this.tasksOf(memcg)) if (t.mm) this.log.push(dumpTaskRow(this.taskView(t)));
    }
  }

  private panic(msg: string): never {
    this.log.push(`Kernel panic - not syncing: ${msg}`);
    this.panicked = msg;
    throw new Panicked(msg);
  }

  // ---- cgroups ----------------------------------------------------------------------------------------------

  cgroupCreate(path: string): OpResult {
    if (this.memcgs.has(path)) throw new InvalidOp(`cgroup ${path} exists`);
    const parentPath = path.slice(0, path.lastIndexOf('/')) || '/';
    const parent = this.memcgAt(parentPath);
    this.memcgs.set(path, new Memcg(path, parent, this.cgroupVersion));
    return 'ok';
  }

  cgroupWrite(path: string, file: string, value: string, fdState?: { peakBaseline?: number }): OpResult {
    const m = this.memcgAt(path);
    if (!fileExists(m, file)) throw new InvalidOp(`no file ${file} on ${path}`);
    const r = writeFile(m, file, value, this.host, fdState);
    if (file === 'memory.swappiness' && m.isRoot && r === 'ok') this.sysctl['vm.swappiness'] = m.swappiness;
    return r;
  }

  cgroupRead(path: string, file: string): FileValue {
    const m = this.memcgs.get(path);
    if (!m) return null;
    return readFile(m, file, this.host);
  }

  cgroupOpen(path: string, file: string, fd: string): OpResult {
    const m = this.memcgAt(path);
    if (!fileExists(m, file)) throw new InvalidOp(`no file ${file} on ${path}`);
    this.fds.set(fd, { memcg: m, file });
    return 'ok';
  }

  fdWrite(fd: string, value: string): OpResult {
    const st = this.fds.get(fd);
    if (!st) throw new InvalidOp(`fd ${fd} is not open`);
    return this.cgroupWrite(st.memcg.path, st.file, value, st);
  }

  /** Read through an open fd: memory.peak shows max(baseline, local watermark) after a reset on this fd. */
  fdRead(fd: string): FileValue {
    const st = this.fds.get(fd);
    if (!st) throw new InvalidOp(`fd ${fd} is not open`);
    if (st.file === 'memory.peak' && st.peakBaseline !== undefined) {
      return (BigInt(Math.max(st.peakBaseline, st.memcg.memory.localWatermark)) * 4096n).toString();
    }
    return readFile(st.memcg, st.file, this.host);
  }

  /** The `charge` op: one counter-level page_counter_try_charge (v1: memsw first), no reclaim, no events. */
  charge(path: string, pages: number): OpResult {
    const m = this.memcgAt(path);
    if (m.version === 'v1') {
      if (m.swap.tryCharge(pages)) return 'ENOMEM';
      if (m.memory.tryCharge(pages)) {
        m.swap.uncharge(pages);
        return 'ENOMEM';
      }
      return 'ok';
    }
    return m.memory.tryCharge(pages) ? 'ENOMEM' : 'ok';
  }

  /** The `uncharge` op: like memcg_uncharge() — no v1 OOM waiter wake-up. */
  unchargeOp(path: string, pages: number): OpResult {
    const m = this.memcgAt(path);
    m.memory.uncharge(pages);
    if (m.version === 'v1') m.swap.uncharge(pages);
    return 'ok';
  }

  // ---- running ops ------------------------------------------------------------------------------------------

  /** Run a task's accesses as its kernel entries; the result per §6.2 (killed / blocked / errors). */
  runTaskAccesses(task: Task, list: Access[]): { result: OpResult; fault: FaultKind; cow: CowKind } {
    const prev = this.current;
    this.current = task;
    try {
      const r = this.runAccesses(task, list);
      return { result: 'ok', ...r };
    } catch (e) {
      return { result: this.abortResult(task, e), fault: 'none', cow: 'none' };
    } finally {
      this.current = prev;
    }
  }

  /** Decide an aborted entry's result; a killed task exits now (its kernel entry has returned). */
  private abortResult(task: Task | null, e: unknown): OpResult {
    if (e instanceof Panicked) return 'panic';
    if (task && task.sigkill && task.alive) {
      this.exitTask(task);
      return 'killed';
    }
    if (e instanceof Killed) return 'killed';
    if (e instanceof Blocked) return 'blocked';
    if (e instanceof NoMem) {
      // VM_FAULT_OOM of a memcg charge that found no victim: pagefault_out_of_memory() retries the fault forever;
      // the model stops the op with ENOMEM.
      return 'ENOMEM';
    }
    if (e instanceof NoSpace) return 'ENOSPC';
    if (e instanceof SegFault || e instanceof SigBus) {
      // force_sig_fault(): no handler in the model, so the default action of SIGSEGV/SIGBUS terminates the task
      // when the fault returns (kernel/signal.c:get_signal → do_group_exit); it exits like exit(2).
      if (task && task.alive) this.exitTask(task);
      return e instanceof SegFault ? 'SIGSEGV' : 'SIGBUS';
    }
    throw e;
  }

  /** Run a syscall-like body with `task` as current; aborts become results. */
  syscall(task: Task | null, body: () => OpResult): OpResult {
    const prev = this.current;
    this.current = task;
    try {
      const r = body();
      // §6.2 rule 2: the OOM killer chose the task during this entry (it completed its allocation from the
      // reserve): it exits as the entry returns
      if (task && task.sigkill && task.alive) {
        this.exitTask(task);
        return 'killed';
      }
      return r;
    } catch (e) {
      if (e instanceof InvalidOp) throw e;
      return this.abortResult(task, e);
    } finally {
      this.current = prev;
    }
  }

  /** Resume tasks woken from a v1 OOM wait: their pending accesses run within the current op (§6.2 rule 3). */
  drainWakeups(): void {
    while (this.wakeQueue.length > 0 && !this.panicked) {
      const t = this.wakeQueue.shift()!;
      if (!t.alive || !t.blockedOn) continue;
      this.unblock(t);
      const rest = t.pending;
      t.pending = [];
      this.runTaskAccesses(t, rest);
    }
  }

  /** Task lookup for the op layer (a live, non-blocked task). */
  opTask(pid: number): Task {
    return this.liveTask(pid);
  }

  /** PTE state of one page for the `pte` observation. */
  pteState(pid: number, region: string, page: number): 'none' | 'zero_page' | 'present' | 'swap' {
    const r = this.allTasks.get(pid)?.mm?.regions.get(region);
    const p = r?.ptes.get(page);
    if (!p) return 'none';
    return p.t === 'zero' ? 'zero_page' : p.t === 'swap' ? 'swap' : 'present';
  }

  /** Flags of the VMA covering a page for the `vma_flags` observation (null when unmapped). */
  vmaFlags(pid: number, region: string, page: number): VmFlags | null {
    const v = this.allTasks.get(pid)?.mm?.regions.get(region)?.vmaAt(page);
    return v ? { ...v.flags } : null;
  }

  /** Badness of a live task against the global totalpages (for /proc/<pid>/oom_score style checks). */
  badness(pid: number): number {
    const t = this.tasks.get(pid);
    if (!t?.mm) return LONG_MIN;
    return oomBadness({ isGlobalInit: t.pid === 1, isKthread: false, hasMm: true, oomScoreAdj: t.oomScoreAdj, mmfOomSkip: t.mm.mmfOomSkip, inVfork: false, rss: t.mm.rssAnon + t.mm.rssFile + t.mm.rssShmem, swapents: t.mm.swapents, pgtablesBytes: 0 }, this.totalram + this.totalSwap);
  }

  // ---- introspection for invariants (tests) ------------------------------------------------------------------

  /** Recount everything from the page tables and caches; used by the property tests. */
  audit(): { folios: number; presentByPid: Map<number, { anon: number; file: number; shmem: number; swap: number }>; accountedVmaPages: number; shmemAcct: number } {
    const all = new Set<Folio>();
    for (const l of Object.values(this.lru)) for (const f of l) all.add(f);
    const presentByPid = new Map<number, { anon: number; file: number; shmem: number; swap: number }>();
    let accounted = 0;
    for (const t of this.tasks.values()) {
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
    for (const m of [...this.files.values(), ...this.anonShmem]) shmemAcct += m.acctBlocks + m.acctSize;
    return { folios: all.size, presentByPid, accountedVmaPages: accounted, shmemAcct };
  }
}
