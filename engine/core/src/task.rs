//! A process (include/linux/sched.h `task_struct`, the fields the memory simulation needs).

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskState {
    Running,
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
    /// cgroup path (memcg wiring comes with memcontrol/).
    pub cgroup: String,
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
