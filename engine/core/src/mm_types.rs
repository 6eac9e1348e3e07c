//! include/linux/mm_types.h and include/linux/mm.h: the address space (`mm_struct`), its VMAs, their flags and the
//! per-mm RSS counters.
//!
//! Page tables: a VMA keeps its PTEs in 512-entry chunks aligned to the virtual address (one chunk = what one
//! kernel PTE page maps), allocated lazily on the first fault in the chunk. Which PTE/PMD/PUD pages exist is kept
//! per mm (sets of table indices), so `pgtables_bytes` is counted the kernel's way (include/linux/mm.h:
//! `mm_inc_nr_ptes`/`mm_inc_nr_pmds`/`mm_inc_nr_puds`, 4096 bytes per table page) and freed as
//! mm/memory.c:`free_pgtables` frees them: when no VMA overlaps the table's range any more.

use std::collections::BTreeSet;

/// VMA flags, with the kernel's bit values (include/linux/mm.h).
pub type VmFlags = u32;
pub const VM_READ: VmFlags = 0x1;
pub const VM_WRITE: VmFlags = 0x2;
pub const VM_EXEC: VmFlags = 0x4;
pub const VM_SHARED: VmFlags = 0x8;
pub const VM_MAYREAD: VmFlags = 0x10;
pub const VM_MAYWRITE: VmFlags = 0x20;
pub const VM_MAYEXEC: VmFlags = 0x40;
pub const VM_MAYSHARE: VmFlags = 0x80;
pub const VM_DONTCOPY: VmFlags = 0x0002_0000;
pub const VM_ACCOUNT: VmFlags = 0x0010_0000;
pub const VM_NORESERVE: VmFlags = 0x0020_0000;
pub const VM_HUGETLB: VmFlags = 0x0040_0000;

/// The names the `vma_flags` observation uses.
pub const VM_FLAG_NAMES: &[(&str, VmFlags)] = &[
    ("VM_READ", VM_READ),
    ("VM_WRITE", VM_WRITE),
    ("VM_EXEC", VM_EXEC),
    ("VM_SHARED", VM_SHARED),
    ("VM_MAYSHARE", VM_MAYSHARE),
    ("VM_DONTCOPY", VM_DONTCOPY),
    ("VM_ACCOUNT", VM_ACCOUNT),
    ("VM_NORESERVE", VM_NORESERVE),
    ("VM_HUGETLB", VM_HUGETLB),
];

/// Per-mm RSS counters, in the kernel's order (include/linux/mm_types_task.h: `MM_FILEPAGES`, `MM_ANONPAGES`,
/// `MM_SWAPENTS`, `MM_SHMEMPAGES`).
#[allow(non_camel_case_types)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum MmCounter {
    MM_FILEPAGES = 0,
    MM_ANONPAGES = 1,
    MM_SWAPENTS = 2,
    MM_SHMEMPAGES = 3,
}
pub const NR_MM_COUNTERS: usize = 4;

/// PTE encoding (one u32 per page):
/// * `PTE_NONE` — not mapped; `PTE_ZERO` — the shared zero page, read-only;
/// * present: `(frame + PTE_FRAME0)` in bits 0..=27, plus `PTE_W` when the mapping is writable, `PTE_YOUNG`
///   (the accessed bit) once an access went through it and `PTE_DIRTY` once a write did;
/// * swap entry: `PTE_SWAP | slot`.
pub const PTE_NONE: u32 = 0;
pub const PTE_ZERO: u32 = 1;
pub const PTE_FRAME0: u32 = 2;
/// `_PAGE_ACCESSED`: set by every access through the PTE (the hardware does it, also for the access a fault
/// completes), read and cleared by reclaim (mm/rmap.c:`folio_referenced`), cleared in a fork child's copy
/// (mm/memory.c:`copy_present_ptes`, `pte_mkold`).
pub const PTE_YOUNG: u32 = 1 << 29;
/// `_PAGE_DIRTY`: set by a write through the PTE (and the write fault that installs it). Read by mprotect
/// (mm/mprotect.c:`can_change_pte_writable`: a shared PTE is made writable at once only when dirty).
pub const PTE_DIRTY: u32 = 1 << 28;
pub const PTE_W: u32 = 1 << 30;
pub const PTE_SWAP: u32 = 1 << 31;
pub const PTE_FRAME_MASK: u32 = PTE_DIRTY - 1;
/// The largest frame number a PTE can hold.
pub const MAX_PTE_FRAME: u32 = PTE_FRAME_MASK - PTE_FRAME0;

#[inline]
pub fn pte_present(pte: u32) -> bool {
    pte >= PTE_FRAME0 && pte & PTE_SWAP == 0
}
#[inline]
pub fn pte_frame(pte: u32) -> u32 {
    (pte & PTE_FRAME_MASK) - PTE_FRAME0
}
#[inline]
pub fn pte_mk(frame: u32, writable: bool) -> u32 {
    (frame + PTE_FRAME0) | if writable { PTE_W } else { 0 }
}

