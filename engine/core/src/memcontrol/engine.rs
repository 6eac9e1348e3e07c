//! Memory cgroups on the stateful engine: the memcg charge of every user page (`mem_cgroup_charge`,
//! `mem_cgroup_uncharge`, the swap charges), the `MemcgEnv` the charge path calls back into (memcg limit reclaim,
//! the memcg OOM killer, v1 OOM-wait wake-ups), the v1 memcg OOM wait of a faulting task and its resumption, and
//! the cgroup interface the API exposes (mkdir, file reads/writes, open files, counter-level charges, moves).
//!
//! The decisions live in `memcontrol/` (the charge retry loop, the files, the counters) and `oom_kill/` (victim
//! selection); this file only feeds them engine state and applies their results.
//!
//! Model decisions (docs/decisions/0006-memcg-engine.md):
//! * Moving a task never moves its charges: v2 has no charge moving, and v1 `move_charge_at_immigrate` is 0 by
//!   default (and deprecated); only the task's new pages are charged to its new memcg.
//! * The charge is taken before the frame (the kernel allocates the folio first and then charges it); the only
//!   visible difference is `pgalloc`/`pgfree` of a page whose charge fails, which the kernel counts and the
//!   engine does not.
//! * Memcg limit reclaim is `try_to_free_mem_cgroup_pages` (vmscan/engine.rs): the LRU shrink code of global
//!   reclaim over the memcg's subtree, honouring memory.min/low, the memcg's swappiness and its swap limit; anon
//!   and shmem pages go to swap when a slot and the swap charge allow (vectors-format.md §6.2 rule 5).

use super::{ChargeGfp, ChargeResult, ChargeTask, MemCgroupTree, MemcgEnv, MemcgId, Stat, ROOT_MEMCG};
use crate::errno::{ApiError, Errno};
use crate::kernel::Kernel;
use crate::types::{AllocFail, SysResult};
use crate::oom_kill::{OomControl, OomGroup, OomTask};
use crate::page_counter::PageCounter;
use crate::task::{PendingAccess, TaskState};

pub use super::{CgroupFd, NO_MEMCG};

/// The engine as the memcg charge path sees it (`MemcgEnv`). While the charge path runs, the kernel's tree is
/// moved out into the caller; each callback moves it back for the engine work it does.
struct EngineEnv<'a> {
    k: &'a mut Kernel,
    /// The charging task (None: the admin writing a cgroup file, or kernel context).
    current: Option<u32>,
}

impl EngineEnv<'_> {
    fn with_tree<R>(&mut self, tree: &mut MemCgroupTree, f: impl FnOnce(&mut Kernel) -> R) -> R {
        std::mem::swap(&mut self.k.memcg, tree);
        let r = f(self.k);
        std::mem::swap(&mut self.k.memcg, tree);
        r
    }
}

impl MemcgEnv for EngineEnv<'_> {
    fn reclaim(&mut self, tree: &mut MemCgroupTree, memcg: MemcgId, nr_pages: u64, may_swap: bool) -> u64 {
        self.with_tree(tree, |k| k.try_to_free_mem_cgroup_pages(memcg, nr_pages, may_swap))
    }

    fn out_of_memory(&mut self, tree: &mut MemCgroupTree, memcg: MemcgId, order: u32) -> bool {
        let current = self.current;
        self.with_tree(tree, |k| k.mem_cgroup_out_of_memory(memcg, order, current))
    }

    fn memcg1_oom_recover(&mut self, tree: &mut MemCgroupTree, memcg: MemcgId) {
        self.with_tree(tree, |k| k.memcg_oom_wake(memcg))
    }

    fn current_dying(&self) -> bool {
        self.current.is_some_and(|p| self.k.oom.current_killed.contains(&p) || self.k.task(p).is_some_and(|t| t.oom_victim))
    }
}

impl Kernel {
    pub(crate) fn next_cg_seq(&mut self) -> u64 {
        self.cg_seq += 1;
        self.cg_seq
    }

