//! The OOM killer on the stateful engine (the allocation slow path that calls it is page_alloc/engine.rs):
//! `out_of_memory_global` (what mm/page_alloc.c:`__alloc_pages_may_oom` calls), the task table it decides over (the live
//! tasks scored from dense counters for a global OOM, see [`scan`], and the memcg subtree's for a memcg OOM, see
//! [`memcg_scan`]; snapshots for /proc and explain), applying its decision (SIGKILL and exit, mm sharers, vmstat `oom_kill`, the log, the panic), the OOM reaper
//! on simulated time (mm/oom_kill.c:`queue_oom_reaper`, `oom_reap_task`), /proc/<pid>/oom_score, oom_score_adj and
//! oom_adj (fs/proc/base.c) and the explanation table.
//!
//! The decisions themselves are the pure functions of [`crate::oom_kill`]; this file only gathers their inputs
//! from the engine and applies their results.
//!
//! Timing (vectors-format.md §6.2 rules 1-2): an OOM-killed task exits as soon as the `out_of_memory()` call that
//! killed it returns; if it is the allocating task, it exits when its current kernel entry (fault, syscall)
//! returns and the rest of that entry is abandoned. Since victims release their memory at once, the reaper that
//! fires `OOM_REAPER_DELAY` later finds them gone and does nothing, as the kernel's reaper does for a victim
//! that exited first.

use super::explain::{explain, CandidateRow};
use super::reaper::OOM_REAPER_DELAY_MS;
use super::{
    constrained_alloc, oom_badness, out_of_memory_on, OomConstraint, OomControl, OomEnv, OomGroup, OomOutcome,
    OomResult, OomSysctls, OomTask, OomTaskTable, TotalpagesInput,
};
use crate::errno::ApiError;
use crate::event::EventKind;
use crate::gfp_types::GfpMask;
use crate::kernel::Kernel;
use crate::types::SysResult;
use crate::mm_types::{MmCounter, VM_SHARED};
use crate::vmstat::Vmstat;
pub use super::state::{OomRecord, OomState, ReapTimer};
use super::state::{engine_candidate, MmScan, TaskScan};
use scan::LiveTasks;

pub use crate::page_alloc::engine::USER_FAULT_GFP;

/// Why `run_until` stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RunStop {
    /// The clock reached the requested time.
    Done,
    /// The machine has panicked (the clock does not move any more).
    Panic,
}

impl RunStop {
    pub const fn name(self) -> &'static str {
        match self {
            RunStop::Done => "done",
            RunStop::Panic => "panic",
        }
    }
}

/// The event code of a constraint (EventKind::OomKill's `a`).
pub const fn constraint_code(c: OomConstraint) -> u32 {
    match c {
        OomConstraint::None => 0,
        OomConstraint::Cpuset => 1,
        OomConstraint::MemoryPolicy => 2,
        OomConstraint::Memcg => 3,
    }
}

/// Panic reason codes (EventKind::Panic's `a`).
pub const PANIC_ON_OOM: u32 = 1;
pub const PANIC_NO_KILLABLE: u32 = 2;

impl Kernel {
    // ---- snapshot --------------------------------------------------------------------------------------------------

    /// The OOM killer's view of every live process, in creation order (`for_each_process`): RSS and swap entries
    /// from the mm counters, pgtables_bytes (0 when page tables are not modelled), adj, global init = pid 1,
    /// in_vfork, MMF_OOM_SKIP of the mm, earlier victim, and "exiting" for a task killed during its current entry.
    pub fn oom_tasks(&self) -> Vec<OomTask> {
        self.tasks.iter().map(|t| self.oom_task_of(t)).collect()
    }

