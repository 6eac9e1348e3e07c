/** read(2) and write(2) of files (fs/read_write.c → filemap_read / generic_perform_write, shmem_file_read_iter). */
import { addToPageCache, fileByName, filemapGet } from './filemap.js';
import { shmemGet } from './shmem.js';
import { type Kernel, liveTask } from './state.js';
import { type Folio, Killed, type OpResult } from './types.js';
import { folioMarkAccessed } from './vmscan.js';

/** read(2) of a file by a task: page cache filled in kernel context (no OOM wait; ENOMEM on failure). */
export function fileRead(k: Kernel, pid: number, name: string, first: number, count: number): OpResult {
  const t = liveTask(k, pid);
  const m = fileByName(k, name);
  const end = Math.min(first + count, m.size);
  for (let i = first; i < end; i++) {
    // mm/filemap.c:filemap_read() marks every folio it copies accessed (the first one only if the previous read
    // ended in it: each op reads through a fresh open, so never); mm/shmem.c:shmem_file_read_iter() marks a page
    // read from its start. A tmpfs hole has no page.
    let f: Folio | null = null;
    if (m.fs === 'disk') f = filemapGet(k, m, i, t, false).folio;
    else if (m.isShmem) f = shmemGet(k, m, i, t, false, false).folio;
    if (f) folioMarkAccessed(k.reclaim, f);
    // filemap_get_pages(): a fatal signal ends the read (the OOM killer chose this task for this page)
    if (t.sigkill) throw new Killed();
  }
  return 'ok';
}

/** write(2): disk files get dirty page-cache pages; tmpfs pages are allocated and accounted one by one. */
export function fileWrite(k: Kernel, pid: number, name: string, first: number, count: number): OpResult {
  const t = liveTask(k, pid);
  const m = fileByName(k, name);
  if (m.fs === 'hugetlbfs') return 'EINVAL';
  for (let i = first; i < first + count; i++) {
    // a disk file's write_begin takes the page with FGP_WRITEBEGIN (no FGP_ACCESSED): no reference; tmpfs
    // (shmem_get_folio, SGP_WRITE) marks a cached or swapped-in page accessed and a new one referenced
    let f: Folio | null;
    if (m.fs === 'disk') {
      f = m.cache.get(i) ?? addToPageCache(k, m, i, t.memcg, false);
    } else {
      const had = m.cache.has(i) || m.swapped.has(i);
      f = shmemGet(k, m, i, t, false).folio;
      if (f && had) folioMarkAccessed(k.reclaim, f);
      else if (f) f.referenced = true;
    }
    if (f) f.dirty = true;
    if (i + 1 > m.size) m.size = i + 1;
    // generic_perform_write(): fatal_signal_pending ends the write before the next page
    if (t.sigkill) throw new Killed();
  }
  return 'ok';
}
