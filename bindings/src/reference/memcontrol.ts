/**
 * Memory cgroups: mm/memcontrol.c, mm/memcontrol-v1.c. Dossier §3 (v1), §4 (v2).
 *
 * A `Memcg` holds the page counters, the event counters and the tunables; its interface files are read and
 * written here. The charge path (`tryChargeMemcg`, mm/memcontrol.c:try_charge_memcg) needs reclaim and the OOM
 * killer, which belong to the engine: it reaches them through `MemcgHost`.
 *
 * Modelling rule (vectors-format §6.2 rule 4): no per-CPU charge stock, so the batch is exactly nr_pages and
 * "draining the stocks" only costs one retry.
 */
import { PAGE_COUNTER_MAX, PageCounter, pageCounterMemparse } from './page_counter.js';

export const MAX_RECLAIM_RETRIES = 16;
export const SWAP_CLUSTER_MAX = 32;
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/** memory.events keys in file order (mm/memcontrol.c:__memory_events_show). */
export const MEMORY_EVENTS = ['low', 'high', 'max', 'oom', 'oom_kill', 'oom_group_kill', 'sock_throttled'] as const;
export type MemoryEvent = (typeof MEMORY_EVENTS)[number];
export const SWAP_EVENTS = ['high', 'max', 'fail'] as const;
export type SwapEvent = (typeof SWAP_EVENTS)[number];

export type CgroupVersion = 'v1' | 'v2';

/** Local state statistics of one memcg, in pages, plus its event counts; computed by the engine. */
export interface MemcgStats {
  anon: number;
  file: number;
  shmem: number;
  file_mapped: number;
  file_dirty: number;
  swapcached: number;
  swap: number;
  inactive_anon: number;
  active_anon: number;
  inactive_file: number;
  active_file: number;
  unevictable: number;
}

export interface MemcgHost {
  readonly totalSwapPages: number;
  /** vm.swappiness (v2 memcgs and the v1 root use it). */
  readonly vmSwappiness: number;
  /**
   * mm/vmscan.c:try_to_free_mem_cgroup_pages(): reclaim up to max(nr, SWAP_CLUSTER_MAX) pages charged to the
   * subtree of `memcg`; anon/shmem only to swap and only when `maySwap`. Returns the pages reclaimed.
   */
  reclaimMemcg(memcg: Memcg, nr: number, maySwap: boolean): number;
  /** mm/memcontrol.c:mem_cgroup_out_of_memory(): true when out_of_memory() chose something (kill or abort). */
  memcgOutOfMemory(memcg: Memcg, order: number): boolean;
  /** mm/memcontrol-v1.c:memcg1_oom_recover(): wake v1 OOM waiters in the hierarchy of `memcg`. */
  oomRecover(memcg: Memcg): void;
  statsOf(memcg: Memcg): MemcgStats;
  /** The root's usage as v1 memory.usage_in_bytes approximates it: NR_FILE_PAGES + NR_ANON_MAPPED. */
  rootUsagePages(): number;
}

export class Memcg {
  readonly children: Memcg[] = [];
  readonly memory: PageCounter;
  /** v1: memory+swap (memsw); v2: swap. */
  readonly swap: PageCounter;
  readonly events = Object.fromEntries(MEMORY_EVENTS.map((e) => [e, 0])) as Record<MemoryEvent, number>;
  readonly eventsLocal = Object.fromEntries(MEMORY_EVENTS.map((e) => [e, 0])) as Record<MemoryEvent, number>;
  readonly swapEvents = Object.fromEntries(SWAP_EVENTS.map((e) => [e, 0])) as Record<SwapEvent, number>;
  /** memcg event counters (memory.stat pgfault, pgmajfault, pgpgin, pgpgout, pswpin, pswpout), local. */
  readonly vmEvents = { pgfault: 0, pgmajfault: 0, pgpgin: 0, pgpgout: 0, pswpin: 0, pswpout: 0 };
  oomGroup = false;
  oomKillDisable = false;
  /** v1 under_oom nesting count (mem_cgroup_mark_under_oom). */
  underOom = 0;
  swappiness = 60;
  softLimit = PAGE_COUNTER_MAX;

