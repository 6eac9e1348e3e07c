//! The memcg tree's limits (mm/memcontrol.c): the limit and OOM helpers, memory.peak file descriptors, and the
//! memory.high throttle math (`calculate_overage`, `calculate_high_delay`).

use super::*;

impl MemCgroupTree {
    // ---------------------------------------------------------------------------------------------------------
    // Limits and OOM helpers.

    /// `mem_cgroup_swappiness`: v1 non-root memcgs have their own; v2 and the v1 root use vm.swappiness.
    pub fn mem_cgroup_swappiness(&self, id: MemcgId) -> u64 {
        if self.mode == CgroupMode::V2 || id == ROOT_MEMCG {
            self.vm_swappiness
        } else {
            self.memcgs[id as usize].swappiness
        }
    }

    /// `mem_cgroup_margin`: pages that can still be charged before memory.max (and in v1 memsw.max).
    pub fn mem_cgroup_margin(&self, id: MemcgId) -> u64 {
        let mem = self.memory(id);
        let mut margin = mem.max.saturating_sub(mem.usage);
        if let Some(sw) = self.memsw(id) {
            margin = if sw.usage < sw.max { margin.min(sw.max - sw.usage) } else { 0 };
        }
        margin
    }

    /// `mem_cgroup_get_max`: the memcg OOM's `totalpages` base: memory.max plus, when swappiness is not 0, the
    /// swap it may use: v1 `min(memsw.max - memory.max, total_swap_pages)`, v2 `min(swap.max, total_swap_pages)`.
    pub fn mem_cgroup_get_max(&self, id: MemcgId, total_swap_pages: u64) -> u64 {
        let max = self.memory(id).max;
        if self.mem_cgroup_swappiness(id) == 0 {
            return max;
        }
        let swap = match self.mode {
            CgroupMode::V1 => self.memsw(id).map_or(0, |c| c.max.wrapping_sub(max)),
            CgroupMode::V2 => self.swap(id).map_or(0, |c| c.max),
        };
        max.wrapping_add(swap.min(total_swap_pages))
    }

    /// `mem_cgroup_get_oom_group(victim, oom_domain)`: v2 only. From the victim's memcg up to the OOM domain
    /// (the root when `oom_domain` is None), the highest memcg with memory.oom.group set. None when the victim is
    /// in the root memcg or outside the domain.
    pub fn mem_cgroup_get_oom_group(&self, victim_memcg: MemcgId, oom_domain: Option<MemcgId>) -> Option<MemcgId> {
        if self.mode != CgroupMode::V2 {
            return None;
        }
        let domain = oom_domain.unwrap_or(ROOT_MEMCG);
        if victim_memcg == ROOT_MEMCG || !self.is_descendant(victim_memcg, domain) {
            return None;
        }
        let mut group = None;
        let mut cur = Some(victim_memcg);
        while let Some(c) = cur {
            if self.memcgs[c as usize].oom_group {
                group = Some(c);
            }
            if c == domain {
                break;
            }
            cur = self.parent(c);
        }
        group
    }

    /// Whether the memcg or an ancestor has memory (or swap) usage above its high limit: the condition that
    /// makes a successful charge account over-high pages (`try_charge_memcg`'s tail).
    #[inline]
    pub fn over_high(&self, id: MemcgId) -> bool {
        let mut cur = id;
        loop {
            let m = &self.memcgs[cur as usize];
            let mem = self.counters.get(m.memory);
            if mem.usage > mem.high {
                return true;
            }
            if let Some(sw) = m.swap {
                let s = self.counters.get(sw);
                if s.usage > s.high {
                    return true;
                }
            }
            match m.parent {
                // the root's high is never set (no memory.high file on the root)
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return false,
            }
        }
    }

