/**
 * The page-fault path and the zap of a PTE (mm/memory.c: handle_mm_fault, do_anonymous_page, do_cow_fault,
 * do_shared_fault, do_wp_page/wp_page_copy, do_swap_page, zap_pte_range). An entry that cannot complete throws
 * one of the Abort exceptions of types.ts; entry.ts turns it into the op's result.
 */
import { filemapGet } from './filemap.js';
import { block } from './memcontrol_v1.js';
import { allocFolio, freeFolio } from './page_alloc.js';
import { mapFolio, unmapFolio } from './rmap.js';
import { shmemGet } from './shmem.js';
import type { Kernel } from './state.js';
import { freeUnmappedSwapCache, swapIn } from './swap_state.js';
import { dropSwapEntryOfMapped, memSwapFull, putSwapEntry } from './swapfile.js';
import {
  type Access, Blocked, type CowKind, type FaultKind, type Folio, Killed, NoMem, NoSpace, type Region, SegFault,
  SigBus, type SwapEntry, type Task, type Vma,
} from './types.js';
import { folioMarkAccessed } from './vmscan.js';
import { countMajfault } from './vmstat.js';

/** zap_pte_range() for one page: anon pages die with their last mapping (unless swap cache keeps them). */
export function zapPte(k: Kernel, r: Region, page: number): void {
  const pte = r.ptes.get(page);
  if (!pte) return;
  if (pte.t === 'zero') {
    r.ptes.delete(page);
  } else if (pte.t === 'swap') {
    r.ptes.delete(page);
    r.mm.swapents--;
    putSwapEntry(k, pte.entry);
  } else {
    const f = pte.folio;
    // mm/memory.c:zap_present_folio_ptes(): a young PTE of a page-cache (file or shmem) page passes its
    // reference on to the folio (folio_mark_accessed)
    if (f.kind !== 'anon' && pte.young) folioMarkAccessed(k.reclaim, f);
    const last = unmapFolio(k, r, page, f);
    if (last && f.kind === 'anon') {
      if (!f.swap) freeFolio(k, f);
      // mm/swap_state.c:free_swap_cache() (via free_pages_and_swap_cache after the zap): an unmapped swap-cache
      // folio whose slot no swap PTE references any more gives the slot back and is freed.
      else if (f.swap.count === 0) freeUnmappedSwapCache(k, f);
    }
  }
}

/**
 * One access by `task` (mm/memory.c:handle_mm_fault and friends). Returns the fault taken and what do_wp_page
 * did. Accounting (mm_account_fault): pgfault for every fault that is not retried, failed ones included;
 * min_flt/maj_flt for completed ones (major when IO was needed). pgmajfault is counted where the IO is decided,
 * so also for a fault that fails afterwards: filemap_fault and shmem_swapin_folio before the page is allocated,
 * do_swap_page once it is read.
 */
export function access(k: Kernel, task: Task, a: Access): { fault: FaultKind; cow: CowKind } {
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
    ({ io, cow } = handleFault(k, task, r, v, a));
  } catch (e) {
    if (e instanceof Killed || e instanceof Blocked || e instanceof NoMem || e instanceof NoSpace || e instanceof SigBus) {
      k.stat.count('pgfault');
      task.memcg.vmEvents.pgfault++;
    }
    throw e;
  }
  k.stat.count('pgfault');
  task.memcg.vmEvents.pgfault++;
  if (io) {
    task.majFlt++;
    k.stat.faultsMajor++;
  } else {
    task.minFlt++;
    k.stat.faultsMinor++;
  }
  if (cow === 'retry') {
    // the fault returned without completing the access (wp_page_copy found the PTE changed): the access runs
    // again — unless the task got SIGKILL meanwhile, which it dies of as the fault returns (runAccesses)
    if (!task.sigkill) return access(k, task, a);
    cow = 'none';
  }
  return { fault: io ? 'major' : 'minor', cow };
}

