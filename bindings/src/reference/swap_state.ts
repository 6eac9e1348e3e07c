/**
 * The swap cache (mm/swap_state.c): add_to_swap, delete_from_swap_cache (with mem_cgroup_swapout), free_swap_cache,
 * the swap write of pageout(), and swap-in (read_swap_cache_async) of a page that is not cached.
 */
import { oomRecover } from './memcontrol_v1.js';
import { allocFolio, freeFolio } from './page_alloc.js';
import type { Kernel } from './state.js';
import { allocSwapEntry } from './swapfile.js';
import type { Folio, FolioKind, SwapEntry, Task } from './types.js';

/** folio_free_swap() + free of an unmapped anon folio whose swap slot has no other reference. */
export function freeUnmappedSwapCache(k: Kernel, f: Folio): void {
  const e = f.swap!;
  f.swap = null;
  e.folio = null;
  k.swap.used--;
  if (e.holdsCharge && !e.memcg.isRoot) e.memcg.swap.uncharge(1);
  e.holdsCharge = false;
  freeFolio(k, f);
}

/** mm/swap_state.c:add_to_swap() (folio_alloc_swap): an anon folio enters the swap cache with a new slot. */
export function addToSwap(k: Kernel, f: Folio): boolean {
  const e = allocSwapEntry(k, f.memcg);
  if (!e) return false;
  f.swap = e;
  e.folio = f;
  return true;
}

/** The swap write of pageout() (swap_writeout): pswpout, pgpgout in kB, the memcg's pswpout. */
export function swapWritepage(k: Kernel, f: Folio): void {
  f.swapUnwritten = false;
  k.stat.count('pswpout');
  k.stat.count('pgpgout', 4);
  f.memcg.vmEvents.pswpout++;
}

/** A swap-cache folio leaves the cache and is freed; in v1 its memsw charge moves to the swap entry. */
export function dropSwapCache(k: Kernel, f: Folio): void {
  const e = f.swap!;
  e.folio = null;
  f.swap = null;
  if (e.memcg.version === 'v1' && !e.memcg.isRoot && !e.holdsCharge) {
    // mem_cgroup_swapout(): the folio's memory charge goes, the memsw charge stays with the entry.
    f.memcg.memory.uncharge(1);
    e.holdsCharge = true;
    k.lru.lists[f.lru].delete(f);
    k.frames.nrFolios--;
    k.stat.count('pgfree');
    oomRecover(k, f.memcg);
    return;
  }
  freeFolio(k, f);
}

/**
 * Bring a swapped page back (mm/memory.c:do_swap_page / shmem swap-in): from the swap cache (minor), or read
 * from the device into a new page charged to the entry's memcg (major, pswpin; pgmajfault counted by the
 * caller). v1: the memsw charge of the entry is handed back (mem_cgroup_swapin_uncharge_swap).
 */
export function swapIn(k: Kernel, e: SwapEntry, task: Task, userFault: boolean, kind: FolioKind): { folio: Folio; io: boolean } {
  if (e.folio) {
    const f = e.folio;
    e.folio = null;
    f.swap = null;
    return { folio: f, io: false };
  }
  const memcg = k.cgroups.memcgs.get(e.memcg.path) === e.memcg ? e.memcg : task.memcg;
  const f = allocFolio(k, kind, memcg, userFault);
  if (memcg.version === 'v1' && e.holdsCharge && !e.memcg.isRoot) {
    e.memcg.swap.uncharge(1);
    e.holdsCharge = false;
  }
  k.stat.count('pswpin');
  k.stat.count('pgpgin', 4);
  memcg.vmEvents.pswpin++;
  return { folio: f, io: true };
}
