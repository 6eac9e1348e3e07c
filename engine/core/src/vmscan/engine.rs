//! mm/vmscan.c on the engine: what drives the pure decisions of [`crate::vmscan`]. Direct reclaim
//! (`try_to_free_pages`, `do_try_to_free_pages`, `shrink_node`, `shrink_lruvec`), the LRU lists (`shrink_active_list`,
//! `shrink_inactive_list`, `shrink_folio_list`, rmap reference checks), memcg reclaim (`try_to_free_mem_cgroup_pages`,
//! soft limit `mem_cgroup_shrink_node`), kswapd (`wakeup_kswapd`, `balance_pgdat`) and the stall accounting
//! that feeds PSI.

use super::*;
use crate::kernel::Kernel;
use crate::memcontrol::{MemcgEvent, MemcgId, Stat, ROOT_MEMCG};
use crate::mm_types::*;
use crate::page_alloc::frames::{F_DIRTY, F_REFERENCED, F_SWAPCACHE, F_WORKINGSET, KIND_ANON, KIND_FILE, KIND_MASK, KIND_SHMEM};
use crate::swap::Lru;
use crate::vmstat::Vmstat;

/// What `folio_check_references` decided.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum FolioRef {
    Activate,
    Keep,
    Reclaim,
}

/// What `shrink_folio_list` did with one page.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum FolioOutcome {
    /// Freed (`nr_reclaimed`).
    Reclaimed,
    /// Back to the head of its inactive list.
    Keep,
    /// To the head of its active list (`pgactivate`).
    Activate,
}

impl Kernel {
    /// mm/vmscan.c:`zone_reclaimable_pages`: the file LRU pages, plus the anon LRU pages when swap has free
    /// slots; when there are none, the zone's free pages (so a zone with free pages is not given up).
    /// should_reclaim_retry() weighs this against the min watermark.
    pub fn reclaimable_pages(&self) -> u64 {
        let v = |i| self.vmstat.get(i);
        let mut n = v(Vmstat::nr_inactive_file) + v(Vmstat::nr_active_file);
        if self.swap.nr_free > 0 {
            n += v(Vmstat::nr_inactive_anon) + v(Vmstat::nr_active_anon);
        }
        if n == 0 {
            n = self.nr_free_pages();
        }
        n
    }

    /// mm/vmscan.c:`try_to_free_pages` (one direct-reclaim entry): [`Kernel::do_try_to_free_pages`] for
    /// max(nr, SWAP_CLUSTER_MAX) pages over the whole node, under a PSI memstall of the allocating task. Returns
    /// the pages reclaimed.
    pub fn try_to_free_pages(&mut self, nr_to_reclaim: u64) -> u64 {
        self.try_to_free_pages_for(None, nr_to_reclaim)
    }

    pub(crate) fn try_to_free_pages_for(&mut self, pid: Option<u32>, nr_to_reclaim: u64) -> u64 {
        let mut sc = ScanControl::new(nr_to_reclaim.max(SWAP_CLUSTER_MAX), None, true, false);
        let r = self.do_try_to_free_pages(&mut sc);
        let pid = pid.or(self.current.task());
        self.memstall(pid, sc.cost_ns);
        r
    }

    /// mm/vmscan.c:`try_to_free_mem_cgroup_pages`: limit reclaim of `memcg`'s subtree with the same shrink code,
    /// honouring memory.min/low of the memcgs below it. Returns the pages reclaimed.
    pub fn try_to_free_mem_cgroup_pages(&mut self, memcg: MemcgId, nr_pages: u64, may_swap: bool) -> u64 {
        let mut sc = ScanControl::new(nr_pages.max(SWAP_CLUSTER_MAX), Some(memcg), may_swap, false);
        let r = self.do_try_to_free_pages(&mut sc);
        let pid = self.current.task();
        self.memstall(pid, sc.cost_ns);
        r
    }

    /// mm/vmscan.c:`do_try_to_free_pages`: shrink the node at priorities 12 down to 0 until enough is reclaimed.
    /// A call that reclaimed nothing starts over from its first priority, once with a full memcg walk, then with
    /// forced deactivation if an active list was skipped, then ignoring memory.low if a protected memcg was
    /// skipped. Global reclaim counts `allocstall_normal` at the start of every pass (the kernel counts the zone
    /// of the request's highest zone: for GFP_HIGHUSER_MOVABLE allocstall_movable, which the model lacks).
    pub fn do_try_to_free_pages(&mut self, sc: &mut ScanControl) -> u64 {
        let initial_priority = sc.priority;
        loop {
            if sc.target_memcg.is_none() {
                self.vmstat.inc(Vmstat::allocstall_normal);
            }
            loop {
                sc.nr_scanned = 0;
                // shrink_zones(): global reclaim first reclaims from the v1 memcgs furthest above their soft limit
                if sc.target_memcg.is_none() {
                    let (reclaimed, scanned, ns) = self.memcg1_soft_limit_reclaim(sc.kswapd);
                    sc.nr_reclaimed += reclaimed;
                    sc.nr_scanned += scanned;
                    sc.cost_ns += ns;
                }
                self.shrink_node(sc);
                if sc.nr_reclaimed >= sc.nr_to_reclaim || sc.priority == 0 {
                    break;
                }
                sc.priority -= 1;
            }
            if sc.nr_reclaimed > 0 {
                return sc.nr_reclaimed;
            }
            sc.priority = initial_priority;
            if !sc.memcg_full_walk {
                sc.memcg_full_walk = true;
            } else if sc.skipped_deactivate {
                sc.force_deactivate = true;
                sc.skipped_deactivate = false;
            } else if sc.memcg_low_skipped {
                sc.force_deactivate = false;
                sc.memcg_low_reclaim = true;
                sc.memcg_low_skipped = false;
            } else {
                return 0;
            }
        }
    }

