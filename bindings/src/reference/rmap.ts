/**
 * Reverse mapping and PTE bookkeeping (mm/rmap.c): a folio's `rmap` lists every PTE that maps it; mapping and
 * unmapping one keeps the mm's RSS counters and NR_ANON_MAPPED / NR_FILE_MAPPED; folio_referenced and try_to_unmap
 * for reclaim.
 */
import type { Memcg } from './memcontrol.js';
import type { Kernel } from './state.js';
import type { Folio, FolioKind, Mm, Region } from './types.js';

export function rssAdd(mm: Mm, kind: FolioKind, d: number): void {
  if (kind === 'anon') mm.rssAnon += d;
  else if (kind === 'file') mm.rssFile += d;
  else mm.rssShmem += d;
}

/** Install a PTE for `folio` (young: the access that faulted it in sets the accessed bit). */
export function mapFolio(k: Kernel, r: Region, page: number, folio: Folio, writable: boolean, young = true): void {
  r.ptes.set(page, { t: 'folio', folio, writable, young });
  folio.rmap.push({ region: r, page });
  if (folio.rmap.length === 1) {
    if (folio.kind === 'anon') k.lru.nrAnonMapped++;
    else k.lru.nrFileMapped++;
  }
  rssAdd(r.mm, folio.kind, 1);
}

/** Remove one PTE mapping of a folio (page_remove_rmap); returns true when it was the last one. */
export function unmapFolio(k: Kernel, r: Region, page: number, folio: Folio): boolean {
  const at = folio.rmap.findIndex((x) => x.region === r && x.page === page);
  if (at >= 0) folio.rmap.splice(at, 1);
  r.ptes.delete(page);
  rssAdd(r.mm, folio.kind, -1);
  if (folio.rmap.length === 0) {
    if (folio.kind === 'anon') k.lru.nrAnonMapped--;
    else k.lru.nrFileMapped--;
    return true;
  }
  return false;
}

/**
 * mm/rmap.c:folio_referenced(): how many PTEs mapping `f` have the accessed bit, clearing it. For memcg reclaim
 * only the mappings of processes in `target`'s subtree are looked at (invalid_folio_referenced_vma).
 */
export function folioReferenced(k: Kernel, f: Folio, target: Memcg | null): number {
  let referenced = 0;
  for (const ref of f.rmap) {
    if (target && !mmInSubtree(k, ref.region.mm, target)) continue;
    const pte = ref.region.ptes.get(ref.page);
    if (pte?.t === 'folio' && pte.young) {
      pte.young = false;
      referenced++;
    }
  }
  return referenced;
}

/** mm_match_cgroup(): the mm's owner task is in `memcg`'s subtree. */
export function mmInSubtree(k: Kernel, mm: Mm, memcg: Memcg): boolean {
  for (const t of k.tasks.live.values()) if (t.mm === mm) return t.memcg.isDescendantOf(memcg);
  return false;
}

/**
 * mm/rmap.c:try_to_unmap(): every PTE mapping `f` is cleared; an anon page's PTEs become swap entries of its
 * swap-cache slot.
 */
export function tryToUnmap(k: Kernel, f: Folio): void {
  for (const ref of [...f.rmap]) {
    unmapFolio(k, ref.region, ref.page, f);
    if (f.kind === 'anon' && f.swap) {
      ref.region.ptes.set(ref.page, { t: 'swap', entry: f.swap });
      f.swap.count++;
      ref.region.mm.swapents++;
    }
  }
}
