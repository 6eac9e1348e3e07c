//! mm/filemap.c and mm/shmem.c: files and their page cache.
//!
//! A file's page cache is a sparse index by page ([`page_cache::PageCache`], the kernel's `i_pages` xarray; 0: not
//! cached, otherwise frame + 1): lookups on the fault path are two array reads without hashing, and an empty file
//! of any size allocates no slots. Kinds: `Disk` (pages exist on disk, clean when read, dirty when written),
//! `Tmpfs` (shmem: pages exist only in memory, charged to Committed_AS per page as allocated,
//! mm/shmem.c:`shmem_acct_blocks`), `ShmemAnon` (the object behind MAP_SHARED|MAP_ANONYMOUS, charged for its whole
//! size at setup unless MAP_NORESERVE, mm/shmem.c:`shmem_zero_setup`/`shmem_acct_size`), `Hugetlbfs`.

mod engine;
pub mod page_cache;

use page_cache::PageCache;

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    Disk,
    Tmpfs,
    ShmemAnon,
    Hugetlbfs,
}

impl FileKind {
    /// Pages of this file are swap-backed shmem pages (NR_SHMEM, anon LRU).
    pub fn is_shmem(self) -> bool {
        matches!(self, FileKind::Tmpfs | FileKind::ShmemAnon)
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct File {
    pub name: String,
    pub kind: FileKind,
    /// Size in pages (i_size rounded up).
    pub size: u64,
    /// Page cache: 0 none, else frame + 1.
    pub cache: PageCache,
    /// Pages in the page cache.
    pub nr_cached: u64,
    /// shmem: pages charged one by one to Committed_AS (`shmem_acct_blocks`, VM_NORESERVE objects).
    pub acct_blocks: u64,
    /// ShmemAnon: pages charged for the whole object at setup (`shmem_acct_size`).
    pub acct_size: u64,
    /// shmem objects created with VM_NORESERVE account per page.
    pub noreserve: bool,
    /// VMAs mapping the file (an anonymous shmem object dies with its last mapping).
    pub vma_refs: u32,
    /// shmem: page index -> swap slot of the pages that live in swap (mm/shmem.c keeps the swap entry in the
    /// mapping's xarray in place of the folio; the mapping holds one reference to the slot, `swap_shmem_alloc`).
    pub swapped: std::collections::BTreeMap<u64, u32>,
    /// The file still exists (anonymous shmem objects are removed when unmapped).
    pub live: bool,
}

impl File {
    pub fn new(name: &str, kind: FileKind, size: u64) -> Self {
        File { name: name.to_string(), kind, size, cache: PageCache::new(size), nr_cached: 0, acct_blocks: 0, acct_size: 0, noreserve: kind == FileKind::Tmpfs, vma_refs: 0, swapped: Default::default(), live: true }
    }

    #[inline]
    pub fn cached_frame(&self, idx: u64) -> Option<u32> {
        match self.cache.get(idx) {
            0 => None,
            v => Some(v - 1),
        }
    }

    /// Grow to `pages` (write(2) past EOF).
    pub fn extend_to(&mut self, pages: u64) {
        if pages > self.size {
            self.size = pages;
        }
        self.reserve_cache(pages);
    }

    /// Room in the page-cache index for pages below `pages` (the size is not changed).
    pub fn reserve_cache(&mut self, pages: u64) {
        self.cache.resize(pages);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::Errno;
    use crate::kernel::Kernel;
    #[test]
    fn cache_lookup_and_extend() {
        let mut f = File::new("f", FileKind::Disk, 2);
        assert_eq!(f.cached_frame(0), None);
        f.cache.set(1, 8);
        assert_eq!(f.cached_frame(1), Some(7));
        assert_eq!(f.cached_frame(5), None, "beyond EOF");
        f.extend_to(6);
        assert_eq!((f.size, f.cache.len()), (6, 6));
        assert!(FileKind::Tmpfs.is_shmem() && !FileKind::Disk.is_shmem());
        assert!(File::new("t", FileKind::Tmpfs, 0).noreserve);
    }

    #[test]
    fn a_refused_tmpfs_write_does_not_extend_the_file() {
        use crate::kernel::MachineConfig;
        let mut k = Kernel::new(MachineConfig { totalram_pages: 256, model_page_tables: false, ..Default::default() }).unwrap();
        k.spawn(1, "a").unwrap();
        let fid = k.file_create("t", FileKind::Tmpfs, 0, false).unwrap().unwrap();
        // mode 2, CommitLimit 11 pages less the 8-page admin reserve: shmem_acct_blocks admits 2 pages, the third
        // write fails
        k.sysctl_write("vm.overcommit_memory", 2).unwrap().unwrap();
        k.sysctl_write("vm.overcommit_kbytes", 44).unwrap().unwrap();
        assert_eq!(k.file_write(1, fid, 0, 5).unwrap(), Err(Errno::ENOSPC));
        assert_eq!(k.files[fid as usize].size, 2, "i_size grows only with what was written (shmem_write_end)");
        // nothing written at all: the size stays
        let fid2 = k.file_create("u", FileKind::Tmpfs, 0, false).unwrap().unwrap();
        assert_eq!(k.file_write(1, fid2, 3, 1).unwrap(), Err(Errno::ENOSPC));
        assert_eq!(k.files[fid2 as usize].size, 0);
    }

    #[test]
    fn a_major_file_fault_counts_pgmajfault_even_when_its_page_cannot_be_charged() {
        use crate::kernel::{MachineConfig, SpawnArgs};
        use crate::memory::{Access, TouchStop};
        use crate::mmap::{MapFlags, PROT_READ, PROT_RW};
        use crate::vmstat::Vmstat;
        let mut k = Kernel::new(MachineConfig { totalram_pages: 4096, model_page_tables: false, ..Default::default() }).unwrap();
        k.cgroup_create("/A").unwrap().unwrap();
        k.cgroup_write("/A", "memory.max", "40960").unwrap().unwrap();
        k.spawn_task(SpawnArgs { pid: 2, cgroup: "/A".into(), ..Default::default() }).unwrap();
        // the memcg is full of anon memory (no swap: nothing reclaimable)
        let v = k.mmap(2, 10, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        assert!(k.touch(2, v, 10, Access::Write).unwrap().stop.is_none());
        let fid = k.file_create("f", FileKind::Disk, 1, false).unwrap().unwrap();
        let w = k.mmap(2, 1, PROT_READ, MapFlags::default(), Some(fid)).unwrap().unwrap();
        let before = k.vmstat.get(Vmstat::pgmajfault);
        // filemap_fault counts PGMAJFAULT before it allocates; the charge then OOM-kills the task
        let o = k.touch(2, w, 1, Access::Read).unwrap();
        assert!(matches!(o.stop, Some(TouchStop::Killed { .. })), "{o:?}");
        assert_eq!(k.vmstat.get(Vmstat::pgmajfault) - before, 1);
        assert_eq!(k.stats.faults_major, 0, "the fault did not complete: no maj_flt");
    }
}

/// Why a page-cache page is wanted: the IO accounting differs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum CacheUse {
    /// A page fault: a miss on a disk file is a major fault (`pgmajfault`).
    Fault,
    /// read(2): a miss reads the page (pgpgin) without a fault.
    Read,
    /// write(2) of whole pages: a miss allocates without reading.
    Write,
    /// `file_create` with `cached`: the pages are already in the page cache when the op runs (vectors-format.md
    /// §6.3 "already in the page cache"), so no IO is counted (no `pgpgin`), only the allocation.
    Preload,
}
