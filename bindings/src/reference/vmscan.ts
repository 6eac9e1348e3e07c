/**
 * Page reclaim with the classic two-list LRU (mm/vmscan.c with CONFIG_LRU_GEN off, mm/swap.c, mm/rmap.c), a
 * reading of dossier §5.3-5.4 and of the kernel source, written for the reference engine.
 *
 * The lists. Every user page sits on one of four evictable lists: inactive/active × anon/file (shmem and tmpfs
 * pages are swap-backed and live on the anon lists). Each memcg has its own lruvec; the engine keeps one ordered
 * set per list for the whole machine and the lruvec of a memcg is that set restricted to the memcg's folios, which
 * gives the same order because every list operation is "remove" or "add at the head". Set order is oldest first:
 * the tail of the kernel list (where reclaim takes from) is the first element, the head the last.
 *
 * Page age has two signals:
 *  - the accessed ("young") bit of every PTE mapping the page: set by each access through the PTE (the hardware
 *    does it, also for the access that faulted the PTE in), read and cleared by reclaim (mm/rmap.c:
 *    folio_referenced counts the mappings in which it was set);
 *  - PG_referenced, set by accesses without a PTE (mm/swap.c:folio_mark_accessed: read(2), tmpfs write(2), the
 *    unmapping of a young PTE of a page-cache page) and by reclaim itself (folio_check_references).
 *
 * The passes of one reclaim call:
 *
 *   do_try_to_free_pages: priority 12 → 0, each a shrink_node, until nr_to_reclaim pages were reclaimed; a call
 *     that reclaimed nothing is repeated with a full memcg walk, then with forced deactivation if an active list
 *     was skipped; global reclaim counts allocstall on each pass.
 *   shrink_node: prepare_scan_control (anon/file costs of the target, which active lists may be deactivated,
 *     cache_trim_mode, file_is_tiny), then every memcg of the target subtree (pre-order), each shrink_lruvec.
 *   shrink_lruvec: get_scan_count gives four scan targets (list size >> priority, split by the swappiness and cost
 *     balance); the lists are scanned round-robin in SWAP_CLUSTER_MAX batches; once enough is reclaimed, memcg
 *     reclaim stops the smaller type and rescales the other (one nudge toward the planned proportion); global
 *     direct reclaim at DEF_PRIORITY scans the whole target. Then the active anon list is aged if its inactive
 *     list is low and swap exists.
 *   shrink_inactive_list + shrink_folio_list: per page folio_check_references → activate / keep (rotate) /
 *     reclaim: clean page cache is dropped; anon pages get a swap slot, are unmapped (their PTEs become swap
 *     entries) and written; shmem pages are unmapped and written to swap; dirty page cache is activated (only
 *     kswapd writes file pages, and kswapd does not run within an op). lru_note_cost records the IO and the
 *     pages not reclaimed.
 *   shrink_active_list: every scanned page loses its young bits and moves to the inactive list (PG_workingset).
 *
 * Not modelled: MGLRU, kswapd, workingset shadow entries and refault activation (so `may_deactivate` follows
 * inactive_is_low alone), memory.min/memory.low protection, the persistent iterator of partial memcg walks (every
 * walk starts at the target), VM_EXEC/mlock, writeback and PTE dirty bits (shmem pages count as dirty from their
 * allocation; a mapped swap-cache page is written again when it is reclaimed).
 */
import type { Folio, LruName } from './types.js';
import type { Memcg } from './memcontrol.js';
import { intSqrt } from './math.js';

/** include/linux/swap.h: the reclaim batch. */
export const SWAP_CLUSTER_MAX = 32;
/** include/linux/mmzone.h: the first (lowest) reclaim priority; each pass scans list_size >> priority. */
export const DEF_PRIORITY = 12;
/** include/linux/swap.h: vm.swappiness is 0..200 (since v5.8). */
export const MAX_SWAPPINESS = 200;
/** mm/internal.h: fruitless reclaim rounds before the allocator gives up (should_reclaim_retry). */
export const MAX_RECLAIM_RETRIES = 16;

/** for_each_evictable_lru() order (enum lru_list). */
export const EVICTABLE_LRUS: readonly LruName[] = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file'];

