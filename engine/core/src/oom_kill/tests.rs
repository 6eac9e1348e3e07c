//! Unit tests of the OOM decisions (mm/oom_kill.c rules, dossier §2).

use super::*;
use crate::gfp_types::{GFP_KERNEL, GFP_NOFS};

fn task(pid: i64, rss: u64) -> OomTask {
    let mut t = OomTask::new(pid);
    t.rss_anon = rss;
    t.total_vm_pages = rss;
    t.comm = format!("p{pid}").into();
    t
}

fn init() -> OomTask {
    let mut t = task(1, 10);
    t.is_global_init = true;
    t.comm = "init".into();
    t
}

#[test]
fn badness_formula_and_truncation() {
    let mut t = task(2, 1048576);
    t.pgtables_bytes = 2097152;
    t.oom_score_adj = 500;
    assert_eq!(oom_badness(&t, 4718592), 1048576 + 512 + 500 * 4718);
    t.oom_score_adj = -500;
    assert_eq!(oom_badness(&t, 4718592), -1309912);
    // totalpages < 1000: adj has no effect except -1000
    t.oom_score_adj = 1000;
    assert_eq!(oom_badness(&t, 999), 1048576 + 512);
    t.oom_score_adj = -1000;
    assert_eq!(oom_badness(&t, 999), i64::MIN);
    // pgtables truncate per page
    let mut u = task(3, 0);
    u.pgtables_bytes = 8191;
    assert_eq!(oom_badness(&u, 4718592), 1);
    u.in_vfork = true;
    assert_eq!(oom_badness(&u, 4718592), i64::MIN);
    // precomputed points still lose to the unkillable tests
    let mut k = task(4, 0);
    k.points = Some(99);
    assert_eq!(oom_badness(&k, 1), 99);
    k.is_kthread = true;
    assert_eq!(oom_badness(&k, 1), i64::MIN);
}

#[test]
fn constrained_alloc_cases() {
    assert_eq!(constrained_alloc(&TotalpagesInput::Global { totalram_pages: 10, total_swap_pages: 5 }), 15);
    assert_eq!(
        constrained_alloc(&TotalpagesInput::Nodes { allowed_nodes_present_pages: vec![3, 4], total_swap_pages: 5 }),
        12
    );
    assert_eq!(constrained_alloc(&TotalpagesInput::Memcg { mem_cgroup_max: 0 }), 1);
    let v1 = MemcgMaxKind::V1 { memsw_max: 196608, memcg_swappiness: 60 };
    assert_eq!(mem_cgroup_get_max(131072, 262144, v1), 196608);
    assert_eq!(mem_cgroup_get_max(131072, 1000, v1), 132072);
    let v1z = MemcgMaxKind::V1 { memsw_max: 196608, memcg_swappiness: 0 };
    assert_eq!(mem_cgroup_get_max(131072, 262144, v1z), 131072);
    let v2 = MemcgMaxKind::V2 { swap_max: PAGE_COUNTER_MAX, vm_swappiness: 60 };
    assert_eq!(mem_cgroup_get_max(131072, 262144, v2), 393216);
}

#[test]
fn select_ties_negative_abort_origin() {
    let oc = OomControl::global(1_000_000);
    let mut a = task(10, 0);
    a.points = Some(5000);
    let mut b = task(20, 0);
    b.points = Some(5000);
    let mut c = task(30, 0);
    c.points = Some(4999);
    assert_eq!(select_bad_process(&[a.clone(), b.clone(), c.clone()], &oc), Selection::Chosen { index: 1, points: 5000 });
    // a negative score still beats nothing
    let mut n = task(40, 0);
    n.points = Some(-7);
    let mut off = task(41, 100);
    off.oom_score_adj = -1000;
    assert_eq!(select_bad_process(&[n.clone(), off.clone()], &oc), Selection::Chosen { index: 0, points: -7 });
    assert_eq!(select_bad_process(&[off.clone(), init()], &oc), Selection::None);
    // an exiting victim aborts, even after a choice; a reaped one is skipped; SysRq ignores victims
    let mut v = task(50, 0);
    v.is_oom_victim = true;
    v.points = Some(1);
    assert_eq!(select_bad_process(&[a.clone(), v.clone()], &oc), Selection::Abort { victim_index: 1 });
    let mut sysrq = oc.clone();
    sysrq.order = -1;
    assert_eq!(select_bad_process(&[a.clone(), v.clone()], &sysrq), Selection::Chosen { index: 0, points: 5000 });
    v.mmf_oom_skip = true;
    assert_eq!(select_bad_process(&[a.clone(), v.clone()], &oc), Selection::Chosen { index: 0, points: 5000 });
    // oom_origin: LONG_MAX, the scan continues (a later exiting victim still aborts; a later origin replaces it)
    let mut o = task(60, 0);
    o.oom_origin = true;
    let mut o2 = task(61, 0);
    o2.oom_origin = true;
    assert_eq!(select_bad_process(&[o.clone(), a.clone()], &oc), Selection::Chosen { index: 0, points: i64::MAX });
    assert_eq!(select_bad_process(&[o.clone(), o2], &oc), Selection::Chosen { index: 1, points: i64::MAX });
    let mut v2 = task(70, 0);
    v2.is_oom_victim = true;
    assert_eq!(select_bad_process(&[o, v2], &oc), Selection::Abort { victim_index: 1 });
}