    /// mm/vmscan.c:`prepare_scan_control` (deactivation and the file_is_tiny/cache_trim_mode decisions on the
    /// target's lists) then `shrink_node_memcgs`: every memcg of the target subtree, parents first, skipping
    /// those below memory.min and — on the first pass — below memory.low (the second pass counts a `low` event).
    /// A partial walk (direct reclaim's first pass) stops once enough was reclaimed.
    fn shrink_node(&mut self, sc: &mut ScanControl) {
        let root = sc.target_memcg.unwrap_or(ROOT_MEMCG);
        let size = |k: &Kernel, l: Lru| k.lru_size_subtree(root, l);
        let (ia, aa, inf, af) = (size(self, Lru::InactiveAnon), size(self, Lru::ActiveAnon), size(self, Lru::InactiveFile), size(self, Lru::ActiveFile));
        if sc.force_deactivate {
            sc.may_deactivate_anon = true;
            sc.may_deactivate_file = true;
        } else {
            // (refault-driven deactivation needs workingset shadow entries, which are not modelled)
            sc.may_deactivate_anon = inactive_is_low(ia, aa).1;
            sc.may_deactivate_file = inactive_is_low(inf, af).1;
        }
        sc.cache_trim_mode = cache_trim_mode(inf, sc.priority, sc.may_deactivate_file, false);
        if sc.target_memcg.is_none() {
            let node = |l: Lru| self.vmstat.get(l.vmstat());
            let file = node(Lru::InactiveFile) + node(Lru::ActiveFile);
            sc.file_is_tiny = file_is_tiny(file, self.nr_free_pages(), self.wmark.high, sc.may_deactivate_anon, node(Lru::InactiveAnon), sc.priority);
        }
        (sc.anon_cost, sc.file_cost) = self.lruvec(root).map(|v| (v.anon_cost, v.file_cost)).unwrap_or((0, 0));
        let reclaimed_before = sc.nr_reclaimed;
        for memcg in self.memcg.subtree(root) {
            self.memcg.mem_cgroup_calculate_protection(sc.target_memcg, memcg);
            if self.memcg.mem_cgroup_below_min(sc.target_memcg, memcg) {
                continue;
            }
            if self.memcg.mem_cgroup_below_low(sc.target_memcg, memcg) {
                if !sc.memcg_low_reclaim {
                    sc.memcg_low_skipped = true;
                    continue;
                }
                self.memcg.memcg_memory_event(memcg, MemcgEvent::Low);
            }
            self.shrink_lruvec(memcg, sc);
            if !sc.memcg_full_walk && sc.nr_reclaimed >= sc.nr_to_reclaim {
                break;
            }
        }
        if sc.nr_reclaimed > reclaimed_before {
            self.reclaim.kswapd_failures = 0;
        }
    }

    /// mm/memcontrol.c:`mem_cgroup_get_nr_swap_pages`: free swap slots, capped (cgroup v2) by the swap.max room of
    /// the memcg and each non-root ancestor.
    fn mem_cgroup_get_nr_swap_pages(&self, memcg: MemcgId) -> i64 {
        let mut nr = i64::from(self.swap.nr_free);
        if self.memcg.do_memsw_account() {
            return nr;
        }
        let mut m = Some(memcg);
        while let Some(id) = m {
            if self.memcg.is_root(id) {
                break;
            }
            if let Some(c) = self.memcg.swap(id) {
                nr = nr.min(c.max.min(i64::MAX as u64) as i64 - c.usage as i64);
            }
            m = self.memcg.parent(id);
        }
        nr
    }