const isFileLru = (l: LruName): boolean => l === 'inactive_file' || l === 'active_file';
const isActiveLru = (l: LruName): boolean => l === 'active_anon' || l === 'active_file';
const lruOf = (file: boolean, active: boolean): LruName => (file ? (active ? 'active_file' : 'inactive_file') : active ? 'active_anon' : 'inactive_anon');
/** folio_is_file_lru(): page cache; anon and shmem are swap-backed. */
export const folioIsFileLru = (f: Folio): boolean => f.kind === 'file';

// ---- pure rules (also checked against the `reclaim` vectors) --------------------------------------------------

/**
 * mm/vmscan.c:inactive_is_low(): the target active:inactive ratio of a list pair is isqrt(10 × size in GiB), 1 below
 * one GiB; the inactive list is low when inactive × ratio < active (strict).
 */
export function inactiveIsLow(inactive: number, active: number): { ratio: number; low: boolean } {
  const gb = Math.floor((inactive + active) / 262144);
  const ratio = gb > 0 ? intSqrt(10 * gb) : 1;
  return { ratio, low: inactive * ratio < active };
}

/**
 * The SCAN_FRACT weights of mm/vmscan.c:get_scan_count(): each list's recent cost counts twice against itself and
 * once against the other, so no list gets less than about a third of the pressure before swappiness; the anon
 * weight is swappiness × (t+1) / (anon+1), the file weight (200 − swappiness) × (t+1) / (file+1).
 */
export function pressureBalance(swappiness: number, anonCost: number, fileCost: number): { ap: number; fp: number } {
  const total = anonCost + fileCost;
  const a = total + anonCost;
  const f = total + fileCost;
  const t = a + f;
  return { ap: Math.floor((swappiness * (t + 1)) / (a + 1)), fp: Math.floor(((MAX_SWAPPINESS - swappiness) * (t + 1)) / (f + 1)) };
}

// ---- the host -----------------------------------------------------------------------------------------------

/** lruvec->anon_cost / file_cost: the recent reclaim cost of each type (mm/swap.c:lru_note_cost). */
export interface LruvecCost {
  anon: number;
  file: number;
}

/**
 * What reclaim needs from the engine: the lists and the page operations of shrink_folio_list. The engine owns the
 * page tables, the page cache and the swap cache; reclaim only decides.
 */
export interface ReclaimHost {
  /** Every folio of the machine per list, oldest first. */
  readonly lru: Record<LruName, Set<Folio>>;
  /** The root memcg: its lruvec is the one global reclaim balances on. */
  readonly rootMemcg: Memcg;
  readonly totalSwapPages: number;
  swapFreePages(): number;
  freePages(): number;
  highWmark(): number;
  vmSwappiness(): number;
  count(event: string, n?: number): void;
  lruvecCost(memcg: Memcg): LruvecCost;
  /**
   * mm/rmap.c:folio_referenced(): the number of PTEs mapping `f` whose accessed bit is set, clearing them. For
   * memcg reclaim only mappings of processes inside `target` are looked at (invalid_folio_referenced_vma).
   */
  folioReferenced(f: Folio, target: Memcg | null): number;
  /** add_to_swap(): a swap slot (with the v2 memcg swap charge) and the swap cache for an anon folio. */
  addToSwap(f: Folio): boolean;
  /** try_to_unmap(): every PTE mapping `f` goes (anon: it becomes a swap entry of the folio's slot). */
  tryToUnmap(f: Folio): void;
  /** pageout() of an anon folio in the swap cache: the swap write (pswpout). */
  swapWritepage(f: Folio): void;
  /** pageout() of a shmem folio: mm/shmem.c:shmem_writeout moves it to the swap cache and writes it; false when no
   *  slot (or swap charge) could be had. */
  shmemWriteout(f: Folio): boolean;
  /** __remove_mapping(): a clean, unmapped folio leaves the page cache or the swap cache and is freed. */
  removeMapping(f: Folio): void;
  /** mem_cgroup_swap_full() for the folio's memcg. */
  memSwapFull(memcg: Memcg): boolean;
  /** folio_free_swap(): drop the swap slot of a swap-cache folio no swap PTE refers to. */
  folioFreeSwap(f: Folio): void;
}

/** Move a folio (on some list) to the head of `to`. */
function lruMove(host: ReclaimHost, f: Folio, to: LruName): void {
  host.lru[f.lru].delete(f);
  f.lru = to;
  host.lru[to].add(f);
}

