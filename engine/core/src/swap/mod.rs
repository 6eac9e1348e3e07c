//! mm/swap.c (with include/linux/mmzone.h `struct lruvec`, include/linux/mm_inline.h): the LRU lists.
//!
//! Every memcg has one lruvec (the simulated machine has one node) with the kernel's five lists: inactive anon,
//! active anon, inactive file, active file, unevictable. A page's list is derived from its frame bits: anon and
//! shmem pages (swap-backed) are on the anon lists, page cache on the file lists; `F_ACTIVE` (PG_active) picks
//! active or inactive. Nothing is unevictable today (no mlock), so that list stays empty.
//!
//! Order: each list is a FIFO ring of `(frame, generation)` entries: new and rotated pages enter at the head
//! (`push_back`), reclaim takes from the tail (`pop_front`), exactly the kernel's list order. Removal is lazy: a
//! page that leaves a list outside the scan (freed, activated by a reference) leaves its entry behind; an entry is
//! live only while the frame is in use, on that list, charged to that memcg and still carries the entry's
//! generation (4 bits in the frame's meta, bumped at each queueing). The rings are compacted when stale entries
//! outnumber live ones. No per-frame array is added: see docs/decisions/0005-lru-layout.md.
//!
//! A later MGLRU (CONFIG_LRU_GEN) would replace [`Lruvec`]'s rings by generations behind the same entry points
//! (`lru_add`, `lru_del`, `folio_mark_accessed`, and vmscan.rs's `shrink_lruvec`).

use crate::memcontrol::{MemcgId, Stat};
use crate::page_alloc::frames::{F_ACTIVE, F_REFERENCED, F_WORKINGSET, KIND_ANON, KIND_FILE, KIND_MASK, KIND_SHMEM, LRU_GEN_MASK, LRU_GEN_SHIFT};
use crate::vmstat::Vmstat;
use std::collections::VecDeque;

mod engine;

/// `enum lru_list` (include/linux/mmzone.h), in the kernel's order.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Lru {
    InactiveAnon = 0,
    ActiveAnon = 1,
    InactiveFile = 2,
    ActiveFile = 3,
    Unevictable = 4,
}

pub const NR_LRU_LISTS: usize = 5;

impl Lru {
    pub const ALL: [Lru; NR_LRU_LISTS] = [Lru::InactiveAnon, Lru::ActiveAnon, Lru::InactiveFile, Lru::ActiveFile, Lru::Unevictable];

    /// The list of a type (`file`) and activity.
    pub const fn of(file: bool, active: bool) -> Lru {
        match (file, active) {
            (false, false) => Lru::InactiveAnon,
            (false, true) => Lru::ActiveAnon,
            (true, false) => Lru::InactiveFile,
            (true, true) => Lru::ActiveFile,
        }
    }

    pub const fn is_file(self) -> bool {
        matches!(self, Lru::InactiveFile | Lru::ActiveFile)
    }

    pub const fn is_active(self) -> bool {
        matches!(self, Lru::ActiveAnon | Lru::ActiveFile)
    }

    pub const fn vmstat(self) -> Vmstat {
        match self {
            Lru::InactiveAnon => Vmstat::nr_inactive_anon,
            Lru::ActiveAnon => Vmstat::nr_active_anon,
            Lru::InactiveFile => Vmstat::nr_inactive_file,
            Lru::ActiveFile => Vmstat::nr_active_file,
            Lru::Unevictable => Vmstat::nr_unevictable,
        }
    }

    pub const fn memcg_stat(self) -> Option<Stat> {
        match self {
            Lru::InactiveAnon => Some(Stat::InactiveAnon),
            Lru::ActiveAnon => Some(Stat::ActiveAnon),
            Lru::InactiveFile => Some(Stat::InactiveFile),
            Lru::ActiveFile => Some(Stat::ActiveFile),
            Lru::Unevictable => None,
        }
    }
}

/// The LRU list a frame with `meta` is on (None: not an LRU page).
#[inline]
pub fn folio_lru_list(meta: u32) -> Option<Lru> {
    let file = match meta & KIND_MASK {
        KIND_ANON | KIND_SHMEM => false,
        KIND_FILE => true,
        _ => return None,
    };
    Some(Lru::of(file, meta & F_ACTIVE != 0))
}

/// One ring entry: frame in the low 32 bits, the generation tag above.
#[inline]
fn entry(frame: u32, gen: u32) -> u64 {
    u64::from(frame) | (u64::from(gen) << 32)
}

/// A ring entry of frame `frame` queued with generation `gen` (for a run queued outside this module).
#[inline]
pub(crate) fn ring_entry(frame: u32, gen: u32) -> u64 {
    entry(frame, gen)
}