export function handleFault(k: Kernel, task: Task, r: Region, v: Vma, a: Access): { io: boolean; cow: CowKind | 'retry' } {
  const page = a.page;
  const pte = r.ptes.get(page);
  if (v.flags.hugetlb) {
    // hugetlb_fault(): the huge page comes from the reservation; not user RSS in this model.
    r.ptes.set(page, { t: 'zero' });
    return { io: false, cow: 'none' };
  }
  if (pte?.t === 'swap') return doSwapPage(k, task, r, page, pte.entry, a.write);
  if (pte?.t === 'zero' || pte?.t === 'folio') return { io: false, cow: doWpPage(k, task, r, v, page) };
  // no PTE yet
  if (v.isAnonymous) {
    // mm/memory.c:do_anonymous_page()
    if (!a.write) {
      r.ptes.set(page, { t: 'zero' });
      return { io: false, cow: 'none' };
    }
    const f = allocFolio(k, 'anon', task.memcg, true);
    v.anonVma = true;
    f.dirty = true;
    mapFolio(k, r, page, f, true);
    return { io: false, cow: 'none' };
  }
  const m = v.mapping!;
  const index = page;
  // filemap_fault / shmem_get_folio: past EOF → VM_FAULT_SIGBUS
  if (index >= m.size) throw new SigBus();
  let got: { folio: Folio | null; io: boolean };
  try {
    got = m.isShmem ? shmemGet(k, m, index, task, true) : filemapGet(k, m, index, task, true);
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
    mapFolio(k, r, page, folio, v.flags.write && (a.write || m.isShmem));
    if (a.write) {
      folio.dirty = true;
      (r.ptes.get(page) as { dirty?: boolean }).dirty = true;
    }
    return { io: got.io, cow: 'none' };
  }
  if (!a.write) {
    mapFolio(k, r, page, folio, false);
    return { io: got.io, cow: 'none' };
  }
  // do_cow_fault(): a private copy of the file page
  const copy = allocFolio(k, 'anon', task.memcg, true);
  v.anonVma = true;
  copy.dirty = true;
  mapFolio(k, r, page, copy, true);
  return { io: got.io, cow: 'none' };
}

/**
 * mm/memory.c:do_wp_page(): a write to a write-protected PTE. Shared mappings just become writable. The zero page
 * is always copied. An anon page mapped only here is reused (wp_can_reuse_anon_folio); otherwise
 * (COW-shared anon, or a file page in a private mapping) wp_page_copy() allocates and charges a new page.
 */
export function doWpPage(k: Kernel, task: Task, r: Region, v: Vma, page: number): CowKind | 'retry' {
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
    if (f.swap) dropSwapEntryOfMapped(k, f);
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
    copy = allocFolio(k, 'anon', task.memcg, true);
  } finally {
    if (held) held.pinned = false;
  }
  if (r.ptes.get(page) !== pte) {
    freeFolio(k, copy);
    return 'retry';
  }
  v.anonVma = true;
  copy.dirty = true;
  if (pte.t === 'folio') {
    const old = pte.folio;
    const last = unmapFolio(k, r, page, old);
    if (last && old.kind === 'anon' && !old.swap) freeFolio(k, old);
    else if (last && old.kind === 'anon' && old.swap!.count === 0) freeUnmappedSwapCache(k, old);
  } else {
    r.ptes.delete(page);
  }
  mapFolio(k, r, page, copy, true);
  return 'copy';
}

/**
 * mm/memory.c:do_swap_page(): the page comes from the swap cache (minor) or the device (major, and it stays in
 * the swap cache). The PTE's reference to the slot is dropped (swap_free_nr); the slot itself is freed only when
 * should_try_to_free_swap() says so: swap (or the memcg's swap) is more than half full, or a write fault maps the
 * page exclusively — and only if no other swap PTE still references it (folio_free_swap → folio_swapped()).
 * Otherwise the folio stays in the swap cache (SwapCached). A write to a page still shared with other PTEs is
 * then COW-copied within the same fault.
 */
export function doSwapPage(k: Kernel, task: Task, r: Region, page: number, e: SwapEntry, write: boolean): { io: boolean; cow: CowKind | 'retry' } {
  let folio = e.folio;
  let io = false;
  if (!folio) {
    ({ folio, io } = swapIn(k, e, task, true, 'anon'));
    // "Had to read the page from swap area: Major fault" — counted once the page is read, whatever follows
    countMajfault(k, task);
    folio.swap = e;
    e.folio = folio;
  }
  r.ptes.delete(page);
  r.mm.swapents--;
  e.count--;
  const exclusive = e.count === 0 && folio.rmap.length === 0;
  mapFolio(k, r, page, folio, false);
  if (e.count === 0 && (memSwapFull(k, e.memcg) || (write && exclusive))) {
    k.swap.used--;
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
  return { io, cow: doWpPage(k, task, r, r.vmaAt(page)!, page) };
}

/**
 * Run accesses for `task` in order. Returns the last access's fault/cow, or throws the Abort that stopped it;
 * a Blocked task keeps the rest (the faulting access first) in `pending`.
 */
export function runAccesses(k: Kernel, task: Task, list: Access[]): { fault: FaultKind; cow: CowKind } {
  let last: { fault: FaultKind; cow: CowKind } = { fault: 'none', cow: 'none' };
  for (let i = 0; i < list.length; i++) {
    try {
      last = access(k, task, list[i]);
      // §6.2 rule 2: a task that got SIGKILL during this fault (an OOM victim that then allocated from the
      // ALLOC_OOM reserve, __alloc_pages_slowpath) dies when the fault returns; the rest of its op is abandoned.
      if (task.sigkill) throw new Killed();
    } catch (e) {
      if (e instanceof Blocked) {
        block(task, e.memcg, list.slice(i));
      }
      throw e;
    }
  }
  return last;
}