  constructor(
    readonly path: string,
    readonly parent: Memcg | null,
    readonly version: CgroupVersion,
  ) {
    this.memory = new PageCounter(parent?.memory ?? null, version === 'v1');
    this.swap = new PageCounter(parent?.swap ?? null, false);
    if (parent) {
      parent.children.push(this);
      if (version === 'v1') {
        // mm/memcontrol-v1.c:memcg1_css_alloc-time inheritance: oom_kill_disable and swappiness.
        this.oomKillDisable = parent.oomKillDisable;
        this.swappiness = parent.swappiness;
      }
    }
  }

  get isRoot(): boolean {
    return this.parent === null;
  }

  /** Pre-order walk of the subtree (mem_cgroup_iter order). */
  *subtree(): Generator<Memcg> {
    yield this;
    for (const c of this.children) yield* c.subtree();
  }

  isDescendantOf(a: Memcg): boolean {
    for (let m: Memcg | null = this; m; m = m.parent) if (m === a) return true;
    return false;
  }

  /**
   * mm/memcontrol.c:__memcg_memory_event(): the local count on this memcg, the hierarchical count on it (even when
   * it is the root: the loop body runs once first) and on every ancestor except the root.
   */
  memoryEvent(e: MemoryEvent): void {
    this.eventsLocal[e]++;
    this.events[e]++;
    for (let m = this.parent; m && !m.isRoot; m = m.parent) m.events[e]++;
  }

  swapEvent(e: SwapEvent): void {
    this.swapEvents[e]++;
    for (let m = this.parent; m && !m.isRoot; m = m.parent) m.swapEvents[e]++;
  }

  /** include/linux/swap.h:mem_cgroup_swappiness(): v2 (and the root) use vm.swappiness. */
  effectiveSwappiness(vmSwappiness: number): number {
    return this.version === 'v2' || this.isRoot ? vmSwappiness : this.swappiness;
  }

  /** mm/memcontrol.c:mem_cgroup_get_max(): the OOM totalpages of this memcg (before the `0 → 1` rule). */
  getMax(totalSwapPages: number, vmSwappiness: number): number {
    let max = this.memory.max;
    if (this.effectiveSwappiness(vmSwappiness) !== 0) {
      if (this.version === 'v1') max += Math.min(this.swap.max - this.memory.max, totalSwapPages);
      else max += Math.min(this.swap.max, totalSwapPages);
    }
    return max;
  }

  /** Room left for swap entries charged to this memcg, for reclaim (mem_cgroup_get_nr_swap_pages, v2 part). */
  swapRoom(): number {
    let room = Number.MAX_SAFE_INTEGER;
    if (this.version === 'v2') for (let m: Memcg | null = this; m && !m.isRoot; m = m.parent) room = Math.min(room, m.swap.max - m.swap.usage);
    return Math.max(room, 0);
  }
}

export type ChargeOutcome = 'ok' | 'nomem' | 'oom_wait';

export interface ChargeContext {
  /** current->in_user_fault: a user page fault (a v1 oom_kill_disable memcg then puts the task to sleep). */
  inUserFault: boolean;
  /** task_is_dying(): current has a fatal signal (an OOM killed it in this charge). */
  dying(): boolean;
}

/**
 * mm/memcontrol.c:try_charge_memcg() for `nr` pages (GFP_KERNEL-like: blocking, no NORETRY/RETRY_MAYFAIL/NOFAIL):
 *
 *   retry: v1 memsw first (failing → mem_over_limit = memsw owner, reclaim without swap), then memory;
 *   on failure: MEMCG_MAX event on mem_over_limit, reclaim; margin ≥ nr → retry; first time: "drain", retry;
 *   reclaimed something and nr ≤ 8 → retry; 16 more retries; then, unless a previous OOM already killed current,
 *   mem_cgroup_oom(): the `oom` event, the v1 oom_kill_disable wait, or the OOM killer; after an OOM that chose
 *   something the retries start over.
 */