    /// The memcg of a task (the root for kernel context). The running entry's task is resolved once per entry.
    #[inline]
    pub(crate) fn memcg_of_pid(&self, pid: Option<u32>) -> MemcgId {
        match pid {
            None => ROOT_MEMCG,
            Some(p) => match self.current.memcg_of(p) {
                Some(m) => m,
                None => self.task(p).map_or(ROOT_MEMCG, |t| t.memcg),
            },
        }
    }

    // ---- charge and uncharge of user pages ----------------------------------------------------------------------

    /// `mem_cgroup_charge` of one new user page to `memcg` for `pid` (None: kernel context). The root is never
    /// charged. Fast path: the counters take the page (`page_counter_try_charge` up the tree) and no level is
    /// above memory.high: no allocation, no string. Otherwise the full `try_charge_memcg` (reclaim, `max`/`oom`
    /// events, memcg OOM, v1 OOM wait) runs with the engine as its `MemcgEnv`.
    pub(crate) fn mem_cgroup_charge(&mut self, pid: Option<u32>, memcg: MemcgId) -> Result<(), AllocFail> {
        if memcg == ROOT_MEMCG {
            return Ok(());
        }
        match self.memcg.counter_try_charge(memcg, 1) {
            Ok(()) => {
                if !self.memcg.over_high(memcg) {
                    return Ok(());
                }
                // the tail of try_charge_memcg (over-high accounting) needs the full path
                self.memcg.uncharge(memcg, 1);
            }
            // the full path's first attempt is the one that counts
            Err((over, memsw)) => self.memcg.undo_failcnt(over, memsw),
        }
        self.mem_cgroup_charge_slow(pid, memcg)
    }

    #[cold]
    fn mem_cgroup_charge_slow(&mut self, pid: Option<u32>, memcg: MemcgId) -> Result<(), AllocFail> {
        let (over_high, dying) = match pid.and_then(|p| self.task(p)) {
            Some(t) => (t.memcg_nr_pages_over_high, t.oom_victim || self.oom.current_killed.contains(&t.pid)),
            None => (0, false),
        };
        let mut task = ChargeTask {
            in_user_fault: self.current.in_user_fault && pid.is_some(),
            pf_memalloc: false,
            dying,
            memcg_in_oom: None,
            nr_pages_over_high: over_high,
            high_delay_jiffies: 0,
        };
        let mut tree = std::mem::take(&mut self.memcg);
        let r = {
            let mut env = EngineEnv { k: self, current: pid };
            tree.try_charge_memcg(&mut env, &mut task, memcg, ChargeGfp::KERNEL, 1)
        };
        self.memcg = tree;
        if let Some(t) = pid.and_then(|p| self.task_mut(p)) {
            t.memcg_nr_pages_over_high = task.nr_pages_over_high;
            t.memcg_high_delay_jiffies += task.high_delay_jiffies;
        }
        let killed = pid.is_some_and(|p| self.oom.current_killed.contains(&p));
        match r {
            ChargeResult::Charged | ChargeResult::Forced => {
                if self.oom.panicked.is_some() || killed {
                    self.memcg.uncharge(memcg, 1);
                    return Err(if killed { AllocFail::Killed } else { AllocFail::Panic });
                }
                Ok(())
            }
            ChargeResult::NoMem if self.oom.panicked.is_some() => Err(AllocFail::Panic),
            ChargeResult::NoMem if killed => Err(AllocFail::Killed),
            ChargeResult::NoMem => Err(AllocFail::OutOfMemory),
            ChargeResult::OomWait(m) => {
                self.current.memcg_in_oom = m;
                Err(AllocFail::OomWait(m))
            }
        }
    }

    /// Return a charge whose page was never allocated (no wake-ups: nothing was freed).
    pub(crate) fn memcg_cancel_charge(&mut self, memcg: MemcgId) {
        if memcg != ROOT_MEMCG {
            self.memcg.uncharge(memcg, 1);
        }
    }

    /// `mem_cgroup_uncharge` of a freed user page: memory (and v1 memsw) up the tree; a memcg under a v1 OOM
    /// wakes its waiters (`uncharge_batch` → `memcg1_oom_recover`).
    #[inline]
    pub(crate) fn memcg_uncharge_folio(&mut self, memcg: MemcgId) {
        if memcg == ROOT_MEMCG {
            return;
        }
        self.memcg.uncharge(memcg, 1);
        if self.memcg.memcg(memcg).under_oom != 0 {
            self.memcg_oom_wake(memcg);
        }
    }