    /// mm/vmscan.c:`get_scan_count` for one memcg's lruvec: the scan targets of the four evictable lists.
    fn get_scan_count(&self, memcg: MemcgId, sc: &ScanControl) -> [u64; 4] {
        // can_reclaim_anon_pages(): a free slot the memcg may use
        let can_reclaim_anon = sc.may_swap && self.mem_cgroup_get_nr_swap_pages(memcg) > 0;
        let swappiness = self.memcg.mem_cgroup_swappiness(memcg);
        let balance = get_scan_balance(&ScanBalanceInput {
            can_reclaim_anon,
            cgroup_reclaim: sc.target_memcg.is_some(),
            swappiness,
            priority: sc.priority,
            file_is_tiny: sc.file_is_tiny,
            cache_trim_mode: sc.cache_trim_mode,
        });
        let (fraction, denominator) = calculate_pressure_balance(swappiness, sc.anon_cost, sc.file_cost);
        let Some(v) = self.lruvec(memcg) else { return [0; 4] };
        let protected = !self.memcg.is_root(memcg) && Some(memcg) != sc.target_memcg;
        let (emin, elow, usage) = {
            let c = self.memcg.memory(memcg);
            (c.emin, c.elow, c.usage)
        };
        let mut out = [0u64; 4];
        for (i, lru) in [Lru::InactiveAnon, Lru::ActiveAnon, Lru::InactiveFile, Lru::ActiveFile].into_iter().enumerate() {
            let mut size = v.len(lru);
            if protected {
                size = apply_proportional_protection(size, usage, emin, elow, sc.memcg_low_reclaim).scan;
            }
            out[i] = scan_target(size, sc.priority, lru.is_file(), balance, fraction, denominator);
        }
        out
    }

    /// mm/vmscan.c:`shrink_lruvec`. The four targets are worked off round-robin, at most SWAP_CLUSTER_MAX from each
    /// list per round, while inactive anon or either file list has some left. Once this lruvec has reclaimed
    /// nr_to_reclaim, global direct reclaim at DEF_PRIORITY keeps going (`proportional_reclaim`); otherwise it
    /// stops when either type has nothing left, else the type with less left stops and the other's remaining
    /// target is cut to the share of its original target the stopped type had not scanned (one nudge toward the
    /// planned proportion). Afterwards the active anon list is aged when swap exists and its inactive list is low.
    fn shrink_lruvec(&mut self, memcg: MemcgId, sc: &mut ScanControl) {
        const IA: usize = 0;
        const AA: usize = 1;
        const IF: usize = 2;
        const AF: usize = 3;
        let mut nr = self.get_scan_count(memcg, sc);
        let targets = nr;
        let lrus = [Lru::InactiveAnon, Lru::ActiveAnon, Lru::InactiveFile, Lru::ActiveFile];
        let proportional_reclaim = sc.target_memcg.is_none() && !sc.kswapd && sc.priority == DEF_PRIORITY;
        let mut nr_reclaimed = 0;
        while nr[IA] != 0 || nr[AF] != 0 || nr[IF] != 0 {
            for i in 0..4 {
                if nr[i] != 0 {
                    let n = nr[i].min(SWAP_CLUSTER_MAX);
                    nr[i] -= n;
                    nr_reclaimed += self.shrink_list(memcg, lrus[i], n, sc);
                }
            }
            if nr_reclaimed < sc.nr_to_reclaim || proportional_reclaim {
                continue;
            }
            let nr_file = nr[IF] + nr[AF];
            let nr_anon = nr[IA] + nr[AA];
            if nr_file == 0 || nr_anon == 0 {
                break;
            }
            let (percentage, other) = if nr_file > nr_anon {
                let p = nr_anon * 100 / (targets[IA] + targets[AA] + 1);
                nr[IA] = 0;
                nr[AA] = 0;
                (p, [IF, AF])
            } else {
                let p = nr_file * 100 / (targets[IF] + targets[AF] + 1);
                nr[IF] = 0;
                nr[AF] = 0;
                (p, [IA, AA])
            };
            for l in other {
                let scanned = targets[l] - nr[l];
                nr[l] = targets[l] * (100 - percentage) / 100;
                nr[l] -= nr[l].min(scanned);
            }
        }
        sc.nr_reclaimed += nr_reclaimed;
        // "even if we did not try to evict anon pages at all, we want to rebalance the anon lru active/inactive
        // ratio" (can_age_anon_pages: swap exists, even if full)
        if self.swap.total > 0 {
            let (ia, aa) = (self.lru_size_subtree(memcg, Lru::InactiveAnon), self.lru_size_subtree(memcg, Lru::ActiveAnon));
            if inactive_is_low(ia, aa).1 {
                self.shrink_active_list(memcg, Lru::ActiveAnon, SWAP_CLUSTER_MAX, sc);
            }
        }
    }

    /// mm/vmscan.c:`shrink_list`: an active list is aged only when it may be deactivated (otherwise that is noted
    /// for the forced-deactivation retry); an inactive list is reclaimed from. Returns pages reclaimed.
    fn shrink_list(&mut self, memcg: MemcgId, lru: Lru, n: u64, sc: &mut ScanControl) -> u64 {
        if lru.is_active() {
            let may = if lru.is_file() { sc.may_deactivate_file } else { sc.may_deactivate_anon };
            if may {
                self.shrink_active_list(memcg, lru, n, sc);
            } else {
                sc.skipped_deactivate = true;
            }
            0
        } else {
            self.shrink_inactive_list(memcg, lru, n, sc)
        }
    }