export function tryChargeMemcg(memcg: Memcg, nr: number, host: MemcgHost, ctx: ChargeContext): ChargeOutcome {
  if (memcg.isRoot) return 'ok';
  let retries = MAX_RECLAIM_RETRIES;
  let drained = false;
  let passedOom = false;
  const v1 = memcg.version === 'v1';
  for (;;) {
    let overLimit: Memcg | null = null;
    let maySwap = true;
    const memswFail = v1 ? memcg.swap.tryCharge(nr) : null;
    if (memswFail) {
      overLimit = ownerOf(memcg, memswFail, 'swap');
      maySwap = false;
    } else {
      const memFail = memcg.memory.tryCharge(nr);
      if (!memFail) return 'ok';
      if (v1) memcg.swap.uncharge(nr);
      overLimit = ownerOf(memcg, memFail, 'memory');
    }
    overLimit.memoryEvent('max');
    const reclaimed = host.reclaimMemcg(overLimit, nr, maySwap);
    // mm/memcontrol.c:mem_cgroup_margin(): with memsw accounting the smaller of the two margins.
    const margin = v1 ? Math.min(overLimit.memory.margin(), overLimit.swap.margin()) : overLimit.memory.margin();
    if (margin >= nr) continue;
    if (!drained) {
      drained = true;
      continue;
    }
    if (reclaimed > 0 && nr <= 1 << PAGE_ALLOC_COSTLY_ORDER) continue;
    if (retries-- > 0) continue;
    if (passedOom && ctx.dying()) return 'nomem';
    const oom = memCgroupOom(overLimit, 0, host, ctx);
    if (oom === 'success') {
      passedOom = true;
      retries = MAX_RECLAIM_RETRIES;
      continue;
    }
    return oom === 'wait' ? 'oom_wait' : 'nomem';
  }
}

function ownerOf(memcg: Memcg, counter: PageCounter, which: 'memory' | 'swap'): Memcg {
  for (let m: Memcg | null = memcg; m; m = m.parent) if (m[which] === counter) return m;
  throw new Error('page counter outside the hierarchy');
}

/**
 * mm/memcontrol.c:mem_cgroup_oom(): costly orders skip (no event); otherwise the `oom` event, then v1
 * memcg1_oom_prepare(): with oom_kill_disable a user fault waits (the task sleeps at the end of the fault) and a
 * kernel charge fails; otherwise the OOM killer runs.
 */
export function memCgroupOom(memcg: Memcg, order: number, host: MemcgHost, ctx: ChargeContext): 'success' | 'failed' | 'wait' {
  if (order > PAGE_ALLOC_COSTLY_ORDER) return 'failed';
  memcg.memoryEvent('oom');
  if (memcg.oomKillDisable) return ctx.inUserFault ? 'wait' : 'failed';
  return host.memcgOutOfMemory(memcg, order) ? 'success' : 'failed';
}

// ---- interface files -------------------------------------------------------------------------------------------

export const V1_FILES = [
  'memory.failcnt', 'memory.limit_in_bytes', 'memory.max_usage_in_bytes', 'memory.memsw.failcnt',
  'memory.memsw.limit_in_bytes', 'memory.memsw.max_usage_in_bytes', 'memory.memsw.usage_in_bytes',
  'memory.oom_control', 'memory.soft_limit_in_bytes', 'memory.stat', 'memory.swappiness', 'memory.usage_in_bytes',
  'memory.use_hierarchy',
] as const;
export const V2_FILES = [
  'memory.current', 'memory.events', 'memory.events.local', 'memory.high', 'memory.low', 'memory.max', 'memory.min',
  'memory.oom.group', 'memory.peak', 'memory.stat', 'memory.swap.current', 'memory.swap.events', 'memory.swap.max',
  'memory.swap.peak',
] as const;

/** A file's contents: text, a key→value table ("key value" files), or null when the file does not exist. */
export type FileValue = string | null | Record<string, number | bigint>;

const bytes = (pages: number): bigint => BigInt(pages) * 4096n;
/** v2 limits print `max` for PAGE_COUNTER_MAX (mm/memcontrol.c:seq_puts_memcg_tunable). */
const v2Limit = (pages: number): string => (pages === PAGE_COUNTER_MAX ? 'max' : bytes(pages).toString());

/** Whether `file` exists on `memcg` (the v2 root has only memory.stat among the documented files). */
export function fileExists(memcg: Memcg, file: string): boolean {
  if (memcg.version === 'v1') return (V1_FILES as readonly string[]).includes(file);
  if (!(V2_FILES as readonly string[]).includes(file)) return false;
  return !memcg.isRoot || file === 'memory.stat';
}

