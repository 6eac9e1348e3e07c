/**
 * The reference engine's state: one `Kernel` object made of parts, each the state of one subsystem, passed as `k`
 * to the functions of the modules named after the kernel files that own them (page_alloc.ts, memory.ts, mmap.ts,
 * swapfile.ts, oom_kill.ts, ...). A part is plain data with at most a derived getter; the rules live in the modules.
 *
 * The modules call each other downward only (docs/decisions/0010-bindings-architecture.md). The three calls that go
 * back up — the allocator into the OOM killer, memcg charging into reclaim and the memcg OOM killer, reclaim into
 * the swap and page-cache code — go through the hooks below, which engine.ts (the composition root) fills in, as
 * vmscan.ts and memcontrol.ts already took their host interfaces.
 *
 * This module imports only types, memcontrol.ts (the root Memcg) and the generated vmstat names.
 */
import { VMSTAT_NAMES } from '../generated/vmstat.js';
import { type CgroupVersion, Memcg, type MemcgHost } from './memcontrol.js';
import { type Folio, InvalidOp, type LruName, type Mapping, type OomRecord, type Task } from './types.js';
import type { LruvecCost, ReclaimHost } from './vmscan.js';

/** Frames of the one Normal zone and the hugetlb pool (mm/page_alloc.c, mm/hugetlb.c). */
export class Frames {
  /** frames holding a user page */
  nrFolios = 0;
  /** user pages ever allocated (the `pages_allocated` observation) */
  pagesAllocated = 0;
  hugeResv = 0;
  constructor(public hugeFree: number) {}
}

/** The swap device (mm/swapfile.c: one swap area of `total` slots). */
export class SwapDevice {
  used = 0;
  constructor(readonly total: number) {}
  get free(): number {
    return this.total - this.used;
  }
}

/** vm_committed_as (mm/util.c): the modelled processes' charge plus the machine's baseline. */
export class Commit {
  /** Committed_AS of the modelled processes, pages */
  committed = 0;
  constructor(readonly baseline: number) {}
  /** vm_memory_committed(): the modelled processes plus the machine's baseline, clamped at 0. */
  get committedAs(): number {
    return Math.max(0, this.committed + this.baseline);
  }
}

/** The LRU lists (one ordered set per list for the whole machine; vmscan.ts) and the mapped-page counters. */
export class Lru {
  readonly lists: Record<LruName, Set<Folio>> = {
    inactive_anon: new Set(), active_anon: new Set(), inactive_file: new Set(), active_file: new Set(),
  };
  /** NR_ANON_MAPPED / NR_FILE_MAPPED: folios with at least one PTE */
  nrAnonMapped = 0;
  nrFileMapped = 0;
  /** lruvec->anon_cost / file_cost per memcg (mm/swap.c:lru_note_cost) */
  readonly costs = new Map<Memcg, LruvecCost>();
}

/** The task list and `current`. */
export class TaskList {
  /** live tasks in task-list (creation) order */
  readonly live = new Map<number, Task>();
  /** every task that ever existed, by pid (the latest one for a reused pid) */
  readonly all = new Map<number, Task>();
  /** the task running the current op (null: the admin process) */
  current: Task | null = null;
}

/** Address spaces: named files (disk, tmpfs, hugetlbfs) and the shmem objects of MAP_SHARED|MAP_ANONYMOUS. */
export class Files {
  readonly named = new Map<string, Mapping>();
  readonly anonShmem = new Set<Mapping>();
}

/** The memory cgroup tree, its open files, and the v1 OOM waiters to wake. */
export class Cgroups {
  readonly memcgs = new Map<string, Memcg>();
  readonly root: Memcg;
  /** open cgroup files */
  readonly fds = new Map<string, { memcg: Memcg; file: string; peakBaseline?: number }>();
  /** tasks woken from a v1 OOM wait, resumed at the end of the current op */
  readonly wakeQueue: Task[] = [];
  constructor(version: CgroupVersion) {
    this.root = new Memcg('/', null, version);
    this.memcgs.set('/', this.root);
  }
}

/** Event counters: /proc/vmstat's (the state counters are derived in vmstat.ts) and the fault totals. */
export class Stat {
  readonly events: Record<string, number> = {};
  faultsMinor = 0;
  faultsMajor = 0;
  constructor() {
    for (const n of VMSTAT_NAMES) this.events[n] = 0;
  }
  count(name: string, n = 1): void {
    this.events[name] = (this.events[name] ?? 0) + n;
  }
}

/** What the OOM killer did, and a panic. */
export class OomState {
  readonly records: OomRecord[] = [];
  panicked: string | null = null;
}

export interface KernelConfig {
  totalram: number;
  totalSwap: number;
  hugetlbTotal: number;
  cgroupVersion: CgroupVersion;
  committedBaseline: number;
  sysctl: Record<string, number>;
}

export class Kernel {
  readonly totalram: number;
  readonly hugetlbTotal: number;
  readonly cgroupVersion: CgroupVersion;
  readonly sysctl: Record<string, number>;
  readonly frames: Frames;
  readonly swap: SwapDevice;
  readonly commit: Commit;
  readonly lru = new Lru();
  readonly tasks = new TaskList();
  readonly files = new Files();
  readonly cgroups: Cgroups;
  readonly stat = new Stat();
  readonly oom = new OomState();
  /** the kernel log (dmesg) */
  readonly log: string[] = [];

  // the hooks (engine.ts wires them)
  /** memcontrol.ts's view of the engine */
  host!: MemcgHost;
  /** vmscan.ts's view of the engine */
  reclaim!: ReclaimHost;
  /** mm/oom_kill.c:out_of_memory(), for the page allocator's __alloc_pages_may_oom */
  oomKiller!: (memcg: Memcg | null, order: number) => boolean;

  constructor(c: KernelConfig) {
    this.totalram = c.totalram;
    this.hugetlbTotal = c.hugetlbTotal;
    this.cgroupVersion = c.cgroupVersion;
    this.sysctl = c.sysctl;
    this.frames = new Frames(Math.floor(c.hugetlbTotal / 512));
    this.swap = new SwapDevice(c.totalSwap);
    this.commit = new Commit(c.committedBaseline);
    this.cgroups = new Cgroups(c.cgroupVersion);
  }

  get freePages(): number {
    return this.totalram - this.hugetlbTotal - this.frames.nrFolios;
  }
}

// ---- lookups every op starts with --------------------------------------------------------------------------------

export function liveTask(k: Kernel, pid: number): Task {
  const t = k.tasks.live.get(pid);
  if (!t) throw new InvalidOp(`task ${pid} does not exist`);
  if (t.blocked) throw new InvalidOp(`task ${pid} is blocked and may not be given new ops`);
  return t;
}

export function memcgAt(k: Kernel, path: string): Memcg {
  const m = k.cgroups.memcgs.get(path);
  if (!m) throw new InvalidOp(`cgroup ${path} does not exist`);
  return m;
}