/** Is the folio still on an LRU list (not freed while its batch was processed)? */
const onLru = (host: ReclaimHost, f: Folio): boolean => host.lru[f.lru].has(f);

/** A list's size in `root`'s subtree (lruvec_page_state of a memcg lruvec is hierarchical; null: the node). */
function subtreeSize(host: ReclaimHost, root: Memcg | null, lru: LruName): number {
  if (!root || root.isRoot) return host.lru[lru].size;
  let n = 0;
  for (const f of host.lru[lru]) if (f.memcg.isDescendantOf(root)) n++;
  return n;
}

/** A list's size in `memcg`'s own lruvec (lruvec_lru_size: local). */
function localSize(host: ReclaimHost, memcg: Memcg, lru: LruName): number {
  if (memcg.isRoot && memcg.children.length === 0) return host.lru[lru].size;
  let n = 0;
  for (const f of host.lru[lru]) if (f.memcg === memcg) n++;
  return n;
}

/**
 * mm/swap.c:folio_mark_accessed(): inactive unreferenced → referenced; inactive referenced → activated (pgactivate,
 * the flag cleared); active unreferenced → referenced.
 */
export function folioMarkAccessed(host: ReclaimHost, f: Folio): void {
  if (!f.referenced) {
    f.referenced = true;
  } else if (!isActiveLru(f.lru)) {
    lruMove(host, f, lruOf(folioIsFileLru(f), true));
    host.count('pgactivate');
    f.referenced = false;
  }
}

/**
 * mm/swap.c:lru_note_cost(): nr_io × SWAP_CLUSTER_MAX + nr_rotated is added to the anon or file cost of the lruvec
 * and of every ancestor's; an lruvec whose two costs together exceed a quarter of its (hierarchical) LRU size halves
 * both. Nothing happens for a zero cost.
 */
export function lruNoteCost(host: ReclaimHost, memcg: Memcg, file: boolean, nrIo: number, nrRotated: number): void {
  const cost = nrIo * SWAP_CLUSTER_MAX + nrRotated;
  if (cost === 0) return;
  for (let m: Memcg | null = memcg; m; m = m.parent) {
    const c = host.lruvecCost(m);
    if (file) c.file += cost;
    else c.anon += cost;
    let size = 0;
    for (const l of EVICTABLE_LRUS) size += subtreeSize(host, m, l);
    if (c.file + c.anon > Math.floor(size / 4)) {
      c.file = Math.floor(c.file / 2);
      c.anon = Math.floor(c.anon / 2);
    }
  }
}

// ---- scan_control -------------------------------------------------------------------------------------------

/** The modelled part of `struct scan_control`. */
export interface ScanControl {
  nrToReclaim: number;
  /** The memcg whose limit is reclaimed (cgroup_reclaim); null for global direct reclaim. */
  target: Memcg | null;
  maySwap: boolean;
  priority: number;
  nrScanned: number;
  nrReclaimed: number;
  anonCost: number;
  fileCost: number;
  mayDeactivateAnon: boolean;
  mayDeactivateFile: boolean;
  forceDeactivate: boolean;
  skippedDeactivate: boolean;
  cacheTrimMode: boolean;
  fileIsTiny: boolean;
  memcgFullWalk: boolean;
}

function newScanControl(nrToReclaim: number, target: Memcg | null, maySwap: boolean): ScanControl {
  return {
    nrToReclaim, target, maySwap, priority: DEF_PRIORITY, nrScanned: 0, nrReclaimed: 0, anonCost: 0, fileCost: 0,
    mayDeactivateAnon: false, mayDeactivateFile: false, forceDeactivate: false, skippedDeactivate: false,
    cacheTrimMode: false, fileIsTiny: false, memcgFullWalk: false,
  };
}

/**
 * mm/vmscan.c:try_to_free_pages(): one direct-reclaim entry of an allocation, SWAP_CLUSTER_MAX pages over the whole
 * node, swapping allowed. Returns the pages reclaimed.
 */
export function tryToFreePages(host: ReclaimHost): number {
  return doTryToFreePages(host, newScanControl(SWAP_CLUSTER_MAX, null, true));
}

/**
 * mm/vmscan.c:try_to_free_mem_cgroup_pages(): limit reclaim of `memcg`'s subtree, max(nr, SWAP_CLUSTER_MAX) pages;
 * anon only when `maySwap` (MEMCG_RECLAIM_MAY_SWAP).
 */
