//! The OOM killer's decisions (mm/oom_kill.c), as pure functions over a candidate view of the task table.
//!
//! The decisions read the task table through [`OomTaskTable`]: a slice of [`OomTask`] snapshots (one per process,
//! in task-list order for a global OOM, in `mem_cgroup_scan_tasks` order for a memcg OOM: the conformance checks
//! and the tests' oracle), or the engine's live task tables, which score every task from dense counters
//! ([`OomCandidate`]) and builds a full [`OomTask`] only for the few tasks a decision looks at by name (current,
//! the victim, its mm sharers, the rows of dump_tasks). The engine builds an [`OomControl`] for the OOM and calls
//! [`out_of_memory`] (or [`out_of_memory_on`]). The result says what the kernel decided (which branch, whom to SIGKILL, whom to count, whom to
//! mark, whose reaper to queue, which mm gets MMF_OOM_SKIP) and carries the kernel log lines in order. The engine
//! applies the effects. Nothing here mutates engine state.
//!
//! Submodules: [`kill`] (`out_of_memory` itself, `oom_kill_process`, `dump_header`), [`log`] (exact line formats),
//! [`reaper`] (OOM reaper timeline), [`explain`] ("which process dies, and why?"), [`sysctl`] (vm.panic_on_oom &
//! co.); [`engine`] drives them on the engine.

pub mod explain;
pub mod log;
pub mod reaper;
pub mod engine;
pub mod sysctl;
pub mod state;
pub mod kill;

pub use kill::*;

use crate::gfp_types::{GfpMask, __GFP_FS, GFP_KERNEL};

/// include/uapi/linux/oom.h
pub const OOM_SCORE_ADJ_MIN: i16 = -1000;
pub const OOM_SCORE_ADJ_MAX: i16 = 1000;
pub const OOM_DISABLE: i32 = -17;
pub const OOM_ADJUST_MIN: i32 = -16;
pub const OOM_ADJUST_MAX: i32 = 15;

/// `PAGE_COUNTER_MAX` on 64-bit: LONG_MAX / PAGE_SIZE pages ("max" in limit files).
pub const PAGE_COUNTER_MAX: u64 = (i64::MAX as u64) / crate::PAGE_SIZE;

/// Message prefixes of `__oom_kill_process` (mm/oom_kill.c:`out_of_memory`).
pub const MSG_GLOBAL: &str = "Out of memory";
pub const MSG_MEMCG: &str = "Memory cgroup out of memory";
pub const MSG_ALLOCATING_TASK: &str = "Out of memory (oom_kill_allocating_task)";

/// `enum oom_constraint` (mm/oom_kill.c), printed by name in the `oom-kill:` line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum OomConstraint {
    None,
    Cpuset,
    MemoryPolicy,
    Memcg,
}

impl OomConstraint {
    /// `oom_constraint_text[]`.
    pub const fn text(self) -> &'static str {
        match self {
            OomConstraint::None => "CONSTRAINT_NONE",
            OomConstraint::Cpuset => "CONSTRAINT_CPUSET",
            OomConstraint::MemoryPolicy => "CONSTRAINT_MEMORY_POLICY",
            OomConstraint::Memcg => "CONSTRAINT_MEMCG",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CONSTRAINT_NONE" => OomConstraint::None,
            "CONSTRAINT_CPUSET" => OomConstraint::Cpuset,
            "CONSTRAINT_MEMORY_POLICY" => OomConstraint::MemoryPolicy,
            "CONSTRAINT_MEMCG" => OomConstraint::Memcg,
            _ => return None,
        })
    }
}