    /// mm/vmscan.c:`shrink_active_list`: take `n` pages from the active tail (`pgrefill`, global reclaim only),
    /// read and clear their young PTE bits (`folio_referenced`) and move them to the inactive head, marked
    /// workingset, keeping PG_referenced (`pgdeactivate`). (Referenced executable file pages, which the kernel
    /// keeps active, are not modelled: no VM_EXEC.)
    fn shrink_active_list(&mut self, memcg: MemcgId, lru: Lru, n: u64, sc: &mut ScanControl) {
        let inactive = Lru::of(lru.is_file(), false);
        let mut moved = 0;
        for _ in 0..n {
            let Some(f) = self.lru_isolate_tail(memcg, lru) else { break };
            if sc.target_memcg.is_none() {
                self.vmstat.inc(Vmstat::pgrefill);
            }
            self.memcg.mod_stat(memcg, Stat::Pgrefill, 1);
            sc.cost_ns += self.reclaim.cost.reclaim_scan_ns;
            self.folio_referenced(f, sc.target_memcg);
            self.frames.meta[f as usize] |= F_WORKINGSET;
            self.lru_move(f, inactive);
            moved += 1;
        }
        self.vmstat.add(Vmstat::pgdeactivate, moved);
        self.memcg.mod_stat(memcg, Stat::Pgdeactivate, moved as i64);
    }

    /// mm/rmap.c:`folio_referenced`: the PTEs mapping `f` (found like `try_to_unmap` finds them) whose accessed
    /// bit is set are counted and the bit cleared. For memcg reclaim only the mappings of mms whose owner is in
    /// the target's subtree are looked at (`invalid_folio_referenced_vma` → `mm_match_cgroup`). The walk stops
    /// once it has seen the frame's mapcount of PTEs (the rmap walk's `mapcount` countdown, `rmap_walk_anon`'s
    /// `rwc->done` on `!folio_mapped`): no other PTE maps it.
    fn folio_referenced(&mut self, f: u32, target: Option<MemcgId>) -> u32 {
        let mapcount = self.frames.mapcount(f);
        if mapcount == 0 {
            return 0;
        }
        let meta = self.frames.meta[f as usize];
        let (owner, index) = (self.frames.owner[f as usize], u64::from(self.frames.index[f as usize]));
        let anon = meta & KIND_MASK == KIND_ANON;
        let (mut referenced, mut seen) = (0, 0);
        for (mm_id, mm) in self.mms.iter_mut().enumerate() {
            let Some(mm) = mm else { continue };
            for v in mm.vmas.iter_mut() {
                let maps = if anon { v.anon_vma == owner && v.anon_vma != 0 } else { v.backing == Backing::File(owner) };
                if !(maps && v.pgoff <= index && index < v.pgoff + v.pages()) {
                    continue;
                }
                let vpn = v.start + (index - v.pgoff);
                let c = ((vpn >> PTE_SHIFT) - v.first_chunk()) as usize;
                let Some(t) = v.ptes[c].as_mut() else { continue };
                let pte = &mut t[(vpn & 511) as usize];
                if !pte_present(*pte) || pte_frame(*pte) != f {
                    continue;
                }
                seen += 1;
                if *pte & PTE_YOUNG != 0 {
                    let allowed = match target {
                        None => true,
                        Some(t) => self.tasks.iter().find(|k| k.mm == mm_id as u32).is_some_and(|k| self.memcg.is_descendant(k.memcg, t)),
                    };
                    if allowed {
                        *pte &= !PTE_YOUNG;
                        referenced += 1;
                    }
                }
                if seen == mapcount {
                    return referenced;
                }
            }
        }
        referenced
    }

    /// mm/vmscan.c:`folio_check_references`: a page with young PTEs gets PG_referenced and is activated when it
    /// had PG_referenced already or is young in more than one mapping, else kept (rotated): a mapped page needs
    /// two looks to be activated. A page without young PTEs is reclaimed (a page-cache page with PG_referenced
    /// only if clean, which direct reclaim requires anyway).
    fn folio_check_references(&mut self, f: u32, target: Option<MemcgId>) -> FolioRef {
        let referenced_ptes = self.folio_referenced(f, target);
        let referenced_folio = self.frames.has(f, F_REFERENCED);
        self.frames.meta[f as usize] &= !F_REFERENCED;
        if referenced_ptes > 0 {
            self.frames.meta[f as usize] |= F_REFERENCED;
            if referenced_folio || referenced_ptes > 1 {
                return FolioRef::Activate;
            }
            return FolioRef::Keep;
        }
        FolioRef::Reclaim
    }