export function tryToFreeMemCgroupPages(host: ReclaimHost, memcg: Memcg, nr: number, maySwap: boolean): number {
  return doTryToFreePages(host, newScanControl(Math.max(nr, SWAP_CLUSTER_MAX), memcg, maySwap));
}

/**
 * mm/vmscan.c:do_try_to_free_pages(): priorities DEF_PRIORITY down to 0 until nr_to_reclaim is met. When nothing at
 * all was reclaimed it tries again from DEF_PRIORITY with a full memcg walk, then (if an active list was skipped
 * because it was not to be deactivated) with forced deactivation. Global reclaim counts allocstall at the start of
 * every such pass (the model has no allocstall_movable: see docs/reference-engine.md).
 */
export function doTryToFreePages(host: ReclaimHost, sc: ScanControl): number {
  const initialPriority = sc.priority;
  for (;;) {
    if (!sc.target) host.count('allocstall_normal');
    do {
      sc.nrScanned = 0;
      shrinkNode(host, sc);
      if (sc.nrReclaimed >= sc.nrToReclaim) break;
    } while (--sc.priority >= 0);
    if (sc.nrReclaimed > 0) return sc.nrReclaimed;
    if (!sc.memcgFullWalk) {
      sc.priority = initialPriority;
      sc.memcgFullWalk = true;
      continue;
    }
    if (sc.skippedDeactivate) {
      sc.priority = initialPriority;
      sc.forceDeactivate = true;
      sc.skippedDeactivate = false;
      continue;
    }
    return 0;
  }
}

/**
 * mm/vmscan.c:prepare_scan_control() for the target's lruvec (hierarchical sizes; the root's are the node's): its
 * costs; which active lists may be deactivated (inactive_is_low — refault-driven deactivation is not modelled);
 * cache_trim_mode when inactive file is scannable at this priority and not being deactivated; and, for global
 * reclaim, file_is_tiny when file + free pages are within the high watermark, anon is not being deactivated and
 * inactive anon is scannable at this priority.
 */
function prepareScanControl(host: ReclaimHost, sc: ScanControl): void {
  const root = sc.target;
  const cost = host.lruvecCost(root ?? host.rootMemcg);
  sc.anonCost = cost.anon;
  sc.fileCost = cost.file;
  const ia = subtreeSize(host, root, 'inactive_anon');
  const aa = subtreeSize(host, root, 'active_anon');
  const inf = subtreeSize(host, root, 'inactive_file');
  const af = subtreeSize(host, root, 'active_file');
  if (!sc.forceDeactivate) {
    sc.mayDeactivateAnon = inactiveIsLow(ia, aa).low;
    sc.mayDeactivateFile = inactiveIsLow(inf, af).low;
  } else {
    sc.mayDeactivateAnon = true;
    sc.mayDeactivateFile = true;
  }
  sc.cacheTrimMode = Math.floor(inf / 2 ** sc.priority) > 0 && !sc.mayDeactivateFile;
  if (!sc.target) {
    const file = host.lru.inactive_file.size + host.lru.active_file.size;
    sc.fileIsTiny = file + host.freePages() <= host.highWmark() && !sc.mayDeactivateAnon && Math.floor(host.lru.inactive_anon.size / 2 ** sc.priority) > 0;
  }
}

/**
 * mm/vmscan.c:shrink_node() → shrink_node_memcgs(): prepare the scan control, then shrink the lruvec of every memcg
 * of the target subtree in pre-order; a partial walk (the first pass) stops as soon as nr_to_reclaim is met.
 * (Slab shrinking, vmpressure, throttling and compaction do not apply to the model.)
 */
function shrinkNode(host: ReclaimHost, sc: ScanControl): void {
  prepareScanControl(host, sc);
  const top = sc.target ?? host.rootMemcg;
  for (const memcg of top.subtree()) {
    shrinkLruvec(host, memcg, sc);
    if (!sc.memcgFullWalk && sc.nrReclaimed >= sc.nrToReclaim) break;
  }
}

/**
 * mm/vmscan.c:get_scan_count() for one memcg's lruvec. The balance, in the kernel's order: no usable swap
 * (!may_swap, or no free swap / memcg swap room) → file only; memcg reclaim at swappiness 0 → file only; priority
 * 0 with swappiness > 0 → both, by size; file_is_tiny → anon only; cache_trim_mode → file only; otherwise
 * SCAN_FRACT. Each list's target is its (local) size >> priority, times fraction / denominator for SCAN_FRACT.
 */
