//! cgroup v1 only rules (mm/memcontrol-v1.c).

use super::charge::MemcgEnv;
use super::{MemCgroupTree, MemcgEvent, MemcgId, Stat, ROOT_MEMCG};
use crate::errno::Errno;

/// `soft_limit_excess`: how far usage is above the soft limit, 0 when it is not.
pub fn soft_limit_excess(usage: u64, soft_limit: u64) -> u64 {
    usage.saturating_sub(soft_limit)
}

/// The soft-limit reclaim of one memcg (`mem_cgroup_soft_reclaim`) may stop once it has reclaimed at least
/// a quarter of the excess (after its second hierarchy pass).
pub fn soft_reclaim_stop_threshold(excess: u64) -> u64 {
    excess >> 2
}

/// `mem_cgroup_oom_control_read`: the exact text of memory.oom_control (under_oom prints as a bool).
pub fn oom_control_text(oom_kill_disable: bool, under_oom: u64, oom_kill: u64) -> String {
    format!(
        "oom_kill_disable {}\nunder_oom {}\noom_kill {}\n",
        oom_kill_disable as u8,
        (under_oom != 0) as u8,
        oom_kill
    )
}

/// `THRESHOLDS_EVENTS_TARGET`: pages charged/uncharged between two v1 threshold checks.
pub const THRESHOLDS_EVENTS_TARGET: u64 = 128;
/// `SOFTLIMIT_EVENTS_TARGET`: pages charged/uncharged between two soft limit tree updates.
pub const SOFTLIMIT_EVENTS_TARGET: u64 = 1024;
/// `MEM_CGROUP_MAX_RECLAIM_LOOPS`: bound on the hierarchy passes of one `mem_cgroup_soft_reclaim`.
pub const MEM_CGROUP_MAX_RECLAIM_LOOPS: u32 = 100;
/// `MEM_CGROUP_MAX_SOFT_LIMIT_RECLAIM_LOOPS`: memcgs tried by a `memcg1_soft_limit_reclaim` that reclaims nothing.
pub const MEM_CGROUP_MAX_SOFT_LIMIT_RECLAIM_LOOPS: u32 = 2;

/// mm/memcontrol-v1.c:`memcg1_event_ratelimit`: true when the page-event clock has passed `target` (compared as
/// `time_after` does, through a signed difference); the target then moves `step` events past the clock.
pub fn memcg1_event_ratelimit(nr_page_events: u64, target: &mut u64, step: u64) -> bool {
    if (target.wrapping_sub(nr_page_events) as i64) < 0 {
        *target = nr_page_events.wrapping_add(step);
        return true;
    }
    false
}

impl MemCgroupTree {
    /// `soft_limit_excess(memcg)`: memory usage above the memcg's soft limit.
    pub fn soft_limit_excess(&self, id: MemcgId) -> u64 {
        soft_limit_excess(self.memory(id).usage, self.memcg(id).soft_limit)
    }

    /// `memcg1_charge_statistics` (the event clock part) then `memcg1_check_events` for `nr_pages` pages charged
    /// to or uncharged from `id`: every 128 page events the threshold check runs (no eventfd listeners are
    /// modelled), and within it every 1024 the soft limit tree is updated. v1 only; one CPU.
    #[inline]
    pub fn memcg1_page_events(&mut self, id: MemcgId, nr_pages: u64) {
        if self.mode != super::CgroupMode::V1 {
            return;
        }
        let m = &mut self.memcgs[id as usize];
        m.nr_page_events = m.nr_page_events.wrapping_add(nr_pages);
        let val = m.nr_page_events;
        if memcg1_event_ratelimit(val, &mut m.event_targets[0], THRESHOLDS_EVENTS_TARGET)
            && memcg1_event_ratelimit(val, &mut m.event_targets[1], SOFTLIMIT_EVENTS_TARGET)
        {
            self.memcg1_update_tree(id);
        }
    }

    /// mm/memcontrol-v1.c:`memcg1_update_tree`: `id` and every ancestor (their own event clocks did not move)
    /// that is above its soft limit or already filed is filed again under its current excess.
    pub fn memcg1_update_tree(&mut self, id: MemcgId) {
        let mut m = Some(id);
        while let Some(c) = m {
            let excess = self.soft_limit_excess(c);
            if excess > 0 || self.memcgs[c as usize].soft_on_tree {
                self.soft_tree_remove(c);
                self.soft_tree_insert(c, excess);
            }
            m = self.parent(c);
        }
    }

    /// `__mem_cgroup_insert_exceeded`: file `id` under `excess` (nothing when already filed or when the excess
    /// is 0). An excess equal to one already filed goes to its right.
    pub fn soft_tree_insert(&mut self, id: MemcgId, excess: u64) {
        let m = &mut self.memcgs[id as usize];
        if m.soft_on_tree {
            return;
        }
        m.usage_in_excess = excess;
        if excess == 0 {
            return;
        }
        m.soft_on_tree = true;
        let memcgs = &self.memcgs;
        let at = self.soft_limit_tree.partition_point(|&o| memcgs[o as usize].usage_in_excess <= excess);
        self.soft_limit_tree.insert(at, id);
    }