    /// mm/vmscan.c:`shrink_inactive_list` + `shrink_folio_list`: take `n` pages from the inactive tail (pgscan),
    /// check their references, and reclaim the rest (see [`Kernel::shrink_folio`]). Survivors go back to the head
    /// of their inactive list (kept) or their active list (activated, `pgactivate`). pgscan/pgsteal_direct (or
    /// _kswapd) count global reclaim only; pgscan/pgsteal_anon/file always. The cost noted for the lruvec
    /// (`lru_note_cost`) is the pages written and the pages not reclaimed.
    fn shrink_inactive_list(&mut self, memcg: MemcgId, lru: Lru, n: u64, sc: &mut ScanControl) -> u64 {
        let file = lru.is_file();
        let mut taken = Vec::new();
        for _ in 0..n {
            let Some(f) = self.lru_isolate_tail(memcg, lru) else { break };
            taken.push(f);
        }
        let scanned = taken.len() as u64;
        let (mut reclaimed, mut io) = (0u64, 0u64);
        for f in taken {
            sc.cost_ns += self.reclaim.cost.reclaim_scan_ns;
            match self.shrink_folio(f, sc, &mut io) {
                FolioOutcome::Reclaimed => reclaimed += 1,
                FolioOutcome::Keep => self.lru_move(f, lru),
                FolioOutcome::Activate => {
                    // activate_locked: a swap-cache page gives its slot back when swap is full
                    // (mem_cgroup_swap_full → folio_free_swap, only if no swap PTE still uses the slot)
                    if self.frames.has(f, F_SWAPCACHE) && self.swap.vm_swap_full() && self.anon_swap_refs(f) == 0 {
                        self.free_swap_cache_of(f);
                    }
                    self.lru_move(f, Lru::of(file, true));
                    self.vmstat.inc(Vmstat::pgactivate);
                    self.memcg.mod_stat(memcg, Stat::Pgactivate, 1);
                }
            }
        }
        let (scan_c, steal_c, mscan, msteal) = if sc.kswapd {
            (Vmstat::pgscan_kswapd, Vmstat::pgsteal_kswapd, Stat::PgscanKswapd, Stat::PgstealKswapd)
        } else {
            (Vmstat::pgscan_direct, Vmstat::pgsteal_direct, Stat::PgscanDirect, Stat::PgstealDirect)
        };
        let (scan_t, steal_t) = if file { (Vmstat::pgscan_file, Vmstat::pgsteal_file) } else { (Vmstat::pgscan_anon, Vmstat::pgsteal_anon) };
        if sc.target_memcg.is_none() {
            self.vmstat.add(scan_c, scanned);
            self.vmstat.add(steal_c, reclaimed);
        }
        self.vmstat.add(scan_t, scanned);
        self.vmstat.add(steal_t, reclaimed);
        self.memcg.mod_stat(memcg, mscan, scanned as i64);
        self.memcg.mod_stat(memcg, msteal, reclaimed as i64);
        sc.nr_scanned += scanned;
        self.lru_note_cost(memcg, file, io, scanned - reclaimed);
        reclaimed
    }