    /// The snapshot of one process: the scoring fields from [`engine_candidate`] (read from the task and its mm
    /// directly, not from the dense index), the names and the per-kind RSS for the log lines.
    pub(crate) fn oom_task_of(&self, t: &crate::task::Task) -> OomTask {
        let mm = self.mm(t.mm);
        let c = |x: MmCounter| mm.counter(x);
        let s = engine_candidate(&TaskScan::of(t), &MmScan::of(mm), self.config.model_page_tables);
        let exiting = self.oom.current_killed.contains(&t.pid);
        OomTask {
            pid: t.pid as i64,
            tgid: t.pid as i64,
            comm: t.comm.clone(),
            uid: t.uid,
            memcg: t.cgroup.clone(),
            mm: t.mm as u64,
            points: s.points,
            total_vm_pages: mm.total_vm,
            rss_anon: c(MmCounter::MM_ANONPAGES),
            rss_file: c(MmCounter::MM_FILEPAGES),
            rss_shmem: c(MmCounter::MM_SHMEMPAGES),
            swapents: s.swapents,
            pgtables_bytes: s.pgtables_bytes,
            oom_score_adj: s.oom_score_adj,
            has_mm: s.has_mm,
            is_global_init: s.is_global_init,
            is_kthread: s.is_kthread,
            in_vfork: s.in_vfork,
            mmf_oom_skip: s.mmf_oom_skip,
            is_oom_victim: s.is_oom_victim,
            oom_origin: s.oom_origin,
            signal_group_exit: exiting,
            pf_exiting: false,
            fatal_signal_pending: exiting,
            core_dumping: false,
            cpuset_eligible: s.cpuset_eligible,
        }
    }

    /// totalram + total swap: the global OOM's `totalpages` and the one /proc/<pid>/oom_score always uses.
    pub fn oom_global_totalpages(&self) -> u64 {
        constrained_alloc(&TotalpagesInput::Global {
            totalram_pages: self.totalram_pages(),
            total_swap_pages: self.swap.total as u64,
        })
    }

    fn oom_sysctls(&self) -> OomSysctls {
        OomSysctls {
            panic_on_oom: self.sysctl.panic_on_oom as i32,
            oom_kill_allocating_task: self.sysctl.oom_kill_allocating_task as i32,
            oom_dump_tasks: self.sysctl.oom_dump_tasks as i32,
        }
    }

    // ---- out_of_memory on the engine -----------------------------------------------------------------------------

    /// A global OOM (CONSTRAINT_NONE, totalpages = RAM + swap) raised by `current_pid`'s allocation with `gfp` and
    /// `order`: runs [`out_of_memory_on`] over the live task table ([`LiveTasks`]: scored from the dense index,
    /// no snapshot of every process) and applies its result.
    pub fn out_of_memory_global(&mut self, current_pid: u32, gfp: GfpMask, order: i32) -> OomResult {
        let mut oc = OomControl::global(self.oom_global_totalpages());
        oc.gfp_mask = gfp;
        oc.order = order;
        let live = LiveTasks::new(self);
        let get_oom_group = |v: usize| self.memcg_oom_group_live(&oc, v);
        let decided = self.decide_out_of_memory(&live, &oc, current_pid, &get_oom_group);
        if self.oom.explain_selections && decided.as_ref().is_some_and(|(r, _)| !r.killed.is_empty()) {
            let tasks = self.oom_tasks();
            self.record_selection_explanation(&tasks, &oc);
        }
        self.finish_out_of_memory(decided, &oc, current_pid)
    }

    /// The constraint-generic entry: `tasks` is the OOM domain's snapshot (every process for a global OOM; the
    /// memcg code passes its own with CONSTRAINT_MEMCG, totalpages = the memcg max), `oc` the oom_control. Runs
    /// [`out_of_memory`](super::out_of_memory), records it, appends its log lines and applies it. An unknown
    /// current pid makes no call.
    pub fn run_out_of_memory(&mut self, tasks: &[OomTask], oc: &OomControl, current_pid: u32) -> OomResult {
        // memory.oom.group: mem_cgroup_get_oom_group(victim, oc->memcg) and the group's processes
        let get_oom_group = |v: usize| self.memcg_oom_group(tasks, oc, v);
        let decided = self.decide_out_of_memory(tasks, oc, current_pid, &get_oom_group);
        if self.oom.explain_selections && decided.as_ref().is_some_and(|(r, _)| !r.killed.is_empty()) {
            self.record_selection_explanation(tasks, oc);
        }
        self.finish_out_of_memory(decided, oc, current_pid)
    }

