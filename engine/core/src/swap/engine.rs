//! mm/swap.c on the engine: lruvecs per memcg, adding, deleting, rotating and activating pages on the LRU lists
//! (`lru_add`, `lru_del`, `folio_mark_accessed`), the lists' vmstat and memcg counters.

use super::*;
use crate::kernel::Kernel;

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
