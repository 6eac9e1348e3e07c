/**
 * The single Normal zone of the modelled machine: mm/page_alloc.c (calculate_min_free_kbytes,
 * __setup_per_zone_wmarks, calculate_totalreserve_pages). Dossier §5.1. After the pure rules, the engine's page
 * allocator: allocFolio/freeFolio are the one place a user page is charged and allocated, and uncharged and freed;
 * allocFrame is the slow path (direct reclaim, then the OOM killer through `k.oomKiller`).
 */
import { cdiv, intSqrt, multFrac } from './math.js';
import { type Memcg, tryChargeMemcg } from './memcontrol.js';
import { oomRecover } from './memcontrol_v1.js';
import type { Kernel } from './state.js';
import { Blocked, Folio, type FolioKind, Killed, type LruName, NoMem } from './types.js';
import { MAX_RECLAIM_RETRIES, tryToFreePages, zoneReclaimablePages } from './vmscan.js';

/** mm/page_alloc.c:calculate_min_free_kbytes(): clamp(isqrt(lowmem_kb * 16), 128, 262144). */
export function calculateMinFreeKbytes(lowmemKb: number): number {
  return Math.min(Math.max(intSqrt(lowmemKb * 16), 128), 262144);
}

export interface Watermarks {
  min: number;
  low: number;
  high: number;
  promo: number;
}

/**
 * mm/page_alloc.c:__setup_per_zone_wmarks() for one Normal (lowmem) zone holding all managed pages:
 * min = pages_min * managed / lowmem (= pages_min), distance = max(min/4, managed * wsf / 10000).
 */
export function setupZoneWmarks(managed: number, minFreeKbytes: number, watermarkScaleFactor: number): Watermarks {
  const pagesMin = Math.floor(minFreeKbytes / 4);
  const tmp = managed > 0 ? cdiv(pagesMin * managed, managed) : 0;
  const d = Math.max(Math.floor(tmp / 4), multFrac(managed, watermarkScaleFactor, 10000));
  const low = tmp + d;
  const high = low + d;
  return { min: tmp, low, high, promo: high + d };
}

/**
 * mm/page_alloc.c:calculate_totalreserve_pages(): per zone min(managed, largest lowmem_reserve + high). The only
 * zone has no higher zone, so its lowmem_reserve is 0.
 */
export const totalreservePages = (managed: number, w: Watermarks): number => Math.min(managed, w.high);

/**
 * mm/page_alloc.c:__zone_watermark_ok() for an order-0 request on the only zone (dossier §5.2): ALLOC_OOM (an OOM
 * victim) may dip to half the mark; the zone has no higher zone, so lowmem_reserve is 0. Fails when
 * `free <= mark` (equality fails).
 */
export function zoneWatermarkOk(free: number, mark: number, allocOom = false): boolean {
  let min = mark;
  if (allocOom) min -= Math.trunc(min / 2);
  return free > min;
}

// ---- the engine's page allocator: the one place user pages are charged and allocated, and freed ------------------

/** The most out_of_memory() calls one allocation makes before it fails (an engine bound; see allocFrame). */
const MAX_OOM_CALLS_PER_ALLOC = 4;

export function watermarks(k: Kernel): Watermarks {
  return setupZoneWmarks(k.totalram, k.sysctl['vm.min_free_kbytes'], k.sysctl['vm.watermark_scale_factor']);
}

/**
 * Allocate one user page for `memcg`: the memcg charge first (dossier §8.4; mm/memcontrol.c:try_charge_memcg),
 * then a frame (mm/page_alloc.c: direct reclaim, then __alloc_pages_may_oom). The one place pages are charged.
 * `userFault`: a user page fault (v1 oom_kill_disable then waits instead of failing).
 */
export function allocFolio(k: Kernel, kind: FolioKind, memcg: Memcg, userFault: boolean, lru?: LruName): Folio {
  const cur = k.tasks.current;
  // (the root is never limited: try_charge_memcg returns at once)
  const out = memcg.isRoot ? 'ok' : tryChargeMemcg(memcg, 1, k.host, { inUserFault: userFault, dying: () => cur?.sigkill ?? false });
  // a task with SIGKILL pending charges like any other (try_charge_memcg gives up on it only after an OOM, the
  // `dying` test); a charge it did not get ends its entry. The page allocator then serves an OOM victim from
  // the reserve (allocFrame).
  if (cur?.sigkill && out !== 'ok') throw new Killed();
  if (out === 'oom_wait') throw new Blocked(memcg);
  if (out === 'nomem') throw new NoMem();
  if (!allocFrame(k)) {
    uncharge(memcg, 1);
    if (cur?.sigkill) throw new Killed();
    throw new NoMem();
  }
  const folio = new Folio(kind, memcg, lru ?? (kind === 'file' ? 'inactive_file' : 'inactive_anon'));
  k.lru.lists[folio.lru].add(folio);
  k.frames.pagesAllocated++;
  k.stat.count('pgalloc_normal');
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
export function allocFrame(k: Kernel): boolean {
  let oomCalls = 0;
  let noProgressLoops = 0;
  for (;;) {
    // mm/page_alloc.c:get_page_from_freelist() with ALLOC_WMARK_MIN (the slow path's mark; the fast path's low
    // mark only decides whether kswapd is woken, and kswapd does not run within an op): dossier §5.2-5.3.
    const min = watermarks(k).min;
    const victim = k.tasks.current?.oomVictim ?? false;
    if (zoneWatermarkOk(k.freePages, min, victim)) {
      k.frames.nrFolios++;
      return true;
    }
    if (k.tasks.current?.sigkill) return false;
    const progress = tryToFreePages(k.reclaim) > 0;
    if (zoneWatermarkOk(k.freePages, min, victim)) continue;
    // should_reclaim_retry()
    if (progress) noProgressLoops = 0;
    else noProgressLoops++;
    const available = k.freePages + zoneReclaimablePages(k.reclaim);
    if (noProgressLoops <= MAX_RECLAIM_RETRIES && zoneWatermarkOk(available, min, victim)) continue;
    if (oomCalls === MAX_OOM_CALLS_PER_ALLOC) return false;
    oomCalls++;
    const oomProgress = k.oomKiller(null, 0);
    if (!oomProgress) return false;
    noProgressLoops = 0;
  }
}

export function uncharge(memcg: Memcg, n: number): void {
  if (memcg.isRoot) return;
  memcg.memory.uncharge(n);
  if (memcg.version === 'v1') memcg.swap.uncharge(n);
}

/** Free a folio: off the LRU, uncharged (mem_cgroup_uncharge → memcg1_oom_recover), frame returned. */
export function freeFolio(k: Kernel, f: Folio): void {
  k.lru.lists[f.lru].delete(f);
  k.frames.nrFolios--;
  k.stat.count('pgfree');
  uncharge(f.memcg, 1);
  if (!f.memcg.isRoot) oomRecover(k, f.memcg);
}
