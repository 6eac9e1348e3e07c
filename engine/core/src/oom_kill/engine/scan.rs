//! The dense counters the OOM killer scores processes from, and the global OOM's live task table over them (the
//! memcg OOM's is [`super::memcg_scan::MemcgTasks`]).
//!
//! `select_bad_process` (mm/oom_kill.c) visits every process and `oom_badness` reads, for each, a handful of numbers
//! and flags. Reading them from the engine's `Task` and `Mm` structs (large, one cache miss each) or building an
//! [`OomTask`] snapshot per process (two reference-counted strings each) costs milliseconds with 100,000
//! processes. So the engine keeps those numbers in two dense arrays, [`OomScanIndex`]: per task slot
//! ([`TaskScan`]: pid, mm, oom_score_adj, in_vfork, OOM victim) and per mm ([`MmScan`]: RSS, swap entries, page
//! table bytes, MMF_OOM_SKIP), updated wherever the engine changes them. [`LiveTasks`] is the task table a global
//! OOM decides over: it scores from the arrays and builds a full snapshot only for the tasks a decision names
//! (current, the victim and its mm sharers, the rows of dump_tasks).
//!
//! Where the arrays are updated: a task slot when a task is added or removed (`push_task`/`remove_task`), on exec
//! (new mm, vfork ends), when the OOM killer marks a victim and when oom_score_adj is written; an mm when it is
//! created or freed (`new_mm`/`mmput`), on every RSS counter change (`rss_add`, and fork's copied counters), when
//! page tables are allocated or freed, and when MMF_OOM_SKIP is set. Every read of the arrays in a debug build is
//! checked against the snapshot of the same task, and the property tests check the whole index after every
//! operation (`check_invariants`).
//!
//! Memory: 24 bytes per task slot (with the memcg and its join order, for the memcg OOM's scan: memcg_scan.rs) and
//! 32 per mm, i.e. 56 bytes per single-threaded process.

use super::super::{
    memcg_in_subtree, oom_evaluate_candidate, Evaluation, OomCandidate, OomControl, OomTask, OomTaskTable,
};
use crate::kernel::Kernel;
use crate::mm_types::MmCounter;
use std::borrow::Cow;

pub use crate::oom_kill::state::{engine_candidate, MmScan, OomScanIndex, TaskScan};

impl Kernel {
    /// Update the index for task slot `slot` from the task there (a free slot gets zeros).
    pub(crate) fn oom_scan_task(&mut self, slot: usize) {
        let v = self.tasks.get(slot).map(TaskScan::of).unwrap_or_default();
        self.oom.scan.set_task(slot, v);
    }

    /// Update the index for mm `id` from the mm (a freed mm gets zeros).
    pub(crate) fn oom_scan_mm(&mut self, id: u32) {
        let v = self.mms.get(id as usize).and_then(Option::as_ref).map(MmScan::of).unwrap_or_default();
        self.oom.scan.set_mm(id as usize, v);
    }

    /// An RSS counter of mm `id` changed by `d` (the hot path of every fault: one add).
    #[inline]
    pub(crate) fn oom_scan_rss_add(&mut self, id: u32, c: MmCounter, d: i64) {
        let m = &mut self.oom.scan.mm[id as usize];
        if c == MmCounter::MM_SWAPENTS {
            m.swapents = m.swapents.wrapping_add(d);
        } else {
            m.rss = m.rss.wrapping_add(d);
        }
    }

    /// The scoring fields of the task in `slot`, from the index.
    pub(crate) fn oom_candidate(&self, slot: usize) -> OomCandidate {
        let t = &self.oom.scan.task[slot];
        engine_candidate(t, &self.oom.scan.mm[t.mm as usize], self.config.model_page_tables)
    }

    /// Panics unless the index equals what its sources say, for every task slot and mm, and every mm's `users`
    /// is the number of live tasks on it (tests).
    #[cfg(test)]
    pub(crate) fn check_oom_scan_index(&self) {
        let s = &self.oom.scan;
        for slot in 0..s.task.len().max(self.tasks.slots_len()) {
            let want = self.tasks.get(slot).map(TaskScan::of).unwrap_or_default();
            assert_eq!(s.task.get(slot).copied().unwrap_or_default(), want, "OOM scan index of task slot {slot}");
        }
        let mut total = 0u64;
        for id in 0..s.mm.len().max(self.mms.len()) {
            let want = self.mms.get(id).and_then(Option::as_ref).map(MmScan::of).unwrap_or_default();
            assert_eq!(s.mm.get(id).copied().unwrap_or_default(), want, "OOM scan index of mm {id}");
            total = total.wrapping_add(want.pgtables_bytes);
        }
        assert_eq!(s.pgtables_bytes, total, "OOM scan index page-table total");
        // Mm::users counts the live tasks on each mm (LiveTasks::mm_sharers relies on it)
        let mut users = vec![0u32; self.mms.len()];
        for t in self.tasks() {
            users[t.mm as usize] += 1;
        }
        for (id, mm) in self.mms.iter().enumerate() {
            if let Some(mm) = mm {
                assert_eq!(mm.users, users[id], "users of mm {id}");
            }
        }
    }
}

