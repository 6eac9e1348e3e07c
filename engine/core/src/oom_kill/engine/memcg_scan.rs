//! A memcg OOM on the dense counters: `mem_cgroup_out_of_memory` → `out_of_memory` → `select_bad_process`, which for
//! a memcg OOM runs `mem_cgroup_scan_tasks(oc->memcg, oom_evaluate_task, oc)` (mm/oom_kill.c, mm/memcontrol.c):
//! the memcgs of the OOM memcg's subtree in pre-order (`css_next_descendant_pre`, children in creation order) and,
//! in each, its tasks in the order they joined it.
//!
//! [`MemcgTasks`] is that scan as an [`OomTaskTable`]: only the tasks of the subtree, sorted by (pre-order position
//! of their memcg, join order) from [`TaskScan`]'s `memcg` and `cg_seq`, scored from the dense index like the
//! global OOM's [`LiveTasks`](super::scan::LiveTasks). A full [`OomTask`] is built only for the tasks a decision
//! names (current, the victim, its mm sharers, the dump_tasks rows).
//!
//! Besides the subtree it holds the few outside tasks a decision can name: the allocating task when it is not in
//! the subtree, and every task sharing an mm with a subtree task or with current (`__oom_kill_process` and
//! `task_will_free_mem` walk every process for mm sharers). They sit at their place in the same order and evaluate
//! as outside the domain, so the victim, its points, the ties (the later task wins) and every log line are the ones
//! of the snapshot of all processes in that order ([`Kernel::oom_tasks_memcg_order`]), which the tests keep as the
//! oracle. Without a modelled current (the admin writing memory.max), the admin process is the last entry.

use super::super::{oom_evaluate_candidate, oom_evaluate_task, Evaluation, OomControl, OomGroup, OomResult, OomTask, OomTaskTable};
use super::scan::TaskScan;
use crate::kernel::Kernel;
use crate::types::MemcgId;
use std::borrow::Cow;

/// The tasks `mem_cgroup_scan_tasks` visits for a memcg OOM, plus the outside tasks a decision can name (see the
/// module text), in scan order.
pub struct MemcgTasks<'a> {
    k: &'a Kernel,
    /// (pre-order position of the task's memcg, its `cg_seq`, its slot), ascending: the scan order.
    entries: Vec<(u32, u64, u32)>,
    /// Pre-order position of every memcg.
    pre: Vec<u32>,
    /// Whether each memcg is in the OOM memcg's subtree.
    in_domain: Vec<bool>,
    /// The admin process (no modelled current): the last entry.
    admin: Option<OomTask>,
}

impl<'a> MemcgTasks<'a> {
    /// The table for an OOM of `memcg` raised by `current` (None, or a pid that is not live: the admin process).
    pub fn new(k: &'a Kernel, memcg: MemcgId, current: Option<u32>) -> Self {
        let pre = k.memcg_preorder();
        let in_domain: Vec<bool> = (0..k.memcg.len() as MemcgId).map(|m| k.memcg.is_descendant(m, memcg)).collect();
        let cur_slot = current.and_then(|p| k.task_index(p).ok());
        let scan = &k.oom.scan;
        // bit 0: the mm is used by a task of the table; bit 1: by a task outside it
        let mut mm_use = vec![0u8; scan.mm.len()];
        let mut shared_outside = false;
        let mut entries = Vec::with_capacity(k.tasks.len());
        let wanted = |slot: usize, t: &TaskScan| in_domain[t.memcg as usize] || Some(slot) == cur_slot;
        for (slot, t) in scan.task.iter().enumerate() {
            if t.pid == 0 {
                continue; // a free slot (pids start at 1)
            }
            let u = &mut mm_use[t.mm as usize];
            if wanted(slot, t) {
                entries.push((pre[t.memcg as usize], t.cg_seq, slot as u32));
                *u |= 1;
            } else {
                *u |= 2;
            }
            shared_outside |= *u == 3;
        }
        if shared_outside {
            for (slot, t) in scan.task.iter().enumerate() {
                if t.pid != 0 && !wanted(slot, t) && mm_use[t.mm as usize] & 1 != 0 {
                    entries.push((pre[t.memcg as usize], t.cg_seq, slot as u32));
                }
            }
        }
        // cg_seq is unique, so the order is total; slot order is nearly creation order, which the sort finds cheap
        entries.sort_unstable();
        let admin = cur_slot.is_none().then(admin_task);
        MemcgTasks { k, entries, pre, in_domain, admin }
    }

    fn slot(&self, i: usize) -> usize {
        self.entries[i].2 as usize
    }

    fn scan(&self, i: usize) -> &TaskScan {
        &self.k.oom.scan.task[self.slot(i)]
    }