    /// The explanation table of `tasks` for this OOM (`oc`), taken after the decision and before it is applied:
    /// the ranking select_bad_process saw, the victim still alive in it.
    fn record_selection_explanation(&mut self, tasks: &[OomTask], oc: &OomControl) {
        let rows = explain(tasks, oc, self.oom_global_totalpages());
        let json = explain_json(oc.constraint, oc.totalpages, &rows);
        let now = self.now_ns();
        self.oom.selection_explanations.push((now, json));
    }

    /// Apply a decision of [`Kernel::decide_out_of_memory`] (none: no call was made).
    fn finish_out_of_memory(&mut self, decided: Option<(OomResult, Vec<i64>)>, oc: &OomControl, current_pid: u32) -> OomResult {
        match decided {
            Some((r, badness)) => {
                self.apply_oom_result(oc, current_pid, &r, &badness);
                r
            }
            None => OomResult::default(),
        }
    }

    /// Run [`out_of_memory_on`] over `tasks` for `current_pid` (None when it is not in the table), without changing
    /// anything: the result, and the `oom_badness` of each counted process (`r.killed`, in order) for the events.
    fn decide_out_of_memory<T: OomTaskTable + ?Sized>(
        &self,
        tasks: &T,
        oc: &OomControl,
        current_pid: u32,
        get_oom_group: &dyn Fn(usize) -> Option<OomGroup>,
    ) -> Option<(OomResult, Vec<i64>)> {
        let current = tasks.index_of_pid(current_pid as i64)?;
        let meminfo_lines = match &oc.memcg {
            Some(path) => self.memcg_oom_meminfo_lines(path),
            None => crate::show_mem::show_mem_lines(self),
        };
        let env = OomEnv {
            sysctls: self.oom_sysctls(),
            oom_killer_disabled: self.oom.oom_killer_disabled,
            meminfo_lines,
            get_oom_group: Some(get_oom_group),
            ..OomEnv::default()
        };
        let r = out_of_memory_on(tasks, oc, current, &env).ok()?;
        let badness = r
            .killed
            .iter()
            .map(|&pid| tasks.index_of_pid(pid).map(|i| oom_badness(&tasks.task(i), oc.totalpages)).unwrap_or(0))
            .collect();
        Some((r, badness))
    }

    /// The `get_oom_group` hook for [`LiveTasks`]: [`Kernel::memcg_oom_group`] needs a snapshot slice, so it is built
    /// (every process, the live table's order and indices) only when the victim's memcg has an oom.group cgroup
    /// in the OOM domain, which memcg_oom_group checks first and answers None without.
    fn memcg_oom_group_live(&self, oc: &OomControl, v: usize) -> Option<OomGroup> {
        let victim = self.memcg.lookup(&self.tasks[self.tasks.slot_at(v)].cgroup)?;
        let domain = match &oc.memcg {
            Some(p) => Some(self.memcg.lookup(p)?),
            None => None,
        };
        self.memcg.mem_cgroup_get_oom_group(victim, domain)?;
        self.memcg_oom_group(&self.oom_tasks(), oc, v)
    }