/// The live task table in creation order (`for_each_process`) as the OOM killer's [`OomTaskTable`]: index `i` is
/// the `i`-th live task, the same index it has in [`Kernel::oom_tasks`]. Scores from [`OomScanIndex`]; `task(i)`
/// builds the snapshot of one task. In debug builds every answer is checked against the snapshot's.
pub struct LiveTasks<'a> {
    k: &'a Kernel,
}

impl<'a> LiveTasks<'a> {
    pub fn new(k: &'a Kernel) -> Self {
        LiveTasks { k }
    }
}

impl OomTaskTable for LiveTasks<'_> {
    fn nr_tasks(&self) -> usize {
        self.k.tasks.len()
    }

    fn task(&self, i: usize) -> Cow<'_, OomTask> {
        Cow::Owned(self.k.oom_task_of(&self.k.tasks[self.k.tasks.slot_at(i)]))
    }

    fn evaluate(&self, i: usize, oc: &OomControl, chosen_points: i64) -> Evaluation {
        let slot = self.k.tasks.slot_at(i);
        let e = match &oc.memcg {
            Some(m) if !memcg_in_subtree(&self.k.tasks[slot].cgroup, m) => Evaluation::OutsideDomain,
            _ => oom_evaluate_candidate(&self.k.oom_candidate(slot), oc, chosen_points),
        };
        debug_assert_eq!(e, super::super::oom_evaluate_task(&self.task(i), oc, chosen_points), "live evaluation of task {i}");
        e
    }

    /// Same mm and another pid: in the engine every process has an mm and is its own thread group (tgid = pid).
    /// An mm with one user (`Mm::users` counts the tasks on it) has no other.
    fn mm_sharers(&self, i: usize) -> Vec<usize> {
        let s = &self.k.oom.scan;
        let me = s.task[self.k.tasks.slot_at(i)];
        let v: Vec<usize> = if self.k.mm(me.mm).users <= 1 {
            Vec::new()
        } else {
            self.k
                .tasks
                .slots_in_order()
                .enumerate()
                .filter(|&(_, slot)| s.task[slot].mm == me.mm && s.task[slot].pid != me.pid)
                .map(|(j, _)| j)
                .collect()
        };
        #[cfg(debug_assertions)]
        {
            let t = self.task(i);
            let want: Vec<usize> = (0..self.nr_tasks())
                .filter(|&j| {
                    let p = self.task(j);
                    p.shares_mm_with(&t) && p.tgid != t.tgid
                })
                .collect();
            assert_eq!(v, want, "live mm sharers of task {i}");
        }
        v
    }

    fn index_of_pid(&self, pid: i64) -> Option<usize> {
        let i = u32::try_from(pid).ok().and_then(|p| self.k.task_index(p).ok()).and_then(|slot| self.k.tasks.position_of(slot));
        debug_assert_eq!(i, (0..self.nr_tasks()).find(|&j| self.task(j).pid == pid), "live index of pid {pid}");
        i
    }
}

#[cfg(test)]
mod tests {
    use super::super::USER_FAULT_GFP;
    use super::*;
    use crate::kernel::{MachineConfig, SpawnArgs};
    use crate::memory::Access;
    use crate::mmap::{MapFlags, PROT_RW};
    use crate::oom_kill::{select_bad_process, select_bad_process_on, OomOutcome, OomResult, Selection};

    fn machine(pages: u32, swap: u32) -> Kernel {
        Kernel::new(MachineConfig { totalram_pages: pages, total_swap_pages: swap, ..Default::default() }).unwrap()
    }

