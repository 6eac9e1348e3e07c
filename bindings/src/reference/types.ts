/**
 * The reference engine's vocabulary: op results, the control-flow exceptions of a kernel entry that cannot
 * complete, and the objects of the model (folios, swap entries, PTEs, address spaces, VMAs, mms, tasks) with the
 * few methods that only read or rearrange themselves. Every other module of the reference imports these; this one
 * imports only types (so it is a leaf of the import graph).
 */
import type { CgroupVersion, Memcg } from './memcontrol.js';

/** mm/oom_kill.c:enum oom_constraint. */
export type Constraint = 'CONSTRAINT_NONE' | 'CONSTRAINT_CPUSET' | 'CONSTRAINT_MEMORY_POLICY' | 'CONSTRAINT_MEMCG';

/** The four evictable LRU lists (enum lru_list without LRU_UNEVICTABLE). */
export type LruName = 'inactive_anon' | 'active_anon' | 'inactive_file' | 'active_file';

export type OpResult =
  | 'ok' | 'EINVAL' | 'EBUSY' | 'ENOMEM' | 'EACCES' | 'ENOSPC' | 'EFAULT' | 'EINTR' | 'ESRCH' | 'blocked' | 'killed' | 'panic'
  /** a touch answered with a fatal signal (the task died of it; docs/decisions/0004-differential-testing.md) */
  | 'SIGSEGV' | 'SIGBUS';

/** A malformed op (unknown task, region, file...): the vector is invalid, not the kernel's answer. */
export class InvalidOp extends Error {}

// ---- control flow of an entry that cannot complete ----
export class Abort extends Error {}
/** current got SIGKILL (OOM victim): the entry returns and the task exits. */
export class Killed extends Abort {}
/** v1 memcg OOM wait (mem_cgroup_oom_synchronize): the task sleeps at the end of the fault. */
export class Blocked extends Abort {
  constructor(readonly memcg: Memcg) {
    super('blocked');
  }
}
/** A charge or allocation failed without killing current (-ENOMEM / VM_FAULT_OOM). */
export class NoMem extends Abort {}
/** shmem_acct_blocks() refused a tmpfs page (-ENOSPC; SIGBUS on a fault). */
export class NoSpace extends Abort {}
export class Panicked extends Abort {}
/** Access to an unmapped address (SEGV_MAPERR) or not allowed by the VMA's protection (SEGV_ACCERR): SIGSEGV. */
export class SegFault extends Abort {}
/** VM_FAULT_SIGBUS: access past the end of a file, or a shmem page shmem_acct_blocks refused. */
export class SigBus extends Abort {}

export type FolioKind = 'anon' | 'file' | 'shmem';

export interface PteRef {
  region: Region;
  page: number;
}

/** One user page (struct folio of order 0). */
export class Folio {
  rmap: PteRef[] = [];
  dirty = false;
  /** page cache / shmem position */
  mapping: Mapping | null = null;
  index = 0;
  /** the swap entry when the folio is in the swap cache */
  swap: SwapEntry | null = null;
  /** PG_referenced (mm/swap.c:folio_mark_accessed, mm/vmscan.c:folio_check_references) */
  referenced = false;
  /** PG_workingset: deactivated from the active list (mm/vmscan.c:shrink_active_list) */
  workingset = false;
  /** in the swap cache but not written to its slot yet (add_to_swap dirties it; the swap write cleans it) */
  swapUnwritten = false;
  /** an extra reference is held (wp_page_copy holds the page it copies from): reclaim can unmap it, not free it */
  pinned = false;
  constructor(
    readonly kind: FolioKind,
    public memcg: Memcg,
    public lru: LruName,
  ) {}
}

/** One swap slot. `count` = references (PTEs, or the shmem mapping slot). */
export class SwapEntry {
  count = 0;
  folio: Folio | null = null;
  /** the entry holds the swap charge (v2: swap counter from swapout; v1: memsw once the folio left the cache) */
  holdsCharge = false;
  constructor(public memcg: Memcg) {}
}

/**
 * `dirty`: the PTE dirty bit, set by a write through this PTE (only mprotect of shared mappings reads it).
 * `young`: the accessed bit, set by every access through the PTE (the one that faulted it in too), read and cleared
 * by reclaim (mm/rmap.c:folio_referenced), cleared in the child's copy at fork (copy_present_ptes: pte_mkold).
 */
export type Pte = { t: 'zero' } | { t: 'folio'; folio: Folio; writable: boolean; dirty?: boolean; young: boolean } | { t: 'swap'; entry: SwapEntry };

/** An address_space: a named file (disk, tmpfs, hugetlbfs) or the shmem object behind a MAP_SHARED|MAP_ANONYMOUS. */
export class Mapping {
  cache = new Map<number, Folio>();
  /** shmem: pages that live in swap */
  swapped = new Map<number, SwapEntry>();
  /** pages charged to Committed_AS one by one (shmem_acct_blocks, VM_NORESERVE objects) */
  acctBlocks = 0;
  /** pages charged at creation (shmem_acct_size); 0 for per-block objects and non-shmem files */
  acctSize = 0;
  /** VMAs mapping it (the anonymous shmem object dies with its last mapping) */
  mappers = 0;
  constructor(
    readonly name: string,
    readonly fs: 'disk' | 'tmpfs' | 'hugetlbfs' | 'shmem_anon',
    public size: number,
    readonly perBlockAcct: boolean,
  ) {}
  get isShmem(): boolean {
    return this.fs === 'tmpfs' || this.fs === 'shmem_anon';
  }
}

