//! The batched first-touch path: a run of write faults on untouched pages of one private anon VMA within one
//! page-table page, resolved in one step with the same end state as that many `do_anonymous_page` faults.
//!
//! The kernel takes these faults one by one, but batches what they share: new folios reach the LRU through a
//! per-CPU folio batch (mm/swap.c:`folio_add_lru` → `folio_batch_add_and_move`), memcg charges come out of a
//! per-CPU stock (mm/memcontrol.c:`consume_stock`), vmstat deltas are folded per CPU (mm/vmstat.c). The engine
//! does the same with what is per-fault work in its single-page path: one memcg charge of the run, one count of
//! the LRU list, one update of each counter, the PTE chunk looked up once, no per-page bounds checks.
//!
//! A run is taken only where the single-page path would run its fast path for every page of it, so that no
//! decision inside the run depends on a counter the batch updates late:
//! * every allocation is above the min watermark (`alloc_frame`: no slow path, no reclaim, no OOM): at most
//!   `nr_free - min` pages; kswapd is woken once at the end when the last allocation is at or below the low
//!   mark (the first wake-up within the run sets `kswapd_due`, later ones find it set; untimed, so `now_ns` is
//!   the same for all of them);
//! * every charge takes the memcg fast path (`MemCgroupTree::fast_charge_headroom`);
//! * untimed cost model (a timed one advances the clock and PSI per fault), cgroup v2 (v1's per-page event
//!   ratelimit files the memcg in the soft-limit tree at the usage of that page), the task not an OOM victim,
//!   and no LRU ring compaction due at the first page (none can be due later in the run: it only adds pages).
//!
//! Anything else takes the single-page path, which is the reference: kernel/tests.rs checks that both give the
//! same state.

use super::*;
use crate::kernel::Kernel;
use crate::memcontrol::{Stat, ROOT_MEMCG};
use crate::page_alloc::frames::{FrameAllocator, LRU_GEN_MASK, LRU_GEN_SHIFT, MAPCOUNT_MASK};
use std::collections::VecDeque;
use crate::swap::Lru;

/// One page of a run, first touch or COW copy: a new frame with its metadata (anon, mapcount 1, its memcg, the
/// reverse-map owner and index, the next LRU generation), its entry at the head of the inactive anon list, and a
/// young, dirty, writable PTE: what `do_anonymous_page` and `wp_page_copy` (mm/memory.c) leave for that page.
#[inline(always)]
fn map_new_anon(frames: &mut FrameAllocator, ring: &mut VecDeque<u64>, memcg: crate::types::MemcgId, root: u32, index: u32, pte: &mut u32) {
    let f = frames.alloc().expect("a run is within the free pages");
    let i = f as usize;
    let gen = (((frames.meta[i] & LRU_GEN_MASK) >> LRU_GEN_SHIFT) + 1) & 0xf;
    frames.meta[i] = (gen << LRU_GEN_SHIFT) | KIND_ANON | 1;
    frames.memcg[i] = memcg;
    frames.owner[i] = root;
    frames.index[i] = index;
    ring.push_back(crate::swap::ring_entry(f, gen));
    *pte = pte_mk(f, true) | PTE_YOUNG | PTE_DIRTY;
}

impl Kernel {
    /// How many of the `n` faults a run may take (the conditions above), with the task's memcg; None when the
    /// run must take the single-page path.
    #[inline]
    fn run_limit(&mut self, pid: u32, n: u64) -> Option<(u64, crate::types::MemcgId)> {
        let free = self.nr_free_pages();
        let mut n = n.min(free.saturating_sub(self.wmark.min));
        let memcg = self.memcg_of_pid(Some(pid));
        if memcg != ROOT_MEMCG {
            n = n.min(self.memcg.fast_charge_headroom(memcg));
        }
        if n < 2 || self.oom.current_killed.contains(&pid) {
            return None;
        }
        if self.lruvec_mut(memcg).compaction_due_after_add(Lru::InactiveAnon) {
            return None;
        }
        Some((n, memcg))
    }

    /// Whether runs may be taken at all on this machine (untimed cost model, cgroup v2).
    #[inline]
    fn runs_allowed(&self) -> bool {
        #[cfg(test)]
        if tests::SINGLE_PAGE.with(|c| c.get()) {
            return false;
        }
        !self.reclaim.cost.timed && self.memcg.mode != crate::memcontrol::CgroupMode::V1
    }