    /// `__mem_cgroup_remove_exceeded`.
    pub fn soft_tree_remove(&mut self, id: MemcgId) {
        if !self.memcgs[id as usize].soft_on_tree {
            return;
        }
        self.memcgs[id as usize].soft_on_tree = false;
        if let Some(i) = self.soft_limit_tree.iter().position(|&o| o == id) {
            self.soft_limit_tree.remove(i);
        }
    }

    /// `__mem_cgroup_largest_soft_limit_node`: take the rightmost memcg off the tree; one no longer above its
    /// soft limit is dropped and the next is tried. None when the tree runs empty.
    pub fn soft_tree_take_largest(&mut self) -> Option<MemcgId> {
        loop {
            let id = *self.soft_limit_tree.last()?;
            self.soft_tree_remove(id);
            if self.soft_limit_excess(id) > 0 {
                return Some(id);
            }
        }
    }

    /// The memcgs filed in the soft limit tree, largest excess first (as reclaim would pick them).
    pub fn soft_limit_tree_order(&self) -> Vec<MemcgId> {
        self.soft_limit_tree.iter().rev().copied().collect()
    }

    /// mm/memcontrol.c:`mem_cgroup_iter(root, prev, &cookie)` with a reclaim cookie: the pre-order successor, in
    /// `root`'s subtree (root included), of where the last such walk rooted at `root` stopped; None (and the walk
    /// position reset) once the subtree is exhausted. One reclaimer at a time, so the generation check never
    /// fires.
    pub fn mem_cgroup_iter_reclaim(&mut self, root: MemcgId) -> Option<MemcgId> {
        let order = self.subtree(root);
        let next = match self.memcgs[root as usize].reclaim_iter_pos {
            None => order.first().copied(),
            Some(pos) => order.iter().position(|&m| m == pos).and_then(|i| order.get(i + 1).copied()),
        };
        self.memcgs[root as usize].reclaim_iter_pos = next;
        next
    }

    /// `mem_cgroup_usage(memcg, swap)`: the counter usage, except for the root, whose usage is approximated by
    /// the statistics of all memcgs: NR_FILE_PAGES + NR_ANON_MAPPED (+ MEMCG_SWAP for memsw).
    pub fn mem_cgroup_usage(&self, id: MemcgId, swap: bool) -> u64 {
        if id == ROOT_MEMCG {
            let mut v = self.stat_recursive(id, Stat::File) + self.stat_recursive(id, Stat::Anon);
            if swap {
                v += self.stat_recursive(id, Stat::Swap);
            }
            return v.max(0) as u64;
        }
        if swap {
            self.memsw(id).map_or(0, |c| c.usage)
        } else {
            self.memory(id).usage
        }
    }

    /// `mem_cgroup_resize_max(memcg, max, memsw)` (v1 limit_in_bytes / memsw.limit_in_bytes writes).
    ///
    /// The invariant memory.max <= memsw.max must hold after the write (else EINVAL). The limit is set when
    /// usage fits; otherwise the stock is drained once and then one page at a time is reclaimed (without swap
    /// for memsw) until it fits. A reclaim that frees nothing gives EBUSY and the old limit stays. There is
    /// never an OOM kill. A successful raise wakes OOM waiters (`memcg1_oom_recover`).
    pub fn mem_cgroup_resize_max(
        &mut self,
        env: &mut dyn MemcgEnv,
        id: MemcgId,
        max: u64,
        memsw: bool,
    ) -> Result<(), Errno> {
        let m = self.memcg(id);
        let counter = if memsw { m.memsw.ok_or(Errno::EINVAL)? } else { m.memory };
        let (memory_c, memsw_c) = (m.memory, m.memsw);
        let mut enlarge = false;
        let mut drained = false;
        let ret = loop {
            if env.signal_pending() {
                // -EINTR in the kernel; not representable here.
                break Err(Errno::EINVAL);
            }
            let invariant = if memsw {
                max >= self.counters.get(memory_c).max
            } else {
                memsw_c.is_none_or(|c| max <= self.counters.get(c).max)
            };
            if !invariant {
                break Err(Errno::EINVAL);
            }
            if max > self.counters.get(counter).max {
                enlarge = true;
            }
            if self.counters.set_max(counter, max).is_ok() {
                break Ok(());
            }
            if !drained {
                self.drain_all_stock(id);
                drained = true;
                continue;
            }
            if env.reclaim(self, id, 1, !memsw) == 0 {
                break Err(Errno::EBUSY);
            }
        };
        if ret.is_ok() && enlarge {
            self.memcg1_oom_recover(env, id);
        }
        ret
    }

    /// `memcg1_oom_recover`: wake v1 OOM waiters when the memcg is under OOM.
    pub fn memcg1_oom_recover(&mut self, env: &mut dyn MemcgEnv, id: MemcgId) {
        if self.memcg(id).under_oom != 0 {
            env.memcg1_oom_recover(self, id);
        }
    }

    /// memory.oom_control text of a memcg (`oom_kill` is the memcg's own MEMCG_OOM_KILL count in v1).
    pub fn oom_control_read(&self, id: MemcgId) -> String {
        let m = self.memcg(id);
        oom_control_text(m.oom_kill_disable, m.under_oom, m.events[MemcgEvent::OomKill as usize])
    }
}
