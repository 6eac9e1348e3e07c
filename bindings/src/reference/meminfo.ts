/** /proc/meminfo (fs/proc/meminfo.c:meminfo_proc_show, mm/show_mem.c:si_mem_available), in kB. */
import { totalreservePages, watermarks } from './page_alloc.js';
import type { Kernel } from './state.js';
import { commitLimit } from './util.js';
import { vmstat } from './vmstat.js';

/** fs/proc/meminfo.c:meminfo_proc_show(): field values in kB. */
export function meminfo(k: Kernel, counters?: Record<string, number>): Record<string, number> {
  const v = counters ?? vmstat(k);
  const w = watermarks(k);
  const K = (p: number) => p * 4;
  // mm/show_mem.c:si_mem_available()
  let avail = v.nr_free_pages - totalreservePages(k.totalram, w);
  const pc = v.nr_active_file + v.nr_inactive_file;
  avail += pc - Math.min(Math.trunc(pc / 2), w.low);
  const available = Math.max(avail, 0);
  const hugePages = Math.floor(k.hugetlbTotal / 512);
  return {
    MemTotal: K(k.totalram),
    MemFree: K(v.nr_free_pages),
    MemAvailable: K(available),
    Buffers: 0,
    Cached: K(Math.max(v.nr_file_pages - v.nr_swapcached, 0)),
    SwapCached: K(v.nr_swapcached),
    Active: K(v.nr_active_anon + v.nr_active_file),
    Inactive: K(v.nr_inactive_anon + v.nr_inactive_file),
    'Active(anon)': K(v.nr_active_anon),
    'Inactive(anon)': K(v.nr_inactive_anon),
    'Active(file)': K(v.nr_active_file),
    'Inactive(file)': K(v.nr_inactive_file),
    Unevictable: 0,
    Mlocked: 0,
    SwapTotal: K(k.swap.total),
    SwapFree: K(k.swap.free),
    Dirty: K(v.nr_dirty),
    Writeback: 0,
    AnonPages: K(v.nr_anon_pages),
    Mapped: K(v.nr_mapped),
    Shmem: K(v.nr_shmem),
    KReclaimable: 0,
    Slab: 0,
    SReclaimable: 0,
    SUnreclaim: 0,
    KernelStack: 0,
    PageTables: 0,
    CommitLimit: K(commitLimit(k)),
    Committed_AS: K(k.commit.committedAs),
    HugePages_Total: hugePages,
    HugePages_Free: k.frames.hugeFree,
    HugePages_Rsvd: k.frames.hugeResv,
    Hugepagesize: 2048,
    Hugetlb: K(k.hugetlbTotal),
  };
}