    /// The run's shared work before its pages: the VMA's anon_vma (its root id is returned) and the memcg charge
    /// of `n` pages (within the fast-charge headroom: it succeeds).
    fn run_prepare(&mut self, mm_id: u32, vi: usize, memcg: crate::types::MemcgId, n: u64) -> u32 {
        let root = self.anon_vma_prepare(mm_id, vi);
        if memcg != ROOT_MEMCG {
            let charged = self.memcg.counter_try_charge(memcg, n);
            debug_assert!(charged.is_ok(), "a run within the fast-charge headroom is charged");
        }
        root
    }

    /// The run's shared work after its pages: what `n` single faults count, each having allocated one page
    /// (`alloc_frame`, `alloc_user_page_memcg`), put it on the inactive anon list (`lru_add`) and mapped it for
    /// the first time (`rmap_add`), then `account_fault` of a completed minor fault (the untimed cost model
    /// spends no time).
    fn run_account(&mut self, pid: u32, memcg: crate::types::MemcgId, n: u64) {
        let lru = Lru::InactiveAnon;
        // alloc_frame
        if self.frames.nr_free() as u64 <= self.wmark.low {
            self.wakeup_kswapd();
        }
        self.vmstat.sub(Vmstat::nr_free_pages, n);
        self.vmstat.add(Vmstat::pgalloc_normal, n);
        self.stats.pages_allocated += n;
        let d = n as i64;
        // alloc_user_page_memcg (memcg1_page_events is v1 only)
        self.memcg.mod_stat(memcg, Stat::Pgpgin, d);
        // lru_add
        self.lruvecs[memcg as usize].nr[lru as usize] += n;
        self.vmstat.add(lru.vmstat(), n);
        if let Some(s) = lru.memcg_stat() {
            self.memcg.mod_stat(memcg, s, d);
        }
        // rmap_add: each new page's first mapping
        self.vmstat.add(Vmstat::nr_anon_pages, n);
        self.memcg.mod_stat(memcg, Stat::Anon, d);
        // account_fault
        self.vmstat.add(Vmstat::pgfault, n);
        self.memcg.mod_stat(memcg, Stat::Pgfault, d);
        if let Some(t) = self.task_mut(pid) {
            t.min_flt += n;
        }
        self.stats.faults_minor += n;
        self.last_fault = FaultKind::Minor;
    }

    /// Resolve the write faults on the run of `PTE_NONE` pages from `vpn` (below `chunk_end`, in the PTE chunk of
    /// `vpn`) of anon VMA `vi` in one step. Returns the pages done; 0 when the run must take the single-page path
    /// (the caller then faults `vpn` alone).
    pub(super) fn do_anonymous_run(&mut self, pid: u32, mm_id: u32, vi: usize, vpn: u64, chunk_end: u64) -> u64 {
        let base = vpn & !511;
        let (i0, hi) = ((vpn - base) as usize, (chunk_end - base) as usize);
        let c;
        let n = {
            let vma = &self.mm(mm_id).vmas[vi];
            if !matches!(vma.backing, Backing::Anon) {
                return 0;
            }
            c = ((vpn >> PTE_SHIFT) - vma.first_chunk()) as usize;
            match &vma.ptes[c] {
                None => (hi - i0) as u64,
                Some(t) => t[i0..hi].iter().take_while(|&&p| p == PTE_NONE).count() as u64,
            }
        };
        if n < 2 || !self.runs_allowed() {
            // a lone untouched page, or a present PTE (a COW fault): the single-page path, before any lookup
            return 0;
        }
        let Some((n, memcg)) = self.run_limit(pid, n) else { return 0 };

        let root = self.run_prepare(mm_id, vi, memcg, n);
        let new_table = {
            let mm = self.mms[mm_id as usize].as_mut().unwrap();
            let vma = &mut mm.vmas[vi];
            let (start, pgoff) = (vma.start, vma.pgoff);
            let new_table = vma.ptes[c].is_none();
            let t = vma.ptes[c].get_or_insert_with(|| Box::new([PTE_NONE; 512]));
            // The per-page work: a frame, its metadata (kind, mapcount 1, memcg, reverse map, LRU generation),
            // its ring entry at the head of the inactive anon list, its young and dirty writable PTE.
            let frames = &mut self.frames;
            let ring = self.lruvecs[memcg as usize].ring_mut(Lru::InactiveAnon);
            let first_index = pgoff + (vpn - start);
            for (k, pte) in t[i0..i0 + n as usize].iter_mut().enumerate() {
                map_new_anon(frames, ring, memcg, root, (first_index + k as u64) as u32, pte);
            }
            if new_table {
                mm.pte_alloc(vpn >> PTE_SHIFT);
            }
            new_table
        };
        self.run_account(pid, memcg, n);
        // do_anonymous_page's rmap side: the mm's RSS (and the page-table page's, in the OOM scan index)
        self.rss_add(mm_id, MmCounter::MM_ANONPAGES, n as i64);
        if new_table {
            self.oom_scan_mm(mm_id);
        }
        #[cfg(test)]
        tests::BATCHED.with(|c| c.set(c.get() + n));
        n
    }