/// PTEs per page-table page; pages per PMD entry and per PUD entry.
pub const PTRS_PER_PTE: u64 = 512;
pub const PTE_SHIFT: u32 = 9;
pub const PMD_SHIFT: u32 = 18; // in pages: one PMD table maps 512 * 512 pages (1 GiB)
pub const PUD_SHIFT: u32 = 27; // one PUD table maps 512 GiB

pub type PteChunk = Box<[u32; 512]>;

/// What a VMA maps.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Backing {
    /// Private anonymous memory.
    Anon,
    /// A file (disk, tmpfs, the shmem object behind MAP_SHARED|MAP_ANONYMOUS, or hugetlbfs): its id.
    File(u32),
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Vma {
    /// First virtual page number, and one past the last.
    pub start: u64,
    pub end: u64,
    pub flags: VmFlags,
    pub backing: Backing,
    /// File page index of `start` for file VMAs; for anon VMAs the page offset of `start` within its anon_vma
    /// lineage (the reverse-map index of its pages).
    pub pgoff: u64,
    /// Root anon_vma id (0: none yet). Set at the first anon page (mm/rmap.c:`__anon_vma_prepare`), inherited by
    /// fork (`anon_vma_fork`).
    pub anon_vma: u32,
    /// PTE chunks, index `k` covering virtual pages `((start >> 9) + k) << 9 ..` (clipped to the VMA).
    #[serde(with = "crate::snapshot::serde_array::pte_chunks")]
    pub ptes: Vec<Option<PteChunk>>,
    /// The brk heap.
    pub is_heap: bool,
}

impl Vma {
    #[inline]
    pub fn pages(&self) -> u64 {
        self.end - self.start
    }
    #[inline]
    pub fn first_chunk(&self) -> u64 {
        self.start >> PTE_SHIFT
    }
    pub fn nr_chunks(start: u64, end: u64) -> usize {
        if end <= start {
            0
        } else {
            (((end - 1) >> PTE_SHIFT) - (start >> PTE_SHIFT) + 1) as usize
        }
    }
    /// The PTE of virtual page `vpn` (PTE_NONE if its chunk was never allocated).
    #[inline]
    pub fn pte(&self, vpn: u64) -> u32 {
        let c = ((vpn >> PTE_SHIFT) - self.first_chunk()) as usize;
        match &self.ptes[c] {
            Some(t) => t[(vpn & 511) as usize],
            None => PTE_NONE,
        }
    }
    /// Is this an anonymous VMA (`vma_is_anonymous`)?
    pub fn is_anonymous(&self) -> bool {
        self.backing == Backing::Anon
    }
    /// Private and may become writable: pages are copied on write (`is_cow_mapping`).
    pub fn is_cow(&self) -> bool {
        self.flags & (VM_SHARED | VM_MAYWRITE) == VM_MAYWRITE
    }
}

/// `mm_struct`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Mm {
    /// VMAs sorted by start, non-overlapping.
    pub vmas: Vec<Vma>,
    pub rss: [i64; NR_MM_COUNTERS],
    pub total_vm: u64,
    pub hiwater_vm: u64,
    pub hiwater_rss: u64,
    /// Existing page-table pages, by index (vpn >> 9, >> 18, >> 27).
    pub pte_tables: BTreeSet<u64>,
    pub pmd_tables: BTreeSet<u64>,
    pub pud_tables: BTreeSet<u64>,
    /// Tasks using this mm (vfork children share it).
    pub users: u32,
    pub start_brk: u64,
    pub brk: u64,
    pub mmap_base: u64,
    /// MMF_OOM_SKIP: the OOM killer ignores this mm (reaped, or pinned by init).
    pub oom_skip: bool,
}

