//! mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/madvise.c: creating, splitting, protecting and removing VMAs, with
//! the Committed_AS accounting of linux-mm-semantics.md §1.5:
//!
//! * a mapping is charged (VM_ACCOUNT) when it is writable, not shared and not VM_NORESERVE
//!   (mm/vma.c:`accountable_mapping`), checked against the caller's mm (`security_vm_enough_memory_mm`);
//! * MAP_NORESERVE sets VM_NORESERVE only when vm.overcommit_memory != 2 (mm/mmap.c:`do_mmap`);
//! * MAP_SHARED|MAP_ANONYMOUS creates a shmem object charged for its whole size at setup unless VM_NORESERVE
//!   (mm/shmem.c:`shmem_zero_setup`/`shmem_acct_size`); it is charged once, not per mapping;
//! * hugetlbfs mappings are never charged: their length rounds up to whole 2 MiB pages, which are reserved from the
//!   pool (mm/hugetlb.c:`hugetlb_reserve_pages`), ENOMEM when the pool cannot cover them;
//! * brk growth is always VM_ACCOUNT (mm/vma.c:`do_brk_flags`); munmap, brk shrink and exit return the charge of
//!   the VM_ACCOUNT pages they remove;
//! * mprotect (mm/mprotect.c:`mprotect_fixup`): making a never-charged private mapping writable charges it and sets
//!   VM_ACCOUNT; removing write from an accounted *anonymous* VMA that has no anon_vma yet (never had a page)
//!   returns the charge; otherwise the charge stays.
//!
//! Sizes are in pages here. Callers with byte lengths use `len_to_pages`, which rounds up exactly as the kernel's
//! `PAGE_ALIGN` does (a length of 0 is EINVAL for mmap and munmap).

use crate::errno::{ApiError, Errno};
use crate::filemap::FileKind;
use crate::kernel::Kernel;
use crate::types::{SysResult, MAX_MAP_PAGES, TASK_SIZE_PAGES};
use crate::mm_types::*;
use crate::util::OvercommitPolicy;

/// mmap(2) flags the simulator models.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MapFlags {
    pub shared: bool,
    pub anonymous: bool,
    pub noreserve: bool,
}

/// PROT_* as VM_READ/VM_WRITE bits.
pub const PROT_NONE: VmFlags = 0;
pub const PROT_READ: VmFlags = VM_READ;
pub const PROT_RW: VmFlags = VM_READ | VM_WRITE;

/// madvise(2) advice the simulator models.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Advice {
    DontFork,
    DoFork,
    DontNeed,
}

/// mmap_min_addr (65536 bytes) in pages: the lowest address top-down placement may use.
const MMAP_MIN_PAGES: u64 = 16;
/// Pages per 2 MiB huge page.
pub const HPAGE_PAGES: u64 = 512;

/// `PAGE_ALIGN(len) >> PAGE_SHIFT`: a byte length rounded up to whole pages; 0 and lengths that overflow are
/// EINVAL / ENOMEM as mmap reports them.
pub fn len_to_pages(len_bytes: u64) -> SysResult<u64> {
    if len_bytes == 0 {
        return Err(Errno::EINVAL);
    }
    let pages = len_bytes.div_ceil(crate::PAGE_SIZE);
    if pages > TASK_SIZE_PAGES {
        return Err(Errno::ENOMEM);
    }
    Ok(pages)
}

impl Kernel {
    fn check_range(&self, what: &str, vpn: u64, pages: u64) -> Result<u64, ApiError> {
        vpn.checked_add(pages).filter(|e| *e <= TASK_SIZE_PAGES).ok_or_else(|| {
            ApiError::new("E_ARG", format!("{what}: pages {vpn}+{pages} run past the address-space limit; expected an end <= {TASK_SIZE_PAGES} (TASK_SIZE in pages)"))
        })
    }

