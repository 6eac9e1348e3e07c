//! The OOM killer's state on the engine, as plain data: the panic, the `oom_killer_disable()` switch, reaper
//! timers, the record of every out_of_memory() call, and the dense counters a global or memcg OOM scores from
//! ([`OomScanIndex`]; engine/scan.rs keeps them up to date and reads them). kernel.rs holds an [`OomState`]; this
//! file imports nothing of the engine.

use super::{OomCandidate, OomConstraint, OomOutcome};
use crate::mm_types::{Mm, MmCounter};
use crate::task::Task;

/// One pending OOM-reaper timer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReapTimer {
    pub pid: u32,
    /// The victim's mm id at kill time.
    pub mm: u32,
    /// Simulated time the reaper runs (kill time + OOM_REAPER_DELAY).
    pub due_ns: u64,
}

/// One `out_of_memory()` invocation, as the `ops` check's `ooms` observation reports it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OomRecord {
    pub constraint: OomConstraint,
    /// The OOM memcg (mem_over_limit); None for a global OOM.
    pub memcg: Option<String>,
    pub totalpages: u64,
    pub outcome: OomOutcome,
    pub victim: Option<i64>,
    pub oom_group: Option<String>,
    /// Pids counted by `__oom_kill_process`, in order.
    pub killed: Vec<i64>,
    /// Simulated time of the call.
    pub time_ns: u64,
}

/// The OOM killer's state on the engine.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct OomState {
    /// Set by a kernel panic (panic_on_oom, or nothing killable): every later syscall is refused.
    pub panicked: Option<String>,
    /// The kernel's `oom_killer_disable()` state (used during suspend/hibernation). A SIMULATION SWITCH, not a
    /// sysctl: there is no `vm.oom_kill` in mainline. While set, out_of_memory() returns false at once and the
    /// allocation that needed it fails.
    pub oom_killer_disabled: bool,
    /// Pending reaper timers, in queueing order.
    pub reaper: Vec<ReapTimer>,
    /// Every out_of_memory() call so far, in order.
    pub records: Vec<OomRecord>,
    /// Allocating tasks killed by the OOM killer whose kernel entry has not returned yet.
    pub current_killed: Vec<u32>,
    /// The one-time legacy oom_adj deprecation warning was printed.
    pub oom_adj_warned: bool,
    /// The dense counters a global OOM scores from (see [`scan`]); derived, so not in a snapshot (rebuilt).
    #[serde(skip)]
    pub scan: OomScanIndex,
    /// Record the candidate table of every out_of_memory() call that kills, as the call saw it before the kill
    /// (the runner's `--explain`; off by default, and nothing else reads it).
    pub explain_selections: bool,
    /// Those tables, oldest first: (simulated time, [`explain_json`](super::engine::explain_json) text).
    pub selection_explanations: Vec<(u64, String)>,
}

/// What the OOM killer's scoring reads of one task (not of its mm).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskScan {
    pub pid: u32,
    /// Index of the task's mm in `Kernel::mms`.
    pub mm: u32,
    pub oom_score_adj: i16,
    pub in_vfork: bool,
    /// signal->oom_mm is set.
    pub oom_victim: bool,
    /// The task's memcg (`mem_cgroup_from_task`): a memcg OOM visits only its subtree.
    pub memcg: u32,
    /// Order of joining that memcg ([`Task::cg_seq`]): `mem_cgroup_scan_tasks` visits one memcg's tasks in it.
    pub cg_seq: u64,
}

impl TaskScan {
    /// The fields of `t` the scoring reads.
    pub fn of(t: &Task) -> Self {
        TaskScan {
            pid: t.pid,
            mm: t.mm,
            oom_score_adj: t.oom_score_adj as i16,
            in_vfork: t.in_vfork,
            oom_victim: t.oom_victim,
            memcg: t.memcg,
            cg_seq: t.cg_seq,
        }
    }
}

/// What the OOM killer's scoring reads of one mm.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MmScan {
    /// `get_mm_rss()`: MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES (wrapping, as the snapshot adds them).
    pub rss: i64,
    /// MM_SWAPENTS.
    pub swapents: i64,
    /// `mm_pgtables_bytes()` (whether or not page tables are modelled; the candidate applies that switch).
    pub pgtables_bytes: u64,
    /// MMF_OOM_SKIP.
    pub oom_skip: bool,
}

impl MmScan {
    /// The counters of `mm` the scoring reads.
    pub fn of(mm: &Mm) -> Self {
        let c = |x: MmCounter| mm.rss[x as usize];
        MmScan {
            rss: c(MmCounter::MM_FILEPAGES).wrapping_add(c(MmCounter::MM_ANONPAGES)).wrapping_add(c(MmCounter::MM_SHMEMPAGES)),
            swapents: c(MmCounter::MM_SWAPENTS),
            pgtables_bytes: mm.pgtables_bytes(),
            oom_skip: mm.oom_skip,
        }
    }
}

/// The OOM killer's view of an engine process: every process has an mm (its own, or its vfork parent's), none is
/// a kernel thread or an oom_origin task (no swapoff/KSM unmerge in the model), every one is cpuset eligible (one
/// node), pid 1 is global init, no precomputed points; page-table bytes count only when page tables are modelled.
/// The snapshot ([`Kernel::oom_tasks`]) and the dense scan both build their scoring fields here.
pub fn engine_candidate(t: &TaskScan, mm: &MmScan, model_page_tables: bool) -> OomCandidate {
    OomCandidate {
        points: None,
        rss_pages: mm.rss as u64,
        swapents: mm.swapents as u64,
        pgtables_bytes: if model_page_tables { mm.pgtables_bytes } else { 0 },
        oom_score_adj: t.oom_score_adj,
        has_mm: true,
        is_global_init: t.pid == 1,
        is_kthread: false,
        in_vfork: t.in_vfork,
        mmf_oom_skip: mm.oom_skip,
        is_oom_victim: t.oom_victim,
        oom_origin: false,
        cpuset_eligible: true,
    }
}

/// The dense arrays: [`TaskScan`] by task slot (`Kernel::tasks`), [`MmScan`] by mm id (`Kernel::mms`), and the
/// sum of every mm's page-table bytes (/proc/meminfo PageTables).
#[derive(Clone, Debug, Default)]
pub struct OomScanIndex {
    pub(crate) task: Vec<TaskScan>,
    pub(crate) mm: Vec<MmScan>,
    pub(crate) pgtables_bytes: u64,
}

impl OomScanIndex {
    /// Sum of `mm_pgtables_bytes()` over the live mms.
    pub fn pgtables_bytes(&self) -> u64 {
        self.pgtables_bytes
    }

    pub(crate) fn set_task(&mut self, slot: usize, v: TaskScan) {
        if slot >= self.task.len() {
            self.task.resize(slot + 1, TaskScan::default());
        }
        self.task[slot] = v;
    }

    pub(crate) fn set_mm(&mut self, id: usize, v: MmScan) {
        if id >= self.mm.len() {
            self.mm.resize(id + 1, MmScan::default());
        }
        self.pgtables_bytes = self.pgtables_bytes.wrapping_sub(self.mm[id].pgtables_bytes).wrapping_add(v.pgtables_bytes);
        self.mm[id] = v;
    }
}