/// One process as the OOM killer sees it (the "task" type of vectors-format §4.4, plus the counters the log lines
/// print). Memory values are in pages except `pgtables_bytes`.
#[derive(Clone, Debug, PartialEq)]
pub struct OomTask {
    pub pid: i64,
    /// Thread-group id: tasks with the same tgid are one process (`same_thread_group`).
    pub tgid: i64,
    pub comm: std::rc::Rc<str>,
    pub uid: u32,
    /// Path of the task's memory cgroup ("/" for the root).
    pub memcg: std::rc::Rc<str>,
    /// Address-space id: processes with the same id share one mm (CLONE_VM). Meaningless when `!has_mm`.
    pub mm: u64,
    /// Precomputed `oom_badness()` used instead of the memory fields (a test hook of the vector format; the engine
    /// leaves it `None`). The unkillable conditions still give LONG_MIN.
    pub points: Option<i64>,
    pub total_vm_pages: u64,
    pub rss_anon: u64,
    pub rss_file: u64,
    pub rss_shmem: u64,
    pub swapents: u64,
    pub pgtables_bytes: u64,
    /// signal->oom_score_adj (process-wide), -1000..=1000.
    pub oom_score_adj: i16,
    /// false: every thread has already dropped its mm (`find_lock_task_mm` finds none).
    pub has_mm: bool,
    pub is_global_init: bool,
    /// PF_KTHREAD
    pub is_kthread: bool,
    /// vfork child that still shares its parent's mm (before exec).
    pub in_vfork: bool,
    /// The mm has MMF_OOM_SKIP (reaped, unreapable, or exited).
    pub mmf_oom_skip: bool,
    /// Already an OOM victim (signal->oom_mm set).
    pub is_oom_victim: bool,
    /// swapoff / KSM unmerge in progress (`oom_task_origin`).
    pub oom_origin: bool,
    /// SIGNAL_GROUP_EXIT
    pub signal_group_exit: bool,
    /// PF_EXITING on a single-threaded process (`thread_group_empty && PF_EXITING`).
    pub pf_exiting: bool,
    /// A SIGKILL is pending. Not consulted by 6.19's out_of_memory (kept for the engine and older rules).
    pub fatal_signal_pending: bool,
    /// signal->core_state set (core dump in progress).
    pub core_dumping: bool,
    /// `oom_cpuset_eligible()` for the current OOM (cpuset/mempolicy intersection); true without NUMA.
    pub cpuset_eligible: bool,
}

impl OomTask {
    /// A task with the format's defaults: tgid = pid, comm "task<pid>", uid 0, memcg "/", its own mm, no memory.
    pub fn new(pid: i64) -> Self {
        OomTask {
            pid,
            tgid: pid,
            comm: format!("task{pid}").into(),
            uid: 0,
            memcg: "/".into(),
            mm: pid as u64,
            points: None,
            total_vm_pages: 0,
            rss_anon: 0,
            rss_file: 0,
            rss_shmem: 0,
            swapents: 0,
            pgtables_bytes: 0,
            oom_score_adj: 0,
            has_mm: true,
            is_global_init: false,
            is_kthread: false,
            in_vfork: false,
            mmf_oom_skip: false,
            is_oom_victim: false,
            oom_origin: false,
            signal_group_exit: false,
            pf_exiting: false,
            fatal_signal_pending: false,
            core_dumping: false,
            cpuset_eligible: true,
        }
    }

    /// `get_mm_rss()`: anon + file + shmem pages.
    pub fn rss_pages(&self) -> u64 {
        self.rss_anon.wrapping_add(self.rss_file).wrapping_add(self.rss_shmem)
    }

    /// `oom_unkillable_task()`: global init or a kernel thread.
    pub fn oom_unkillable(&self) -> bool {
        self.is_global_init || self.is_kthread
    }

    /// Both have an mm and it is the same one (`process_shares_mm`).
    pub fn shares_mm_with(&self, other: &OomTask) -> bool {
        self.has_mm && other.has_mm && self.mm == other.mm
    }
}

/// What `oom_evaluate_task` and `oom_badness` read of a task: the numbers and flags of an [`OomTask`] without its
/// names and paths. A small `Copy` value, so a task table can score a task without building its snapshot.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OomCandidate {
    /// See [`OomTask::points`].
    pub points: Option<i64>,
    /// `get_mm_rss()`: anon + file + shmem pages.
    pub rss_pages: u64,
    pub swapents: u64,
    pub pgtables_bytes: u64,
    pub oom_score_adj: i16,
    pub has_mm: bool,
    pub is_global_init: bool,
    pub is_kthread: bool,
    pub in_vfork: bool,
    pub mmf_oom_skip: bool,
    pub is_oom_victim: bool,
    pub oom_origin: bool,
    pub cpuset_eligible: bool,
}

impl OomCandidate {
    /// `oom_unkillable_task()`: global init or a kernel thread.
    pub fn oom_unkillable(&self) -> bool {
        self.is_global_init || self.is_kthread
    }
}

