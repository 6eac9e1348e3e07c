/**
 * shmem and tmpfs (mm/shmem.c): shmem_get_folio_gfp with its per-block accounting (shmem_acct_blocks), swap-in,
 * shmem_writeout, and the death of a MAP_SHARED|MAP_ANONYMOUS object with its last mapping (shmem_evict_inode).
 */
import { addToPageCache, dropFromMapping } from './filemap.js';
import type { Kernel } from './state.js';
import { swapIn, swapWritepage } from './swap_state.js';
import { allocSwapEntry, putSwapEntry } from './swapfile.js';
import { type Folio, type Mapping, NoSpace, type Task } from './types.js';
import { unacct, vmEnough } from './util.js';
import { countMajfault } from './vmstat.js';

/** A VMA no longer maps `m`; the anonymous shmem object dies with its last mapping (shmem_evict_inode). */
export function putMapping(k: Kernel, m: Mapping): void {
  m.mappers--;
  if (m.fs !== 'shmem_anon' || m.mappers > 0) return;
  for (const f of [...m.cache.values()]) dropFromMapping(k, f);
  for (const [, e] of m.swapped) putSwapEntry(k, e);
  m.swapped.clear();
  unacct(k, m.acctSize + m.acctBlocks);
  m.acctSize = 0;
  m.acctBlocks = 0;
  k.files.anonShmem.delete(m);
}

/**
 * mm/shmem.c:shmem_writeout() for an unmapped shmem folio: a slot (no swap, no free slot or a refused v2 swap
 * charge: false, the folio stays), the mapping's entry becomes the swap entry (shmem_delete_from_page_cache), the
 * folio moves to the swap cache and is written.
 */
export function shmemWriteout(k: Kernel, f: Folio): boolean {
  const m = f.mapping;
  if (!m || k.swap.total === 0) return false;
  const e = allocSwapEntry(k, f.memcg);
  if (!e) return false;
  m.cache.delete(f.index);
  m.swapped.set(f.index, e);
  e.count++;
  f.swap = e;
  e.folio = f;
  swapWritepage(k, f);
  return true;
}

/**
 * Find or create a shmem folio (mm/shmem.c:shmem_get_folio_gfp): in the cache → minor; in swap → swap-in
 * (major unless still in the swap cache); a hole → a new page, charged to the memcg and, for VM_NORESERVE objects
 * (tmpfs files), to Committed_AS by shmem_acct_blocks (mode 2 failure: ENOSPC). `allocate` false (read(2) of a
 * hole): no page.
 */
export function shmemGet(k: Kernel, m: Mapping, index: number, task: Task, userFault: boolean, allocate = true): { folio: Folio | null; io: boolean } {
  const hit = m.cache.get(index);
  if (hit) return { folio: hit, io: false };
  const e = m.swapped.get(index);
  if (e) {
    // shmem_swapin_folio() with a fault_type: PGMAJFAULT when the page must be read, before it is allocated
    if (userFault && !e.folio) countMajfault(k, task);
    const { folio, io } = swapIn(k, e, task, userFault, 'shmem');
    m.swapped.delete(index);
    folio.mapping = m;
    folio.index = index;
    m.cache.set(index, folio);
    putSwapEntry(k, e);
    return { folio, io };
  }
  if (!allocate) return { folio: null, io: false };
  if (m.perBlockAcct) {
    if (!vmEnough(k, task, 1)) throw new NoSpace();
    m.acctBlocks++;
  }
  try {
    const f = addToPageCache(k, m, index, task.memcg, userFault, 'shmem');
    f.dirty = true;
    return { folio: f, io: false };
  } catch (err) {
    if (m.perBlockAcct) {
      m.acctBlocks--;
      unacct(k, 1);
    }
    throw err;
  }
}