    /// Apply what out_of_memory() decided: the log lines; `oom_kill` per counted kill and an OomKill event (with
    /// `badness[i]` for `r.killed[i]`); mark victims; MMF_OOM_SKIP on pinned mms; reaper timers; the panic; then
    /// every process sent SIGKILL exits (the allocating task only when its kernel entry returns).
    fn apply_oom_result(&mut self, oc: &OomControl, current_pid: u32, r: &OomResult, badness: &[i64]) {
        let outcome = r.outcome.unwrap_or(OomOutcome::Disabled);
        self.oom.records.push(OomRecord {
            constraint: oc.constraint,
            memcg: oc.memcg.clone(),
            totalpages: oc.totalpages,
            outcome,
            victim: r.victim_pid,
            oom_group: r.oom_group.clone(),
            killed: r.killed.clone(),
            time_ns: self.now_ns,
        });
        self.log.extend(r.log.iter().cloned());
        let by = match outcome {
            OomOutcome::KillAllocatingTask => 1,
            _ => 0,
        };
        for (&pid, &badness) in r.killed.iter().zip(badness) {
            self.vmstat.inc(Vmstat::oom_kill);
            let by = if r.oom_group.is_some() && Some(pid) != r.victim_pid { 2 } else { by };
            self.event(EventKind::OomKill, pid as u32, constraint_code(oc.constraint), by, badness as u64);
        }
        self.memcg_oom_events(&r.killed, r.oom_group.as_deref());
        for &pid in &r.marked_victims {
            if let Ok(slot) = self.task_index(pid as u32) {
                self.tasks[slot].oom_victim = true;
                self.oom_scan_task(slot);
            }
        }
        for &mm in &r.mmf_oom_skip_set {
            if let Some(Some(m)) = self.mms.get_mut(mm as usize) {
                m.oom_skip = true;
                self.oom_scan_mm(mm as u32);
            }
        }
        for &pid in &r.reaper_queued {
            if let Some(t) = self.task(pid as u32) {
                let mm = t.mm;
                self.oom.reaper.push(ReapTimer { pid: pid as u32, mm, due_ns: self.now_ns + OOM_REAPER_DELAY_MS * 1_000_000 });
            }
        }
        if let Some(msg) = &r.panic {
            self.oom.panicked = Some(msg.clone());
            let code = if outcome == OomOutcome::Panic { PANIC_ON_OOM } else { PANIC_NO_KILLABLE };
            self.event(EventKind::Panic, current_pid, code, 0, 0);
            return;
        }
        // §6.2 rule 2: SIGKILLed processes exit now; the allocating task when its entry returns.
        let mut seen = Vec::new();
        for &pid in &r.sigkill_sent_to {
            let pid = pid as u32;
            if seen.contains(&pid) {
                continue;
            }
            seen.push(pid);
            if pid == current_pid {
                if !self.oom.current_killed.contains(&pid) {
                    self.oom.current_killed.push(pid);
                }
            } else if self.task(pid).is_some() {
                let _ = self.do_exit(pid, true);
            }
        }
    }

    /// Exit the allocating tasks the OOM killer killed during the kernel entry that is returning now.
    pub(crate) fn oom_exit_killed_current(&mut self) {
        for pid in std::mem::take(&mut self.oom.current_killed) {
            if self.task(pid).is_some() {
                let _ = self.do_exit(pid, true);
            }
        }
    }

    /// The kernel panicked (the message without "Kernel panic - not syncing: "), if it did.
    pub fn panicked(&self) -> Option<&str> {
        self.oom.panicked.as_deref()
    }

    /// `oom_killer_disable()` / `oom_killer_enable()` (kernel/power: used around suspend). A simulation switch,
    /// NOT a sysctl (`vm.oom_kill` does not exist in mainline): while disabled, an allocation that would need the
    /// OOM killer fails instead.
    pub fn set_oom_killer_disabled(&mut self, disabled: bool) {
        self.oom.oom_killer_disabled = disabled;
    }

    pub fn oom_killer_disabled(&self) -> bool {
        self.oom.oom_killer_disabled
    }

    /// Every out_of_memory() call so far, in order.
    pub fn oom_records(&self) -> &[OomRecord] {
        &self.oom.records
    }

    // ---- simulated time and the reaper ---------------------------------------------------------------------------

    /// The monotonic simulated clock, ns.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    /// Advance the clock by `ns`, firing due timers in time order.
    pub fn advance(&mut self, ns: u64) -> RunStop {
        let until = self.now_ns.saturating_add(ns);
        self.run_until(until)
    }

    /// Run the clock to `until_ns` (no-op when it is in the past), firing the OOM reaper timers due by then in
    /// order. Stops early with `Panic` on a panicked machine.
    pub fn run_until(&mut self, until_ns: u64) -> RunStop {
        loop {
            if self.oom.panicked.is_some() {
                return RunStop::Panic;
            }
            let next = self.oom.reaper.iter().enumerate().filter(|(_, t)| t.due_ns <= until_ns).min_by_key(|(i, t)| (t.due_ns, *i)).map(|(i, _)| i);
            // kswapd's timer fires first when it is due no later than the next reaper timer
            let reap_due = next.map(|i| self.oom.reaper[i].due_ns).unwrap_or(u64::MAX);
            if self.reclaim.kswapd_due.is_some_and(|t| t <= until_ns && t <= reap_due) {
                self.kswapd_run_due(until_ns);
                continue;
            }
            match next {
                Some(i) => {
                    let t = self.oom.reaper.remove(i);
                    self.now_ns = self.now_ns.max(t.due_ns);
                    self.oom_reap_task(&t);
                }
                None => {
                    self.now_ns = self.now_ns.max(until_ns);
                    self.psi_tick();
                    return RunStop::Done;
                }
            }
        }
    }