impl OomTask {
    /// The part of the task the scoring reads.
    pub fn candidate(&self) -> OomCandidate {
        OomCandidate {
            points: self.points,
            rss_pages: self.rss_pages(),
            swapents: self.swapents,
            pgtables_bytes: self.pgtables_bytes,
            oom_score_adj: self.oom_score_adj,
            has_mm: self.has_mm,
            is_global_init: self.is_global_init,
            is_kthread: self.is_kthread,
            in_vfork: self.in_vfork,
            mmf_oom_skip: self.mmf_oom_skip,
            is_oom_victim: self.is_oom_victim,
            oom_origin: self.oom_origin,
            cpuset_eligible: self.cpuset_eligible,
        }
    }
}

/// The task table the OOM killer decides over, indexed `0..nr_tasks()` in scan order (task-list order for a global
/// OOM, `mem_cgroup_scan_tasks` order for a memcg OOM). `[OomTask]` implements it over snapshots; the engine
/// implements it over its live tasks, scoring from dense counters. Implementations may override the provided
/// methods for speed but must give exactly the results of the provided ones.
pub trait OomTaskTable {
    /// Number of tasks.
    fn nr_tasks(&self) -> usize;

    /// The full view of task `i` (`i < nr_tasks()`).
    fn task(&self, i: usize) -> std::borrow::Cow<'_, OomTask>;

    /// [`oom_evaluate_task`] of task `i`.
    fn evaluate(&self, i: usize, oc: &OomControl, chosen_points: i64) -> Evaluation {
        oom_evaluate_task(&self.task(i), oc, chosen_points)
    }

    /// The tasks of other thread groups that share task `i`'s mm ([`OomTask::shares_mm_with`], different tgid), in
    /// scan order: the processes `task_will_free_mem` and `__oom_kill_process` walk with `for_each_process`.
    fn mm_sharers(&self, i: usize) -> Vec<usize> {
        let t = self.task(i);
        (0..self.nr_tasks())
            .filter(|&j| {
                let p = self.task(j);
                p.shares_mm_with(&t) && p.tgid != t.tgid
            })
            .collect()
    }

    /// The index of the first task with `pid`.
    fn index_of_pid(&self, pid: i64) -> Option<usize> {
        (0..self.nr_tasks()).find(|&j| self.task(j).pid == pid)
    }
}

impl OomTaskTable for [OomTask] {
    fn nr_tasks(&self) -> usize {
        self.len()
    }
    fn task(&self, i: usize) -> std::borrow::Cow<'_, OomTask> {
        std::borrow::Cow::Borrowed(&self[i])
    }
    fn evaluate(&self, i: usize, oc: &OomControl, chosen_points: i64) -> Evaluation {
        oom_evaluate_task(&self[i], oc, chosen_points)
    }
    fn mm_sharers(&self, i: usize) -> Vec<usize> {
        let t = &self[i];
        (0..self.len()).filter(|&j| self[j].shares_mm_with(t) && self[j].tgid != t.tgid).collect()
    }
    fn index_of_pid(&self, pid: i64) -> Option<usize> {
        self.iter().position(|t| t.pid == pid)
    }
}

/// The OOM context (`struct oom_control`), after `constrained_alloc()`.
#[derive(Clone, Debug, PartialEq)]
pub struct OomControl {
    pub constraint: OomConstraint,
    /// oc->totalpages (see [`constrained_alloc`]).
    pub totalpages: u64,
    /// The OOM memcg (`mem_over_limit`) for a memcg OOM; `None` for a global OOM.
    pub memcg: Option<String>,
    pub gfp_mask: GfpMask,
    /// Allocation order; -1 means SysRq-f.
    pub order: i32,
    /// The nodemask list text (e.g. "0-1") of a mempolicy OOM; printed only for CONSTRAINT_MEMORY_POLICY.
    pub nodemask: Option<String>,
}

impl OomControl {
    /// A global OOM with GFP_KERNEL, order 0.
    pub fn global(totalpages: u64) -> Self {
        OomControl {
            constraint: OomConstraint::None,
            totalpages,
            memcg: None,
            gfp_mask: GFP_KERNEL,
            order: 0,
            nodemask: None,
        }
    }
    /// A memcg OOM in `memcg` (mem_over_limit) with GFP_KERNEL, order 0.
    pub fn memcg(path: &str, totalpages: u64) -> Self {
        OomControl { constraint: OomConstraint::Memcg, memcg: Some(path.to_string()), ..OomControl::global(totalpages) }
    }
    /// `is_memcg_oom()`
    pub fn is_memcg_oom(&self) -> bool {
        self.memcg.is_some()
    }
    /// `is_sysrq_oom()`: order == -1.
    pub fn is_sysrq_oom(&self) -> bool {
        self.order == -1
    }
}