    /// mmap(2) of `pages` pages with `prot` (PROT_NONE/PROT_READ/PROT_RW) and `flags`; `file` for a file mapping
    /// at offset 0. Returns the first virtual page of the new mapping, or ENOMEM/EINVAL as the kernel would.
    pub fn mmap(&mut self, pid: u32, pages: u64, prot: VmFlags, flags: MapFlags, file: Option<u32>) -> Result<SysResult<u64>, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.mmap_inner(pid, pages, prot, flags, file);
        self.end_entry();
        r
    }

    fn mmap_inner(&mut self, pid: u32, pages: u64, prot: VmFlags, flags: MapFlags, file: Option<u32>) -> Result<SysResult<u64>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        if flags.anonymous == file.is_some() {
            return Err(ApiError::new("E_ARG", "mmap: exactly one of flags.anon and file must be given"));
        }
        if prot & !(VM_READ | VM_WRITE) != 0 {
            return Err(ApiError::new("E_ARG", "mmap.prot: expected none, r or rw"));
        }
        if let Some(fid) = file {
            if self.files.get(fid as usize).is_none_or(|f| !f.live) {
                return Err(ApiError::new("E_ARG", format!("mmap.file: no file {fid}")));
            }
        }
        if pages == 0 {
            return Ok(self.syscall_result(pid, 2, Err(Errno::EINVAL)));
        }
        if pages > TASK_SIZE_PAGES - MMAP_MIN_PAGES {
            return Ok(self.syscall_result(pid, 2, Err(Errno::ENOMEM)));
        }
        if pages > MAX_MAP_PAGES {
            return Err(ApiError::new("E_ARG", format!("mmap.pages: {pages} exceeds the simulator's limit of {MAX_MAP_PAGES} pages per mapping")));
        }
        let mm_id = self.tasks[ti].mm;
        let hugetlb = file.is_some_and(|f| self.files[f as usize].kind == FileKind::Hugetlbfs);
        let mut pages = pages;
        let mut vm_flags = prot | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
        if flags.shared {
            vm_flags |= VM_SHARED | VM_MAYSHARE;
        }
        if flags.noreserve && self.overcommit_policy() != OvercommitPolicy::Never {
            vm_flags |= VM_NORESERVE;
        }
        let mut huge_resv = 0;
        if hugetlb {
            pages = pages.div_ceil(HPAGE_PAGES) * HPAGE_PAGES;
            vm_flags |= VM_HUGETLB;
            if !flags.noreserve {
                huge_resv = pages / HPAGE_PAGES;
                let free_huge = self.config.hugetlb_total_pages as u64 / HPAGE_PAGES - self.hugetlb_used();
                if self.hugetlb_resv + huge_resv > free_huge {
                    return Ok(self.syscall_result(pid, 2, Err(Errno::ENOMEM)));
                }
            }
        }
        let align = if hugetlb { HPAGE_PAGES } else { 1 };
        let Some(start) = get_unmapped_area(self.mm(mm_id), pages, align) else {
            return Ok(self.syscall_result(pid, 2, Err(Errno::ENOMEM)));
        };
        let total_vm = self.mm(mm_id).total_vm;
        // mm/vma.c:accountable_mapping
        if !hugetlb && vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE) == VM_WRITE {
            if let Err(e) = self.vm_enough(Some(pid), Some(total_vm), pages) {
                return Ok(self.syscall_result(pid, 2, Err(e)));
            }
            vm_flags |= VM_ACCOUNT;
        }
        let backing = if flags.anonymous && flags.shared {
            // shmem_zero_setup -> shmem_acct_size
            let noreserve = vm_flags & VM_NORESERVE != 0;
            if !noreserve {
                if let Err(e) = self.vm_enough(Some(pid), Some(total_vm), pages) {
                    return Ok(self.syscall_result(pid, 2, Err(e)));
                }
            }
            let fid = self.shmem_object_new(pages, noreserve, if noreserve { 0 } else { pages });
            Backing::File(fid)
        } else if let Some(fid) = file {
            Backing::File(fid)
        } else {
            Backing::Anon
        };
        if let Backing::File(fid) = backing {
            self.files[fid as usize].vma_refs += 1;
        }
        self.hugetlb_resv += huge_resv;
        let vma = Vma { start, end: start + pages, flags: vm_flags, backing, pgoff: 0, anon_vma: 0, ptes: vec![None; Vma::nr_chunks(start, start + pages)], is_heap: false };
        self.insert_vma(mm_id, vma);
        Ok(Ok(start))
    }

    pub(crate) fn insert_vma(&mut self, mm_id: u32, vma: Vma) {
        let pages = vma.pages();
        let mm = self.mm_mut(mm_id);
        let i = mm.vmas.partition_point(|v| v.start < vma.start);
        mm.vmas.insert(i, vma);
        mm.total_vm += pages;
        mm.hiwater_vm = mm.hiwater_vm.max(mm.total_vm);
    }

    /// Split VMA `vi` at virtual page `at` (strictly inside it); the right part becomes `vi + 1`
    /// (mm/vma.c:`__split_vma`: the halves share anon_vma and file, the right part's pgoff advances).
    pub(crate) fn split_vma(&mut self, mm_id: u32, vi: usize, at: u64) {
        let mm = self.mm_mut(mm_id);
        let v = &mut mm.vmas[vi];
        debug_assert!(v.start < at && at < v.end);
        let first = v.first_chunk();
        let split_chunk = (at >> PTE_SHIFT) - first;
        let mut right_ptes: Vec<Option<PteChunk>> = v.ptes.split_off(split_chunk as usize);
        if at & 511 != 0 {
            // the chunk holding `at` is needed by both halves: each keeps only its own entries
            let shared = right_ptes[0].clone();
            if let Some(mut t) = shared {
                for e in &mut t[(at & 511) as usize..] {
                    *e = PTE_NONE;
                }
                v.ptes.push(Some(t));
            } else {
                v.ptes.push(None);
            }
            if let Some(t) = right_ptes[0].as_mut() {
                for e in &mut t[..(at & 511) as usize] {
                    *e = PTE_NONE;
                }
            }
        }
        let right = Vma {
            start: at,
            end: v.end,
            flags: v.flags,
            backing: v.backing,
            pgoff: v.pgoff + (at - v.start),
            anon_vma: v.anon_vma,
            ptes: right_ptes,
            is_heap: v.is_heap,
        };
        v.end = at;
        debug_assert_eq!(v.ptes.len(), Vma::nr_chunks(v.start, v.end));
        debug_assert_eq!(right.ptes.len(), Vma::nr_chunks(right.start, right.end));
        mm.vmas.insert(vi + 1, right);
        if let Backing::File(fid) = mm.vmas[vi].backing {
            self.files[fid as usize].vma_refs += 1;
        }
    }

    /// Make VMA boundaries at `lo` and `hi`; returns the index range of the VMAs inside `[lo, hi)`.
    pub(crate) fn split_range(&mut self, mm_id: u32, lo: u64, hi: u64) -> std::ops::Range<usize> {
        if let Some(vi) = self.mm(mm_id).find_vma(lo) {
            if self.mm(mm_id).vmas[vi].start < lo {
                self.split_vma(mm_id, vi, lo);
            }
        }
        if let Some(vi) = self.mm(mm_id).find_vma(hi.saturating_sub(1)) {
            if self.mm(mm_id).vmas[vi].end > hi && self.mm(mm_id).vmas[vi].start < hi {
                self.split_vma(mm_id, vi, hi);
            }
        }
        let mm = self.mm(mm_id);
        let a = mm.vmas.partition_point(|v| v.end <= lo);
        let b = mm.vmas.partition_point(|v| v.start < hi);
        a..b
    }

    /// Zap every PTE of VMA `vi` (`unmap_page_range`).
    pub(crate) fn zap_vma(&mut self, mm_id: u32, vi: usize) {
        let (start, end, chunks) = {
            let v = &mut self.mm_mut(mm_id).vmas[vi];
            (v.start, v.end, std::mem::take(&mut v.ptes))
        };
        let first = start >> PTE_SHIFT;
        let mut kept = Vec::with_capacity(chunks.len());
        for (c, t) in chunks.into_iter().enumerate() {
            if let Some(t) = &t {
                let base = (first + c as u64) << PTE_SHIFT;
                let lo = start.max(base) - base;
                let hi = end.min(base + 512) - base;
                for &pte in &t[lo as usize..hi as usize] {
                    if pte != PTE_NONE {
                        self.zap_pte(mm_id, pte);
                    }
                }
            }
            kept.push(None);
        }
        self.mm_mut(mm_id).vmas[vi].ptes = kept;
    }

    /// Remove the VMAs in `range` (already split to the unmapped range): zap, unaccount, drop file references.
    pub(crate) fn remove_vmas(&mut self, mm_id: u32, range: std::ops::Range<usize>) {
        let mm = self.mm_mut(mm_id);
        mm.hiwater_rss = mm.hiwater_rss.max(mm.rss_pages());
        for vi in range.clone() {
            self.zap_vma(mm_id, vi);
        }
        let removed: Vec<Vma> = self.mm_mut(mm_id).vmas.drain(range).collect();
        for v in removed {
            let pages = v.pages();
            if v.flags & VM_ACCOUNT != 0 {
                self.vm_unacct_memory(pages);
            }
            if v.flags & VM_HUGETLB != 0 && v.flags & VM_NORESERVE == 0 {
                self.hugetlb_resv -= pages / HPAGE_PAGES;
            }
            if let Backing::File(fid) = v.backing {
                self.file_put_vma_ref(fid);
            }
            self.mm_mut(mm_id).total_vm -= pages;
            self.mm_mut(mm_id).free_pgtables(v.start, v.end);
        }
        self.oom_scan_mm(mm_id);
    }

    /// munmap(2) of pages `vpn..vpn+pages` (holes are fine, as in the kernel).
    pub fn munmap(&mut self, pid: u32, vpn: u64, pages: u64) -> Result<SysResult<()>, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.munmap_inner(pid, vpn, pages);
        self.end_entry();
        r
    }

    fn munmap_inner(&mut self, pid: u32, vpn: u64, pages: u64) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        if pages == 0 {
            return Ok(self.syscall_result(pid, 3, Err(Errno::EINVAL)));
        }
        let end = self.check_range("munmap", vpn, pages)?;
        let mm_id = self.tasks[ti].mm;
        self.unmap_range(mm_id, vpn, end);
        Ok(Ok(()))
    }

    pub(crate) fn unmap_range(&mut self, mm_id: u32, lo: u64, hi: u64) {
        if !self.mm(mm_id).overlaps(lo, hi) {
            return;
        }
        let r = self.split_range(mm_id, lo, hi);
        self.remove_vmas(mm_id, r);
    }

    /// brk(2): set the program break to `pages` pages past the start of the heap. Growth is charged
    /// (VM_ACCOUNT, checked against the mm) and fails with ENOMEM when refused or when it would run into another
    /// mapping; shrinking unmaps and returns the charge.
    pub fn brk(&mut self, pid: u32, pages: u64) -> Result<SysResult<()>, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.brk_inner(pid, pages);
        self.end_entry();
        r
    }

    fn brk_inner(&mut self, pid: u32, pages: u64) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        let mm_id = self.tasks[ti].mm;
        let (start_brk, old) = (self.mm(mm_id).start_brk, self.mm(mm_id).brk);
        let new = self.check_range("brk.pages", start_brk, pages)?;
        if new == old {
            return Ok(Ok(()));
        }
        if new < old {
            self.unmap_range(mm_id, new, old);
            self.mm_mut(mm_id).brk = new;
            return Ok(Ok(()));
        }
        // mm/mmap.c:brk: the new area must not run into the next mapping
        if self.mm(mm_id).overlaps(old, new) {
            return Ok(self.syscall_result(pid, 7, Err(Errno::ENOMEM)));
        }
        let delta = new - old;
        let total_vm = self.mm(mm_id).total_vm;
        if let Err(e) = self.vm_enough(Some(pid), Some(total_vm), delta) {
            return Ok(self.syscall_result(pid, 7, Err(e)));
        }
        let flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
        let mm = self.mm_mut(mm_id);
        let prev = mm.vmas.iter().position(|v| v.end == old && v.is_heap && v.flags == flags && v.backing == Backing::Anon);
        match prev {
            Some(vi) => {
                let v = &mut mm.vmas[vi];
                v.end = new;
                v.ptes.resize(Vma::nr_chunks(v.start, v.end), None);
                mm.total_vm += delta;
                mm.hiwater_vm = mm.hiwater_vm.max(mm.total_vm);
            }
            None => {
                let vma = Vma { start: old, end: new, flags, backing: Backing::Anon, pgoff: 0, anon_vma: 0, ptes: vec![None; Vma::nr_chunks(old, new)], is_heap: true };
                self.insert_vma(mm_id, vma);
            }
        }
        self.mm_mut(mm_id).brk = new;
        Ok(Ok(()))
    }

    /// mprotect(2) of pages `vpn..vpn+pages` to `prot` with mm/mprotect.c:`mprotect_fixup` accounting. ENOMEM
    /// for a hole in the range or a refused charge (the VMAs before it keep their new protection, as in the kernel).
    pub fn mprotect(&mut self, pid: u32, vpn: u64, pages: u64, prot: VmFlags) -> Result<SysResult<()>, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.mprotect_inner(pid, vpn, pages, prot);
        self.end_entry();
        r
    }

    fn mprotect_inner(&mut self, pid: u32, vpn: u64, pages: u64, prot: VmFlags) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        if prot & !(VM_READ | VM_WRITE) != 0 {
            return Err(ApiError::new("E_ARG", "mprotect.prot: expected none, r or rw"));
        }
        if pages == 0 {
            return Ok(Ok(()));
        }
        let end = self.check_range("mprotect", vpn, pages)?;
        let mm_id = self.tasks[ti].mm;
        let mut v = vpn;
        while v < end {
            let Some(vi) = self.mm(mm_id).find_vma(v) else {
                return Ok(self.syscall_result(pid, 5, Err(Errno::ENOMEM)));
            };
            let piece_end = self.mm(mm_id).vmas[vi].end.min(end);
            let r = self.split_range(mm_id, v, piece_end);
            let vi = r.start;
            let (old, nrpages, anon_no_anon_vma) = {
                let vma = &self.mm(mm_id).vmas[vi];
                (vma.flags, vma.pages(), vma.is_anonymous() && vma.anon_vma == 0)
            };
            let mut new = (old & !(VM_READ | VM_WRITE)) | prot;
            if new & VM_WRITE != 0 {
                if old & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE) == 0 {
                    let total_vm = self.mm(mm_id).total_vm;
                    if let Err(e) = self.vm_enough(Some(pid), Some(total_vm), nrpages) {
                        return Ok(self.syscall_result(pid, 5, Err(e)));
                    }
                    new |= VM_ACCOUNT;
                }
            } else if old & VM_ACCOUNT != 0 && anon_no_anon_vma {
                new &= !VM_ACCOUNT;
            }
            if old & VM_ACCOUNT != 0 && new & VM_ACCOUNT == 0 {
                self.vm_unacct_memory(nrpages);
            }
            self.mm_mut(mm_id).vmas[vi].flags = new;
            self.change_protection(mm_id, vi, old, new);
            v = piece_end;
        }
        Ok(Ok(()))
    }

    /// mm/mprotect.c:`change_pte_range`: removing write write-protects every PTE; adding write makes writable at
    /// once the PTEs that would not need a write fault (exclusive anon pages of private mappings, dirty PTEs of
    /// shared shmem mappings).
    fn change_protection(&mut self, mm_id: u32, vi: usize, old: VmFlags, new: VmFlags) {
        let shared = new & VM_SHARED != 0;
        let shmem = match self.mm(mm_id).vmas[vi].backing {
            Backing::File(fid) => self.files[fid as usize].kind.is_shmem(),
            Backing::Anon => false,
        };
        let adding = old & VM_WRITE == 0 && new & VM_WRITE != 0;
        let removing = new & VM_WRITE == 0;
        if !adding && !removing {
            return;
        }
        let mut chunks = std::mem::take(&mut self.mm_mut(mm_id).vmas[vi].ptes);
        for t in chunks.iter_mut().flatten() {
            for e in t.iter_mut() {
                let pte = *e;
                if !pte_present(pte) {
                    continue;
                }
                if removing {
                    *e &= !PTE_W;
                } else {
                    let f = pte_frame(pte);
                    let ok = if shared {
                        // can_change_pte_writable(): a shared PTE only when it is dirty (written through)
                        shmem && pte & PTE_DIRTY != 0
                    } else {
                        self.frames.kind(f) == crate::page_alloc::frames::KIND_ANON && self.frames.mapcount(f) == 1 && self.anon_swap_refs(f) == 0
                    };
                    if ok {
                        *e |= PTE_W;
                    }
                }
            }
        }
        // entries outside the VMA are PTE_NONE (splits clear them), so whole chunks can be scanned
        self.mm_mut(mm_id).vmas[vi].ptes = chunks;
    }

    /// madvise(2): MADV_DONTFORK / MADV_DOFORK set / clear VM_DONTCOPY; MADV_DONTNEED zaps the pages (their
    /// commit charge stays). ENOMEM if the range has a hole (after advising the mapped parts).
    pub fn madvise(&mut self, pid: u32, vpn: u64, pages: u64, advice: Advice) -> Result<SysResult<()>, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.madvise_inner(pid, vpn, pages, advice);
        self.end_entry();
        r
    }

    fn madvise_inner(&mut self, pid: u32, vpn: u64, pages: u64, advice: Advice) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        if pages == 0 {
            return Ok(Ok(()));
        }
        let end = self.check_range("madvise", vpn, pages)?;
        let mm_id = self.tasks[ti].mm;
        let mut hole = false;
        let mut v = vpn;
        while v < end {
            let Some((vi, start, piece_end)) = self.mm(mm_id).vma_piece(v, end) else {
                hole = true;
                break;
            };
            hole |= start > v;
            v = start;
            match advice {
                Advice::DontFork | Advice::DoFork => {
                    let r = self.split_range(mm_id, v, piece_end);
                    let vma = &mut self.mm_mut(mm_id).vmas[r.start];
                    if advice == Advice::DontFork {
                        vma.flags |= VM_DONTCOPY;
                    } else {
                        vma.flags &= !VM_DONTCOPY;
                    }
                }
                Advice::DontNeed => {
                    let mm = self.mm_mut(mm_id);
                    mm.hiwater_rss = mm.hiwater_rss.max(mm.rss_pages());
                    for p in v..piece_end {
                        let pte = self.mm(mm_id).vmas[vi].pte(p);
                        if pte != PTE_NONE {
                            self.zap_pte(mm_id, pte);
                            self.set_pte(mm_id, vi, p, PTE_NONE);
                        }
                    }
                }
            }
            v = piece_end;
        }
        if hole {
            return Ok(self.syscall_result(pid, 6, Err(Errno::ENOMEM)));
        }
        Ok(Ok(()))
    }
}