    /// `__mem_cgroup_try_charge_swap` for an anon page getting swap slot `slot`: v2 charges the memcg's swap
    /// counter (failure: swap.events `max` and `fail`, the page is not swapped); the entry records the memcg.
    /// v1 records the memcg when the page leaves memory (`mem_cgroup_swapout`).
    pub(crate) fn memcg_try_charge_swap(&mut self, f: u32, slot: u32) -> bool {
        if self.memcg.do_memsw_account() {
            return true;
        }
        let m = self.frames.memcg[f as usize];
        if m == ROOT_MEMCG {
            self.memcg.mod_stat(m, Stat::Swap, 1);
        } else if !self.memcg.try_charge_swap(m, 1) {
            return false;
        }
        self.swap_memcg[slot as usize] = m;
        true
    }

    /// `mem_cgroup_swapout`: an anon page written to `slot` leaves memory. Its memory charge goes away; in v1 the
    /// memsw charge stays with the swap entry (recorded here); in v2 the swap counter was charged already.
    pub(crate) fn mem_cgroup_swapout(&mut self, f: u32, slot: u32) {
        let m = self.frames.memcg[f as usize];
        self.memcg.mod_stat(m, Stat::Pswpout, 1);
        if m != ROOT_MEMCG {
            self.memcg.swapout(m, 1);
        }
        if self.memcg.do_memsw_account() {
            self.memcg.mod_stat(m, Stat::Swap, 1);
            self.swap_memcg[slot as usize] = m;
        }
    }

    /// `mem_cgroup_swapin_uncharge_swap`: v1 only — the page read back holds the memsw charge now, so the entry's
    /// is dropped (v2 keeps the swap charge until the slot is freed).
    pub(crate) fn mem_cgroup_swapin_uncharge_swap(&mut self, slot: u32) {
        if self.memcg.do_memsw_account() {
            self.memcg_uncharge_swap_slot(slot);
        }
    }

    fn memcg_uncharge_swap_slot(&mut self, slot: u32) {
        let m = std::mem::replace(&mut self.swap_memcg[slot as usize], NO_MEMCG);
        if m == NO_MEMCG {
            return;
        }
        if m == ROOT_MEMCG {
            self.memcg.mod_stat(m, Stat::Swap, -1);
        } else {
            self.memcg.uncharge_swap(m, 1);
        }
    }

    /// A swap slot is freed (`swap_free` / `folio_free_swap`): `__mem_cgroup_uncharge_swap` of its record.
    pub(crate) fn swap_slot_release(&mut self, slot: u32) {
        self.swap_release(slot);
        self.memcg_uncharge_swap_slot(slot);
    }

    // ---- memcg limit reclaim -----------------------------------------------------------------------------------

    /// mm/memcontrol-v1.c:`memcg1_soft_limit_reclaim` (global reclaim, order 0, classic LRU): reclaim from the
    /// memcg with the largest soft limit excess (`mem_cgroup_soft_reclaim`) and file it again under its new
    /// excess. A memcg that yields nothing passes the turn to the next largest; after more than two fruitless
    /// memcgs (or none left) it gives up. A memcg taken as "next" but not reached stays off the tree until its
    /// next tree update, as in the kernel. Returns (reclaimed, scanned, reclaim cost in ns).
    pub(crate) fn memcg1_soft_limit_reclaim(&mut self, kswapd: bool) -> (u64, u64, u64) {
        use crate::memcontrol::v1::MEM_CGROUP_MAX_SOFT_LIMIT_RECLAIM_LOOPS;
        let (mut nr_reclaimed, mut total_scanned, mut cost) = (0u64, 0u64, 0u64);
        if self.memcg.soft_limit_tree.is_empty() {
            return (0, 0, 0);
        }
        let mut next_mz: Option<MemcgId> = None;
        let mut loops = 0u32;
        loop {
            let Some(mz) = next_mz.take().or_else(|| self.memcg.soft_tree_take_largest()) else { break };
            let reclaimed = self.mem_cgroup_soft_reclaim(mz, kswapd, &mut total_scanned, &mut cost);
            nr_reclaimed += reclaimed;
            if reclaimed == 0 {
                next_mz = self.memcg.soft_tree_take_largest();
            }
            let excess = self.memcg.soft_limit_excess(mz);
            self.memcg.soft_tree_insert(mz, excess);
            loops += 1;
            if nr_reclaimed == 0 && (next_mz.is_none() || loops > MEM_CGROUP_MAX_SOFT_LIMIT_RECLAIM_LOOPS) {
                break;
            }
            if nr_reclaimed != 0 {
                break;
            }
        }
        (nr_reclaimed, total_scanned, cost)
    }

