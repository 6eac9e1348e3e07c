/**
 * The state counters of /proc/vmstat (mm/vmstat.c) and of memory.stat (mm/memcontrol.c:memcg_stat_format), derived
 * from the model: the LRU lists, the swap cache and the swap entries. The event counters are `k.stat`.
 */
import type { Memcg, MemcgStats } from './memcontrol.js';
import type { Kernel } from './state.js';
import type { Folio, LruName, SwapEntry, Task } from './types.js';

export function nrFilePages(k: Kernel): number {
  let n = 0;
  for (const l of ['inactive_file', 'active_file'] as const) n += k.lru.lists[l].size;
  for (const l of ['inactive_anon', 'active_anon'] as const) for (const f of k.lru.lists[l]) if (f.kind === 'shmem' || f.swap) n++;
  return n;
}

/** /proc/vmstat: event counters plus the state counters derived from the model. */
export function vmstat(k: Kernel): Record<string, number> {
  let shmem = 0;
  let swapcached = 0;
  let dirty = 0;
  let anonListFilePages = 0;
  for (const l of Object.values(k.lru.lists)) {
    for (const f of l) {
      // mm/shmem.c:shmem_delete_from_page_cache(): a shmem folio moved to the swap cache no longer counts in NR_SHMEM
      if (f.kind === 'shmem' && !f.swap) shmem++;
      if (f.swap) swapcached++;
      if (f.dirty && f.kind === 'file') dirty++;
      if (f.kind !== 'file' && (f.kind === 'shmem' || f.swap)) anonListFilePages++;
    }
  }
  return {
    ...k.stat.events,
    nr_free_pages: k.freePages,
    nr_zspages: 0,
    nr_inactive_anon: k.lru.lists.inactive_anon.size,
    nr_active_anon: k.lru.lists.active_anon.size,
    nr_inactive_file: k.lru.lists.inactive_file.size,
    nr_active_file: k.lru.lists.active_file.size,
    nr_unevictable: 0,
    nr_anon_pages: k.lru.nrAnonMapped,
    nr_mapped: k.lru.nrFileMapped,
    // NR_FILE_PAGES: page cache, shmem and swap cache (nrFilePages())
    nr_file_pages: k.lru.lists.inactive_file.size + k.lru.lists.active_file.size + anonListFilePages,
    nr_dirty: dirty,
    nr_writeback: 0,
    nr_shmem: shmem,
    nr_swapcached: swapcached,
    nr_slab_reclaimable: 0,
    nr_slab_unreclaimable: 0,
    nr_page_table_pages: 0,
  };
}

export function memcgStats(k: Kernel, m: Memcg): MemcgStats {
  const s: MemcgStats = { anon: 0, file: 0, shmem: 0, file_mapped: 0, file_dirty: 0, swapcached: 0, swap: 0, inactive_anon: 0, active_anon: 0, inactive_file: 0, active_file: 0, unevictable: 0 };
  for (const [name, l] of Object.entries(k.lru.lists) as [LruName, Set<Folio>][]) {
    for (const f of l) {
      if (f.memcg !== m) continue;
      s[name]++;
      if (f.kind === 'anon') s.anon++;
      else s.file++;
      if (f.kind === 'shmem' && !f.swap) s.shmem++;
      if (f.kind !== 'anon' && f.rmap.length > 0) s.file_mapped++;
      if (f.kind === 'file' && f.dirty) s.file_dirty++;
      if (f.swap) s.swapcached++;
    }
  }
  for (const e of allSwapEntries(k)) if (e.memcg === m && !e.folio) s.swap++;
  return s;
}

export function* allSwapEntries(k: Kernel): Generator<SwapEntry> {
  const seen = new Set<SwapEntry>();
  for (const t of k.tasks.live.values()) {
    if (!t.mm) continue;
    for (const r of t.mm.regions.values()) for (const p of r.ptes.values()) if (p.t === 'swap' && !seen.has(p.entry)) seen.add(p.entry);
  }
  for (const f of k.files.named.values()) for (const e of f.swapped.values()) seen.add(e);
  for (const f of k.files.anonShmem) for (const e of f.swapped.values()) seen.add(e);
  yield* seen;
}

/** PGMAJFAULT, in the vmstat and in the faulting mm's memcg (count_memcg_event_mm). */
export function countMajfault(k: Kernel, task: Task): void {
  k.stat.count('pgmajfault');
  task.memcg.vmEvents.pgmajfault++;
}
