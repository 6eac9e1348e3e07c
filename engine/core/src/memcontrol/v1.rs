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

impl MemCgroupTree {
    /// `soft_limit_excess(memcg)`: memory usage above the memcg's soft limit.
    pub fn soft_limit_excess(&self, id: MemcgId) -> u64 {
        soft_limit_excess(self.memory(id).usage, self.memcg(id).soft_limit)
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