function getScanCount(host: ReclaimHost, memcg: Memcg, sc: ScanControl): Record<LruName, number> {
  const swappiness = memcg.effectiveSwappiness(host.vmSwappiness());
  // can_reclaim_anon_pages(memcg): mem_cgroup_get_nr_swap_pages() > 0 (free slots, capped by v2 swap.max room)
  const canReclaimAnon = Math.min(host.swapFreePages(), memcg.swapRoom()) > 0;
  type Balance = 'equal' | 'fract' | 'anon' | 'file';
  let balance: Balance;
  let fraction = { anon: 0, file: 0 };
  let denominator = 0;
  if (!sc.maySwap || !canReclaimAnon) balance = 'file';
  else if (sc.target && swappiness === 0) balance = 'file';
  else if (sc.priority === 0 && swappiness !== 0) balance = 'equal';
  else if (sc.fileIsTiny) balance = 'anon';
  else if (sc.cacheTrimMode) balance = 'file';
  else {
    balance = 'fract';
    const { ap, fp } = pressureBalance(swappiness, sc.anonCost, sc.fileCost);
    fraction = { anon: ap, file: fp };
    denominator = ap + fp;
  }
  const nr = {} as Record<LruName, number>;
  for (const lru of EVICTABLE_LRUS) {
    const file = isFileLru(lru);
    let scan = Math.floor(localSize(host, memcg, lru) / 2 ** sc.priority);
    if (balance === 'fract') scan = Math.floor((scan * (file ? fraction.file : fraction.anon)) / denominator);
    else if ((balance === 'file' && !file) || (balance === 'anon' && file)) scan = 0;
    nr[lru] = scan;
  }
  return nr;
}

/**
 * mm/vmscan.c:shrink_lruvec(). The four targets are worked off round-robin (inactive anon, active anon, inactive
 * file, active file), at most SWAP_CLUSTER_MAX from each per round, while inactive anon or either file list has
 * some left. Once this lruvec has reclaimed nr_to_reclaim: global direct reclaim at DEF_PRIORITY keeps going
 * (proportional_reclaim); otherwise, if either type has nothing left to scan, it stops; else the type with less
 * left stops and the other's remaining target is cut to the share of its original target that the stopped type
 * had not yet scanned (one nudge toward the planned proportion). Afterwards the active anon list is aged when swap
 * exists and its inactive list is low.
 */
function shrinkLruvec(host: ReclaimHost, memcg: Memcg, sc: ScanControl): void {
  const nr = getScanCount(host, memcg, sc);
  const targets = { ...nr };
  const proportionalReclaim = !sc.target && sc.priority === DEF_PRIORITY;
  let nrReclaimed = 0;
  while (nr.inactive_anon || nr.active_file || nr.inactive_file) {
    for (const lru of EVICTABLE_LRUS) {
      if (nr[lru]) {
        const n = Math.min(nr[lru], SWAP_CLUSTER_MAX);
        nr[lru] -= n;
        nrReclaimed += shrinkList(host, lru, n, memcg, sc);
      }
    }
    if (nrReclaimed < sc.nrToReclaim || proportionalReclaim) continue;
    const nrFile = nr.inactive_file + nr.active_file;
    const nrAnon = nr.inactive_anon + nr.active_anon;
    if (!nrFile || !nrAnon) break;
    let other: 'anon' | 'file';
    let percentage: number;
    if (nrFile > nrAnon) {
      percentage = Math.floor((nrAnon * 100) / (targets.inactive_anon + targets.active_anon + 1));
      nr.inactive_anon = 0;
      nr.active_anon = 0;
      other = 'file';
    } else {
      percentage = Math.floor((nrFile * 100) / (targets.inactive_file + targets.active_file + 1));
      nr.inactive_file = 0;
      nr.active_file = 0;
      other = 'anon';
    }
    for (const lru of [lruOf(other === 'file', false), lruOf(other === 'file', true)]) {
      const scanned = targets[lru] - nr[lru];
      nr[lru] = Math.floor((targets[lru] * (100 - percentage)) / 100);
      nr[lru] -= Math.min(nr[lru], scanned);
    }
  }
  sc.nrReclaimed += nrReclaimed;
  // can_age_anon_pages(): aging anon is worthwhile when swap exists (total_swap_pages, even if full)
  if (host.totalSwapPages > 0) {
    const low = inactiveIsLow(subtreeSize(host, memcg, 'inactive_anon'), subtreeSize(host, memcg, 'active_anon')).low;
    if (low) shrinkActiveList(host, SWAP_CLUSTER_MAX, memcg, 'active_anon', sc);
  }
}