#[test]
fn memcg_domain_and_subtree() {
    assert!(memcg_in_subtree("/app/w", "/app"));
    assert!(memcg_in_subtree("/app", "/app"));
    assert!(!memcg_in_subtree("/apple", "/app"));
    assert!(memcg_in_subtree("/x", "/"));
    let mut big = task(10, 90000);
    big.memcg = "/other".into();
    let mut small = task(11, 10);
    small.memcg = "/app/w".into();
    let oc = OomControl::memcg("/app", 25600);
    assert_eq!(select_bad_process(&[big, small], &oc), Selection::Chosen { index: 1, points: 10 });
}

#[test]
fn panic_on_oom_rules() {
    assert_eq!(check_panic_on_oom(0, OomConstraint::None, false), None);
    assert_eq!(check_panic_on_oom(1, OomConstraint::Memcg, false), None);
    assert_eq!(
        check_panic_on_oom(1, OomConstraint::None, false).as_deref(),
        Some("Out of memory: system-wide panic_on_oom is enabled")
    );
    assert_eq!(
        check_panic_on_oom(2, OomConstraint::Memcg, false).as_deref(),
        Some("Out of memory: compulsory panic_on_oom is enabled")
    );
    assert_eq!(check_panic_on_oom(2, OomConstraint::None, true), None);
}

fn run(tasks: &[OomTask], oc: &OomControl, current: usize, env: &OomEnv) -> OomResult {
    out_of_memory(tasks, oc, current, env).unwrap()
}

#[test]
fn out_of_memory_early_branches() {
    let tasks = vec![init(), task(100, 1000)];
    let oc = OomControl::global(4718592);
    let env = OomEnv { oom_killer_disabled: true, ..OomEnv::default() };
    let r = run(&tasks, &oc, 1, &env);
    assert_eq!((r.outcome, r.returns), (Some(OomOutcome::Disabled), false));
    let env = OomEnv { notifier_freed: 5, ..OomEnv::default() };
    assert_eq!(run(&tasks, &oc, 1, &env).outcome, Some(OomOutcome::NotifierFreed));
    let mut sysrq = oc.clone();
    sysrq.order = -1;
    assert_eq!(run(&tasks, &sysrq, 1, &env).outcome, Some(OomOutcome::Kill));
    // GFP_NOFS: global skips, memcg does not
    let mut nofs = oc.clone();
    nofs.gfp_mask = GFP_NOFS;
    let r = run(&tasks, &nofs, 1, &OomEnv::default());
    assert_eq!((r.outcome, r.returns, r.killed.len()), (Some(OomOutcome::NofsSkip), true, 0));
    let mut m = OomControl::memcg("/", 25600);
    m.gfp_mask = GFP_NOFS;
    assert_eq!(run(&tasks, &m, 1, &OomEnv::default()).outcome, Some(OomOutcome::Kill));
    assert!(out_of_memory(&tasks, &oc, 9, &OomEnv::default()).is_err());
}

