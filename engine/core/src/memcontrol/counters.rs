//! The memcg tree's counters (mm/memcontrol.c): charging and uncharging at the page_counter level (what the
//! charge path and the engine call), the per-CPU stock (one CPU), memcg events and statistics.

use super::*;

impl MemCgroupTree {
    // ---------------------------------------------------------------------------------------------------------
    // Counter-level charging (used by the charge path and by the engine directly).

    /// `page_counter_try_charge` on the memcg's hierarchy as the `charge` op does: v1 tries memsw first, then
    /// memory (a memory failure undoes the memsw part). No stock, reclaim, events or OOM. The error is the memcg
    /// whose counter failed (`mem_over_limit`) and whether that counter was memsw.
    pub fn counter_try_charge(&mut self, id: MemcgId, nr_pages: u64) -> Result<(), (MemcgId, bool)> {
        let m = &self.memcgs[id as usize];
        let (memory, memsw) = (m.memory, m.memsw);
        if let Some(sw) = memsw {
            if let Err(c) = self.counters.try_charge(sw, nr_pages) {
                return Err((self.memcg_of_counter(c), true));
            }
        }
        match self.counters.try_charge(memory, nr_pages) {
            Ok(()) => Ok(()),
            Err(c) => {
                if let Some(sw) = memsw {
                    self.counters.uncharge(sw, nr_pages);
                }
                Err((self.memcg_of_counter(c), false))
            }
        }
    }

    /// Pages `id` can be charged one at a time on the allocation-free fast path of the engine's charge (every
    /// `page_counter_try_charge` succeeds and no level ends above memory.high): the smallest headroom below
    /// `max` of the memory (and v1 memsw) counters up to the root, and below `high` of the memory counters of
    /// every level but the root; 0 when a level's swap counter is already above its high. A run of that many
    /// pages charged at once leaves every counter (usage, watermarks, protected usage) as the single charges do.
    pub fn fast_charge_headroom(&self, id: MemcgId) -> u64 {
        let m = &self.memcgs[id as usize];
        let mut room = self.counters.headroom(m.memory);
        if let Some(sw) = m.memsw {
            room = room.min(self.counters.headroom(sw));
        }
        let mut cur = id;
        loop {
            let m = &self.memcgs[cur as usize];
            let mem = self.counters.get(m.memory);
            room = room.min(mem.high.saturating_sub(mem.usage));
            if let Some(sw) = m.swap {
                let s = self.counters.get(sw);
                if s.usage > s.high {
                    return 0;
                }
            }
            match m.parent {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return room,
            }
        }
    }

    /// Take back the `failcnt` increment of a failed [`MemCgroupTree::counter_try_charge`] (the engine's
    /// allocation-free fast path probes the counters before it runs the full charge path, whose own first attempt
    /// is the one the kernel counts).
    pub fn undo_failcnt(&mut self, over: MemcgId, memsw: bool) {
        let m = &self.memcgs[over as usize];
        let c = if memsw { m.memsw } else { Some(m.memory) };
        if let Some(c) = c {
            let pc = self.counters.get_mut(c);
            if pc.track_failcnt {
                pc.failcnt = pc.failcnt.saturating_sub(1);
            }
        }
    }

    /// Forced charge of memory (and v1 memsw): `page_counter_charge`, no limit check.
    pub fn counter_charge(&mut self, id: MemcgId, nr_pages: u64) {
        let m = &self.memcgs[id as usize];
        let (memory, memsw) = (m.memory, m.memsw);
        self.counters.charge(memory, nr_pages);
        if let Some(sw) = memsw {
            self.counters.charge(sw, nr_pages);
        }
    }

    /// Uncharge pages (a folio uncharge, or the `uncharge` op): memory and, in v1, memsw. Returns true when a
    /// counter would have gone negative (clamped, the kernel warns). It does not wake v1 OOM waiters: folio
    /// uncharges call `memcg1_oom_recover` in the engine (`MemcgEnv::memcg1_oom_recover`).
    pub fn uncharge(&mut self, id: MemcgId, nr_pages: u64) -> bool {
        let m = &self.memcgs[id as usize];
        let (memory, memsw) = (m.memory, m.memsw);
        let mut w = self.counters.uncharge(memory, nr_pages);
        if let Some(sw) = memsw {
            w |= self.counters.uncharge(sw, nr_pages);
        }
        w
    }

    /// Swap-out of `nr_pages` charged pages (`mem_cgroup_swapout` v1 / the folio uncharge v2): the memory
    /// counter is uncharged; v1 memsw keeps the charge (the page now sits in swap).
    pub fn swapout(&mut self, id: MemcgId, nr_pages: u64) {
        let memory = self.memcgs[id as usize].memory;
        self.counters.uncharge(memory, nr_pages);
    }

