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

use crate::kernel::Kernel;
use crate::memcontrol::{MemcgId, Stat};
use crate::page_alloc::frames::{F_ACTIVE, F_REFERENCED, F_WORKINGSET, KIND_ANON, KIND_FILE, KIND_MASK, KIND_SHMEM, LRU_GEN_MASK, LRU_GEN_SHIFT};
use crate::vmstat::Vmstat;
use std::collections::VecDeque;

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

/// `struct lruvec` of one memcg on the one node: the lists, their sizes, and the reclaim cost memory
/// (`lruvec->anon_cost`/`file_cost`, mm/vmscan.c:`lru_note_cost`) that SCAN_FRACT balances on.
#[derive(Clone, Debug, Default)]
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
    pub fn len(&self, lru: Lru) -> u64 {
        self.nr[lru as usize]
    }

    /// Ring entries held for a list, stale ones included (memory accounting).
    pub fn ring_entries(&self) -> usize {
        self.rings.iter().map(|r| r.len()).sum()
    }
}

impl Kernel {
    pub(crate) fn lruvec_mut(&mut self, memcg: MemcgId) -> &mut Lruvec {
        let i = memcg as usize;
        if self.lruvecs.len() <= i {
            self.lruvecs.resize_with(i + 1, Lruvec::default);
        }
        &mut self.lruvecs[i]
    }

    /// The lruvec of a memcg (an empty one when it never held a page).
    pub fn lruvec(&self, memcg: MemcgId) -> Option<&Lruvec> {
        self.lruvecs.get(memcg as usize)
    }

    /// Queue frame `f` at the head of the list its bits name (the counters are the caller's).
    fn lru_queue(&mut self, f: u32) {
        let meta = self.frames.meta[f as usize];
        let Some(lru) = folio_lru_list(meta) else { return };
        let gen = ((meta & LRU_GEN_MASK) >> LRU_GEN_SHIFT).wrapping_add(1) & 0xf;
        self.frames.meta[f as usize] = (meta & !LRU_GEN_MASK) | (gen << LRU_GEN_SHIFT);
        let memcg = self.frames.memcg[f as usize];
        let v = self.lruvec_mut(memcg);
        v.rings[lru as usize].push_back(entry(f, gen));
        let live = v.nr[lru as usize] as usize;
        if v.rings[lru as usize].len() > 2 * live + 1024 {
            self.lru_compact(memcg, lru);
        }
    }

    fn lru_count(&mut self, f: u32, lru: Lru, d: i64) {
        let memcg = self.frames.memcg[f as usize];
        let v = self.lruvec_mut(memcg);
        debug_assert!(d >= 0 || v.nr[lru as usize] >= (-d) as u64, "lru {lru:?} of memcg {memcg} would go negative");
        v.nr[lru as usize] = v.nr[lru as usize].wrapping_add_signed(d);
        if d > 0 {
            self.vmstat.add(lru.vmstat(), d as u64);
        } else {
            self.vmstat.sub(lru.vmstat(), (-d) as u64);
        }
        if let Some(s) = lru.memcg_stat() {
            self.memcg.mod_stat(memcg, s, d);
        }
    }

    /// mm/swap.c:`folio_add_lru`: a new page enters the head of the inactive list of its type (its kind must be
    /// set). `active` puts it on the active list instead (`folio_add_lru` of a folio already marked active, as
    /// a refault of a workingset page is).
    pub(crate) fn lru_add(&mut self, f: u32, active: bool) {
        let m = &mut self.frames.meta[f as usize];
        *m &= !(F_ACTIVE | F_REFERENCED | F_WORKINGSET);
        if active {
            *m |= F_ACTIVE;
        }
        let Some(lru) = folio_lru_list(*m) else { return };
        self.lru_count(f, lru, 1);
        self.lru_queue(f);
    }

    /// `folio_del_from_lru_list` when a page is freed: the counters drop now, its ring entry goes stale.
    pub(crate) fn lru_del(&mut self, f: u32) {
        if let Some(lru) = folio_lru_list(self.frames.meta[f as usize]) {
            self.lru_count(f, lru, -1);
        }
    }

    /// Move a page (on an LRU list now) to the head of list `to` (same type), counting it.
    pub(crate) fn lru_move(&mut self, f: u32, to: Lru) {
        let meta = self.frames.meta[f as usize];
        let Some(from) = folio_lru_list(meta) else { return };
        if from != to {
            self.lru_count(f, from, -1);
            let m = &mut self.frames.meta[f as usize];
            if to.is_active() {
                *m |= F_ACTIVE;
            } else {
                *m &= !F_ACTIVE;
            }
            self.lru_count(f, to, 1);
        }
        self.lru_queue(f);
    }

    /// mm/swap.c:`folio_mark_accessed` (read(2) and other accesses that do not go through a PTE): an inactive,
    /// unreferenced page becomes referenced; an inactive referenced page is activated (`folio_activate`,
    /// `pgactivate`) and loses the referenced flag; an active page just becomes referenced.
    pub(crate) fn folio_mark_accessed(&mut self, f: u32) {
        let meta = self.frames.meta[f as usize];
        let Some(lru) = folio_lru_list(meta) else { return };
        if !lru.is_active() && meta & F_REFERENCED != 0 {
            self.frames.meta[f as usize] &= !F_REFERENCED;
            self.lru_move(f, Lru::of(lru.is_file(), true));
            self.vmstat.inc(Vmstat::pgactivate);
        } else if meta & F_REFERENCED == 0 {
            self.frames.meta[f as usize] |= F_REFERENCED;
        }
    }

    /// Is ring entry `e` of (memcg, lru) the live position of its frame?
    #[inline]
    fn lru_entry_live(&self, memcg: MemcgId, lru: Lru, e: u64) -> bool {
        let f = e as u32;
        let gen = (e >> 32) as u32;
        if f >= self.frames.high_water() || !self.frames.in_use(f) {
            return false;
        }
        let meta = self.frames.meta[f as usize];
        folio_lru_list(meta) == Some(lru) && self.frames.memcg[f as usize] == memcg && (meta & LRU_GEN_MASK) >> LRU_GEN_SHIFT == gen
    }

    /// Take the page at the tail of (memcg, lru), skipping stale entries (`lru_to_folio` + isolation). The page
    /// stays counted on its list; the caller either frees it or puts it back with [`Kernel::lru_move`].
    pub(crate) fn lru_isolate_tail(&mut self, memcg: MemcgId, lru: Lru) -> Option<u32> {
        loop {
            let e = self.lruvecs.get_mut(memcg as usize)?.rings[lru as usize].pop_front()?;
            if self.lru_entry_live(memcg, lru, e) {
                return Some(e as u32);
            }
        }
    }

    fn lru_compact(&mut self, memcg: MemcgId, lru: Lru) {
        let ring = std::mem::take(&mut self.lruvecs[memcg as usize].rings[lru as usize]);
        let kept: VecDeque<u64> = ring.into_iter().filter(|&e| self.lru_entry_live(memcg, lru, e)).collect();
        self.lruvecs[memcg as usize].rings[lru as usize] = kept;
    }

    /// Pages on list `lru` summed over the memcgs of `root`'s subtree (all memcgs for the root).
    pub fn lru_size_subtree(&self, root: MemcgId, lru: Lru) -> u64 {
        self.lruvecs.iter().enumerate().filter(|(m, _)| self.memcg.is_descendant(*m as MemcgId, root)).map(|(_, v)| v.nr[lru as usize]).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::MachineConfig;

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