    /// mm/oom_kill.c:`oom_reap_task` when the timer fires: a victim that already exited (its mm gone or already
    /// MMF_OOM_SKIP) makes it a no-op; otherwise every private or anonymous VMA (not VM_SHARED) is unmapped,
    /// `oom_reaper: reaped process …` is logged with the RSS left, and the mm gets MMF_OOM_SKIP.
    fn oom_reap_task(&mut self, t: &ReapTimer) {
        let Some(task) = self.task(t.pid) else { return };
        if task.mm != t.mm || self.mm(t.mm).oom_skip {
            return;
        }
        let comm = task.comm.clone();
        let n = self.mm(t.mm).vmas.len();
        for vi in (0..n).rev() {
            let v = &self.mm(t.mm).vmas[vi];
            if v.flags & VM_SHARED == 0 {
                self.zap_vma(t.mm, vi);
            }
        }
        let mm = self.mm(t.mm);
        let line = super::log::reaped_line(
            t.pid as i64,
            &comm,
            mm.counter(MmCounter::MM_ANONPAGES),
            mm.counter(MmCounter::MM_FILEPAGES),
            mm.counter(MmCounter::MM_SHMEMPAGES),
        );
        self.log.push(line);
        self.mm_mut(t.mm).oom_skip = true;
        self.oom_scan_mm(t.mm);
    }

    // ---- /proc/<pid>/oom_score, oom_score_adj, oom_adj ------------------------------------------------------------

    /// /proc/<pid>/oom_score (fs/proc/base.c:`proc_oom_score`): with the global totalpages, 0 when unkillable.
    pub fn oom_score(&self, pid: u32) -> Result<i64, ApiError> {
        let ti = self.task_index(pid)?;
        let t = self.oom_task_of(&self.tasks[ti]);
        let tp = self.oom_global_totalpages();
        Ok(crate::proc_base::proc_oom_score(oom_badness(&t, tp), tp))
    }

    /// /proc/<pid>/oom_score_adj read.
    pub fn oom_score_adj(&self, pid: u32) -> Result<i64, ApiError> {
        Ok(self.tasks[self.task_index(pid)?].oom_score_adj as i64)
    }

    /// /proc/<pid>/oom_adj read (fs/proc/base.c:`oom_adj_read`).
    pub fn oom_adj(&self, pid: u32) -> Result<i64, ApiError> {
        Ok(crate::proc_base::oom_adj_read(self.tasks[self.task_index(pid)?].oom_score_adj as i16) as i64)
    }