    /// Resolve the write faults on a run of COW pages from `vpn` (below `chunk_end`, in the PTE chunk of `vpn`)
    /// of private anon VMA `vi` in one step: present read-only PTEs of anon pages mapped more than once, which
    /// `do_wp_page` copies (`wp_page_copy`; a page mapped once is reused instead: the single-page path). Returns
    /// the pages done; 0 when the run must take the single-page path.
    ///
    /// Per page the same as `wp_page_copy` with an allocation on the fast path: a new anon page (frame, its
    /// metadata, ring entry) mapped by a young, dirty, writable PTE, the old page's mapcount down by one (it
    /// stays mapped elsewhere, so it is neither unmapped from the counters nor freed); the mm's anon RSS is
    /// unchanged (+1 for the copy, -1 for the page it replaces). `current.wp_pinned`, which only direct
    /// reclaim reads, is not needed: a run never reclaims.
    pub(super) fn do_wp_run(&mut self, pid: u32, mm_id: u32, vi: usize, vpn: u64, chunk_end: u64) -> u64 {
        let base = vpn & !511;
        let (i0, hi) = ((vpn - base) as usize, (chunk_end - base) as usize);
        let c;
        let n = {
            let vma = &self.mm(mm_id).vmas[vi];
            if !matches!(vma.backing, Backing::Anon) || vma.flags & VM_SHARED != 0 {
                return 0;
            }
            c = ((vpn >> PTE_SHIFT) - vma.first_chunk()) as usize;
            let Some(t) = &vma.ptes[c] else { return 0 };
            let frames = &self.frames;
            t[i0..hi]
                .iter()
                .take_while(|&&p| {
                    p & (PTE_W | PTE_SWAP) == 0 && p >= PTE_FRAME0 && {
                        let m = frames.meta[pte_frame(p) as usize];
                        m & KIND_MASK == KIND_ANON && m & MAPCOUNT_MASK > 1
                    }
                })
                .count() as u64
        };
        if n < 2 || !self.runs_allowed() {
            return 0;
        }
        let Some((n, memcg)) = self.run_limit(pid, n) else { return 0 };

        let root = self.run_prepare(mm_id, vi, memcg, n);
        {
            let vma = &mut self.mms[mm_id as usize].as_mut().unwrap().vmas[vi];
            let (start, pgoff) = (vma.start, vma.pgoff);
            let t = vma.ptes[c].as_mut().expect("the run's chunk exists");
            let frames = &mut self.frames;
            let ring = self.lruvecs[memcg as usize].ring_mut(Lru::InactiveAnon);
            let first_index = pgoff + (vpn - start);
            for (k, pte) in t[i0..i0 + n as usize].iter_mut().enumerate() {
                let old = pte_frame(*pte) as usize;
                map_new_anon(frames, ring, memcg, root, (first_index + k as u64) as u32, pte);
                // rmap_remove of the page copied from: still mapped by another mm
                debug_assert!(frames.meta[old] & MAPCOUNT_MASK > 1, "a COW run's page stays mapped");
                frames.meta[old] -= 1;
            }
        }
        self.run_account(pid, memcg, n);
        self.last_cow = CowKind::Copy;
        #[cfg(test)]
        tests::BATCHED_COW.with(|c| c.set(c.get() + n));
        n
    }
}

#[cfg(test)]
#[path = "batch_tests.rs"]
pub(super) mod tests;