#[test]
fn current_will_free_mem_needs_all_sharers_dying() {
    let mut cur = task(100, 1000);
    cur.signal_group_exit = true;
    let mut sharer = task(101, 1000);
    sharer.mm = cur.mm;
    let tasks = vec![init(), cur.clone(), sharer.clone()];
    let oc = OomControl::global(4718592);
    // the sharer is alive: no shortcut, a normal kill of the biggest (ties -> last: the sharer)
    let r = run(&tasks, &oc, 1, &OomEnv::default());
    assert_eq!(r.outcome, Some(OomOutcome::Kill));
    sharer.pf_exiting = true;
    let r = run(&[init(), cur.clone(), sharer], &oc, 1, &OomEnv::default());
    assert_eq!(r.outcome, Some(OomOutcome::CurrentWillFreeMem));
    assert_eq!((r.marked_victims, r.reaper_queued, r.log.len()), (vec![100], vec![100], 0));
    // core dumping never counts as "will free"
    cur.core_dumping = true;
    assert!(!task_will_free_mem(&[cur], 0));
}

#[test]
fn panic_paths_log_dump_header_then_panic() {
    let tasks = vec![init(), task(100, 1000)];
    let oc = OomControl::global(4718592);
    let env = OomEnv { sysctls: OomSysctls { panic_on_oom: 1, ..OomSysctls::default() }, ..OomEnv::default() };
    let r = run(&tasks, &oc, 1, &env);
    assert_eq!(r.outcome, Some(OomOutcome::Panic));
    assert!(r.log[0].starts_with("p100 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0"));
    assert_eq!(r.log.last().unwrap(), "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled");
    assert!(!r.scan_performed);
    // panic_on_oom=2 panics on a memcg OOM too; =1 does not
    let m = OomControl::memcg("/", 25600);
    let env2 = OomEnv { sysctls: OomSysctls { panic_on_oom: 2, ..OomSysctls::default() }, ..OomEnv::default() };
    assert_eq!(run(&tasks, &m, 1, &env2).outcome, Some(OomOutcome::Panic));
    assert_eq!(run(&tasks, &m, 1, &env).outcome, Some(OomOutcome::Kill));
    // no killable process: global panics, memcg and SysRq do not
    let mut shield = task(100, 1000);
    shield.oom_score_adj = -1000;
    let tasks = vec![init(), shield];
    let r = run(&tasks, &oc, 1, &OomEnv::default());
    assert_eq!((r.outcome, r.panic.as_deref()), (Some(OomOutcome::NoVictim), Some("System is deadlocked on memory")));
    let r = run(&tasks, &m, 1, &OomEnv::default());
    assert_eq!((r.outcome, r.panic, r.returns), (Some(OomOutcome::NoVictim), None, false));
    assert!(r.log.contains(&log::NO_KILLABLE_PROCESSES.to_string()));
    let mut sysrq = oc.clone();
    sysrq.order = -1;
    assert_eq!(run(&tasks, &sysrq, 1, &OomEnv::default()).panic, None);
}

#[test]
fn allocating_task_conditions() {
    let oc = OomControl::global(4718592);
    let env = OomEnv { sysctls: OomSysctls { oom_kill_allocating_task: 1, ..OomSysctls::default() }, ..OomEnv::default() };
    let tasks = vec![init(), task(100, 10), task(200, 5000)];
    let r = run(&tasks, &oc, 1, &env);
    assert_eq!((r.outcome, r.victim_pid, r.scan_performed), (Some(OomOutcome::KillAllocatingTask), Some(100), false));
    assert!(r.log.iter().any(|l| l.starts_with("Out of memory (oom_kill_allocating_task): Killed process 100 (p100)")));
    // adj -1000 current, or init, or a memcg OOM: normal scan
    let mut t2 = tasks.clone();
    t2[1].oom_score_adj = -1000;
    assert_eq!(run(&t2, &oc, 1, &env).victim_pid, Some(200));
    assert_eq!(run(&tasks, &oc, 0, &env).victim_pid, Some(200));
    assert_eq!(run(&tasks, &OomControl::memcg("/", 25600), 1, &env).outcome, Some(OomOutcome::Kill));
}

