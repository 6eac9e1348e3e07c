/**
 * mm/madvise.c: MADV_DONTFORK / MADV_DOFORK, and the `swapout` op — MADV_PAGEOUT-like reclaim of the present
 * anon/shmem pages of a range (madvise_cold_or_pageout_pte_range → reclaim_pages → shrink_folio_list).
 */
import { unmapFolio } from './rmap.js';
import { type Kernel, liveTask } from './state.js';
import { dropSwapCache } from './swap_state.js';
import { allocSwapEntry, putSwapEntry } from './swapfile.js';
import { type Folio, InvalidOp, type OpResult } from './types.js';

/** madvise(MADV_DONTFORK / MADV_DOFORK): set / clear VM_DONTCOPY (mm/madvise.c). */
export function madvise(k: Kernel, pid: number, name: string, first: number, count: number, advice: string): OpResult {
  const t = liveTask(k, pid);
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
 * Page out one anon or shmem folio (shrink_folio_list: add_to_swap, try_to_unmap, pageout): a swap slot and, in
 * v2, the memcg swap charge (failure: swap.events max+fail, the page stays); every PTE becomes a swap entry;
 * pswpout. Unless `keepInSwapCache`, the folio is then freed.
 */
export function swapOutFolio(k: Kernel, f: Folio, keepInSwapCache: boolean): boolean {
  if (f.kind === 'file') return false;
  if (f.swap) {
    // shrink_folio_list(): a mapped anon folio already in the swap cache keeps its slot (no add_to_swap);
    // try_to_unmap turns every PTE into an entry for that slot, then the folio is written and dropped as usual.
    // (Known shared inaccuracy: the kernel writes it only if dirty; both engines count pswpout.)
    if (f.kind !== 'anon' || f.rmap.length === 0) return false;
    const e = f.swap;
    for (const ref of [...f.rmap]) {
      unmapFolio(k, ref.region, ref.page, f);
      ref.region.ptes.set(ref.page, { t: 'swap', entry: e });
      e.count++;
      ref.region.mm.swapents++;
    }
    k.stat.count('pswpout');
    k.stat.count('pgpgout', 4);
    f.memcg.vmEvents.pswpout++;
    // (this write leaves swapUnwritten as it was, as the Rust swapout does: a page reclaim kept unwritten while
    // a fault held it and that is mapped again is then written once more by reclaim; shared inaccuracy)
    if (!keepInSwapCache) dropSwapCache(k, f);
    return true;
  }
  const m = f.memcg;
  const e = allocSwapEntry(k, m);
  if (!e) return false;
  for (const ref of [...f.rmap]) {
    unmapFolio(k, ref.region, ref.page, f);
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
  k.stat.count('pswpout');
  k.stat.count('pgpgout', 4);
  m.vmEvents.pswpout++;
  f.swap = e;
  e.folio = f;
  if (!keepInSwapCache) dropSwapCache(k, f);
  if (e.count === 0) putSwapEntry(k, e);
  return true;
}

/** The swapout op: MADV_PAGEOUT-like reclaim of the present anon/shmem pages of a range. */
export function swapout(k: Kernel, pid: number, name: string, first: number, count: number, swapcache = false): OpResult {
  const t = liveTask(k, pid);
  const r = t.mm!.regions.get(name);
  if (!r) return 'ok'; // nothing mapped there
  for (let i = first; i < first + count; i++) {
    const pte = r.ptes.get(i);
    if (pte?.t === 'folio') swapOutFolio(k, pte.folio, swapcache);
  }
  return 'ok';
}
