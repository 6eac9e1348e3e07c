/**
 * The page cache of disk files (mm/filemap.c: filemap_fault/filemap_read lookups, filemap_add_folio,
 * filemap_remove_folio) and file creation.
 */
import type { Memcg } from './memcontrol.js';
import { allocFolio, freeFolio } from './page_alloc.js';
import { unmapFolio } from './rmap.js';
import type { Kernel } from './state.js';
import { Abort, type Folio, type FolioKind, InvalidOp, Mapping, type OpResult, type Task } from './types.js';
import { unacct } from './util.js';
import { countMajfault } from './vmstat.js';

/** Remove a page-cache/shmem folio from its mapping and free it, unmapping it everywhere first. */
export function dropFromMapping(k: Kernel, f: Folio): void {
  for (const ref of [...f.rmap]) unmapFolio(k, ref.region, ref.page, f);
  f.mapping?.cache.delete(f.index);
  if (f.mapping?.perBlockAcct) {
    f.mapping.acctBlocks--;
    unacct(k, 1);
  }
  freeFolio(k, f);
}

export function fileCreate(k: Kernel, name: string, fs: 'disk' | 'tmpfs' | 'hugetlbfs', pages = 0, cached = false): OpResult {
  if (k.files.named.has(name)) throw new InvalidOp(`file ${name} exists`);
  const m = new Mapping(name, fs, pages, fs === 'tmpfs');
  k.files.named.set(name, m);
  if (fs === 'disk' && cached) {
    try {
      // "already in the page cache": as if read(2) once — inactive, PG_referenced (filemap_read marks each page)
      for (let i = 0; i < pages; i++) addToPageCache(k, m, i, k.cgroups.root, false).referenced = true;
    } catch (e) {
      if (e instanceof Abort) return 'ENOMEM';
      throw e;
    }
  }
  return 'ok';
}

export function addToPageCache(k: Kernel, m: Mapping, index: number, memcg: Memcg, userFault: boolean, kind: FolioKind = 'file'): Folio {
  const f = allocFolio(k, kind, memcg, userFault);
  f.mapping = m;
  f.index = index;
  m.cache.set(index, f);
  return f;
}

export function fileByName(k: Kernel, name: string): Mapping {
  const m = k.files.named.get(name);
  if (!m) throw new InvalidOp(`file ${name} does not exist`);
  return m;
}

/**
 * Find or create the page-cache folio of a disk file (mm/filemap.c:filemap_fault / filemap_read): a hit is
 * minor; a miss reads the page (IO: major for a fault), charged to the reader's memcg.
 */
export function filemapGet(k: Kernel, m: Mapping, index: number, task: Task, userFault: boolean): { folio: Folio; io: boolean } {
  const hit = m.cache.get(index);
  if (hit) return { folio: hit, io: false };
  // filemap_fault(): "No page in the page cache at all" — PGMAJFAULT before the page is allocated
  if (userFault) countMajfault(k, task);
  const folio = addToPageCache(k, m, index, task.memcg, userFault);
  k.stat.count('pgpgin', 4);
  task.memcg.vmEvents.pgpgin++;
  return { folio, io: true };
}