    fn spawn_in(k: &mut Kernel, pid: u32, cgroup: &str, adj: i32, pages: u64) -> u64 {
        k.spawn_task(SpawnArgs { pid, comm: format!("p{pid}"), cgroup: cgroup.into(), oom_score_adj: adj, ..SpawnArgs::default() }).unwrap();
        let v = k.mmap(pid, pages.max(1), PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        if pages > 0 {
            k.touch(pid, v, pages, Access::Write).unwrap();
        }
        v
    }

    /// The global OOM on the live table and on a snapshot slice of the same machine decide and apply exactly the
    /// same: result, log, records, events, counters, and the tasks left.
    fn live_equals_snapshot(k: &Kernel, current: u32) -> (Kernel, OomResult) {
        let (mut a, mut b) = (k.clone(), k.clone());
        let ra = a.out_of_memory_global(current, USER_FAULT_GFP, 0);
        let mut oc = OomControl::global(b.oom_global_totalpages());
        oc.gfp_mask = USER_FAULT_GFP;
        let snapshot = b.oom_tasks();
        let rb = b.run_out_of_memory(&snapshot, &oc, current);
        assert_eq!(ra, rb);
        assert_eq!(a.log, b.log);
        assert_eq!(a.oom_records(), b.oom_records());
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        a.drain_events(&mut ea);
        b.drain_events(&mut eb);
        assert_eq!(ea, eb);
        assert_eq!(crate::bench_workloads::digest(&a), crate::bench_workloads::digest(&b));
        assert_eq!(a.tasks().map(|t| t.pid).collect::<Vec<_>>(), b.tasks().map(|t| t.pid).collect::<Vec<_>>());
        a.check_oom_scan_index();
        (a, ra)
    }

    #[test]
    fn index_follows_every_change() {
        let mut k = machine(4096, 512);
        let check = |k: &Kernel| {
            k.check_oom_scan_index();
            let tp = k.oom_global_totalpages();
            assert_eq!(select_bad_process_on(&LiveTasks::new(k), &OomControl::global(tp)), select_bad_process(&k.oom_tasks(), &OomControl::global(tp)));
        };
        spawn_in(&mut k, 1, "/", 0, 10);
        let v2 = spawn_in(&mut k, 2, "/", 0, 300);
        check(&k);
        k.fork(2, 3).unwrap().unwrap();
        check(&k);
        k.vfork(2, 4).unwrap().unwrap();
        check(&k);
        // a write to the vfork child's adj also reaches its parent (same mm, not in vfork): both slots change
        k.write_oom_score_adj(4, 500, true).unwrap().unwrap();
        assert_eq!(k.oom_score_adj(2).unwrap(), 500);
        check(&k);
        k.write_oom_score_adj(3, -1000, true).unwrap().unwrap();
        check(&k);
        k.exec(4, Some("child")).unwrap().unwrap();
        check(&k);
        k.swapout(2, v2, 100, false).unwrap();
        assert!(k.task_mm(2).unwrap().counter(MmCounter::MM_SWAPENTS) > 0);
        check(&k);
        k.munmap(2, v2 + 200, 100).unwrap().unwrap();
        check(&k);
        k.touch(3, v2, 300, Access::Write).unwrap();
        check(&k);
        // an OOM victim still there (marked, not yet exited): the scan aborts on it until its mm is reaped
        let slot = k.task_index(3).unwrap();
        k.tasks[slot].oom_victim = true;
        k.oom_scan_task(slot);
        check(&k);
        let tp = k.oom_global_totalpages();
        assert!(matches!(select_bad_process_on(&LiveTasks::new(&k), &OomControl::global(tp)), Selection::Abort { .. }));
        let mm = k.task(3).unwrap().mm;
        k.oom.reaper.push(super::super::ReapTimer { pid: 3, mm, due_ns: 1 });
        k.run_until(1);
        assert!(k.mm(mm).oom_skip);
        check(&k);
        k.exit(3).unwrap();
        k.exit(4).unwrap();
        check(&k);
        spawn_in(&mut k, 5, "/", 0, 20);
        check(&k);
        let (k, r) = live_equals_snapshot(&k, 5);
        assert_eq!(r.outcome, Some(OomOutcome::Kill));
        check(&k);
    }

    /// Victim sharing its mm with a vfork child, the Tasks state dump on, and a victim in an oom.group cgroup
    /// (the group sweep needs the snapshot): the live table decides as the snapshot does.
    #[test]
    fn live_table_decides_as_the_snapshot() {
        let mut k = machine(8192, 0);
        spawn_in(&mut k, 1, "/", 0, 10);
        k.cgroup_create("/g").unwrap().unwrap();
        spawn_in(&mut k, 2, "/", 0, 400);
        spawn_in(&mut k, 3, "/g", 0, 700);
        spawn_in(&mut k, 4, "/g", 0, 100);
        spawn_in(&mut k, 5, "/", -1000, 50);
        k.vfork(3, 6).unwrap().unwrap();
        let (_, r) = live_equals_snapshot(&k, 5);
        assert_eq!(r.victim_pid, Some(3));
        assert_eq!(r.sigkill_sent_to, vec![3, 6], "the vfork child on the victim's mm is killed too");
        assert!(r.log.iter().any(|l| l.starts_with("Tasks state")));
        k.cgroup_write("/g", "memory.oom.group", "1").unwrap().unwrap();
        let (_, r) = live_equals_snapshot(&k, 5);
        assert_eq!(r.oom_group.as_deref(), Some("/g"));
        assert_eq!(r.killed, vec![3, 3, 4, 6], "the sweep revisits the victim and takes the vfork child (in /g too)");
        // the allocating task is the largest: it is chosen, killed when its entry returns
        let (_, r) = live_equals_snapshot(&k, 3);
        assert_eq!(r.victim_pid, Some(3));
        // nothing killable but init and adj -1000: no victim, the machine panics
        let mut only = machine(4096, 0);
        spawn_in(&mut only, 1, "/", 0, 10);
        spawn_in(&mut only, 2, "/", -1000, 10);
        let (_, r) = live_equals_snapshot(&only, 2);
        assert_eq!(r.outcome, Some(OomOutcome::NoVictim));
    }
}