    /// mm/vmscan.c:`shrink_folio_list` for one isolated inactive page:
    /// * references: activate or keep as [`Kernel::folio_check_references`] says;
    /// * an anon page not in the swap cache gets a slot (`add_to_swap`; none, or the v2 swap charge refused:
    ///   activate) and is then unmapped (its PTEs become swap entries), written (`pswpout`) and freed; a mapped
    ///   swap-cache page the same without a new slot (written again: no PTE dirty bits, see
    ///   docs/decisions/0004); an unmapped swap-cache page is clean and just freed;
    /// * a page-cache page is unmapped first; a dirty one is then left to the flusher and activated (kswapd
    ///   writes it back); a clean one is dropped from the page cache and freed;
    /// * a shmem page (dirty from its allocation: no PTE dirty bits) is unmapped, then `shmem_writeout` moves it
    ///   to the swap cache (no slot or swap charge: activate) and it is written and freed.
    ///
    /// `io` counts the pages written (`nr_pageout`).
    fn shrink_folio(&mut self, f: u32, sc: &mut ScanControl, io: &mut u64) -> FolioOutcome {
        match self.folio_check_references(f, sc.target_memcg) {
            FolioRef::Activate => return FolioOutcome::Activate,
            FolioRef::Keep => return FolioOutcome::Keep,
            FolioRef::Reclaim => {}
        }
        // a page a fault holds (wp_page_copy's reference) can be unmapped but neither written (pageout():
        // is_page_cache_freeable) nor freed (__remove_mapping's refcount freeze): kept on the inactive list
        let pinned = self.current.wp_pinned == Some(f);
        match self.frames.kind(f) {
            KIND_ANON if pinned => self.shrink_pinned_anon(f),
            KIND_ANON => {
                // F_DIRTY on an anon page: in the swap cache but not written yet (reclaim kept it while it was held)
                if self.frames.has(f, F_SWAPCACHE) && self.frames.mapcount(f) == 0 && !self.frames.has(f, F_DIRTY) {
                    // __remove_mapping of a clean swap-cache page: no write
                    let slot = self.swap.cache.slot_of(f).expect("swap-cache frame has a slot");
                    self.delete_from_swap_cache(slot, f);
                    self.mem_cgroup_swapout(f, slot);
                    self.free_user_page_uncharge(f, false);
                    return FolioOutcome::Reclaimed;
                }
                if self.swap_out_anon_page(f, false) == crate::swapfile::SwapOut::Done {
                    *io += 1;
                    sc.cost_ns += self.reclaim.cost.swapout_ns;
                    FolioOutcome::Reclaimed
                } else {
                    FolioOutcome::Activate
                }
            }
            KIND_FILE => {
                if self.frames.mapcount(f) > 0 {
                    self.try_to_unmap_file(f);
                }
                if self.frames.has(f, F_DIRTY) {
                    if !sc.kswapd {
                        // only kswapd writes page cache from reclaim: PG_reclaim, activate
                        return FolioOutcome::Activate;
                    }
                    if pinned {
                        return FolioOutcome::Keep;
                    }
                    // pageout(): kswapd writes the page back; it is clean when the write completes
                    self.clear_dirty(f);
                    self.vmstat.add(Vmstat::pgpgout, 4);
                    *io += 1;
                    sc.cost_ns += self.reclaim.cost.writeback_ns;
                }
                if pinned {
                    return FolioOutcome::Keep;
                }
                self.delete_from_page_cache(f);
                FolioOutcome::Reclaimed
            }
            KIND_SHMEM => {
                if self.frames.has(f, F_SWAPCACHE) {
                    if pinned {
                        return FolioOutcome::Keep;
                    }
                    // already written to swap (a swapout that kept it in the swap cache): clean, just freed
                    let slot = self.swap.cache.slot_of(f).expect("swap-cache frame has a slot");
                    self.delete_from_swap_cache(slot, f);
                    self.mem_cgroup_swapout(f, slot);
                    self.free_user_page_uncharge(f, false);
                    return FolioOutcome::Reclaimed;
                }
                if self.frames.mapcount(f) > 0 {
                    self.try_to_unmap_file(f);
                }
                if pinned {
                    return FolioOutcome::Keep;
                }
                if self.shmem_writeout_unmapped(f) {
                    *io += 1;
                    sc.cost_ns += self.reclaim.cost.swapout_ns;
                    FolioOutcome::Reclaimed
                } else {
                    FolioOutcome::Activate
                }
            }
            _ => FolioOutcome::Keep,
        }
    }

    /// `shrink_folio_list` on an anon page a fault holds: `add_to_swap` if it is not in the swap cache yet (no slot
    /// or a refused swap charge: activate), which dirties it; `try_to_unmap` turns its PTEs into swap entries (a
    /// mapped swap-cache page counts as dirty again: no PTE dirty bits are read, as for the unheld pages); then
    /// `pageout()` refuses the held page and it is kept, dirty — unwritten — in the swap cache (F_DIRTY).
    fn shrink_pinned_anon(&mut self, f: u32) -> FolioOutcome {
        let slot = match self.swap.cache.slot_of(f) {
            Some(slot) => slot,
            None => {
                let Ok(slot) = self.folio_alloc_swap(f) else { return FolioOutcome::Activate };
                self.add_to_swap_cache(slot, f);
                self.frames.meta[f as usize] |= F_DIRTY;
                slot
            }
        };
        if self.frames.mapcount(f) > 0 {
            self.frames.meta[f as usize] |= F_DIRTY;
            self.try_to_unmap_anon(f, slot);
        }
        FolioOutcome::Keep
    }

    /// mm/shmem.c:`shmem_writeout` for a shmem page reclaim has already unmapped: no swap device, no free slot or
    /// a refused memcg swap charge leave it (false: reclaim activates it); otherwise the mapping's entry becomes
    /// the swap entry (`shmem_delete_from_page_cache`), the page enters the swap cache, is written (`pswpout`)
    /// and, clean now, freed (`__remove_mapping`) with its memory charge moved to the entry (`mem_cgroup_swapout`).
    fn shmem_writeout_unmapped(&mut self, f: u32) -> bool {
        let Ok(slot) = self.folio_alloc_swap(f) else { return false };
        self.shmem_move_to_swap(f, slot, false);
        true
    }