    /// mm/memcontrol-v1.c:`mem_cgroup_soft_reclaim`: shrink the memcgs of `root`'s subtree one after another
    /// (a cookie walk resuming where the last one stopped, [`MemCgroupTree::mem_cgroup_iter_reclaim`]) until
    /// `root` is no longer above its soft limit; at each end of the subtree, from the second on, stop when
    /// nothing was reclaimed, when at least a quarter of the initial excess was, or after 100 passes.
    fn mem_cgroup_soft_reclaim(&mut self, root: MemcgId, kswapd: bool, total_scanned: &mut u64, cost: &mut u64) -> u64 {
        use crate::memcontrol::v1::{soft_reclaim_stop_threshold, MEM_CGROUP_MAX_RECLAIM_LOOPS};
        let excess = self.memcg.soft_limit_excess(root);
        let mut total = 0u64;
        let mut loops = 0u32;
        loop {
            let Some(victim) = self.memcg.mem_cgroup_iter_reclaim(root) else {
                loops += 1;
                if loops >= 2 && (total == 0 || total >= soft_reclaim_stop_threshold(excess) || loops > MEM_CGROUP_MAX_RECLAIM_LOOPS) {
                    break;
                }
                continue;
            };
            let (reclaimed, scanned, ns) = self.mem_cgroup_shrink_node(victim, kswapd);
            total += reclaimed;
            *total_scanned += scanned;
            *cost += ns;
            if self.memcg.soft_limit_excess(root) == 0 {
                break;
            }
        }
        total
    }

    // ---- memcg OOM ---------------------------------------------------------------------------------------------

    /// The OOM killer's task view in `mem_cgroup_scan_tasks` order: memcgs in pre-order (children in creation
    /// order), the tasks of one memcg in the order they joined it.
    pub fn oom_tasks_memcg_order(&self) -> Vec<OomTask> {
        let pre = self.memcg_preorder();
        // `all` is in creation order; slots[i] is the slot of all[i].
        let slots: Vec<usize> = self.tasks.slots_in_order().collect();
        let mut idx: Vec<usize> = (0..slots.len()).collect();
        idx.sort_by_key(|&i| (pre[self.tasks[slots[i]].memcg as usize], self.tasks[slots[i]].cg_seq));
        let all = self.oom_tasks();
        idx.into_iter().map(|i| all[i].clone()).collect()
    }

    /// Pre-order position of every memcg (`css_next_descendant_pre`).
    pub(crate) fn memcg_preorder(&self) -> Vec<u32> {
        let mut pos = vec![0u32; self.memcg.len()];
        let mut stack = vec![ROOT_MEMCG];
        let mut n = 0;
        while let Some(m) = stack.pop() {
            pos[m as usize] = n;
            n += 1;
            stack.extend(self.memcg.memcg(m).children.iter().rev().copied());
        }
        pos
    }

    /// `mem_cgroup_out_of_memory` → `out_of_memory` with CONSTRAINT_MEMCG on `memcg` (mem_over_limit):
    /// totalpages = `mem_cgroup_get_max` (1 when 0), the candidates the tasks of its subtree in scan order
    /// (`mem_cgroup_scan_tasks`, scored from the dense index: `MemcgTasks`),
    /// the memcg OOM report. `current` None: the admin process writing memory.max (a process outside the model, in
    /// the root cgroup). Returns out_of_memory()'s value.
    pub(crate) fn mem_cgroup_out_of_memory(&mut self, memcg: MemcgId, order: u32, current: Option<u32>) -> bool {
        let oc = self.memcg_oom_control(memcg, order);
        self.out_of_memory_memcg(&oc, memcg, current).returns
    }