    /// Write /proc/<pid>/oom_score_adj by a writer with or without CAP_SYS_RESOURCE (fs/proc/base.c:
    /// `oom_score_adj_write` → `__set_oom_adj`): outside -1000..=1000 EINVAL; below the process's
    /// oom_score_adj_min without the capability EACCES; a capable writer also sets oom_score_adj_min. The value
    /// goes to every other process sharing the mm, except vfork children, and global init.
    pub fn write_oom_score_adj(&mut self, pid: u32, value: i64, cap_sys_resource: bool) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        let t = &self.tasks[ti];
        match crate::proc_base::oom_score_adj_write(value, t.oom_score_adj as i16, t.oom_score_adj_min as i16, cap_sys_resource) {
            Ok(w) => {
                self.set_adj_shared(ti, w.oom_score_adj, w.oom_score_adj_min);
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    /// Write the legacy /proc/<pid>/oom_adj (fs/proc/base.c:`oom_adj_write`): -16..=15 or -17, mapped to
    /// oom_score_adj; lowering below the current value without CAP_SYS_RESOURCE is EACCES. The first write since
    /// boot logs the deprecation warning, naming `writer_comm`/`writer_pid`.
    pub fn write_oom_adj(&mut self, pid: u32, value: i64, cap_sys_resource: bool, writer_comm: &str, writer_pid: u32) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        let t = &self.tasks[ti];
        match crate::proc_base::oom_adj_write(value, t.oom_score_adj as i16, t.oom_score_adj_min as i16, cap_sys_resource) {
            Ok(w) => {
                if !self.oom.oom_adj_warned {
                    self.oom.oom_adj_warned = true;
                    self.log.push(super::log::oom_adj_deprecated_line(writer_comm, writer_pid as i64, pid as i64));
                }
                self.set_adj_shared(ti, w.oom_score_adj, w.oom_score_adj_min);
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    fn set_adj_shared(&mut self, ti: usize, adj: i16, adj_min: i16) {
        let (pid, mm) = (self.tasks[ti].pid, self.tasks[ti].mm);
        self.tasks[ti].oom_score_adj = adj as i32;
        self.tasks[ti].oom_score_adj_min = adj_min as i32;
        self.oom_scan_task(ti);
        let sharers: Vec<usize> = self
            .tasks
            .slots_in_order()
            .filter(|&s| {
                let t = &self.tasks[s];
                t.pid != pid && t.mm == mm && !t.in_vfork && t.pid != 1
            })
            .collect();
        for s in sharers {
            self.tasks[s].oom_score_adj = adj as i32;
            self.oom_scan_task(s);
        }
    }

    // ---- explanation -------------------------------------------------------------------------------------------

    /// "Which process dies, and why?" for a global OOM now: every process ranked as select_bad_process would
    /// choose (see [`explain`]).
    pub fn oom_explain(&self) -> Vec<CandidateRow> {
        let tp = self.oom_global_totalpages();
        let mut oc = OomControl::global(tp);
        oc.gfp_mask = USER_FAULT_GFP;
        explain(&self.oom_tasks(), &oc, tp)
    }

    /// [`Kernel::oom_explain`] as JSON: `{"constraint","totalpages","rows":[{pid, comm, memcg, rss_pages, swapents,
    /// pgtables_pages, oom_score_adj, adj_points, badness (null when unkillable), oom_score, eligible, reason
    /// (null or text), chosen}]}`.
    pub fn oom_explain_json(&self) -> String {
        let rows = self.oom_explain();
        explain_json(OomConstraint::None, self.oom_global_totalpages(), &rows)
    }

    /// Start or stop recording the candidate table of each OOM kill as the OOM killer saw it (before the kill).
    pub fn set_explain_selections(&mut self, on: bool) {
        self.oom.explain_selections = on;
    }

    /// The tables recorded since the last call, oldest first, as one JSON array of `{"time_ns", "table"}` (the time
    /// as a decimal string: nanoseconds can pass 2^53).
    pub fn take_selection_explanations_json(&mut self) -> String {
        let items: Vec<String> = std::mem::take(&mut self.oom.selection_explanations)
            .into_iter()
            .map(|(t, table)| format!("{{\"time_ns\":\"{t}\",\"table\":{table}}}"))
            .collect();
        format!("[{}]", items.join(","))
    }
}

/// The JSON rendering of an explanation table.
pub fn explain_json(constraint: OomConstraint, totalpages: u64, rows: &[CandidateRow]) -> String {
    use serde_json::json;
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "pid": r.pid,
                "comm": r.comm,
                "memcg": r.memcg,
                "rss_pages": r.rss_pages,
                "swapents": r.swapents,
                "pgtables_pages": r.pgtables_pages,
                "oom_score_adj": r.oom_score_adj,
                "adj_points": r.adj_points,
                "badness": if r.badness == i64::MIN { serde_json::Value::Null } else { json!(r.badness) },
                "oom_score": r.oom_score,
                "eligible": r.eligible,
                "reason": r.reason.map(|x| x.describe()),
                "chosen": r.chosen,
            })
        })
        .collect();
    json!({"constraint": constraint.text(), "totalpages": totalpages, "rows": rows}).to_string()
}

pub mod memcg_scan;
pub mod scan;
#[cfg(test)]
mod tests;
