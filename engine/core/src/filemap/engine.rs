//! mm/filemap.c and mm/shmem.c on the engine: page-cache lookups and fills, read(2)/write(2) of files, truncation
//! and removal, shmem accounting; the types they use are in [`crate::filemap`].

use super::*;
use crate::errno::{ApiError, Errno};
use crate::kernel::Kernel;
use crate::types::SysResult;
use crate::memory::FaultErr;
use crate::memcontrol::Stat;
use crate::page_alloc::frames::{F_DIRTY, F_REFERENCED, KIND_FILE, KIND_SHMEM};
use crate::vmstat::Vmstat;

impl Kernel {
    pub fn file_id(&self, name: &str) -> Option<u32> {
        self.files.iter().position(|f| f.live && f.name == name && f.kind != FileKind::ShmemAnon).map(|i| i as u32)
    }

    /// Create a file of `pages` pages. `cached` (disk files only): all its pages are already in the page cache,
    /// clean (allocated in kernel context, charged to the root cgroup). Returns the file id, or ENOMEM when the
    /// page cache could not be filled.
    pub fn file_create(&mut self, name: &str, kind: FileKind, pages: u64, cached: bool) -> Result<SysResult<u32>, ApiError> {
        self.check_running()?;
        if kind == FileKind::ShmemAnon {
            return Err(ApiError::new("E_ARG", "file_create.fs: expected disk, tmpfs or hugetlbfs"));
        }
        if self.file_id(name).is_some() {
            return Err(ApiError::new("E_ARG", format!("file_create.file: {name:?} already exists")));
        }
        if pages > crate::types::MAX_MAP_PAGES {
            return Err(ApiError::new("E_ARG", format!("file_create.pages: {pages} is too large; expected 0..=4294967295")));
        }
        self.files.push(File::new(name, kind, pages));
        let fid = (self.files.len() - 1) as u32;
        if cached && kind == FileKind::Disk {
            for idx in 0..pages {
                match self.page_cache_get(None, fid, idx, CacheUse::Preload, None) {
                    Ok(_) => {}
                    Err(_) => return Ok(Err(Errno::ENOMEM)),
                }
            }
        }
        Ok(Ok(fid))
    }

    /// The page-cache page `idx` of file `fid`, bringing it in on a miss. Returns (frame, read from disk).
    /// `mm_total_vm`: the caller's total_vm for shmem's per-page Committed_AS charge.
    pub(crate) fn page_cache_get(&mut self, pid: Option<u32>, fid: u32, idx: u64, why: CacheUse, mm_total_vm: Option<u64>) -> Result<(u32, bool), FaultErr> {
        let kind = self.files[fid as usize].kind;
        if let Some(f) = self.files[fid as usize].cached_frame(idx) {
            // filemap_read / shmem_file_read_iter mark a page they copy accessed; so does a tmpfs write
            // (shmem_get_folio with SGP_WRITE). A disk file's write_begin takes the page with FGP_WRITEBEGIN, which
            // has no FGP_ACCESSED, and a fault marks nothing (the PTE's accessed bit records it).
            if why == CacheUse::Read || why == CacheUse::Preload || (why == CacheUse::Write && kind.is_shmem()) {
                self.folio_mark_accessed(f);
            }
            return Ok((f, false));
        }
        if kind.is_shmem() {
            if let Some(&slot) = self.files[fid as usize].swapped.get(&idx) {
                return self.shmem_swapin(pid, fid, idx, slot, why);
            }
            // mm/shmem.c:shmem_acct_blocks: VM_NORESERVE objects (tmpfs files) charge each page as it is allocated;
            // a refusal is ENOSPC (SIGBUS on a fault).
            if self.files[fid as usize].noreserve {
                if self.vm_enough(pid, mm_total_vm, 1).is_err() {
                    return Err(FaultErr::Sigbus);
                }
                self.files[fid as usize].acct_blocks += 1;
            }
            let f = match self.alloc_user_page(pid, KIND_SHMEM) {
                Ok(f) => f,
                Err(e) => {
                    if self.files[fid as usize].noreserve {
                        self.files[fid as usize].acct_blocks -= 1;
                        self.vm_unacct_memory(1);
                    }
                    return Err(e.into());
                }
            };
            self.page_cache_insert(fid, idx, f);
            self.vmstat.inc(Vmstat::nr_shmem);
            let m = self.frames.memcg[f as usize];
            self.memcg.mod_stat(m, Stat::Shmem, 1);
            self.lru_add(f, false);
            if why == CacheUse::Write {
                // shmem_get_folio_gfp(SGP_WRITE): a new page starts referenced (__folio_set_referenced)
                self.frames.meta[f as usize] |= F_REFERENCED;
            }
            return Ok((f, false));
        }
        if why == CacheUse::Fault {
            // filemap_fault: "No page in the page cache at all" — PGMAJFAULT before the page is allocated
            self.count_majfault(pid);
        }
        let f = self.alloc_user_page(pid, KIND_FILE)?;
        self.page_cache_insert(fid, idx, f);
        self.lru_add(f, false);
        let read = why == CacheUse::Read || why == CacheUse::Fault;
        if read {
            self.vmstat.add(Vmstat::pgpgin, 4);
            let ns = self.reclaim.cost.file_device.read_ns();
            self.spend(ns);
        }
        if why == CacheUse::Read || why == CacheUse::Preload {
            // filemap_read marks the page it copies accessed (not write_begin, not a fault)
            self.folio_mark_accessed(f);
        }
        Ok((f, read))
    }