    /// The oom_control of a memcg OOM in `memcg`.
    pub(crate) fn memcg_oom_control(&self, memcg: MemcgId, order: u32) -> OomControl {
        let max = self.memcg.mem_cgroup_get_max(memcg, self.swap.total as u64);
        let totalpages = if max == 0 { 1 } else { max };
        let mut oc = OomControl::memcg(self.memcg.path(memcg), totalpages);
        oc.order = order as i32;
        oc
    }

    /// The snapshot of every process in `mem_cgroup_scan_tasks` order ([`Kernel::oom_tasks_memcg_order`]) for a
    /// memcg OOM raised by `current`, with the admin process last when `current` is None or not live; and the pid
    /// out_of_memory runs for (0 for the admin).
    pub(crate) fn oom_tasks_memcg_snapshot(&self, current: Option<u32>) -> (Vec<OomTask>, u32) {
        let mut tasks = self.oom_tasks_memcg_order();
        let cur = match current.filter(|p| self.task(*p).is_some()) {
            Some(p) => p,
            None => {
                tasks.push(crate::oom_kill::engine::memcg_scan::admin_task());
                0
            }
        };
        (tasks, cur)
    }

    /// [`Kernel::mem_cgroup_out_of_memory`] over the snapshot of every process (the path before the dense scan):
    /// the tests' oracle.
    #[cfg(test)]
    pub(crate) fn mem_cgroup_out_of_memory_snapshot(&mut self, memcg: MemcgId, order: u32, current: Option<u32>) -> crate::oom_kill::OomResult {
        let oc = self.memcg_oom_control(memcg, order);
        let (tasks, cur) = self.oom_tasks_memcg_snapshot(current);
        self.run_out_of_memory(&tasks, &oc, cur)
    }