    /// mm/vmscan.c:`lru_note_cost`: `nr_io * SWAP_CLUSTER_MAX + nr_rotated` is added to the anon or file cost of the
    /// lruvec and each ancestor; a lruvec whose costs exceed a quarter of its (hierarchical) size halves both.
    fn lru_note_cost(&mut self, memcg: MemcgId, file: bool, nr_io: u64, nr_rotated: u64) {
        let cost = nr_io * SWAP_CLUSTER_MAX + nr_rotated;
        if cost == 0 {
            return;
        }
        let mut m = Some(memcg);
        while let Some(id) = m {
            let size: u64 = [Lru::InactiveAnon, Lru::ActiveAnon, Lru::InactiveFile, Lru::ActiveFile].into_iter().map(|l| self.lru_size_subtree(id, l)).sum();
            let v = self.lruvec_mut(id);
            if file {
                v.file_cost += cost;
            } else {
                v.anon_cost += cost;
            }
            if v.anon_cost + v.file_cost > size / 4 {
                v.anon_cost /= 2;
                v.file_cost /= 2;
            }
            m = self.memcg.parent(id);
        }
    }

    fn clear_dirty(&mut self, f: u32) {
        if self.frames.has(f, F_DIRTY) {
            self.frames.meta[f as usize] &= !F_DIRTY;
            self.vmstat.sub(Vmstat::nr_dirty, 1);
            self.memcg.mod_stat(self.frames.memcg[f as usize], Stat::FileDirty, -1);
        }
    }

    /// mm/rmap.c:`try_to_unmap` for a page-cache page (file or shmem): every PTE mapping it (found through the
    /// VMAs mapping its file) is cleared, and the mapper's RssFile or RssShmem drops; the next access faults it in
    /// again. Page-cache pages leave no swap entry in the page table.
    pub(crate) fn try_to_unmap_file(&mut self, f: u32) {
        let (fid, index) = (self.frames.owner[f as usize], u64::from(self.frames.index[f as usize]));
        let mapcount = self.frames.mapcount(f);
        let mut seen = 0;
        for mm_id in 0..self.mms.len() as u32 {
            let nvmas = self.mms[mm_id as usize].as_ref().map_or(0, |mm| mm.vmas.len());
            for vi in 0..nvmas {
                if seen == mapcount {
                    return;
                }
                let v = &self.mm(mm_id).vmas[vi];
                if !(v.backing == Backing::File(fid) && v.pgoff <= index && index < v.pgoff + v.pages()) {
                    continue;
                }
                let vpn = v.start + (index - v.pgoff);
                let pte = v.pte(vpn);
                if pte_present(pte) && pte_frame(pte) == f {
                    // unmapping one PTE changes no other, so doing it as the walk finds it is the same as after it
                    seen += 1;
                    self.set_pte(mm_id, vi, vpn, PTE_NONE);
                    self.rss_add(mm_id, crate::memory::kind_counter(self.frames.kind(f)), -1);
                    self.rmap_remove(f);
                }
            }
        }
    }

    /// mm/filemap.c:`__filemap_remove_folio` + free: a clean, unmapped page-cache page leaves its file and is freed.
    fn delete_from_page_cache(&mut self, f: u32) {
        let (fid, idx) = (self.frames.owner[f as usize] as usize, self.frames.index[f as usize] as usize);
        let file = &mut self.files[fid];
        file.cache.set(idx as u64, 0);
        file.nr_cached -= 1;
        self.vmstat.sub(Vmstat::nr_file_pages, 1);
        self.memcg.mod_stat(self.frames.memcg[f as usize], Stat::File, -1);
        self.free_user_page(f);
    }

    /// mm/vmscan.c:`mem_cgroup_shrink_node` (soft limit reclaim of one memcg): `shrink_lruvec` of that memcg's
    /// own lists for SWAP_CLUSTER_MAX pages at priority 0 (the kernel's deliberate "hack" so the whole lists
    /// are eligible), as cgroup reclaim, without `prepare_scan_control`: no deactivation of the active lists,
    /// zero reclaim costs in the anon/file balance. Returns (reclaimed, scanned, cost in ns).
    pub(crate) fn mem_cgroup_shrink_node(&mut self, memcg: MemcgId, kswapd: bool) -> (u64, u64, u64) {
        let mut sc = ScanControl::new(SWAP_CLUSTER_MAX, Some(memcg), true, kswapd);
        sc.priority = 0;
        self.shrink_lruvec(memcg, &mut sc);
        (sc.nr_reclaimed, sc.nr_scanned, sc.cost_ns)
    }

    // ---- kswapd ---------------------------------------------------------------------------------------------

    /// mm/vmscan.c:`wakeup_kswapd` from the allocator when free pages fell below the low mark: kswapd is
    /// scheduled to run now on the clock, unless hopeless (16 failures) or already balanced at high.
    pub(crate) fn wakeup_kswapd(&mut self) {
        let balanced = crate::page_alloc::zone_balanced(self.nr_free_pages() as i64, 0, self.wmark.high, 0);
        if self.reclaim.kswapd_due.is_none() && !crate::page_alloc::wakeup_kswapd_skipped(self.reclaim.kswapd_failures, balanced) {
            self.reclaim.kswapd_due = Some(self.now_ns);
        }
    }