    /// mm/shmem.c:`shmem_swapin_folio`: a shmem page that lives in swap comes back. Still in the swap cache: that
    /// folio is reused (no IO); otherwise a new page is read from the device (`pswpin`; on a fault also
    /// `pgmajfault` and a major fault, `shmem_swapin_folio` with a fault_type). Either way it goes back into the
    /// page cache (NR_SHMEM), leaves the swap cache (`delete_from_swap_cache`) and the mapping's reference to the
    /// slot is dropped (`swap_free_nr`): unlike anon swap-in, shmem never keeps the slot after swap-in.
    fn shmem_swapin(&mut self, pid: Option<u32>, fid: u32, idx: u64, slot: u32, why: CacheUse) -> Result<(u32, bool), FaultErr> {
        let (f, io) = match self.swap.cache.get(slot) {
            Some(f) => {
                self.delete_from_swap_cache(slot, f);
                (f, false)
            }
            None => {
                if why == CacheUse::Fault {
                    // shmem_swapin_folio with a fault_type: PGMAJFAULT before the page is allocated
                    self.count_majfault(pid);
                }
                let f = self.alloc_user_page(pid, KIND_SHMEM)?;
                self.lru_add(f, false);
                self.vmstat.inc(Vmstat::pswpin);
                self.vmstat.add(Vmstat::pgpgin, 4);
                (f, true)
            }
        };
        self.frames.meta[f as usize] |= F_DIRTY;
        self.page_cache_insert(fid, idx, f);
        self.vmstat.inc(Vmstat::nr_shmem);
        self.memcg.mod_stat(self.frames.memcg[f as usize], Stat::Shmem, 1);
        self.files[fid as usize].swapped.remove(&idx);
        self.swap_free(slot);
        if why == CacheUse::Read || why == CacheUse::Write {
            // shmem_swapin_folio marks it accessed for SGP_WRITE; shmem_file_read_iter marks a page read from its start
            self.folio_mark_accessed(f);
        }
        Ok((f, io && why == CacheUse::Fault))
    }

    fn page_cache_insert(&mut self, fid: u32, idx: u64, f: u32) {
        self.frames.owner[f as usize] = fid;
        self.frames.index[f as usize] = idx as u32;
        let file = &mut self.files[fid as usize];
        file.cache.set(idx, f + 1);
        file.nr_cached += 1;
        self.vmstat.inc(Vmstat::nr_file_pages);
        self.memcg.mod_stat(self.frames.memcg[f as usize], Stat::File, 1);
    }

    /// `filemap_fault`/`shmem_fault` for a page fault.
    pub(crate) fn filemap_get_page(&mut self, pid: Option<u32>, fid: u32, idx: u64) -> Result<(u32, bool), FaultErr> {
        let total_vm = pid.and_then(|p| self.task(p)).map(|t| self.mm(t.mm).total_vm);
        self.page_cache_get(pid, fid, idx, CacheUse::Fault, total_vm)
    }