    /// `__mem_cgroup_try_charge_swap`: v2 charges the swap counter; on failure it raises `max` and `fail` swap
    /// events on the memcg and the page is not swapped (false). v1 charges nothing here (memsw already holds
    /// the page). The MEMCG_SWAP statistic is updated on success.
    pub fn try_charge_swap(&mut self, id: MemcgId, nr_pages: u64) -> bool {
        if let Some(sw) = self.memcgs[id as usize].swap {
            if self.counters.try_charge(sw, nr_pages).is_err() {
                self.memcg_memory_event(id, MemcgEvent::SwapMax);
                self.memcg_memory_event(id, MemcgEvent::SwapFail);
                return false;
            }
        }
        self.mod_stat(id, Stat::Swap, nr_pages as i64);
        true
    }

    /// `__mem_cgroup_uncharge_swap`: a swap entry freed (or swapped in): v1 uncharges memsw, v2 the swap
    /// counter; MEMCG_SWAP decreases.
    pub fn uncharge_swap(&mut self, id: MemcgId, nr_pages: u64) {
        let m = &self.memcgs[id as usize];
        if let Some(sw) = m.memsw.or(m.swap) {
            self.counters.uncharge(sw, nr_pages);
        }
        self.mod_stat(id, Stat::Swap, -(nr_pages as i64));
    }

    /// v1 kmem usage (kernel memory the engine charges in v1; the counter has no effect on limits).
    pub fn kmem_charge(&mut self, id: MemcgId, nr_pages: i64) {
        if let Some(k) = self.memcgs[id as usize].kmem {
            if nr_pages >= 0 {
                self.counters.charge(k, nr_pages as u64);
            } else {
                self.counters.uncharge(k, nr_pages.unsigned_abs());
            }
        }
    }

    pub(super) fn memcg_of_counter(&self, c: CounterId) -> MemcgId {
        self.memcgs
            .iter()
            .position(|m| m.memory == c || m.memsw == Some(c) || m.swap == Some(c) || m.kmem == Some(c))
            .expect("counter belongs to a memcg") as MemcgId
    }

    // ---------------------------------------------------------------------------------------------------------
    // Per-CPU stock (one CPU; only with `use_stock`).

    /// `consume_stock`.
    pub(super) fn consume_stock(&mut self, id: MemcgId, nr_pages: u64) -> bool {
        match &mut self.stock {
            Some((m, n)) if *m == id && *n >= nr_pages => {
                *n -= nr_pages;
                true
            }
            _ => false,
        }
    }

    /// `refill_stock`: another memcg's stock is drained first.
    pub(super) fn refill_stock(&mut self, id: MemcgId, nr_pages: u64) {
        if let Some((m, _)) = self.stock {
            if m != id {
                self.drain_stock();
            }
        }
        match &mut self.stock {
            Some((_, n)) => *n += nr_pages,
            None => self.stock = Some((id, nr_pages)),
        }
    }

    /// `drain_stock`: the stocked pre-charge is uncharged.
    pub fn drain_stock(&mut self) {
        if let Some((m, n)) = self.stock.take() {
            if n > 0 {
                self.uncharge(m, n);
            }
        }
    }

    /// `drain_all_stock(root_memcg)`: drains the stock if it belongs to the subtree.
    pub fn drain_all_stock(&mut self, root: MemcgId) {
        if let Some((m, _)) = self.stock {
            if self.is_descendant(m, root) {
                self.drain_stock();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events.

    /// `memcg_memory_event`: `events_local` on the memcg; `events` on it and, in v2 without
    /// `memory_localevents`, on every ancestor except the root. (In v1 the events do not propagate.)
    pub fn memcg_memory_event(&mut self, id: MemcgId, event: MemcgEvent) {
        let e = event as usize;
        let v2 = self.mode == CgroupMode::V2;
        self.memcgs[id as usize].events_local[e] += 1;
        let mut cur = id;
        loop {
            self.memcgs[cur as usize].events[e] += 1;
            if !v2 || self.memory_localevents {
                break;
            }
            match self.parent(cur) {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => break,
            }
        }
    }

    pub fn events(&self, id: MemcgId, event: MemcgEvent) -> u64 {
        self.memcgs[id as usize].events[event as usize]
    }

    pub fn events_local(&self, id: MemcgId, event: MemcgEvent) -> u64 {
        self.memcgs[id as usize].events_local[event as usize]
    }

    // ---------------------------------------------------------------------------------------------------------
    // Statistics.

    /// `mod_memcg_state` / `count_memcg_events` on the memcg's local statistics.
    pub fn mod_stat(&mut self, id: MemcgId, item: Stat, delta: i64) {
        let s = &mut self.memcgs[id as usize].stat[item as usize];
        *s = s.wrapping_add(delta);
    }

    pub fn stat_local(&self, id: MemcgId, item: Stat) -> i64 {
        self.memcgs[id as usize].stat[item as usize]
    }

    /// Hierarchical value (the memcg and all its descendants), as rstat aggregates it.
    pub fn stat_recursive(&self, id: MemcgId, item: Stat) -> i64 {
        self.subtree(id).iter().map(|&m| self.memcgs[m as usize].stat[item as usize]).sum()
    }
}