    /// mm/vmscan.c:`balance_pgdat`: one kswapd run (`pageoutrun`): reclaim at priorities 12 down to 1 until the
    /// node is balanced at the high mark; a run that reclaimed nothing counts in `kswapd_failures`. The run is a
    /// memory stall of kswapd (PSI some and full: kswapd is the only task running). Returns pages reclaimed.
    pub fn balance_pgdat(&mut self) -> u64 {
        self.vmstat.inc(Vmstat::pageoutrun);
        let mut total = 0;
        let mut cost = 0;
        let mut priority = DEF_PRIORITY;
        loop {
            let free = self.nr_free_pages() as i64;
            if crate::page_alloc::zone_balanced(free, 0, self.wmark.high, 0) {
                break;
            }
            let want = (self.wmark.high + 1).saturating_sub(self.nr_free_pages()).max(SWAP_CLUSTER_MAX);
            let mut sc = ScanControl::new(want, None, true, true);
            sc.priority = priority;
            // soft limit reclaim before shrink_node
            let (reclaimed, _, ns) = self.memcg1_soft_limit_reclaim(true);
            sc.nr_reclaimed += reclaimed;
            sc.cost_ns += ns;
            self.shrink_node(&mut sc);
            total += sc.nr_reclaimed;
            cost += sc.cost_ns;
            if sc.nr_reclaimed == 0 {
                if priority == 1 {
                    break;
                }
                priority -= 1;
            }
        }
        if total == 0 {
            self.reclaim.kswapd_failures += 1;
        }
        self.memstall(None, cost);
        total
    }

    /// Run kswapd if its timer is due at `now` (called as the clock moves).
    pub(crate) fn kswapd_run_due(&mut self, until: u64) -> bool {
        match self.reclaim.kswapd_due {
            Some(t) if t <= until => {
                self.reclaim.kswapd_due = None;
                self.now_ns = self.now_ns.max(t);
                self.balance_pgdat();
                true
            }
            _ => false,
        }
    }

    // ---- time, stalls, PSI --------------------------------------------------------------------------------------

    /// A running task's work of `ns` (not a stall): the clock moves when the cost model is timed.
    pub(crate) fn spend(&mut self, ns: u64) {
        if self.reclaim.cost.timed && ns > 0 {
            self.now_ns += ns;
            self.psi_tick();
        }
    }

    /// A memory stall of `ns` (`psi_memstall_enter`..`leave`) by task `pid` (None: kswapd). On the simulated
    /// single CPU the stalled task is the only one running, so the stall is `some` and `full`
    /// (psi_test_states(1, 0)) for the system and for the task's memcg and its ancestors (kswapd: the root only).
    pub(crate) fn memstall(&mut self, pid: Option<u32>, ns: u64) {
        if ns == 0 {
            return;
        }
        let (some, full) = crate::psi::psi_test_states(1, 0);
        let (s, f) = (if some { ns } else { 0 }, if full { ns } else { 0 });
        self.reclaim.psi.add_stall(s, f);
        if let Some(p) = pid {
            *self.reclaim.task_stall_ns.entry(p).or_insert(0) += ns;
            let mut m = self.task(p).map(|t| t.memcg);
            while let Some(id) = m {
                if self.memcg.is_root(id) {
                    break;
                }
                self.memcg_psi_mut(id).add_stall(s, f);
                m = self.memcg.parent(id);
            }
        }
        self.spend(ns);
    }

    fn memcg_psi_mut(&mut self, id: MemcgId) -> &mut crate::psi::PsiGroup {
        let i = id as usize;
        if self.reclaim.memcg_psi.len() <= i {
            self.reclaim.memcg_psi.resize(i + 1, None);
        }
        let now = self.now_ns;
        self.reclaim.memcg_psi[i].get_or_insert_with(|| crate::psi::PsiGroup::new(now, crate::psi::psi_period_ns(HZ)))
    }

    /// The PSI averaging work (`psi_avgs_work`) for every group whose period ended.
    pub(crate) fn psi_tick(&mut self) {
        let now = self.now_ns;
        self.reclaim.psi.update_averages(now);
        for g in self.reclaim.memcg_psi.iter_mut().flatten() {
            g.update_averages(now);
        }
    }

    /// /proc/pressure/memory at the current time.
    pub fn psi_text(&mut self) -> String {
        let now = self.now_ns;
        self.reclaim.psi.show(now)
    }

    /// memory.pressure of a cgroup (the root's is /proc/pressure/memory); None for an unknown path.
    pub fn cgroup_pressure(&mut self, path: &str) -> Option<String> {
        let id = self.memcg.lookup(path)?;
        if self.memcg.is_root(id) {
            return Some(self.psi_text());
        }
        let now = self.now_ns;
        Some(self.memcg_psi_mut(id).show(now))
    }

    /// Memory stall time of a task so far, ns.
    pub fn task_stall_ns(&self, pid: u32) -> u64 {
        self.reclaim.task_stall_ns.get(&pid).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