/** mm/vmscan.c:shrink_list(): an active list is only aged when it may be deactivated (else that is noted). */
function shrinkList(host: ReclaimHost, lru: LruName, n: number, memcg: Memcg, sc: ScanControl): number {
  if (isActiveLru(lru)) {
    if (isFileLru(lru) ? sc.mayDeactivateFile : sc.mayDeactivateAnon) shrinkActiveList(host, n, memcg, lru, sc);
    else sc.skippedDeactivate = true;
    return 0;
  }
  return shrinkInactiveList(host, n, memcg, lru, sc);
}

/** mm/vmscan.c:isolate_lru_folios(): up to `n` folios of `memcg` from the tail of `lru`, oldest first. */
function isolate(host: ReclaimHost, n: number, memcg: Memcg, lru: LruName): Folio[] {
  const out: Folio[] = [];
  if (n <= 0) return out;
  for (const f of host.lru[lru]) {
    if (f.memcg !== memcg) continue;
    out.push(f);
    if (out.length >= n) break;
  }
  return out;
}

/**
 * mm/vmscan.c:shrink_active_list(): `n` pages from the tail of an active list (pgrefill, not counted globally for
 * memcg reclaim); each one's young PTE bits are read and cleared (folio_referenced) and — executable file pages
 * aside, which the model has none of — it moves to the head of the inactive list with PG_workingset set, keeping
 * PG_referenced (pgdeactivate).
 */
function shrinkActiveList(host: ReclaimHost, n: number, memcg: Memcg, lru: LruName, sc: ScanControl): void {
  const taken = isolate(host, n, memcg, lru);
  if (!sc.target) host.count('pgrefill', taken.length);
  const inactive = lruOf(isFileLru(lru), false);
  let deactivated = 0;
  for (const f of taken) {
    host.folioReferenced(f, sc.target);
    f.workingset = true;
    lruMove(host, f, inactive);
    deactivated++;
  }
  host.count('pgdeactivate', deactivated);
}

type FolioRef = 'activate' | 'keep' | 'reclaim' | 'reclaim_clean';

/**
 * mm/vmscan.c:folio_check_references(): a page with young PTEs gets PG_referenced and is activated when it was
 * referenced before or is young in more than one mapping, kept (rotated) otherwise — a mapped page needs two looks
 * to be activated. A page without young PTEs is reclaimed; a page-cache page that had PG_referenced only if clean.
 */
function folioCheckReferences(host: ReclaimHost, f: Folio, sc: ScanControl): FolioRef {
  const referencedPtes = host.folioReferenced(f, sc.target);
  const referencedFolio = f.referenced;
  f.referenced = false;
  if (referencedPtes > 0) {
    f.referenced = true;
    if (referencedFolio || referencedPtes > 1) return 'activate';
    return 'keep';
  }
  if (referencedFolio && folioIsFileLru(f)) return 'reclaim_clean';
  return 'reclaim';
}

interface ReclaimStat {
  nrPageout: number;
  nrActivate: number;
}

/**
 * mm/vmscan.c:shrink_inactive_list(): isolate `n` pages from the tail of an inactive list (pgscan_anon/file, and
 * pgscan_direct for global reclaim), run shrink_folio_list on them, put the survivors back (activated ones on the
 * active list), count pgsteal the same way, and note the cost: the pages written and those not reclaimed.
 */