    /// `mem_cgroup_calculate_protection(root, memcg)`: effective min/low of `memcg` for a reclaim rooted at
    /// `reclaim_root` (None = the root memcg). Call top-down.
    pub fn mem_cgroup_calculate_protection(&mut self, reclaim_root: Option<MemcgId>, id: MemcgId) {
        let root = self.memcgs[reclaim_root.unwrap_or(ROOT_MEMCG) as usize].memory;
        let c = self.memcgs[id as usize].memory;
        let rec = self.memory_recursiveprot;
        self.counters.calculate_protection(root, c, rec);
    }

    /// `mem_cgroup_unprotected`: the root and the reclaim target are never protected.
    pub(super) fn unprotected(&self, target: Option<MemcgId>, id: MemcgId) -> bool {
        id == ROOT_MEMCG || Some(id) == target
    }

    /// `mem_cgroup_below_min`: emin >= usage.
    pub fn mem_cgroup_below_min(&self, target: Option<MemcgId>, id: MemcgId) -> bool {
        !self.unprotected(target, id) && self.memory(id).emin >= self.memory(id).usage
    }

    /// `mem_cgroup_below_low`: elow >= usage.
    pub fn mem_cgroup_below_low(&self, target: Option<MemcgId>, id: MemcgId) -> bool {
        !self.unprotected(target, id) && self.memory(id).elow >= self.memory(id).usage
    }

    /// `mem_find_max_overage`: the largest memory.high overage of the memcg and its non-root ancestors.
    pub fn mem_find_max_overage(&self, id: MemcgId) -> u64 {
        let mut max = 0;
        let mut cur = id;
        loop {
            let c = self.memory(cur);
            max = max.max(calculate_overage(c.usage, c.high));
            match self.parent(cur) {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return max,
            }
        }
    }

    /// `swap_find_max_overage`: the same for swap.high (v2), raising `swap_high` (MEMCG_SWAP_HIGH) on every
    /// memcg over it.
    pub fn swap_find_max_overage(&mut self, id: MemcgId) -> u64 {
        let mut max = 0;
        let mut cur = id;
        loop {
            if let Some(sw) = self.swap(cur) {
                let o = calculate_overage(sw.usage, sw.high);
                if o != 0 {
                    self.memcg_memory_event(cur, MemcgEvent::SwapHigh);
                }
                max = max.max(o);
            }
            match self.parent(cur) {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return max,
            }
        }
    }

    /// v1 `under_oom` is raised on the whole subtree (`mem_cgroup_mark_under_oom`) while a task waits in
    /// `mem_cgroup_oom_synchronize`.
    pub fn mark_under_oom(&mut self, id: MemcgId) {
        for m in self.subtree(id) {
            self.memcgs[m as usize].under_oom += 1;
        }
    }

    /// `mem_cgroup_unmark_under_oom`: the waiter is gone.
    pub fn unmark_under_oom(&mut self, id: MemcgId) {
        for m in self.subtree(id) {
            let u = &mut self.memcgs[m as usize].under_oom;
            *u = u.saturating_sub(1);
        }
    }

    /// `memcg_oom_wake_function`'s filter: a wake-up on `woken` reaches a task waiting on `waiter` when one is an
    /// ancestor of the other (or they are equal).
    pub fn oom_wake_matches(&self, woken: MemcgId, waiter: MemcgId) -> bool {
        self.is_descendant(woken, waiter) || self.is_descendant(waiter, woken)
    }

    // ---------------------------------------------------------------------------------------------------------
    // memory.peak file descriptors.

    /// Open `memory.peak` (swap=false) or `memory.swap.peak` (swap=true) of a memcg.
    pub fn peak_open(&mut self, id: MemcgId, swap: bool) -> PeakFdId {
        self.peak_fds.push(PeakFd { memcg: id, swap, value: None, open: true });
        (self.peak_fds.len() - 1) as PeakFdId
    }

    /// Close a peak fd (`peak_release`).
    pub fn peak_close(&mut self, fd: PeakFdId) {
        if let Some(f) = self.peak_fds.get_mut(fd as usize) {
            f.open = false;
        }
    }