    /// The `get_oom_group` hook: v2 `mem_cgroup_get_oom_group(victim, oc->memcg)` and the group's processes in scan
    /// order, as [`Kernel::memcg_oom_group`] gives them on the snapshot. The group is in the OOM memcg's subtree,
    /// whose tasks are all in the table, already in scan order.
    pub fn oom_group(&self, oc: &OomControl, v: usize) -> Option<OomGroup> {
        if v >= self.entries.len() {
            return None; // the admin process is in the root, which has no memory.oom.group
        }
        let domain = match &oc.memcg {
            Some(p) => Some(self.k.memcg.lookup(p)?),
            None => None,
        };
        let g = self.k.memcg.mem_cgroup_get_oom_group(self.scan(v).memcg, domain)?;
        debug_assert!(self.in_domain[g as usize], "the oom.group cgroup is in the OOM domain");
        let members = (0..self.entries.len()).filter(|&j| self.k.memcg.is_descendant(self.scan(j).memcg, g)).collect();
        Some(OomGroup { path: self.k.memcg.path(g).to_string(), members })
    }
}

impl OomTaskTable for MemcgTasks<'_> {
    fn nr_tasks(&self) -> usize {
        self.entries.len() + self.admin.is_some() as usize
    }

    fn task(&self, i: usize) -> Cow<'_, OomTask> {
        match i.checked_sub(self.entries.len()) {
            None => Cow::Owned(self.k.oom_task_of(&self.k.tasks[self.slot(i)])),
            Some(_) => Cow::Borrowed(self.admin.as_ref().expect("index within the table")),
        }
    }

    fn evaluate(&self, i: usize, oc: &OomControl, chosen_points: i64) -> Evaluation {
        if i >= self.entries.len() {
            return oom_evaluate_task(&self.task(i), oc, chosen_points);
        }
        let e = if self.in_domain[self.scan(i).memcg as usize] {
            oom_evaluate_candidate(&self.k.oom_candidate(self.slot(i)), oc, chosen_points)
        } else {
            Evaluation::OutsideDomain
        };
        debug_assert_eq!(e, oom_evaluate_task(&self.task(i), oc, chosen_points), "memcg scan evaluation of entry {i}");
        e
    }

    /// Same mm, another pid (every engine process is its own thread group). An mm with one user has none; the
    /// admin process has an mm of its own.
    fn mm_sharers(&self, i: usize) -> Vec<usize> {
        if i >= self.entries.len() {
            return Vec::new();
        }
        let me = *self.scan(i);
        if self.k.mm(me.mm).users <= 1 {
            return Vec::new();
        }
        (0..self.entries.len()).filter(|&j| self.scan(j).mm == me.mm && self.scan(j).pid != me.pid).collect()
    }

    fn index_of_pid(&self, pid: i64) -> Option<usize> {
        if pid == 0 {
            return self.admin.as_ref().map(|_| self.entries.len());
        }
        let slot = u32::try_from(pid).ok().and_then(|p| self.k.task_index(p).ok())?;
        let t = &self.k.oom.scan.task[slot];
        self.entries.binary_search(&(self.pre[t.memcg as usize], t.cg_seq, slot as u32)).ok()
    }
}

impl Kernel {
    /// `out_of_memory` for a memcg OOM (`oc` with CONSTRAINT_MEMCG on `memcg`) raised by `current` (None: the admin
    /// process), decided over [`MemcgTasks`] and applied. The explanation table, when recorded, is built from the
    /// snapshot of every process in scan order, as before.
    pub(crate) fn out_of_memory_memcg(&mut self, oc: &OomControl, memcg: MemcgId, current: Option<u32>) -> OomResult {
        let (decided, cur) = {
            let table = MemcgTasks::new(self, memcg, current);
            let cur = match table.admin {
                Some(_) => 0,
                None => current.expect("a live current"),
            };
            let get_oom_group = |v: usize| table.oom_group(oc, v);
            (self.decide_out_of_memory(&table, oc, cur, &get_oom_group), cur)
        };
        if self.oom.explain_selections && decided.as_ref().is_some_and(|(r, _)| !r.killed.is_empty()) {
            let (tasks, _) = self.oom_tasks_memcg_snapshot(current);
            self.record_selection_explanation(&tasks, oc);
        }
        self.finish_out_of_memory(decided, oc, cur)
    }
}

/// The admin process that writes cgroup files (root, all capabilities, in the root cgroup; not a modelled task):
/// `current` of an OOM raised by a memory.max write. Its mm is its own: no id of `Kernel::mms` (a modelled mm
/// with the id 0 is not shared with it).
pub(crate) fn admin_task() -> OomTask {
    let mut t = OomTask::new(0);
    t.mm = u64::MAX;
    t.comm = "sh".into();
    t.uid = 0;
    t.memcg = "/".into();
    t
}

#[cfg(test)]
mod tests;