    /// The `get_oom_group` hook of `out_of_memory` for a victim (index into `tasks`): v2
    /// `mem_cgroup_get_oom_group(victim, oc->memcg)` and the group's processes in scan order.
    pub(crate) fn memcg_oom_group(&self, tasks: &[OomTask], oc: &OomControl, v: usize) -> Option<OomGroup> {
        let victim = self.memcg.lookup(&tasks.get(v)?.memcg)?;
        let domain = match &oc.memcg {
            Some(p) => Some(self.memcg.lookup(p)?),
            None => None,
        };
        let g = self.memcg.mem_cgroup_get_oom_group(victim, domain)?;
        let pre = self.memcg_preorder();
        let mut members: Vec<(u32, u64, usize)> = tasks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let task = self.task(t.pid as u32).filter(|_| t.pid > 0)?;
                self.memcg.is_descendant(task.memcg, g).then_some((pre[task.memcg as usize], task.cg_seq, i))
            })
            .collect();
        members.sort_unstable();
        Some(OomGroup { path: self.memcg.path(g).to_string(), members: members.into_iter().map(|m| m.2).collect() })
    }

    /// The memcg part of an applied OOM kill: `oom_kill` on each counted victim's memcg, `oom_group_kill` on the
    /// swept group. Called before the victims exit.
    pub(crate) fn memcg_oom_events(&mut self, killed: &[i64], oom_group: Option<&str>) {
        for &pid in killed {
            if let Some(m) = u32::try_from(pid).ok().and_then(|p| self.task(p)).map(|t| t.memcg) {
                self.memcg.memcg_memory_event(m, super::MemcgEvent::OomKill);
            }
        }
        if let Some(g) = oom_group.and_then(|p| self.memcg.lookup(p)) {
            self.memcg.memcg_memory_event(g, super::MemcgEvent::OomGroupKill);
        }
    }

    /// The memcg OOM report lines of `dump_header` (`mem_cgroup_print_oom_meminfo`).
    pub(crate) fn memcg_oom_meminfo_lines(&self, path: &str) -> Vec<String> {
        self.memcg.lookup(path).map(|m| self.memcg.mem_cgroup_print_oom_meminfo(m)).unwrap_or_default()
    }

    // ---- v1 memcg OOM wait ---------------------------------------------------------------------------------------

    /// `mem_cgroup_oom_synchronize` (sleep part): the faulting task blocks on the memcg its charge waits on
    /// (`under_oom` was raised by the charge path), keeping the rest of its access pending.
    pub(crate) fn memcg_block_task(&mut self, pid: u32, pending: PendingAccess) {
        let memcg = self.current.memcg_in_oom;
        if let Some(t) = self.task_mut(pid) {
            t.state = TaskState::Blocked;
            t.oom_wait = Some(crate::task::OomWait { memcg, pending });
        }
    }

    /// `memcg1_oom_recover` → `memcg_oom_wake_function`: every task waiting on `memcg`, an ancestor or a
    /// descendant of it is woken (it resumes at the end of the current entry).
    pub(crate) fn memcg_oom_wake(&mut self, memcg: MemcgId) {
        for t in self.tasks.iter() {
            if let Some(w) = &t.oom_wait {
                if self.memcg.oom_wake_matches(memcg, w.memcg) && !self.oom_woken.contains(&t.pid) {
                    self.oom_woken.push(t.pid);
                }
            }
        }
    }

    /// The end of a kernel entry: tasks woken from a v1 memcg OOM wait leave it (`under_oom` drops) and retry
    /// their pending fault, then run the rest of their access (vectors-format.md §6.2 rule 3). A retried fault may
    /// block again, OOM-kill, or wake others.
    pub fn resume_woken(&mut self) {
        if self.current.resuming {
            return;
        }
        self.current.resuming = true;
        while !self.oom_woken.is_empty() {
            let pid = self.oom_woken.remove(0);
            let Some(t) = self.task_mut(pid) else { continue };
            let Some(w) = t.oom_wait.take() else { continue };
            t.state = TaskState::Running;
            self.memcg.unmark_under_oom(w.memcg);
            if self.oom.panicked.is_some() {
                break;
            }
            let _ = match w.pending {
                PendingAccess::Range { vpn, end, write } => self.touch_range(pid, vpn, end - vpn, access(write)),
                PendingAccess::Pattern { vpn, base, npages, pattern, left, write } => {
                    self.touch_pattern_entry(pid, base, npages, pattern, left, access(write), Some(vpn))
                }
            };
        }
        self.current.resuming = false;
    }

    /// Work at the end of every kernel entry: the return to user space of the task that ran it (memory.high
    /// throttling), and resuming woken memcg OOM waiters.
    #[inline]
    pub(crate) fn end_entry(&mut self) {
        let pid = self.current.pid;
        if pid != 0 {
            self.memcg_over_high_return(pid);
        }
        if !self.oom_woken.is_empty() {
            self.resume_woken();
        }
        if self.reclaim.cost.timed && self.reclaim.kswapd_due.is_some() {
            // timed: the clock moved while the task ran, and kswapd's timer is due now
            let now = self.now_ns;
            self.kswapd_run_due(now);
        }
    }

    /// Whether [`Kernel::end_entry`] after an entry of task `t` (the current one) that charged and freed nothing
    /// has nothing to do: no memory.high work or penalty pending on the task, no woken waiter to resume, no kswapd
    /// timer to run. The present-page fast path of `touch` (memory/engine.rs) relies on it; keep the two in step.
    #[inline]
    pub(crate) fn end_entry_idle(&self, t: &crate::task::Task) -> bool {
        t.memcg_nr_pages_over_high == 0
            && t.memcg_high_delay_jiffies == t.memcg_high_slept_jiffies
            && self.oom_woken.is_empty()
            && !(self.reclaim.cost.timed && self.reclaim.kswapd_due.is_some())
    }

    /// Return to user space (`resume_user_mode_work` → mm/memcontrol.c:`mem_cgroup_handle_over_high`): a task that
    /// charged pages while its memcg (or an ancestor) was over memory.high reclaims, and when the overage stays it
    /// sleeps the penalty `calculate_high_delay` gives (at most 2 s). Also the penalty a large charge computed
    /// synchronously (`try_charge_memcg` with more than 64 pages over high) is slept here. The sleep is a memory
    /// stall (PSI some and full) of penalty jiffies (HZ = 1000). memory.high never OOM-kills.
    pub(crate) fn memcg_over_high_return(&mut self, pid: u32) {
        let Some(t) = self.task(pid) else { return };
        if t.memcg_nr_pages_over_high == 0 && t.memcg_high_delay_jiffies == t.memcg_high_slept_jiffies {
            return;
        }
        let memcg = t.memcg;
        let mut task = ChargeTask {
            in_user_fault: false,
            pf_memalloc: false,
            dying: t.oom_victim || self.oom.current_killed.contains(&pid),
            memcg_in_oom: None,
            nr_pages_over_high: t.memcg_nr_pages_over_high,
            high_delay_jiffies: 0,
        };
        if task.nr_pages_over_high > 0 {
            let mut tree = std::mem::take(&mut self.memcg);
            {
                let mut env = EngineEnv { k: self, current: Some(pid) };
                tree.mem_cgroup_handle_over_high(&mut env, &mut task, memcg);
            }
            self.memcg = tree;
        }
        let hz = self.memcg.hz;
        let Some(t) = self.task_mut(pid) else { return };
        t.memcg_nr_pages_over_high = 0;
        t.memcg_high_delay_jiffies += task.high_delay_jiffies;
        let sleep = t.memcg_high_delay_jiffies - t.memcg_high_slept_jiffies;
        t.memcg_high_slept_jiffies = t.memcg_high_delay_jiffies;
        if sleep > 0 {
            self.memstall(Some(pid), sleep * 1_000_000_000 / hz);
        }
    }

    /// A task blocked in a v1 memcg OOM wait takes no new operations.
    pub(crate) fn check_not_blocked(&self, pid: u32) -> Result<(), ApiError> {
        match self.task(pid) {
            Some(t) if t.state == TaskState::Blocked => Err(ApiError::new(
                "E_BLOCKED",
                format!("task {pid} is blocked in a memcg OOM wait (state D); it takes no new operations until it is woken (raise the limit, free memory in its memcg, or write oom_kill_disable 0)"),
            )),
            _ => Ok(()),
        }
    }

    // ---- the cgroup interface ------------------------------------------------------------------------------------

    /// mkdir of a memory cgroup: the parent must exist (ENOENT); an existing path is EINVAL (EEXIST).
    pub fn cgroup_create(&mut self, path: &str) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        Ok(self.memcg.mkdir(path).map(|_| ()))
    }

    /// Write a cgroup control file with the kernel's semantics (reclaim, OOM, wake-ups included); the write's
    /// errno. ENOENT when the cgroup or the file does not exist.
    pub fn cgroup_write(&mut self, path: &str, file: &str, value: &str) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let Some(id) = self.memcg.lookup(path) else { return Ok(Err(Errno::ENOENT)) };
        let r = self.memcg_write(id, file, value);
        self.end_entry();
        Ok(r)
    }

    fn memcg_write(&mut self, id: MemcgId, file: &str, value: &str) -> SysResult<()> {
        let mut tree = std::mem::take(&mut self.memcg);
        let r = {
            let mut env = EngineEnv { k: self, current: None };
            tree.write(&mut env, id, file, value)
        };
        self.memcg = tree;
        // the v1 root's memory.swappiness is vm.swappiness
        self.sysctl.swappiness = self.memcg.vm_swappiness as i64;
        self.oom_exit_killed_current();
        r
    }

    /// Read a cgroup file with a fresh open: its exact contents, None when the cgroup or file does not exist.
    pub fn cgroup_read(&mut self, path: &str, file: &str) -> Option<String> {
        // memory.pressure is a cgroup v2 core file (kernel/cgroup/cgroup.c, PSI), not a memcg one
        if file == "memory.pressure" && self.memcg.mode == crate::memcontrol::CgroupMode::V2 {
            return self.cgroup_pressure(path);
        }
        self.memcg.read_file(path, file)
    }

    /// Open a cgroup file and keep it open; the fd number (ENOENT when it does not exist).
    pub fn cgroup_open(&mut self, path: &str, file: &str) -> SysResult<u32> {
        let id = self.memcg.lookup(path).ok_or(Errno::ENOENT)?;
        if !self.memcg.file_exists(id, file) {
            return Err(Errno::ENOENT);
        }
        let peak = matches!(file, "memory.peak" | "memory.swap.peak").then(|| self.memcg.peak_open(id, file == "memory.swap.peak"));
        self.cgroup_fds.push(CgroupFd { memcg: id, file: file.to_string(), peak });
        Ok((self.cgroup_fds.len() - 1) as u32)
    }

    /// Write through an open cgroup file (`memory.peak` fds reset their own peak).
    pub fn cgroup_fd_write(&mut self, fd: u32, value: &str) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let f = self.cgroup_fds.get(fd as usize).cloned().ok_or_else(|| ApiError::new("E_ARG", format!("cgroup fd {fd} is not open")))?;
        let r = match f.peak {
            Some(p) => self.memcg.peak_write(p, value),
            None => self.memcg_write(f.memcg, &f.file, value),
        };
        self.end_entry();
        Ok(r)
    }

    /// The file name behind an open cgroup fd.
    pub fn cgroup_fds_file(&self, fd: u32) -> Option<String> {
        self.cgroup_fds.get(fd as usize).map(|f| f.file.clone())
    }

    /// Read through an open cgroup file.
    pub fn cgroup_fd_read(&self, fd: u32) -> Option<String> {
        let f = self.cgroup_fds.get(fd as usize)?;
        match f.peak {
            Some(p) => self.memcg.peak_read(p).map(|v| format!("{}\n", v * crate::PAGE_SIZE)),
            None => self.memcg.read(f.memcg, &f.file),
        }
    }

    /// Counter-level charge of memory no task owns (`page_counter_try_charge` of `pages` on the memcg's
    /// hierarchy; v1 memsw first): no reclaim, events or OOM; ENOMEM (failcnt on the failing counter) on failure.
    pub fn cgroup_charge(&mut self, path: &str, pages: u64) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let id = self.memcg.lookup(path).ok_or_else(|| ApiError::errno("E_ARG", Errno::ENOENT, format!("charge.path: {path:?} does not exist")))?;
        if id == ROOT_MEMCG {
            return Ok(Ok(()));
        }
        Ok(self.memcg.counter_try_charge(id, pages).map_err(|_| Errno::ENOMEM))
    }

    /// Uncharge memory charged with [`Kernel::cgroup_charge`] (like `memcg_uncharge`: no OOM-wait wake-up).
    pub fn cgroup_uncharge(&mut self, path: &str, pages: u64) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let id = self.memcg.lookup(path).ok_or_else(|| ApiError::errno("E_ARG", Errno::ENOENT, format!("uncharge.path: {path:?} does not exist")))?;
        if id != ROOT_MEMCG {
            self.memcg.uncharge(id, pages);
        }
        Ok(Ok(()))
    }

    /// Move a task to another cgroup (a write of its pid to `cgroup.procs`). Its charges stay where they are
    /// (v2 never moves charges; v1 `move_charge_at_immigrate` is 0); its new pages charge the new memcg.
    pub fn move_task(&mut self, pid: u32, path: &str) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        let Some(id) = self.memcg.lookup(path) else { return Ok(Err(Errno::ENOENT)) };
        let seq = self.next_cg_seq();
        let t = &mut self.tasks[ti];
        t.memcg = id;
        t.cgroup = path.into();
        t.cg_seq = seq;
        self.oom_scan_task(ti);
        self.current.task_moved(pid, id);
        Ok(Ok(()))
    }

    /// The memory page_counter of a memcg (usage, max, watermark, failcnt, ...).
    pub fn memcg_counter(&self, path: &str) -> Option<&PageCounter> {
        self.memcg.lookup(path).map(|m| self.memcg.memory(m))
    }
}

fn access(write: bool) -> crate::memory::Access {
    if write {
        crate::memory::Access::Write
    } else {
        crate::memory::Access::Read
    }
}

#[cfg(test)]
mod tests;
