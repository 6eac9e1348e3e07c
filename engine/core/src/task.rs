//! A process (include/linux/sched.h `task_struct`, the fields the memory simulation needs).

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskState {
    Running,
    /// Sleeping in a v1 memcg OOM wait (`mem_cgroup_oom_synchronize`, TASK_KILLABLE; "D" in the task table): the
    /// charge of a user fault failed in a memcg with `memory.oom_control` oom_kill_disable 1.
    Blocked,
    /// Exited: nothing of it remains except in logs.
    Dead,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub pid: u32,
    pub ppid: u32,
    pub comm: String,
    pub uid: u32,
    pub cap_sys_admin: bool,
    /// -1000..=1000 (fs/proc/base.c:`__set_oom_adj`).
    pub oom_score_adj: i32,
    /// signal->oom_score_adj_min: the floor for writers without CAP_SYS_RESOURCE (fs/proc/base.c:`__set_oom_adj`).
    pub oom_score_adj_min: i32,
    /// signal->oom_mm is set: the task was chosen and marked by the OOM killer (`mark_oom_victim`).
    pub oom_victim: bool,
    pub state: TaskState,
    /// Index of the task's mm in `Kernel::mms`.
    pub mm: u32,
    /// A vfork child sharing its parent's mm until exec or exit.
    pub in_vfork: bool,
    pub min_flt: u64,
    pub maj_flt: u64,
    /// cgroup path (absolute, `/` for the root).
    pub cgroup: String,
    /// The memcg `cgroup` names, resolved once (`mem_cgroup_from_task`).
    pub memcg: crate::memcontrol::MemcgId,
    /// Order of joining its cgroup (css_set task lists append at the tail): `mem_cgroup_scan_tasks` visits the
    /// tasks of one cgroup in this order.
    pub cg_seq: u64,
    /// `current->memcg_nr_pages_over_high`.
    pub memcg_nr_pages_over_high: u64,
    /// Jiffies the memory.high throttling made this task sleep (accumulated).
    pub memcg_high_delay_jiffies: u64,
    /// v1 memcg OOM wait: the memcg waited on (`current->memcg_in_oom`) and the accesses still to do.
    pub oom_wait: Option<OomWait>,
}

/// A task sleeping in a v1 memcg OOM wait, with the rest of its access (retried when it wakes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomWait {
    pub memcg: crate::memcontrol::MemcgId,
    pub pending: PendingAccess,
}

/// Accesses left when a task blocked: the faulting page first, then the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendingAccess {
    /// `touch`: pages `vpn..end` in order.
    Range { vpn: u64, end: u64, write: bool },
    /// `touch_pattern`: the page `vpn` (already drawn), then `left` more draws of the pattern.
    Pattern { vpn: u64, base: u64, npages: u64, pattern: crate::memory::Pattern, left: u64, write: bool },
}

/// The default comm of a task created without one.
pub fn default_comm(pid: u32) -> String {
    format!("task{pid}")
}

/// `oom_score_adj` range check (fs/proc/base.c:`oom_score_adj_write`): -1000..=1000, otherwise EINVAL.
pub fn valid_oom_score_adj(v: i64) -> bool {
    (-1000..=1000).contains(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn adj_range() {
        assert!(valid_oom_score_adj(-1000) && valid_oom_score_adj(1000));
        assert!(!valid_oom_score_adj(-1001) && !valid_oom_score_adj(1001));
        assert_eq!(default_comm(7), "task7");
    }
}