function shrinkInactiveList(host: ReclaimHost, n: number, memcg: Memcg, lru: LruName, sc: ScanControl): number {
  const file = isFileLru(lru);
  const taken = isolate(host, n, memcg, lru);
  const nrScanned = taken.length;
  if (!sc.target) host.count('pgscan_direct', nrScanned);
  host.count(file ? 'pgscan_file' : 'pgscan_anon', nrScanned);
  if (nrScanned === 0) return 0;
  const stat: ReclaimStat = { nrPageout: 0, nrActivate: 0 };
  let nrReclaimed = 0;
  for (const f of taken) {
    if (!onLru(host, f)) continue;
    sc.nrScanned++;
    if (shrinkFolio(host, f, sc, stat)) nrReclaimed++;
  }
  host.count('pgactivate', stat.nrActivate);
  if (!sc.target) host.count('pgsteal_direct', nrReclaimed);
  host.count(file ? 'pgsteal_file' : 'pgsteal_anon', nrReclaimed);
  lruNoteCost(host, memcg, file, stat.nrPageout, nrScanned - nrReclaimed);
  return nrReclaimed;
}

/**
 * mm/vmscan.c:shrink_folio_list() for one isolated inactive folio. Returns true when it was freed; otherwise it is
 * back on a list: the head of its inactive list (kept) or of its active list (activated, counted).
 *
 *   references: activate / keep as folio_check_references says;
 *   anon not in the swap cache: add_to_swap (no slot or swap charge → activate);
 *   mapped: try_to_unmap (anon PTEs become swap entries, page-cache PTEs are cleared);
 *   dirty page cache: direct reclaim leaves it to the flusher and activates it (PG_reclaim);
 *   a page a fault holds (pinned) is kept from here on: neither written nor freed;
 *   anon written to swap (pswpout) and shmem through shmem_writeout (no slot → activate), then freed;
 *   clean page cache, or an unmapped clean swap-cache page: removed from its cache and freed.
 */
function shrinkFolio(host: ReclaimHost, f: Folio, sc: ScanControl, stat: ReclaimStat): boolean {
  const refs = folioCheckReferences(host, f, sc);
  if (refs === 'activate') return activate(host, f, stat);
  if (refs === 'keep') return keep(host, f);
  const wasMapped = f.rmap.length > 0;
  let dirty: boolean;
  if (f.swap) {
    // in the swap cache: clean once written — except that a mapped swap-cache anon page is written again (no PTE
    // dirty bits: docs/decisions/0004, shared inaccuracy); unmapping it below dirties it until that write
    if (f.kind === 'anon' && wasMapped) f.swapUnwritten = true;
    dirty = f.swapUnwritten;
  } else if (f.kind === 'anon') {
    if (!host.addToSwap(f)) return activate(host, f, stat);
    // add_to_swap() marks the folio dirty
    f.swapUnwritten = true;
    dirty = true;
  } else {
    // shmem pages count as dirty from their allocation (no PTE dirty bits)
    dirty = f.kind === 'shmem' || f.dirty;
  }
  if (wasMapped) host.tryToUnmap(f);
  if (dirty) {
    // only kswapd writes page cache from reclaim
    if (folioIsFileLru(f)) return activate(host, f, stat);
    // pageout(): is_page_cache_freeable() fails on a page with an extra reference (PAGE_KEEP)
    if (f.pinned) return keep(host, f);
    if (f.kind === 'shmem') {
      if (!host.shmemWriteout(f)) return activate(host, f, stat);
    } else {
      host.swapWritepage(f);
    }
    stat.nrPageout++;
  }
  // __remove_mapping(): the extra reference of a pinned page fails the refcount freeze
  if (f.pinned) return keep(host, f);
  host.removeMapping(f);
  return true;
}

/** activate_locked: a swap-cache folio gives its slot back when swap is full; then to the active list head. */
function activate(host: ReclaimHost, f: Folio, stat: ReclaimStat): false {
  if (f.swap && host.memSwapFull(f.memcg)) host.folioFreeSwap(f);
  lruMove(host, f, lruOf(folioIsFileLru(f), true));
  stat.nrActivate++;
  return false;
}

/** keep: back to the head of its inactive list. */
function keep(host: ReclaimHost, f: Folio): false {
  lruMove(host, f, f.lru);
  return false;
}

/**
 * mm/vmscan.c:zone_reclaimable_pages(): the file LRU pages, plus the anon LRU pages when swap has a free slot; when
 * that is 0 the zone's free pages count instead (so a zone with free pages is not given up).
 */
export function zoneReclaimablePages(host: ReclaimHost): number {
  let nr = host.lru.inactive_file.size + host.lru.active_file.size;
  if (host.swapFreePages() > 0) nr += host.lru.inactive_anon.size + host.lru.active_anon.size;
  if (nr === 0) nr = host.freePages();
  return nr;
}