/** Read a cgroup file with a fresh open. */
export function readFile(memcg: Memcg, file: string, host: MemcgHost): FileValue {
  if (!fileExists(memcg, file)) return null;
  const m = memcg;
  if (m.version === 'v2') {
    switch (file) {
      case 'memory.current': return bytes(m.memory.usage).toString();
      case 'memory.max': return v2Limit(m.memory.max);
      case 'memory.high': return v2Limit(m.memory.high);
      case 'memory.low': return v2Limit(m.memory.low);
      case 'memory.min': return v2Limit(m.memory.min);
      case 'memory.peak': return bytes(m.memory.watermark).toString();
      case 'memory.oom.group': return m.oomGroup ? '1' : '0';
      case 'memory.events': return { ...m.events };
      case 'memory.events.local': return { ...m.eventsLocal };
      case 'memory.swap.current': return bytes(m.swap.usage).toString();
      case 'memory.swap.max': return v2Limit(m.swap.max);
      case 'memory.swap.peak': return bytes(m.swap.watermark).toString();
      case 'memory.swap.events': return { ...m.swapEvents };
      case 'memory.stat': return v2Stat(m, host);
    }
    return null;
  }
  switch (file) {
    case 'memory.usage_in_bytes': return bytes(m.isRoot ? host.rootUsagePages() : m.memory.usage).toString();
    case 'memory.memsw.usage_in_bytes': return bytes(m.isRoot ? host.rootUsagePages() : m.swap.usage).toString();
    case 'memory.limit_in_bytes': return bytes(m.memory.max).toString();
    case 'memory.memsw.limit_in_bytes': return bytes(m.swap.max).toString();
    case 'memory.max_usage_in_bytes': return bytes(m.memory.watermark).toString();
    case 'memory.memsw.max_usage_in_bytes': return bytes(m.swap.watermark).toString();
    case 'memory.failcnt': return String(m.memory.failcnt);
    case 'memory.memsw.failcnt': return String(m.swap.failcnt);
    case 'memory.soft_limit_in_bytes': return bytes(m.softLimit).toString();
    case 'memory.use_hierarchy': return '1';
    case 'memory.swappiness': return String(m.effectiveSwappiness(host.vmSwappiness));
    case 'memory.oom_control':
      return { oom_kill_disable: m.oomKillDisable ? 1 : 0, under_oom: m.underOom > 0 ? 1 : 0, oom_kill: m.eventsLocal.oom_kill };
    case 'memory.stat': return v1Stat(m, host);
  }
  return null;
}

function v2Stat(m: Memcg, host: MemcgHost): Record<string, number | bigint> {
  // v2 memory.stat is hierarchical (rstat-flushed totals of the subtree).
  const s = sumStats([...m.subtree()].map((c) => host.statsOf(c)));
  const ev = sumEvents([...m.subtree()]);
  return {
    anon: bytes(s.anon), file: bytes(s.file), kernel: 0, shmem: bytes(s.shmem), file_mapped: bytes(s.file_mapped),
    file_dirty: bytes(s.file_dirty), file_writeback: 0, swapcached: bytes(s.swapcached),
    inactive_anon: bytes(s.inactive_anon), active_anon: bytes(s.active_anon), inactive_file: bytes(s.inactive_file),
    active_file: bytes(s.active_file), unevictable: bytes(s.unevictable), pswpin: ev.pswpin, pswpout: ev.pswpout,
    pgfault: ev.pgfault, pgmajfault: ev.pgmajfault,
  };
}

