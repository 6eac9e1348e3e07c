//! "Which process dies, and why?": the OOM killer's view of every candidate, ranked as `select_bad_process`
//! would choose (the chosen one first). Built only from the kernel functions of this module.

use super::{
    adj_points, oom_badness, oom_evaluate_task, oom_unkillable_reason, select_bad_process, Evaluation, OomControl,
    OomTask, Selection, Unkillable,
};
use crate::proc_base::proc_oom_score;

/// Why a task cannot be chosen in this OOM.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ineligible {
    /// `oom_badness` gives LONG_MIN for this reason.
    Unkillable(Unkillable),
    /// Not in the OOM memcg's subtree.
    NotInOomMemcg,
    /// Not cpuset/mempolicy eligible (global/cpuset OOM).
    NotCpusetEligible,
    /// An earlier OOM victim still exiting: its presence aborts the scan (nobody new is chosen).
    ExistingVictim,
    /// An earlier OOM victim already reaped: skipped.
    ReapedVictim,
}

impl Ineligible {
    pub fn describe(self) -> &'static str {
        match self {
            Ineligible::Unkillable(u) => u.describe(),
            Ineligible::NotInOomMemcg => "not in the OOM memory cgroup",
            Ineligible::NotCpusetEligible => "its memory is outside the allowed nodes (cpuset/mempolicy)",
            Ineligible::ExistingVictim => "already an OOM victim and still exiting: the OOM killer waits for it",
            Ineligible::ReapedVictim => "already an OOM victim, reaped (MMF_OOM_SKIP): skipped",
        }
    }
}

/// One row of the explanation table.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateRow {
    pub pid: i64,
    pub comm: String,
    pub memcg: String,
    pub rss_pages: u64,
    pub swapents: u64,
    /// pgtables_bytes / 4096 (truncated), the pages badness counts.
    pub pgtables_pages: u64,
    pub oom_score_adj: i16,
    /// adj * (totalpages/1000) with this OOM's totalpages.
    pub adj_points: i64,
    /// The points select_bad_process compares (LONG_MAX for oom_origin, LONG_MIN when unkillable).
    pub badness: i64,
    /// /proc/<pid>/oom_score (always with the GLOBAL totalpages, as the file does).
    pub oom_score: i64,
    pub eligible: bool,
    pub reason: Option<Ineligible>,
    /// Selected by this OOM.
    pub chosen: bool,
}

/// Explain an OOM: every task of `tasks` as a row, eligible ones first by the kernel's preference (highest points;
/// on a tie the later task in iteration order first, since the later one wins), then the ineligible ones in
/// iteration order. `global_totalpages` (totalram + swap) is used for oom_score only.
pub fn explain(tasks: &[OomTask], oc: &OomControl, global_totalpages: u64) -> Vec<CandidateRow> {
    let selection = select_bad_process(tasks, oc);
    let mut rows: Vec<(usize, CandidateRow)> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let reason = match oom_evaluate_task(t, oc, i64::MIN) {
                Evaluation::OutsideDomain => Some(Ineligible::NotInOomMemcg),
                Evaluation::Unkillable => oom_unkillable_reason(t).map(Ineligible::Unkillable),
                Evaluation::NotCpusetEligible => Some(Ineligible::NotCpusetEligible),
                Evaluation::ReapedVictim => Some(Ineligible::ReapedVictim),
                Evaluation::AbortVictim => Some(Ineligible::ExistingVictim),
                Evaluation::Scored { points, .. } if points == i64::MIN => {
                    oom_unkillable_reason(t).map(Ineligible::Unkillable)
                }
                Evaluation::Scored { .. } => None,
            };
            let badness = match oom_evaluate_task(t, oc, i64::MIN) {
                Evaluation::Scored { points, .. } => points,
                _ => oom_badness(t, oc.totalpages),
            };
            let g = oom_badness(t, global_totalpages);
            let row = CandidateRow {
                pid: t.pid,
                comm: t.comm.to_string(),
                memcg: t.memcg.to_string(),
                rss_pages: t.rss_pages(),
                swapents: t.swapents,
                pgtables_pages: t.pgtables_bytes / crate::PAGE_SIZE,
                oom_score_adj: t.oom_score_adj,
                adj_points: adj_points(t.oom_score_adj, oc.totalpages),
                badness,
                oom_score: proc_oom_score(g, global_totalpages),
                eligible: reason.is_none(),
                reason,
                chosen: matches!(selection, Selection::Chosen { index, .. } if index == i),
            };
            (i, row)
        })
        .collect();
    rows.sort_by(|(ia, a), (ib, b)| {
        use std::cmp::Ordering;
        match (a.eligible, b.eligible) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => ia.cmp(ib),
            (true, true) => b.chosen.cmp(&a.chosen).then(b.badness.cmp(&a.badness)).then(ib.cmp(ia)),
        }
    });
    rows.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pid: i64, rss: u64) -> OomTask {
        let mut t = OomTask::new(pid);
        t.rss_anon = rss;
        t
    }

    #[test]
    fn ranks_like_the_kernel() {
        let mut init = t(1, 10);
        init.is_global_init = true;
        let mut shield = t(4, 9000);
        shield.oom_score_adj = -1000;
        let tasks = vec![init, t(2, 500), t(3, 500), shield, t(5, 100)];
        let oc = OomControl::global(1_000_000);
        let rows = explain(&tasks, &oc, 1_000_000);
        let order: Vec<i64> = rows.iter().map(|r| r.pid).collect();
        assert_eq!(order, vec![3, 2, 5, 1, 4]);
        assert!(rows[0].chosen && !rows[1].chosen);
        assert_eq!(rows[3].reason, Some(Ineligible::Unkillable(Unkillable::GlobalInit)));
        assert_eq!(rows[4].reason, Some(Ineligible::Unkillable(Unkillable::OomScoreAdjMin)));
        assert_eq!(rows[4].oom_score, 0);
        // 500 pages of 1_000_000: (1000 + 500*1000/1000000) * 2/3 = 666
        assert_eq!(rows[0].oom_score, 666);
    }

    #[test]
    fn memcg_domain_and_adj_points() {
        let mut a = t(10, 1000);
        a.memcg = "/app".into();
        a.oom_score_adj = 500;
        let mut b = t(11, 5000);
        b.memcg = "/other".into();
        let oc = OomControl::memcg("/app", 25600);
        let rows = explain(&[a, b], &oc, 4_718_592);
        assert_eq!(rows[0].pid, 10);
        assert_eq!(rows[0].adj_points, 500 * 25);
        assert_eq!(rows[0].badness, 1000 + 12500);
        assert_eq!(rows[1].reason, Some(Ineligible::NotInOomMemcg));
    }
}