/// True when cgroup `path` is `root` or below it (paths absolute, no trailing slash; "/" is the root).
pub fn memcg_in_subtree(path: &str, root: &str) -> bool {
    if root == "/" {
        return true;
    }
    path == root || (path.len() > root.len() && path.starts_with(root) && path.as_bytes()[root.len()] == b'/')
}

/// Whether `t` is in the OOM domain: for a memcg OOM the OOM memcg's subtree (mem_cgroup_scan_tasks), otherwise
/// everything (cpuset eligibility is checked separately, by the callers that need it).
pub fn in_oom_domain(t: &OomTask, oc: &OomControl) -> bool {
    match &oc.memcg {
        Some(m) => memcg_in_subtree(&t.memcg, m),
        None => true,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// constrained_alloc / mem_cgroup_get_max

/// The memcg flavour for [`mem_cgroup_get_max`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemcgMaxKind {
    /// v1 with memsw accounting: memory.memsw.limit_in_bytes in pages, and the memcg's own memory.swappiness.
    V1 { memsw_max: u64, memcg_swappiness: i64 },
    /// v2: memory.swap.max in pages, and the global vm.swappiness (v2 has no per-memcg swappiness).
    V2 { swap_max: u64, vm_swappiness: i64 },
}

/// mm/memcontrol.c:`mem_cgroup_get_max`: memory.max plus the swap the memcg may still use when swappiness != 0:
/// v1 `min(memsw.max - memory.max, total_swap)` (unsigned subtraction), v2 `min(swap.max, total_swap)`.
pub fn mem_cgroup_get_max(memory_max: u64, total_swap_pages: u64, kind: MemcgMaxKind) -> u64 {
    match kind {
        MemcgMaxKind::V1 { memsw_max, memcg_swappiness } => {
            if memcg_swappiness != 0 {
                let swap = memsw_max.wrapping_sub(memory_max);
                memory_max.wrapping_add(swap.min(total_swap_pages))
            } else {
                memory_max
            }
        }
        MemcgMaxKind::V2 { swap_max, vm_swappiness } => {
            if vm_swappiness != 0 {
                memory_max.wrapping_add(swap_max.min(total_swap_pages))
            } else {
                memory_max
            }
        }
    }
}

/// What `constrained_alloc()` needs to compute `totalpages` for a constraint already known.
#[derive(Clone, Debug, PartialEq)]
pub enum TotalpagesInput {
    /// CONSTRAINT_NONE: all RAM and swap.
    Global { totalram_pages: u64, total_swap_pages: u64 },
    /// CONSTRAINT_CPUSET / CONSTRAINT_MEMORY_POLICY: `node_present_pages` of each allowed node, plus all swap.
    Nodes { allowed_nodes_present_pages: Vec<u64>, total_swap_pages: u64 },
    /// CONSTRAINT_MEMCG: the result of [`mem_cgroup_get_max`] for the OOM memcg.
    Memcg { mem_cgroup_max: u64 },
}

/// mm/oom_kill.c:`constrained_alloc` (the totalpages half): memcg -> `mem_cgroup_get_max` or 1 when that is 0;
/// global -> totalram + total_swap; cpuset/mempolicy -> total_swap + the present pages of the allowed nodes.
pub fn constrained_alloc(input: &TotalpagesInput) -> u64 {
    match input {
        TotalpagesInput::Global { totalram_pages, total_swap_pages } => totalram_pages.wrapping_add(*total_swap_pages),
        TotalpagesInput::Nodes { allowed_nodes_present_pages, total_swap_pages } => allowed_nodes_present_pages
            .iter()
            .fold(*total_swap_pages, |acc, p| acc.wrapping_add(*p)),
        TotalpagesInput::Memcg { mem_cgroup_max } => {
            if *mem_cgroup_max == 0 {
                1
            } else {
                *mem_cgroup_max
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// oom_badness

/// Why a task is unkillable for `oom_badness` (it returns LONG_MIN).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unkillable {
    GlobalInit,
    Kthread,
    NoMm,
    OomScoreAdjMin,
    MmfOomSkip,
    InVfork,
}

impl Unkillable {
    pub const fn describe(self) -> &'static str {
        match self {
            Unkillable::GlobalInit => "global init (pid 1) is never killed",
            Unkillable::Kthread => "kernel thread",
            Unkillable::NoMm => "no mm: every thread already released its memory",
            Unkillable::OomScoreAdjMin => "oom_score_adj is -1000 (OOM killing disabled)",
            Unkillable::MmfOomSkip => "its mm has MMF_OOM_SKIP (already reaped or exited)",
            Unkillable::InVfork => "vfork child sharing its parent's mm (before exec)",
        }
    }
}

/// The first unkillable condition of `oom_badness`, in the kernel's order, or None when the task is eligible.
pub fn oom_unkillable_reason(t: &OomTask) -> Option<Unkillable> {
    oom_unkillable_reason_of(&t.candidate())
}

/// [`oom_unkillable_reason`] of a candidate.
pub fn oom_unkillable_reason_of(t: &OomCandidate) -> Option<Unkillable> {
    if t.is_global_init {
        Some(Unkillable::GlobalInit)
    } else if t.is_kthread {
        Some(Unkillable::Kthread)
    } else if !t.has_mm {
        Some(Unkillable::NoMm)
    } else if t.oom_score_adj == OOM_SCORE_ADJ_MIN {
        Some(Unkillable::OomScoreAdjMin)
    } else if t.mmf_oom_skip {
        Some(Unkillable::MmfOomSkip)
    } else if t.in_vfork {
        Some(Unkillable::InVfork)
    } else {
        None
    }
}

/// The value one unit of oom_score_adj is worth: `totalpages / 1000`, truncated.
pub fn adj_units(totalpages: u64) -> i64 {
    (totalpages / 1000) as i64
}

/// `adj * (totalpages / 1000)`: the division first, so below 1000 pages adj has no effect.
pub fn adj_points(oom_score_adj: i16, totalpages: u64) -> i64 {
    (oom_score_adj as i64).wrapping_mul(adj_units(totalpages))
}

/// mm/oom_kill.c:`oom_badness` (v5.9+): LONG_MIN (`i64::MIN`) for an unkillable task (global init, kthread, no mm,
/// adj -1000, MMF_OOM_SKIP, in vfork); otherwise rss + swapents + pgtables_bytes/4096 (truncated) plus
/// `adj * (totalpages/1000)`. Never clamped: it may be negative. A precomputed `points` replaces the memory terms.
pub fn oom_badness(t: &OomTask, totalpages: u64) -> i64 {
    oom_badness_of(&t.candidate(), totalpages)
}

/// [`oom_badness`] of a candidate.
pub fn oom_badness_of(t: &OomCandidate, totalpages: u64) -> i64 {
    if oom_unkillable_reason_of(t).is_some() {
        return i64::MIN;
    }
    if let Some(p) = t.points {
        return p;
    }
    let base = (t.rss_pages as i64)
        .wrapping_add(t.swapents as i64)
        .wrapping_add((t.pgtables_bytes / crate::PAGE_SIZE) as i64);
    base.wrapping_add(adj_points(t.oom_score_adj, totalpages))
}

// ---------------------------------------------------------------------------------------------------------------
// select_bad_process

/// The result of `select_bad_process`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Nothing killable (oc->chosen == NULL).
    None,
    /// An earlier victim has not yet released its memory: the scan aborted (oc->chosen == -1), nobody is killed.
    Abort { victim_index: usize },
    /// `tasks[index]` was chosen with `points` (LONG_MAX for an oom_origin task).
    Chosen { index: usize, points: i64 },
}

/// What `oom_evaluate_task` did with one task.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Evaluation {
    /// Not in the OOM memcg's subtree (memcg OOM): not visited at all.
    OutsideDomain,
    /// Global init or kthread.
    Unkillable,
    /// Global/cpuset OOM and the task is not cpuset/mempolicy eligible.
    NotCpusetEligible,
    /// An OOM victim whose mm has MMF_OOM_SKIP: skipped.
    ReapedVictim,
    /// An OOM victim still exiting: aborts the scan.
    AbortVictim,
    /// Scored: its points, and whether it replaced the current choice.
    Scored { points: i64, selected: bool },
}

/// mm/oom_kill.c:`oom_evaluate_task` for one task given the current best points (LONG_MIN before any choice).
pub fn oom_evaluate_task(t: &OomTask, oc: &OomControl, chosen_points: i64) -> Evaluation {
    if !in_oom_domain(t, oc) {
        return Evaluation::OutsideDomain;
    }
    oom_evaluate_candidate(&t.candidate(), oc, chosen_points)
}

/// [`oom_evaluate_task`] after the domain test (the task is in the OOM domain), on a candidate.
pub fn oom_evaluate_candidate(t: &OomCandidate, oc: &OomControl, chosen_points: i64) -> Evaluation {
    if t.oom_unkillable() {
        return Evaluation::Unkillable;
    }
    if !oc.is_memcg_oom() && !t.cpuset_eligible {
        return Evaluation::NotCpusetEligible;
    }
    if !oc.is_sysrq_oom() && t.is_oom_victim {
        return if t.mmf_oom_skip { Evaluation::ReapedVictim } else { Evaluation::AbortVictim };
    }
    if t.oom_origin {
        return Evaluation::Scored { points: i64::MAX, selected: true };
    }
    let points = oom_badness_of(t, oc.totalpages);
    let selected = !(points == i64::MIN || points < chosen_points);
    Evaluation::Scored { points, selected }
}

/// mm/oom_kill.c:`select_bad_process`: evaluate the tasks in the given order (task-list order for a global OOM,
/// the OOM memcg's tasks for a memcg OOM; tasks outside its subtree are ignored). The highest badness wins; an
/// equal score replaces the current choice (ties go to the LAST task); an oom_origin task gets LONG_MAX and is
/// selected without comparison (the scan goes on: a later origin task replaces it, a later exiting victim still
/// aborts). Unless SysRq, an OOM victim without MMF_OOM_SKIP aborts the whole scan.
pub fn select_bad_process(tasks: &[OomTask], oc: &OomControl) -> Selection {
    select_bad_process_on(tasks, oc)
}

/// [`select_bad_process`] over any task table.
pub fn select_bad_process_on<T: OomTaskTable + ?Sized>(tasks: &T, oc: &OomControl) -> Selection {
    let mut chosen: Option<(usize, i64)> = None;
    let mut chosen_points = i64::MIN;
    for i in 0..tasks.nr_tasks() {
        match tasks.evaluate(i, oc, chosen_points) {
            Evaluation::AbortVictim => return Selection::Abort { victim_index: i },
            Evaluation::Scored { points, selected: true } => {
                chosen = Some((i, points));
                chosen_points = points;
            }
            _ => {}
        }
    }
    match chosen {
        Some((index, points)) => Selection::Chosen { index, points },
        None => Selection::None,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// check_panic_on_oom

/// mm/oom_kill.c:`check_panic_on_oom`: the panic message (without newline) when vm.panic_on_oom panics for this
/// OOM: 0 never; 1 only for CONSTRAINT_NONE; 2 for every constraint (memcg included); never for SysRq.
pub fn check_panic_on_oom(panic_on_oom: i32, constraint: OomConstraint, sysrq: bool) -> Option<String> {
    if panic_on_oom == 0 {
        return None;
    }
    if panic_on_oom != 2 && constraint != OomConstraint::None {
        return None;
    }
    if sysrq {
        return None;
    }
    Some(format!(
        "Out of memory: {} panic_on_oom is enabled",
        if panic_on_oom == 2 { "compulsory" } else { "system-wide" }
    ))
}

// ---------------------------------------------------------------------------------------------------------------
// task_will_free_mem

/// `__task_will_free_mem`: not core dumping, and SIGNAL_GROUP_EXIT, or a single-threaded PF_EXITING task.
pub fn __task_will_free_mem(t: &OomTask) -> bool {
    if t.core_dumping {
        return false;
    }
    t.signal_group_exit || t.pf_exiting
}

/// mm/oom_kill.c:`task_will_free_mem`: the task has an mm, is exiting (above), its mm has no MMF_OOM_SKIP, and
/// every other process sharing the mm is exiting too.
pub fn task_will_free_mem(tasks: &[OomTask], idx: usize) -> bool {
    task_will_free_mem_on(tasks, idx)
}

/// [`task_will_free_mem`] over any task table.
pub fn task_will_free_mem_on<T: OomTaskTable + ?Sized>(tasks: &T, idx: usize) -> bool {
    let t = tasks.task(idx);
    if !t.has_mm || !__task_will_free_mem(&t) || t.mmf_oom_skip {
        return false;
    }
    tasks.mm_sharers(idx).into_iter().all(|j| __task_will_free_mem(&tasks.task(j)))
}

#[cfg(test)]
mod tests;