function v1Stat(m: Memcg, host: MemcgHost): Record<string, number | bigint> {
  const local = host.statsOf(m);
  const total = sumStats([...m.subtree()].map((c) => host.statsOf(c)));
  const totalEv = sumEvents([...m.subtree()]);
  const keys = (s: MemcgStats, ev: Memcg['vmEvents']): Record<string, number | bigint> => ({
    cache: bytes(s.file), rss: bytes(s.anon), rss_huge: 0, shmem: bytes(s.shmem), mapped_file: bytes(s.file_mapped),
    dirty: bytes(s.file_dirty), writeback: 0, swap: bytes(s.swap), swapcached: bytes(s.swapcached),
    pgpgin: ev.pgpgin, pgpgout: ev.pgpgout, pgfault: ev.pgfault, pgmajfault: ev.pgmajfault,
    inactive_anon: bytes(s.inactive_anon), active_anon: bytes(s.active_anon), inactive_file: bytes(s.inactive_file),
    active_file: bytes(s.active_file), unevictable: bytes(s.unevictable),
  });
  let memLimit = PAGE_COUNTER_MAX;
  let memswLimit = PAGE_COUNTER_MAX;
  for (let c: Memcg | null = m; c; c = c.parent) {
    memLimit = Math.min(memLimit, c.memory.max);
    memswLimit = Math.min(memswLimit, c.swap.max);
  }
  const out: Record<string, number | bigint> = { ...keys(local, m.vmEvents) };
  out.hierarchical_memory_limit = bytes(memLimit);
  out.hierarchical_memsw_limit = bytes(memswLimit);
  for (const [k, v] of Object.entries(keys(total, totalEv))) out[`total_${k}`] = v;
  return out;
}

function sumStats(list: MemcgStats[]): MemcgStats {
  const out = { anon: 0, file: 0, shmem: 0, file_mapped: 0, file_dirty: 0, swapcached: 0, swap: 0, inactive_anon: 0, active_anon: 0, inactive_file: 0, active_file: 0, unevictable: 0 };
  for (const s of list) for (const k of Object.keys(out) as (keyof MemcgStats)[]) out[k] += s[k];
  return out;
}

function sumEvents(list: Memcg[]): Memcg['vmEvents'] {
  const out = { pgfault: 0, pgmajfault: 0, pgpgin: 0, pgpgout: 0, pswpin: 0, pswpout: 0 };
  for (const m of list) for (const k of Object.keys(out) as (keyof typeof out)[]) out[k] += m.vmEvents[k];
  return out;
}

export type WriteResult = 'ok' | 'EINVAL' | 'EBUSY' | 'EINTR';

/** kstrtoint-style parse of a small integer (surrounding whitespace allowed). */
function parseIntStrict(text: string): number | null {
  const s = text.trim();
  return /^[+-]?\d+$/.test(s) ? Number(s) : null;
}

/**
 * Write `value` to `file` of `memcg` (the cgroup_write op; written by a privileged admin process).
 * `fdState` is the open file's private state for memory.peak (fd-local reset).
 */
export function writeFile(memcg: Memcg, file: string, value: string, host: MemcgHost, fdState?: { peakBaseline?: number }): WriteResult {
  if (!fileExists(memcg, file)) return 'EINVAL';
  const m = memcg;
  if (m.version === 'v2') {
    switch (file) {
      case 'memory.max': return memoryMaxWrite(m, value, host);
      case 'memory.high': return memoryHighWrite(m, value, host);
      case 'memory.low':
      case 'memory.min': {
        const nr = pageCounterMemparse(value, 'max');
        if (nr === null) return 'EINVAL';
        if (file === 'memory.low') m.memory.low = nr;
        else m.memory.min = nr;
        return 'ok';
      }
      case 'memory.swap.max': {
        const nr = pageCounterMemparse(value, 'max');
        if (nr === null) return 'EINVAL';
        m.swap.max = nr;
        return 'ok';
      }
      case 'memory.oom.group': {
        const v = parseIntStrict(value);
        if (v === null || (v !== 0 && v !== 1)) return 'EINVAL';
        m.oomGroup = v === 1;
        return 'ok';
      }
      case 'memory.peak': {
        // mm/memcontrol.c:peak_write(): any non-empty write resets this fd's view to the current usage.
        if (value.trim() === '' || !fdState) return 'EINVAL';
        fdState.peakBaseline = m.memory.usage;
        m.memory.localWatermark = m.memory.usage;
        return 'ok';
      }
    }
    return 'EINVAL';
  }
  switch (file) {
    case 'memory.limit_in_bytes':
    case 'memory.memsw.limit_in_bytes': {
      if (m.isRoot) return 'EINVAL';
      if (value.trim() === '') return 'ok';
      const nr = pageCounterMemparse(value, '-1');
      if (nr === null) return 'EINVAL';
      return memCgroupResizeMax(m, nr, file === 'memory.memsw.limit_in_bytes', host);
    }
    case 'memory.soft_limit_in_bytes': {
      if (m.isRoot) return 'EINVAL';
      const nr = pageCounterMemparse(value, '-1');
      if (nr === null) return 'EINVAL';
      m.softLimit = nr;
      return 'ok';
    }
    case 'memory.max_usage_in_bytes':
      m.memory.watermark = m.memory.usage;
      m.memory.localWatermark = m.memory.usage;
      return 'ok';
    case 'memory.memsw.max_usage_in_bytes':
      m.swap.watermark = m.swap.usage;
      return 'ok';
    case 'memory.failcnt':
      m.memory.failcnt = 0;
      return 'ok';
    case 'memory.memsw.failcnt':
      m.swap.failcnt = 0;
      return 'ok';
    case 'memory.use_hierarchy': {
      const v = parseIntStrict(value);
      return v === 1 ? 'ok' : 'EINVAL';
    }
    case 'memory.swappiness': {
      const v = parseIntStrict(value);
      if (v === null || v < 0 || v > 200) return 'EINVAL';
      m.swappiness = v;
      return 'ok';
    }
    case 'memory.oom_control': {
      // mm/memcontrol-v1.c:mem_cgroup_oom_control_write(): root EINVAL, only 0/1.
      const v = parseIntStrict(value);
      if (m.isRoot || v === null || (v !== 0 && v !== 1)) return 'EINVAL';
      m.oomKillDisable = v === 1;
      if (v === 0) host.oomRecover(m);
      return 'ok';
    }
  }
  return 'EINVAL';
}

