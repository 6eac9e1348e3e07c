//! A process (include/linux/sched.h `task_struct`, the fields the memory simulation needs).

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaskState {
    Running,
    /// Sleeping in a v1 memcg OOM wait (`mem_cgroup_oom_synchronize`, TASK_KILLABLE; "D" in the task table): the
    /// charge of a user fault failed in a memcg with `memory.oom_control` oom_kill_disable 1.
    Blocked,
    /// Exited: nothing of it remains except in logs.
    Dead,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub pid: u32,
    pub ppid: u32,
    pub comm: std::rc::Rc<str>,
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
    pub cgroup: std::rc::Rc<str>,
    /// The memcg `cgroup` names, resolved once (`mem_cgroup_from_task`).
    pub memcg: crate::types::MemcgId,
    /// Order of joining its cgroup (css_set task lists append at the tail): `mem_cgroup_scan_tasks` visits the
    /// tasks of one cgroup in this order.
    pub cg_seq: u64,
    /// `current->memcg_nr_pages_over_high`.
    pub memcg_nr_pages_over_high: u64,
    /// Jiffies the memory.high throttling made this task sleep (accumulated).
    pub memcg_high_delay_jiffies: u64,
    /// Of `memcg_high_delay_jiffies`, the part already slept on return to user space.
    pub memcg_high_slept_jiffies: u64,
    /// v1 memcg OOM wait: the memcg waited on (`current->memcg_in_oom`) and the accesses still to do.
    pub oom_wait: Option<OomWait>,
}

/// A task sleeping in a v1 memcg OOM wait, with the rest of its access (retried when it wakes).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OomWait {
    pub memcg: crate::types::MemcgId,
    pub pending: PendingAccess,
}

/// Accesses left when a task blocked: the faulting page first, then the rest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PendingAccess {
    /// `touch`: pages `vpn..end` in order.
    Range { vpn: u64, end: u64, write: bool },
    /// `touch_pattern`: the page `vpn` (already drawn), then `left` more draws of the pattern.
    Pattern { vpn: u64, base: u64, npages: u64, pattern: crate::types::Pattern, left: u64, write: bool },
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

/// The task list (`for_each_process`): stable slots, which `Kernel::task_index` hands out, plus the creation order
/// the OOM killer scans in. Insertion is O(1) and removal O(log n) — the slot is freed and its entry found in the
/// order by binary search on the creation sequence — so exits stay cheap with 100,000 tasks.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TaskTable {
    slots: Vec<Option<Task>>,
    free: Vec<u32>,
    /// (creation sequence, slot) of every live task, ascending.
    order: Vec<(u64, u32)>,
    /// Creation sequence of the task in each slot.
    seq_of: Vec<u64>,
    next_seq: u64,
}

impl TaskTable {
    /// Add a task at the end of the creation order; returns its slot.
    pub fn push(&mut self, t: Task) -> usize {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(t);
                self.seq_of[s as usize] = seq;
                s as usize
            }
            None => {
                self.slots.push(Some(t));
                self.seq_of.push(seq);
                self.slots.len() - 1
            }
        };
        self.order.push((seq, slot as u32));
        slot
    }

    /// Remove the task in `slot`.
    pub fn remove(&mut self, slot: usize) -> Task {
        let t = self.slots[slot].take().expect("remove of an empty task slot");
        let seq = self.seq_of[slot];
        let pos = self.order.binary_search(&(seq, slot as u32)).expect("live task is in the order");
        self.order.remove(pos);
        self.free.push(slot as u32);
        t
    }

    /// A restored table is well formed: the creation order lists exactly the occupied slots, ascending, with
    /// their sequence numbers, and the free list exactly the empty ones (snapshot/check.rs).
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.seq_of.len() != self.slots.len() {
            return Err("task table: seq_of and slots differ in length".into());
        }
        let mut listed = vec![false; self.slots.len()];
        let mut last = None;
        for &(seq, slot) in &self.order {
            let s = slot as usize;
            if s >= self.slots.len() || listed[s] || self.slots[s].is_none() || self.seq_of[s] != seq || seq >= self.next_seq || last.is_some_and(|l| l >= seq) {
                return Err(format!("task table: creation order entry ({seq}, slot {slot}) is inconsistent"));
            }
            listed[s] = true;
            last = Some(seq);
        }
        let occupied = self.slots.iter().filter(|t| t.is_some()).count();
        if occupied != self.order.len() {
            return Err("task table: an occupied slot is missing from the creation order".into());
        }
        let mut free = vec![false; self.slots.len()];
        for &s in &self.free {
            let s = s as usize;
            if s >= self.slots.len() || free[s] || self.slots[s].is_some() {
                return Err(format!("task table: free slot {s} is inconsistent"));
            }
            free[s] = true;
        }
        if self.free.len() + occupied != self.slots.len() {
            return Err("task table: an empty slot is missing from the free list".into());
        }
        Ok(())
    }

    /// Live tasks.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn get(&self, slot: usize) -> Option<&Task> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Task> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    /// The slot of the `i`-th live task in creation order (`i < len()`).
    pub fn slot_at(&self, i: usize) -> usize {
        self.order[i].1 as usize
    }

    /// The creation-order position of the live task in `slot` (O(log n)).
    pub fn position_of(&self, slot: usize) -> Option<usize> {
        self.get(slot)?;
        self.order.binary_search(&(self.seq_of[slot], slot as u32)).ok()
    }

    /// Number of slots, live or free.
    pub fn slots_len(&self) -> usize {
        self.slots.len()
    }

    /// Slots of the live tasks in creation order.
    pub fn slots_in_order(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().map(|&(_, s)| s as usize)
    }

    /// Live tasks in creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Task> + '_ {
        self.order.iter().map(|&(_, s)| self.slots[s as usize].as_ref().expect("ordered slot is live"))
    }

    /// Live tasks, mutably, in slot order (for updates whose order does not matter).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Task> + '_ {
        self.slots.iter_mut().flatten()
    }
}

impl std::ops::Index<usize> for TaskTable {
    type Output = Task;
    fn index(&self, slot: usize) -> &Task {
        self.slots[slot].as_ref().expect("index of an empty task slot")
    }
}

impl std::ops::IndexMut<usize> for TaskTable {
    fn index_mut(&mut self, slot: usize) -> &mut Task {
        self.slots[slot].as_mut().expect("index of an empty task slot")
    }
}