    /// read(2) of pages `first..first+count` (clipped at EOF). Pages not cached are read in, clean, onto the
    /// inactive file LRU; tmpfs holes read as zeroes without allocating. ENOMEM when a page cannot be allocated.
    pub fn file_read(&mut self, pid: u32, fid: u32, first: u64, count: u64) -> Result<SysResult<u64>, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.file_read_inner(pid, fid, first, count);
        self.oom_exit_killed_current();
        self.end_entry();
        r
    }

    fn file_read_inner(&mut self, pid: u32, fid: u32, first: u64, count: u64) -> Result<SysResult<u64>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        self.current.enter(pid, self.tasks[ti].memcg);
        let file = self.files.get(fid as usize).filter(|f| f.live).ok_or_else(|| ApiError::new("E_ARG", format!("file_read.file: no file {fid}")))?;
        let kind = file.kind;
        let end = first.saturating_add(count).min(file.size);
        let mut n = 0;
        for idx in first..end {
            if self.oom.current_killed.contains(&pid) {
                // filemap_get_pages: a fatal signal (the OOM killer chose this task for the page just read, which it
                // got from the reserve) ends the read
                break;
            }
            if kind.is_shmem() && self.files[fid as usize].swapped.contains_key(&idx) {
                // shmem_file_read_iter -> shmem_get_folio(SGP_READ): a page in swap is swapped in; holes stay holes
                match self.page_cache_get(Some(pid), fid, idx, CacheUse::Read, None) {
                    Ok(_) => {}
                    Err(_) => return Ok(self.syscall_result(pid, 0, Err(Errno::ENOMEM))),
                }
                n += 1;
                continue;
            }
            if kind.is_shmem() || kind == FileKind::Hugetlbfs {
                // shmem_file_read_iter: a cached page read from its start is marked accessed; a hole reads zeroes
                if kind.is_shmem() {
                    if let Some(f) = self.files[fid as usize].cached_frame(idx) {
                        self.folio_mark_accessed(f);
                    }
                }
                n += 1;
                continue;
            }
            match self.page_cache_get(Some(pid), fid, idx, CacheUse::Read, None) {
                Ok(_) => {}
                Err(_) => return Ok(self.syscall_result(pid, 0, Err(Errno::ENOMEM))),
            }
            n += 1;
        }
        Ok(Ok(n))
    }

    /// write(2) of whole pages `first..first+count`, extending the file. Disk pages become dirty page cache;
    /// tmpfs pages are allocated as shmem, each charged to Committed_AS (ENOSPC when mode 2 refuses).
    pub fn file_write(&mut self, pid: u32, fid: u32, first: u64, count: u64) -> Result<SysResult<u64>, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.file_write_inner(pid, fid, first, count);
        self.oom_exit_killed_current();
        self.end_entry();
        r
    }

    fn file_write_inner(&mut self, pid: u32, fid: u32, first: u64, count: u64) -> Result<SysResult<u64>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        self.current.enter(pid, self.tasks[ti].memcg);
        let file = self.files.get(fid as usize).filter(|f| f.live).ok_or_else(|| ApiError::new("E_ARG", format!("file_write.file: no file {fid}")))?;
        let kind = file.kind;
        if kind == FileKind::Hugetlbfs {
            // hugetlbfs has no write(2)
            return Ok(Err(Errno::EINVAL));
        }
        let end = first.checked_add(count).filter(|e| *e <= crate::types::MAX_MAP_PAGES).ok_or_else(|| ApiError::new("E_ARG", "file_write: first+count exceeds 4294967295 pages"))?;
        let total_vm = Some(self.mm(self.tasks[ti].mm).total_vm);
        for idx in first..end {
            if self.oom.current_killed.contains(&pid) {
                // generic_perform_write: fatal_signal_pending ends the write before the next page
                break;
            }
            self.files[fid as usize].reserve_cache(idx + 1);
            match self.page_cache_get(Some(pid), fid, idx, CacheUse::Write, total_vm) {
                Ok((f, _)) => {
                    if kind == FileKind::Disk {
                        self.mark_dirty(f);
                    } else {
                        self.frames.meta[f as usize] |= F_DIRTY;
                    }
                    // the size grows with each page written (shmem_write_end / generic_write_end), so a write that
                    // fails part-way leaves the file as long as what was written
                    self.files[fid as usize].extend_to(idx + 1);
                }
                Err(FaultErr::Sigbus) => return Ok(self.syscall_result(pid, 0, Err(Errno::ENOSPC))),
                Err(_) => return Ok(self.syscall_result(pid, 0, Err(Errno::ENOMEM))),
            }
        }
        Ok(Ok(count))
    }

    /// mm/shmem.c:`shmem_zero_setup`: the shmem object behind a MAP_SHARED|MAP_ANONYMOUS mapping. `acct_size` pages
    /// were charged by the caller (`shmem_acct_size`), 0 for a NORESERVE object (then charged per page).
    pub(crate) fn shmem_object_new(&mut self, pages: u64, noreserve: bool, acct_size: u64) -> u32 {
        let mut f = File::new("dev/zero (deleted)", FileKind::ShmemAnon, pages);
        f.noreserve = noreserve;
        f.acct_size = acct_size;
        self.files.push(f);
        (self.files.len() - 1) as u32
    }

    /// A VMA mapping `fid` went away. The last mapping of an anonymous shmem object frees it: its pages leave the
    /// page cache and its Committed_AS charge is returned (`shmem_evict_inode` → `shmem_unacct_size`/blocks).
    pub(crate) fn file_put_vma_ref(&mut self, fid: u32) {
        let file = &mut self.files[fid as usize];
        file.vma_refs -= 1;
        if file.vma_refs > 0 || file.kind != FileKind::ShmemAnon {
            return;
        }
        file.live = false;
        let unacct = file.acct_size + file.acct_blocks;
        let frames: Vec<u32> = file.cache.present().map(|v| v - 1).collect();
        let slots: Vec<u32> = std::mem::take(&mut file.swapped).into_values().collect();
        file.cache = PageCache::default();
        file.nr_cached = 0;
        for f in frames {
            debug_assert_eq!(self.frames.mapcount(f), 0);
            self.vmstat.sub(Vmstat::nr_shmem, 1);
            self.vmstat.sub(Vmstat::nr_file_pages, 1);
            let m = self.frames.memcg[f as usize];
            self.memcg.mod_stat(m, Stat::Shmem, -1);
            self.memcg.mod_stat(m, Stat::File, -1);
            self.free_user_page(f);
        }
        // shmem_evict_inode -> shmem_undo_range: the pages in swap give their slots back (free_swap_and_cache)
        for slot in slots {
            self.swap_free(slot);
        }
        self.vm_unacct_memory(unacct);
    }
}