/**
 * mm/memcontrol-v1.c:mem_cgroup_resize_max(): keep memory.max ≤ memsw.max (EINVAL otherwise); set the limit if usage
 * fits, else drain once and reclaim one page at a time (memory limit: with swap; memsw: without); a reclaim round
 * that frees nothing gives EBUSY — never an OOM kill. Enlarging wakes v1 OOM waiters.
 */
export function memCgroupResizeMax(m: Memcg, nr: number, memsw: boolean, host: MemcgHost): WriteResult {
  const counter = memsw ? m.swap : m.memory;
  let drained = false;
  let enlarge = false;
  for (;;) {
    const invariant = memsw ? nr >= m.memory.max : nr <= m.swap.max;
    if (!invariant) return 'EINVAL';
    if (nr > counter.max) enlarge = true;
    if (counter.setMax(nr)) break;
    if (!drained) {
      drained = true;
      continue;
    }
    if (host.reclaimMemcg(m, 1, !memsw) === 0) return 'EBUSY';
  }
  if (enlarge) host.oomRecover(m);
  return 'ok';
}

/** mm/memcontrol.c:memory_max_write(): set at once, then reclaim (16 fruitless tries), then OOM until it fits. */
function memoryMaxWrite(m: Memcg, value: string, host: MemcgHost): WriteResult {
  const max = pageCounterMemparse(value, 'max');
  if (max === null) return 'EINVAL';
  m.memory.max = max;
  let drained = false;
  let reclaims = MAX_RECLAIM_RETRIES;
  for (;;) {
    const usage = m.memory.usage;
    if (usage <= max) break;
    if (!drained) {
      drained = true;
      continue;
    }
    if (reclaims > 0) {
      if (host.reclaimMemcg(m, usage - max, true) === 0) reclaims--;
      continue;
    }
    m.memoryEvent('oom');
    if (!host.memcgOutOfMemory(m, 0)) break;
  }
  return 'ok';
}

/** mm/memcontrol.c:memory_high_write(): set, then reclaim toward it (16 fruitless tries). Never OOM-kills. */
function memoryHighWrite(m: Memcg, value: string, host: MemcgHost): WriteResult {
  const high = pageCounterMemparse(value, 'max');
  if (high === null) return 'EINVAL';
  m.memory.high = high;
  let drained = false;
  let retries = MAX_RECLAIM_RETRIES;
  for (;;) {
    const usage = m.memory.usage;
    if (usage <= high) break;
    if (!drained) {
      drained = true;
      continue;
    }
    const reclaimed = host.reclaimMemcg(m, usage - high, true);
    if (!reclaimed && !(retries-- > 0)) break;
  }
  return 'ok';
}