/// Top-down placement below `mmap_base` (mm/mmap.c:`arch_get_unmapped_area_topdown` via `vm_unmapped_area`):
/// the highest gap that fits, aligned down to `align` pages.
pub fn get_unmapped_area(mm: &Mm, pages: u64, align: u64) -> Option<u64> {
    let mut hi = mm.mmap_base;
    let fits = |lo: u64, hi: u64| -> Option<u64> {
        if hi < pages {
            return None;
        }
        let start = (hi - pages) / align * align;
        (start >= lo).then_some(start)
    };
    for v in mm.vmas.iter().rev() {
        if v.start >= hi {
            continue;
        }
        if v.end <= hi {
            if let Some(s) = fits(v.end, hi) {
                return Some(s);
            }
        }
        hi = hi.min(v.start);
    }
    fits(MMAP_MIN_PAGES, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::MachineConfig;
    use crate::memory::Access;

    #[test]
    fn mprotect_makes_a_shared_pte_writable_only_when_it_is_dirty() {
        let mut k = setup(0);
        let fid = k.file_create("t", crate::filemap::FileKind::Tmpfs, 0, false).unwrap().unwrap();
        k.file_write(1, fid, 0, 2).unwrap().unwrap();
        let v = k.mmap(1, 2, PROT_RW, MapFlags { shared: true, ..Default::default() }, Some(fid)).unwrap().unwrap();
        // page 0 mapped by a read fault (its folio is dirty from write(2), the PTE is clean); page 1 written
        k.touch(1, v, 1, Access::Read).unwrap();
        k.touch(1, v + 1, 1, Access::Write).unwrap();
        k.mprotect(1, v, 2, PROT_READ).unwrap().unwrap();
        k.mprotect(1, v, 2, PROT_RW).unwrap().unwrap();
        let mm = k.mm(k.tasks.get(k.task_index(1).unwrap()).unwrap().mm);
        let vi = mm.find_vma(v).unwrap();
        assert_eq!(mm.vmas[vi].pte(v) & PTE_W, 0, "clean PTE: the next write faults");
        assert_ne!(mm.vmas[vi].pte(v + 1) & PTE_W, 0, "dirty PTE: writable at once");
    }

    fn setup(mode: i64) -> Kernel {
        let mut k = Kernel::new(MachineConfig { totalram_pages: 262144, ..Default::default() }).unwrap();
        k.sysctl_write("vm.overcommit_memory", mode).unwrap().unwrap();
        k.spawn(1, "a").unwrap();
        k
    }
    fn anon() -> MapFlags {
        MapFlags { anonymous: true, ..Default::default() }
    }

    #[test]
    fn byte_lengths_round_up_like_page_align() {
        assert_eq!(len_to_pages(1), Ok(1));
        assert_eq!(len_to_pages(4096), Ok(1));
        assert_eq!(len_to_pages(4097), Ok(2));
        assert_eq!(len_to_pages(0), Err(Errno::EINVAL));
        assert_eq!(len_to_pages(u64::MAX), Err(Errno::ENOMEM));
    }

    #[test]
    fn mprotect_accounting() {
        let mut k = setup(0);
        let a = k.mmap(1, 100, PROT_READ, anon(), None).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 0);
        k.mprotect(1, a, 100, PROT_RW).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 100, "R->RW charges");
        k.mprotect(1, a, 40, PROT_READ).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 60, "RW->R of an untouched anon VMA returns the charge of the range");
        k.touch(1, a + 50, 1, Access::Write).unwrap();
        k.mprotect(1, a + 40, 60, PROT_READ).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 60, "after a page was touched the charge stays");
        k.mprotect(1, a + 40, 60, PROT_RW).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 60, "still VM_ACCOUNT: no second charge");
        assert_eq!(k.mprotect(1, a + 90, 20, PROT_READ).unwrap(), Err(Errno::ENOMEM), "hole after the mapping");
        // a read fault alone (zero page) creates no anon_vma
        let b = k.mmap(1, 10, PROT_RW, anon(), None).unwrap().unwrap();
        k.touch(1, b, 10, Access::Read).unwrap();
        k.mprotect(1, b, 10, PROT_READ).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 60);
    }

    #[test]
    fn write_protect_then_restore_keeps_exclusive_pages_writable() {
        let mut k = setup(0);
        let a = k.mmap(1, 4, PROT_RW, anon(), None).unwrap().unwrap();
        k.touch(1, a, 4, Access::Write).unwrap();
        k.mprotect(1, a, 4, PROT_READ).unwrap().unwrap();
        k.mprotect(1, a, 4, PROT_RW).unwrap().unwrap();
        let f = k.vmstat.get(crate::vmstat::Vmstat::pgfault);
        k.touch(1, a, 4, Access::Write).unwrap();
        assert_eq!(k.vmstat.get(crate::vmstat::Vmstat::pgfault), f, "exclusive anon PTEs made writable again");
    }

    #[test]
    fn noreserve_is_ignored_in_mode_2_and_limits_hold() {
        let mut k = setup(2);
        // CommitLimit 131072; admin reserve 8192 kB = 2048 pages; no user reserve while total_vm is 0:
        // Committed_AS after the charge must stay strictly below 129024
        let nr = MapFlags { noreserve: true, ..anon() };
        assert_eq!(k.mmap(1, 129024, PROT_RW, nr, None).unwrap(), Err(Errno::ENOMEM));
        assert_eq!(k.committed_as_pages(), 0, "the refused charge was undone");
        let a = k.mmap(1, 129023, PROT_RW, nr, None).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 129023);
        k.munmap(1, a + 23, 129000).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 23, "partial munmap returns exactly its charge");
        assert_eq!(k.task_mm(1).unwrap().total_vm, 23);
        let mut k = setup(0);
        k.mmap(1, 100, PROT_RW, MapFlags { noreserve: true, ..anon() }, None).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 0);
    }

    #[test]
    fn brk_grows_and_shrinks_with_its_charge() {
        let mut k = setup(0);
        k.brk(1, 256).unwrap().unwrap();
        k.brk(1, 300).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 300);
        assert_eq!(k.task_mm(1).unwrap().vmas.len(), 1, "growth extends the heap VMA");
        let heap = k.task_mm(1).unwrap().start_brk;
        k.touch(1, heap, 300, Access::Write).unwrap();
        k.brk(1, 100).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 100);
        assert_eq!(k.task_mem(1).unwrap().rss_anon, 400);
        assert_eq!(k.task_mem(1).unwrap().vm_hwm, 1200, "VmHWM remembers the peak");
        k.brk(1, 0).unwrap().unwrap();
        assert!(k.task_mm(1).unwrap().vmas.is_empty());
        assert_eq!(k.committed_as_pages(), 0);
    }

    #[test]
    fn shared_anon_and_tmpfs_accounting() {
        let mut k = setup(0);
        let s = k.mmap(1, 50, PROT_READ, MapFlags { shared: true, anonymous: true, noreserve: false }, None).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 50, "shmem_acct_size charges even a read-only shared anon mapping");
        k.munmap(1, s, 50).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 0);
        let t = k.file_create("t", FileKind::Tmpfs, 10, false).unwrap().unwrap();
        k.file_write(1, t, 0, 4).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 4, "tmpfs charges per page allocated");
        assert_eq!(k.meminfo_field("Shmem"), Some(16));
        let m = k.mmap(1, 10, PROT_RW, MapFlags { shared: true, ..Default::default() }, Some(t)).unwrap().unwrap();
        k.touch(1, m, 10, Access::Read).unwrap();
        assert_eq!(k.committed_as_pages(), 10);
        assert_eq!(k.task_mem(1).unwrap().rss_shmem, 40);
        // mode 2: a refused tmpfs page is ENOSPC
        let mut k = setup(2);
        k.sysctl_write("vm.overcommit_kbytes", 4).unwrap().unwrap();
        let t = k.file_create("t", FileKind::Tmpfs, 0, false).unwrap().unwrap();
        assert_eq!(k.file_write(1, t, 0, 1).unwrap(), Err(Errno::ENOSPC));
    }

    #[test]
    fn hugetlb_mappings_reserve_the_pool_not_commit() {
        let mut k = Kernel::new(MachineConfig { totalram_pages: 262144, hugetlb_total_pages: 1024, ..Default::default() }).unwrap();
        k.spawn(1, "a").unwrap();
        let h = k.file_create("h", FileKind::Hugetlbfs, 0, false).unwrap().unwrap();
        let a = k.mmap(1, 1000, PROT_RW, MapFlags::default(), Some(h)).unwrap().unwrap();
        assert_eq!(a % 512, 0);
        assert_eq!(k.task_mm(1).unwrap().total_vm, 1024, "rounded up to whole huge pages");
        assert_eq!(k.committed_as_pages(), 0);
        assert_eq!(k.meminfo_field("HugePages_Rsvd"), Some(2));
        assert_eq!(k.mmap(1, 1, PROT_RW, MapFlags::default(), Some(h)).unwrap(), Err(Errno::ENOMEM), "pool exhausted");
        assert_eq!(k.nr_free_pages(), 262144 - 1024);
    }
}