/// `struct lruvec` of one memcg on the one node: the lists, their sizes, and the reclaim cost memory
/// (`lruvec->anon_cost`/`file_cost`, mm/vmscan.c:`lru_note_cost`) that SCAN_FRACT balances on.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Lruvec {
    rings: [VecDeque<u64>; NR_LRU_LISTS],
    /// Pages on each list (the live entries).
    pub nr: [u64; NR_LRU_LISTS],
    pub anon_cost: u64,
    pub file_cost: u64,
    /// Refaults seen (workingset_refault_*), the `lruvec->refaults` snapshot of the last reclaim.
    pub refaults: [u64; 2],
}

impl Lruvec {
    /// The ring of list `lru`, for a run of new pages queued at its head (the caller counts them).
    #[inline]
    pub(crate) fn ring_mut(&mut self, lru: Lru) -> &mut VecDeque<u64> {
        &mut self.rings[lru as usize]
    }

    /// Whether counting and queueing one more page on `lru` compacts its ring (the test `lru_queue` makes:
    /// more than 2 × live + 1024 entries). When it is false it stays false for every page added after it.
    #[inline]
    pub(crate) fn compaction_due_after_add(&self, lru: Lru) -> bool {
        self.rings[lru as usize].len() + 1 > 2 * (self.nr[lru as usize] as usize + 1) + 1024
    }

    pub fn len(&self, lru: Lru) -> u64 {
        self.nr[lru as usize]
    }

    /// Every ring entry names a frame below `nr_frames` (a restored snapshot; snapshot/check.rs).
    pub(crate) fn rings_in_range(&self, nr_frames: u32) -> bool {
        self.rings.iter().flatten().all(|&e| (e as u32) < nr_frames)
    }

    /// Ring entries held for a list, stale ones included (memory accounting).
    pub fn ring_entries(&self) -> usize {
        self.rings.iter().map(|r| r.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Kernel, MachineConfig};

    fn k() -> Kernel {
        Kernel::new(MachineConfig { totalram_pages: 4096, ..Default::default() }).unwrap()
    }

    #[test]
    fn fifo_order_and_lazy_deletion() {
        let mut k = k();
        let mut fs = Vec::new();
        for _ in 0..4 {
            let f = k.alloc_user_page(None, KIND_FILE).unwrap();
            k.lru_add(f, false);
            fs.push(f);
        }
        assert_eq!(k.vmstat.get(Vmstat::nr_inactive_file), 4);
        // free the oldest: its entry is stale and skipped
        k.free_user_page(fs[0]);
        assert_eq!(k.vmstat.get(Vmstat::nr_inactive_file), 3);
        // the frame is reused at once (LIFO): queued anew at the head, the old entry must not match
        let g = k.alloc_user_page(None, KIND_FILE).unwrap();
        assert_eq!(g, fs[0]);
        k.lru_add(g, false);
        assert_eq!(k.lru_isolate_tail(0, Lru::InactiveFile), Some(fs[1]));
        assert_eq!(k.lru_isolate_tail(0, Lru::InactiveFile), Some(fs[2]));
        assert_eq!(k.lru_isolate_tail(0, Lru::InactiveFile), Some(fs[3]));
        assert_eq!(k.lru_isolate_tail(0, Lru::InactiveFile), Some(g));
        assert_eq!(k.lru_isolate_tail(0, Lru::InactiveFile), None);
    }

    #[test]
    fn two_references_activate() {
        let mut k = k();
        let f = k.alloc_user_page(None, KIND_FILE).unwrap();
        k.lru_add(f, false);
        k.folio_mark_accessed(f);
        assert_eq!(k.vmstat.get(Vmstat::nr_inactive_file), 1, "the first reference only sets PG_referenced");
        assert!(k.frames.has(f, F_REFERENCED));
        k.folio_mark_accessed(f);
        assert_eq!((k.vmstat.get(Vmstat::nr_inactive_file), k.vmstat.get(Vmstat::nr_active_file)), (0, 1));
        assert_eq!(k.vmstat.get(Vmstat::pgactivate), 1);
        assert!(!k.frames.has(f, F_REFERENCED));
        // the inactive ring's entry went stale; the active ring has it
        assert_eq!(k.lru_isolate_tail(0, Lru::InactiveFile), None);
        assert_eq!(k.lru_isolate_tail(0, Lru::ActiveFile), Some(f));
        k.free_user_page(f);
        assert_eq!(k.vmstat.get(Vmstat::nr_active_file), 0);
    }

    #[test]
    fn shmem_is_on_the_anon_lists() {
        assert_eq!(folio_lru_list(KIND_SHMEM), Some(Lru::InactiveAnon));
        assert_eq!(folio_lru_list(KIND_FILE | F_ACTIVE), Some(Lru::ActiveFile));
        assert_eq!(folio_lru_list(0), None);
    }

    #[test]
    fn rings_are_compacted() {
        let mut k = k();
        for _ in 0..3000 {
            let f = k.alloc_user_page(None, KIND_ANON).unwrap();
            k.lru_add(f, false);
            k.free_user_page(f);
        }
        assert!(k.lruvec(0).unwrap().ring_entries() <= 1025, "{}", k.lruvec(0).unwrap().ring_entries());
    }
}