export interface VmFlags {
  read: boolean;
  write: boolean;
  shared: boolean;
  noreserve: boolean;
  account: boolean;
  dontcopy: boolean;
  hugetlb: boolean;
}

/** A VMA, as a page range [start, end) of its region. */
export class Vma {
  constructor(
    public start: number,
    public end: number,
    public flags: VmFlags,
    readonly mapping: Mapping | null,
    /** vma->anon_vma: set by the first anon page (write fault), inherited at fork */
    public anonVma: boolean,
  ) {}
  get len(): number {
    return this.end - this.start;
  }
  /** vma_is_anonymous(): no file behind it (the shmem object of a shared anon mapping is a file). */
  get isAnonymous(): boolean {
    return this.mapping === null;
  }
}

/**
 * The x86-64 user address-space layout without randomization, in pages: top-down mmap placement starts at
 * mmap_base (below the stack gap: arch/x86/mm/mmap.c:mmap_base) and stops at mmap_min_addr (64 KiB); the heap
 * starts after the binary (PIE). Only the order of the mappings is observable (it decides the order exit and fork
 * walk them); a hugetlb mapping is aligned to 2 MiB.
 */
export const MMAP_BASE = 0x7_f000_0000;
export const MMAP_MIN_PAGES = 16;
export const START_BRK = 0x5_5555_6000;

export class Region {
  vmas: Vma[] = [];
  ptes = new Map<number, Pte>();
  constructor(
    readonly name: string,
    readonly mm: Mm,
    /** the address (page number) of the region's page 0; its VMAs cover base + start .. base + end */
    readonly base: number,
  ) {}
  vmaAt(page: number): Vma | undefined {
    return this.vmas.find((v) => v.start <= page && page < v.end);
  }
  /** Split VMAs so that `at` is a boundary (__split_vma). */
  splitAt(at: number): void {
    const v = this.vmas.find((x) => x.start < at && at < x.end);
    if (!v) return;
    const tail = new Vma(at, v.end, { ...v.flags }, v.mapping, v.anonVma);
    if (v.mapping) v.mapping.mappers++;
    v.end = at;
    this.vmas.push(tail);
    this.vmas.sort((a, b) => a.start - b.start);
  }
}

export class Mm {
  regions = new Map<string, Region>();
  rssAnon = 0;
  rssFile = 0;
  rssShmem = 0;
  swapents = 0;
  totalVm = 0;
  mmfOomSkip = false;
  /** mm->brk: the program break, in pages past the start of the heap (independent of what is mapped there) */
  brk = 0;

  /** Every VMA with its region, in address order (the mm's VMA tree). */
  vmasInAddressOrder(): [Region, Vma][] {
    const all: [Region, Vma][] = [];
    for (const r of this.regions.values()) for (const v of r.vmas) all.push([r, v]);
    return all.sort(([ra, va], [rb, vb]) => ra.base + va.start - (rb.base + vb.start));
  }

  /**
   * mm/mmap.c:arch_get_unmapped_area_topdown() → vm_unmapped_area(): the highest gap below mmap_base that holds
   * `len` pages, the mapping placed at its top (aligned down to `align` pages); null when none does (ENOMEM).
   */
  unmappedArea(len: number, align: number): number | null {
    const place = (lo: number, hi: number): number | null => {
      if (hi < len) return null;
      const start = Math.floor((hi - len) / align) * align;
      return start >= lo ? start : null;
    };
    let hi = MMAP_BASE;
    for (const [r, v] of this.vmasInAddressOrder().reverse()) {
      const start = r.base + v.start;
      const end = r.base + v.end;
      if (start >= hi) continue;
      if (end <= hi) {
        const at = place(end, hi);
        if (at !== null) return at;
      }
      hi = start;
    }
    return place(MMAP_MIN_PAGES, hi);
  }
}

export interface Access {
  region: string;
  page: number;
  write: boolean;
}

export class Task {
  mm: Mm | null = new Mm();
  alive = true;
  minFlt = 0;
  majFlt = 0;
  /** SIGKILL pending (fatal_signal_pending / SIGNAL_GROUP_EXIT) */
  sigkill = false;
  /** signal->oom_mm set */
  oomVictim = false;
  /** the memcg whose v1 OOM wait queue the task sleeps on */
  blockedOn: Memcg | null = null;
  /** accesses left when the task blocked (the faulting one first) */
  pending: Access[] = [];
  constructor(
    readonly pid: number,
    public comm: string,
    public uid: number,
    public capSysAdmin: boolean,
    public oomScoreAdj: number,
    public memcg: Memcg,
  ) {}
  get blocked(): boolean {
    return this.blockedOn !== null;
  }
}

export interface MachineConfig {
  totalram_pages: number;
  total_swap_pages?: number;
  hugetlb_total_pages?: number;
  page_size?: number;
  cgroup?: CgroupVersion;
  committed_as_pages?: number;
  sysctl?: Record<string, number>;
}

export type FaultKind = 'none' | 'minor' | 'major';
export type CowKind = 'none' | 'copy' | 'reuse';

export interface OomRecord {
  constraint: Constraint;
  memcg: string | null;
  totalpages: number;
  outcome: 'current_will_free_mem' | 'nofs_skip' | 'panic' | 'kill_allocating_task' | 'kill' | 'abort' | 'no_victim';
  victim: number | null;
  oom_group: string | null;
  killed: number[];
}