impl Mm {
    /// `mm_pgtables_bytes`.
    pub fn pgtables_bytes(&self) -> u64 {
        (self.pte_tables.len() + self.pmd_tables.len() + self.pud_tables.len()) as u64 * 4096
    }
    /// `get_mm_rss`: file + anon + shmem.
    pub fn rss_pages(&self) -> u64 {
        (self.rss[MmCounter::MM_FILEPAGES as usize] + self.rss[MmCounter::MM_ANONPAGES as usize] + self.rss[MmCounter::MM_SHMEMPAGES as usize]) as u64
    }
    pub fn counter(&self, c: MmCounter) -> u64 {
        self.rss[c as usize] as u64
    }
    /// Index of the VMA containing `vpn` (`find_vma` + containment check).
    pub fn find_vma(&self, vpn: u64) -> Option<usize> {
        let i = self.vmas.partition_point(|v| v.end <= vpn);
        (i < self.vmas.len() && self.vmas[i].start <= vpn).then_some(i)
    }
    /// Walking a range: the first VMA ending above `vpn` that starts below `end` (`find_vma` bounded by `end`) and
    /// the part of `[vpn, end)` it covers, `(index, piece_start, piece_end)`; `piece_start > vpn` means a hole
    /// before it, `None` that the rest of the range is a hole.
    pub fn vma_piece(&self, vpn: u64, end: u64) -> Option<(usize, u64, u64)> {
        let i = self.vmas.partition_point(|v| v.end <= vpn);
        let v = self.vmas.get(i)?;
        (v.start < end).then(|| (i, v.start.max(vpn), v.end.min(end)))
    }
    /// Does any VMA overlap `[lo, hi)`?
    pub fn overlaps(&self, lo: u64, hi: u64) -> bool {
        let i = self.vmas.partition_point(|v| v.end <= lo);
        i < self.vmas.len() && self.vmas[i].start < hi
    }
    /// Record that a PTE table for `chunk` exists (allocating the PMD/PUD tables above it as needed).
    pub fn pte_alloc(&mut self, chunk: u64) {
        if self.pte_tables.insert(chunk) {
            self.pmd_tables.insert(chunk >> (PMD_SHIFT - PTE_SHIFT));
            self.pud_tables.insert(chunk >> (PUD_SHIFT - PTE_SHIFT));
        }
    }
    /// `free_pgtables` after `[lo, hi)` was unmapped: free every table page whose range no VMA overlaps any more.
    pub fn free_pgtables(&mut self, lo: u64, hi: u64) {
        if lo >= hi {
            return;
        }
        for (shift, set) in [(PTE_SHIFT, 0usize), (PMD_SHIFT, 1), (PUD_SHIFT, 2)] {
            let first = lo >> shift;
            let last = (hi - 1) >> shift;
            let tabs: Vec<u64> = {
                let s = match set {
                    0 => &self.pte_tables,
                    1 => &self.pmd_tables,
                    _ => &self.pud_tables,
                };
                s.range(first..=last).copied().collect()
            };
            for t in tabs {
                if !self.overlaps(t << shift, (t + 1) << shift) {
                    match set {
                        0 => self.pte_tables.remove(&t),
                        1 => self.pmd_tables.remove(&t),
                        _ => self.pud_tables.remove(&t),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vma(start: u64, end: u64) -> Vma {
        Vma { start, end, flags: VM_READ | VM_WRITE, backing: Backing::Anon, pgoff: 0, anon_vma: 0, ptes: vec![None; Vma::nr_chunks(start, end)], is_heap: false }
    }

    #[test]
    fn pte_encoding_round_trips() {
        let p = pte_mk(12345, true);
        assert!(pte_present(p) && p & PTE_W != 0 && pte_frame(p) == 12345);
        assert!(!pte_present(PTE_ZERO) && !pte_present(PTE_NONE) && !pte_present(PTE_SWAP | 7));
        assert_eq!(pte_frame(pte_mk(0, false)), 0);
    }

    #[test]
    fn chunks_are_address_aligned() {
        assert_eq!(Vma::nr_chunks(510, 514), 2);
        assert_eq!(Vma::nr_chunks(512, 1024), 1);
        assert_eq!(Vma::nr_chunks(5, 5), 0);
    }

    #[test]
    fn pgtables_counted_and_freed_like_free_pgtables() {
        let mut mm = Mm { vmas: vec![vma(0, 1000), vma(1000, 1100)], ..Default::default() };
        mm.pte_alloc(0);
        mm.pte_alloc(1);
        // one PTE table per chunk, one PMD and one PUD table above them
        assert_eq!(mm.pgtables_bytes(), 4 * 4096);
        // unmap the first VMA: chunk 0 is free of VMAs, chunk 1 still overlaps [1000,1100)
        mm.vmas.remove(0);
        mm.free_pgtables(0, 1000);
        assert_eq!(mm.pte_tables.len(), 1);
        assert_eq!(mm.pgtables_bytes(), 3 * 4096);
        mm.vmas.clear();
        mm.free_pgtables(1000, 1100);
        assert_eq!(mm.pgtables_bytes(), 0);
    }

    #[test]
    fn find_vma_strict_bounds() {
        let mm = Mm { vmas: vec![vma(10, 20), vma(30, 40)], ..Default::default() };
        assert_eq!(mm.find_vma(10), Some(0));
        assert_eq!(mm.find_vma(19), Some(0));
        assert_eq!(mm.find_vma(20), None);
        assert_eq!(mm.find_vma(39), Some(1));
        assert!(mm.overlaps(19, 31) && !mm.overlaps(20, 30));
    }
}
