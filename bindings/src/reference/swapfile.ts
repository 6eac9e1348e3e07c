/**
 * Swap slots (mm/swapfile.c): allocation with the v2 memcg swap charge (folio_alloc_swap →
 * __mem_cgroup_try_charge_swap, the one place it is charged), swap_free and free_swap_and_cache, folio_free_swap,
 * and mem_cgroup_swap_full.
 */
import type { Memcg } from './memcontrol.js';
import { freeFolio } from './page_alloc.js';
import type { Kernel } from './state.js';
import { type Folio, SwapEntry } from './types.js';

/** swap_free(): drop one reference; the last one frees the slot, its charge and any swap-cache folio. */
export function putSwapEntry(k: Kernel, e: SwapEntry): void {
  e.count--;
  if (e.count > 0) return;
  // mm/swapfile.c:free_swap_and_cache_nr() → __try_to_reclaim_swap(TTRS_UNMAPPED | TTRS_FULL): a swap-cache
  // folio that some PTE still maps keeps its slot unless swap is full (mem_cgroup_swap_full)
  if (e.folio && e.folio.rmap.length > 0 && !memSwapFull(k, e.memcg)) return;
  k.swap.used--;
  if (e.holdsCharge && !e.memcg.isRoot) e.memcg.swap.uncharge(1);
  e.holdsCharge = false;
  const f = e.folio;
  if (f) {
    f.swap = null;
    e.folio = null;
    if (f.rmap.length === 0) freeFolio(k, f);
  }
}

/** A swap slot for `m`'s folio: a free slot and, in v2, the memcg swap charge (failure: swap.events max+fail). */
export function allocSwapEntry(k: Kernel, m: Memcg): SwapEntry | null {
  if (k.swap.free <= 0) return null;
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
  k.swap.used++;
  return e;
}

/** folio_free_swap() for a folio that is mapped again and exclusive: its swap slot is no longer needed. */
export function dropSwapEntryOfMapped(k: Kernel, f: Folio): void {
  const e = f.swap!;
  f.swap = null;
  e.folio = null;
  e.count++;
  putSwapEntryKeepFolio(k, e);
}

export function putSwapEntryKeepFolio(k: Kernel, e: SwapEntry): void {
  e.count--;
  if (e.count > 0) return;
  k.swap.used--;
  if (e.holdsCharge && !e.memcg.isRoot) e.memcg.swap.uncharge(1);
  e.holdsCharge = false;
}

/**
 * mm/memcontrol.c:mem_cgroup_swap_full(): vm_swap_full() (include/linux/swap.h: free slots * 2 < total), or on
 * cgroup v2 some non-root ancestor's swap usage * 2 >= its swap.max (swap.high is not modelled: unlimited).
 */
export function memSwapFull(k: Kernel, memcg: Memcg): boolean {
  if (k.swap.free * 2 < k.swap.total) return true;
  if (memcg.version !== 'v2') return false;
  for (let m: Memcg | null = memcg; m && !m.isRoot; m = m.parent) if (m.swap.usage * 2 >= m.swap.max) return true;
  return false;
}
