//! `current` (arch/x86/include/asm/current.h, the task_struct fields include/linux/sched.h gives it): the task
//! whose kernel entry is running and the per-entry state the kernel keeps on it. The engine has one CPU, so one
//! `Current`; it is set when an entry starts (a fault, read(2)/write(2) of a file) and read by what that entry
//! calls (the memcg charge, reclaim, the v1 memcg OOM wait), instead of each of them keeping a field of its own.
//! A leaf: it names only the vocabulary types.

use crate::types::{MemcgId, ROOT_MEMCG as ROOT};

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Current {
    /// The task of the running (or last) entry; 0: none (kernel context, or that task exited).
    pub pid: u32,
    /// Its memcg, resolved once per entry (`mem_cgroup_from_task(current)`), kept in step by a cgroup move.
    pub memcg: MemcgId,
    /// `current->in_user_fault` (mm/memory.c:`lru_gen_enter_fault`/`mem_cgroup_enter_user_fault`): a user page
    /// fault is being handled, so a v1 oom_kill_disable memcg makes the charge wait instead of failing.
    pub in_user_fault: bool,
    /// The page a `wp_page_copy` holds (its folio_get) while it allocates the copy: reclaim may unmap it but
    /// must not free it.
    pub wp_pinned: Option<u32>,
    /// The memcg the last charge that must wait in a v1 memcg OOM waits on (`current->memcg_in_oom`).
    pub memcg_in_oom: MemcgId,
    /// The end of an entry is resuming tasks woken from a v1 memcg OOM wait (their retried faults are entries
    /// too, which must not resume others in turn).
    pub resuming: bool,
}

impl Default for Current {
    fn default() -> Self {
        Current { pid: 0, memcg: ROOT, in_user_fault: false, wp_pinned: None, memcg_in_oom: ROOT, resuming: false }
    }
}

impl Current {
    /// An entry of task `pid`, whose memcg is `memcg`, starts.
    #[inline]
    pub fn enter(&mut self, pid: u32, memcg: MemcgId) {
        self.pid = pid;
        self.memcg = memcg;
    }

    /// Task `pid` exited: if it is current, the entry continues in kernel context.
    #[inline]
    pub fn task_exited(&mut self, pid: u32) {
        if self.pid == pid {
            self.pid = 0;
            self.memcg = ROOT;
        }
    }

    /// Task `pid` moved to memcg `memcg`.
    #[inline]
    pub fn task_moved(&mut self, pid: u32, memcg: MemcgId) {
        if self.pid == pid {
            self.memcg = memcg;
        }
    }

    /// The memcg of `pid` when it is current (no task-table lookup).
    #[inline]
    pub fn memcg_of(&self, pid: u32) -> Option<MemcgId> {
        (pid == self.pid).then_some(self.memcg)
    }

    /// The current task, if there is one (reclaim's stall is charged to it).
    #[inline]
    pub fn task(&self) -> Option<u32> {
        Some(self.pid).filter(|&p| p != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_exit_and_move() {
        let mut c = Current::default();
        assert_eq!(c.task(), None);
        c.enter(7, 3);
        assert_eq!((c.task(), c.memcg_of(7), c.memcg_of(8)), (Some(7), Some(3), None));
        c.task_moved(8, 5);
        assert_eq!(c.memcg, 3, "another task's move leaves current alone");
        c.task_moved(7, 5);
        assert_eq!(c.memcg_of(7), Some(5));
        c.task_exited(8);
        assert_eq!(c.pid, 7);
        c.task_exited(7);
        assert_eq!((c.task(), c.memcg), (None, ROOT));
    }
}