#[test]
fn kill_logs_counts_and_shared_mm() {
    let mut victim = task(300, 5000);
    victim.memcg = "/app".into();
    let mut clone = task(301, 5000);
    clone.mm = victim.mm;
    let mut kt = task(302, 5000);
    kt.is_kthread = true;
    kt.mm = victim.mm;
    let tasks = vec![init(), task(100, 10), victim.clone(), clone, kt];
    let oc = OomControl::global(4718592);
    let r = run(&tasks, &oc, 1, &OomEnv::default());
    // ties between 300 and 301 (same mm, same rss): the later one wins
    assert_eq!(r.victim_pid, Some(301));
    assert_eq!(r.killed, vec![301]);
    assert_eq!(r.sigkill_sent_to, vec![301, 300]);
    assert_eq!(r.reaper_queued, vec![301]);
    let i = r.log.iter().position(|l| l.starts_with("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),")).unwrap();
    assert!(r.log[i + 1].starts_with("Out of memory: Killed process 301 (p301) total-vm:20000kB, anon-rss:20000kB"));
    assert!(r.log.contains(&log::DUMP_TASKS_HEADER1.to_string()));
    // init shares the mm: not signalled, MMF_OOM_SKIP, no reaper, pinned line
    let mut init2 = init();
    init2.mm = victim.mm;
    let tasks = vec![init2, task(100, 10), victim.clone()];
    let r = run(&tasks, &oc, 1, &OomEnv::default());
    assert_eq!(r.sigkill_sent_to, vec![300]);
    assert!(r.reaper_queued.is_empty());
    assert_eq!(r.mmf_oom_skip_set, vec![victim.mm]);
    assert_eq!(r.log.last().unwrap(), "oom killer 300 (p300) has mm pinned by 1 (init)");
    // ratelimited: no dump_header / oom-kill line, the Killed line stays
    let env = OomEnv { ratelimit_ok: false, ..OomEnv::default() };
    let r = run(&tasks, &oc, 1, &env);
    assert!(r.log[0].starts_with("Out of memory: Killed process 300"));
    // oom_dump_tasks=0 drops the table
    let env = OomEnv { sysctls: OomSysctls { oom_dump_tasks: 0, ..OomSysctls::default() }, ..OomEnv::default() };
    assert!(!run(&tasks, &oc, 1, &env).log.contains(&log::DUMP_TASKS_HEADER1.to_string()));
}

#[test]
fn victim_will_free_mem_is_only_marked() {
    let mut v = task(300, 5000);
    v.signal_group_exit = true;
    let tasks = vec![init(), task(100, 10), v];
    let r = run(&tasks, &OomControl::global(4718592), 1, &OomEnv::default());
    assert_eq!((r.outcome, r.victim_pid), (Some(OomOutcome::Kill), Some(300)));
    assert!(r.killed.is_empty() && r.log.is_empty());
    assert_eq!((r.marked_victims, r.reaper_queued), (vec![300], vec![300]));
}

#[test]
fn oom_group_sweep_revisits_victim() {
    let mut a = task(10, 5000);
    a.memcg = "/g/a".into();
    let mut b = task(11, 100);
    b.memcg = "/g/b".into();
    let mut c = task(12, 100);
    c.memcg = "/g/b".into();
    c.oom_score_adj = -1000;
    let mut d = task(13, 0);
    d.memcg = "/g/b".into();
    d.has_mm = false;
    let tasks = vec![init(), a, b, c, d];
    let group = |_v: usize| Some(OomGroup { path: "/g".into(), members: vec![1, 2, 3, 4] });
    let env = OomEnv { get_oom_group: Some(&group), ..OomEnv::default() };
    let mut oc = OomControl::memcg("/g", 25600);
    oc.gfp_mask = GFP_KERNEL;
    let r = run(&tasks, &oc, 2, &env);
    assert_eq!(r.victim_pid, Some(10));
    assert_eq!(r.killed, vec![10, 10, 11]);
    assert_eq!(r.oom_group.as_deref(), Some("/g"));
    let g = r.log.iter().position(|l| l == "Tasks in /g are going to be killed due to memory.oom.group set").unwrap();
    assert!(r.log[g - 1].starts_with("Memory cgroup out of memory: Killed process 10 (p10)"));
    assert!(r.log[g + 1].starts_with("Memory cgroup out of memory: Killed process 10 (p10)"));
    assert_eq!(
        r.log.last().unwrap(),
        "Memory cgroup out of memory: OOM victim 13 (p13) is already exiting. Skip killing the task"
    );
}