    pub(super) fn peak_counter(&self, id: MemcgId, swap: bool) -> Option<CounterId> {
        let m = &self.memcgs[id as usize];
        if swap {
            m.swap
        } else {
            Some(m.memory)
        }
    }

    /// `peak_show` through an fd, in pages: the global watermark for an fd never written, else
    /// max(fd value, local_watermark).
    pub fn peak_read(&self, fd: PeakFdId) -> Option<u64> {
        let f = self.peak_fds.get(fd as usize).filter(|f| f.open)?;
        let c = self.counters.get(self.peak_counter(f.memcg, f.swap)?);
        Some(match f.value {
            None => c.watermark,
            Some(v) => v.max(c.local_watermark),
        })
    }

    /// `peak_write`: any non-empty write resets: `local_watermark` becomes the current usage, every other fd
    /// that was reset keeps the peak it has seen so far (its value is raised to the old local watermark), and
    /// this fd's value becomes the current usage.
    pub fn peak_write(&mut self, fd: PeakFdId, value: &str) -> Result<(), Errno> {
        let f = self.peak_fds.get(fd as usize).filter(|f| f.open).ok_or(Errno::EINVAL)?;
        if value.is_empty() {
            return Ok(());
        }
        let (memcg, swap) = (f.memcg, f.swap);
        let cid = self.peak_counter(memcg, swap).ok_or(Errno::EINVAL)?;
        let c = self.counters.get(cid);
        let (usage, old_local) = (c.usage, c.local_watermark);
        for p in self.peak_fds.iter_mut() {
            if p.open && p.memcg == memcg && p.swap == swap {
                if let Some(v) = &mut p.value {
                    *v = (*v).max(old_local);
                }
            }
        }
        self.counters.get_mut(cid).local_watermark = usage;
        self.peak_fds[fd as usize].value = Some(usage);
        Ok(())
    }
}

/// `calculate_overage(usage, high)`: how far usage is over high, as a 2^20 fixed-point fraction of high
/// (a high of 0 counts as 1 page); 0 when usage <= high.
pub fn calculate_overage(usage: u64, high: u64) -> u64 {
    if usage <= high {
        return 0;
    }
    let high = high.max(1);
    ((usage - high) << MEMCG_DELAY_PRECISION_SHIFT) / high
}

/// `calculate_high_delay(memcg, nr_pages, max_overage)`: the throttling penalty in jiffies before clamping:
/// `((overage^2 * HZ) >> 20 >> 14) * nr_pages / 64`, 0 without overage (u64, wrapping as in C).
pub fn calculate_high_delay(max_overage: u64, nr_pages: u64, hz: u64) -> u64 {
    if max_overage == 0 {
        return 0;
    }
    let p = max_overage.wrapping_mul(max_overage).wrapping_mul(hz) >> MEMCG_DELAY_PRECISION_SHIFT
        >> MEMCG_DELAY_SCALING_SHIFT;
    p.wrapping_mul(nr_pages) / MEMCG_CHARGE_BATCH
}

/// MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ: the clamp of the penalty.
pub fn clamp_high_delay(penalty: u64, hz: u64) -> u64 {
    penalty.min(2 * hz)
}

/// Whether `__mem_cgroup_handle_over_high` sleeps for a (clamped) penalty: only above HZ/100 (10 ms).
pub fn high_delay_sleeps(clamped: u64, hz: u64) -> bool {
    clamped > hz / 100
}

/// Splits `/A/B` into (`/A`, `B`), `/A` into (`/`, `A`). None for the root or a relative path.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    if !path.starts_with('/') || path == "/" || path.ends_with('/') {
        return None;
    }
    let i = path.rfind('/')?;
    Some((if i == 0 { "/" } else { &path[..i] }, &path[i + 1..]))
}
