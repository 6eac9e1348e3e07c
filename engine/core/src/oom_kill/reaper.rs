//! The OOM reaper (mm/oom_kill.c: `queue_oom_reaper`, `wake_oom_reaper`, `oom_reap_task`, `oom_reap_task_mm`,
//! `__oom_reap_task_mm`): when it runs, what it unmaps, what it logs, and when MMF_OOM_SKIP gets set.

/// OOM_REAPER_DELAY = 2*HZ (a timer since v5.18), in ms.
pub const OOM_REAPER_DELAY_MS: u64 = 2000;
/// MAX_OOM_REAP_RETRIES
pub const MAX_OOM_REAP_RETRIES: u32 = 10;
/// The sleep between failed attempts, HZ/10, in ms.
pub const OOM_REAP_RETRY_SLEEP_MS: u64 = 100;

/// The kind of a VMA for the reaper's filter.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VmaKind {
    PrivateAnon,
    SharedAnon,
    PrivateFile,
    SharedFile,
}

impl VmaKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "private_anon" => VmaKind::PrivateAnon,
            "shared_anon" => VmaKind::SharedAnon,
            "private_file" => VmaKind::PrivateFile,
            "shared_file" => VmaKind::SharedFile,
            _ => return None,
        })
    }
}

/// `__oom_reap_task_mm`'s filter: VM_HUGETLB and VM_PFNMAP VMAs are skipped; the rest are unmapped when anonymous
/// or not VM_SHARED. A MAP_SHARED|MAP_ANONYMOUS mapping is shmem-backed (not `vma_is_anonymous`) and VM_SHARED, so it
/// is kept, like a shared file mapping.
pub fn vma_reapable(kind: VmaKind, vm_hugetlb: bool, vm_pfnmap: bool) -> bool {
    if vm_hugetlb || vm_pfnmap {
        return false;
    }
    matches!(kind, VmaKind::PrivateAnon | VmaKind::PrivateFile)
}

/// How the reaper ends for one victim.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReapOutcome {
    /// The victim exited (exit_mmap set MMF_OOM_SKIP) before the timer fired: the reaper does nothing, no line.
    VictimExited,
    /// The first attempt took the mmap lock and unmapped: "reaped process" line, MMF_OOM_SKIP at the attempt.
    Reaped,
    /// Every one of the 10 attempts failed to take the mmap lock: "unable to reap" line after 10 × 100 ms, then
    /// MMF_OOM_SKIP anyway.
    UnableToReap,
}

impl ReapOutcome {
    pub const fn name(self) -> &'static str {
        match self {
            ReapOutcome::VictimExited => "victim_exited",
            ReapOutcome::Reaped => "reaped",
            ReapOutcome::UnableToReap => "unable_to_reap",
        }
    }
}

/// The reaper's timeline for a victim killed at `kill_time_ms`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ReapPlan {
    pub outcome: ReapOutcome,
    /// Time of the first reap attempt (timer expiry).
    pub runs_at_ms: u64,
    /// When the reaper sets MMF_OOM_SKIP (None when the exit set it first, at a time the reaper does not decide).
    pub mmf_oom_skip_at_ms: Option<u64>,
}

/// mm/oom_kill.c:`oom_reap_task`: the reaper runs OOM_REAPER_DELAY after the kill. If the victim exited first
/// nothing happens. Otherwise it tries up to MAX_OOM_REAP_RETRIES times, sleeping 100 ms after each failed try;
/// success sets MMF_OOM_SKIP at once, failure logs "unable to reap" and sets MMF_OOM_SKIP after the last sleep.
pub fn oom_reap_task(kill_time_ms: u64, victim_exits_by_itself: bool, mmap_lock_available: bool) -> ReapPlan {
    let runs_at_ms = kill_time_ms + OOM_REAPER_DELAY_MS;
    if victim_exits_by_itself {
        ReapPlan { outcome: ReapOutcome::VictimExited, runs_at_ms, mmf_oom_skip_at_ms: None }
    } else if mmap_lock_available {
        ReapPlan { outcome: ReapOutcome::Reaped, runs_at_ms, mmf_oom_skip_at_ms: Some(runs_at_ms) }
    } else {
        ReapPlan {
            outcome: ReapOutcome::UnableToReap,
            runs_at_ms,
            mmf_oom_skip_at_ms: Some(runs_at_ms + MAX_OOM_REAP_RETRIES as u64 * OOM_REAP_RETRY_SLEEP_MS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline() {
        let p = oom_reap_task(500, false, true);
        assert_eq!((p.outcome, p.runs_at_ms, p.mmf_oom_skip_at_ms), (ReapOutcome::Reaped, 2500, Some(2500)));
        let p = oom_reap_task(0, false, false);
        assert_eq!((p.outcome, p.mmf_oom_skip_at_ms), (ReapOutcome::UnableToReap, Some(3000)));
        let p = oom_reap_task(0, true, false);
        assert_eq!((p.outcome, p.mmf_oom_skip_at_ms), (ReapOutcome::VictimExited, None));
    }

    #[test]
    fn vma_filter() {
        assert!(vma_reapable(VmaKind::PrivateAnon, false, false));
        assert!(vma_reapable(VmaKind::PrivateFile, false, false));
        assert!(!vma_reapable(VmaKind::SharedAnon, false, false));
        assert!(!vma_reapable(VmaKind::SharedFile, false, false));
        assert!(!vma_reapable(VmaKind::PrivateAnon, true, false));
        assert!(!vma_reapable(VmaKind::PrivateFile, false, true));
    }
}
