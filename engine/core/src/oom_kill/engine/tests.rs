use super::*;
use crate::kernel::{MachineConfig, SpawnArgs};
use crate::memory::{Access, TouchStop};
use crate::mmap::{MapFlags, PROT_RW};

fn machine(pages: u32) -> Kernel {
    Kernel::new(MachineConfig { totalram_pages: pages, model_page_tables: false, ..Default::default() }).unwrap()
}

fn spawn(k: &mut Kernel, pid: u32, comm: &str, adj: i32, pages: u64) -> u64 {
    k.spawn_task(SpawnArgs { pid, comm: comm.into(), oom_score_adj: adj, ..SpawnArgs::default() }).unwrap();
    let v = k.mmap(pid, pages.max(1), PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    if pages > 0 {
        assert_eq!(k.touch(pid, v, pages, Access::Write).unwrap().stop, None);
    }
    v
}

fn killed_lines(k: &Kernel) -> Vec<String> {
    k.log.iter().filter(|l| l.contains(": Killed process ")).cloned().collect::<Vec<String>>()
}

/// Seed scenario: several processes, adj tuning decides the victim (cache, adj +500), the log is the kernel's.
#[test]
fn global_oom_with_adj_tuning() {
    let mut k = machine(4096);
    spawn(&mut k, 1, "init", 0, 10);
    spawn(&mut k, 2, "db", -500, 1000);
    spawn(&mut k, 3, "web", 0, 800);
    spawn(&mut k, 4, "cache", 500, 600);
    k.spawn(5, "stress").unwrap();
    let v = k.mmap(5, 2000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    // explain before: cache (600 + 500*4) ranks first, db (1000 - 500*4 = -1000) is eligible but last
    let rows = k.oom_explain();
    assert_eq!(rows[0].pid, 4);
    assert_eq!(rows[0].badness, 2600);
    assert_eq!(rows.iter().find(|r| r.pid == 2).unwrap().badness, -1000);
    let o = k.touch(5, v, 2000, Access::Write).unwrap();
    assert_eq!(o.stop, None, "the kill made room: the whole touch completes");
    assert!(k.task(4).is_none(), "cache exited");
    assert!(k.task(2).is_some() && k.task(3).is_some() && k.task(5).is_some());
    assert_eq!(k.vmstat.get(Vmstat::oom_kill), 1);
    let recs = k.oom_records();
    assert_eq!(recs.len(), 1);
    assert_eq!((recs[0].outcome, recs[0].victim, recs[0].totalpages), (OomOutcome::Kill, Some(4), 4096));
    assert_eq!(
        killed_lines(&k),
        vec![String::from("Out of memory: Killed process 4 (cache) total-vm:2400kB, anon-rss:2400kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:0kB oom_score_adj:500")]
    );
    let i = k.log.iter().position(|l| l.starts_with("stress invoked oom-killer")).unwrap();
    assert_eq!(k.log[i], "stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0");
    assert!(k.log.contains(&"Mem-Info:".to_string()));
    assert!(k.log.contains(&"4096 pages RAM".to_string()));
    assert!(k.log.contains(&"Tasks state (memory values in pages):".to_string()));
    // init is not listed in the task table; db is
    assert!(k.log.iter().any(|l| l.ends_with("        -500 db")));
    assert!(!k.log.iter().any(|l| l.ends_with(" init")));
    assert!(k.log.contains(&"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=cache,pid=4,uid=1000".to_string()));
    // the reaper fires 2 s later and finds the victim gone: no line
    assert_eq!(k.oom.reaper.len(), 1);
    assert_eq!(k.advance(1_999_999_999), RunStop::Done);
    assert_eq!(k.oom.reaper.len(), 1);
    let n = k.log.len();
    assert_eq!(k.advance(1), RunStop::Done);
    assert!(k.oom.reaper.is_empty());
    assert_eq!(k.log.len(), n, "victim already exited: the reaper is a no-op");
    assert_eq!(k.now_ns(), 2_000_000_000);
    crate::kernel::prop_tests::check_invariants(&k);
}

/// Seed scenario: a process with adj -1000 survives even though it is the largest; here the allocating task
/// is the victim and its touch is abandoned.
#[test]
fn adj_min_survives_and_current_is_killed() {
    let mut k = machine(4096);
    spawn(&mut k, 1, "init", 0, 10);
    spawn(&mut k, 2, "sshd", -1000, 2500);
    k.spawn(3, "stress").unwrap();
    let v = k.mmap(3, 3000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let o = k.touch(3, v, 3000, Access::Write).unwrap();
    let min = k.wmark.min;
    // the fault that ran the OOM killer completes from the ALLOC_OOM reserve, then the task dies
    let done = 4096 - min - 2510 + 1;
    assert_eq!(o, crate::memory::TouchOutcome { done, stop: Some(TouchStop::Killed { vpn: v + done }) });
    assert!(k.task(3).is_none(), "stress exited when its fault returned");
    assert!(k.task(2).is_some(), "adj -1000 survives");
    assert_eq!(
        killed_lines(&k),
        vec![format!(
            "Out of memory: Killed process 3 (stress) total-vm:12000kB, anon-rss:{}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:0kB oom_score_adj:0",
            (done - 1) * 4
        )]
    );
    assert_eq!(k.nr_free_pages(), 4096 - 2510);
    crate::kernel::prop_tests::check_invariants(&k);
}

/// Seed scenario: every task unkillable (init and adj -1000): "no killable processes", then the panic; later
/// syscalls are refused and a Panic event is queued.
#[test]
fn panic_when_every_task_is_unkillable() {
    let mut k = machine(4096);
    spawn(&mut k, 1, "init", 0, 10);
    spawn(&mut k, 2, "a", -1000, 100);
    k.spawn_task(SpawnArgs { pid: 3, comm: "stress".into(), oom_score_adj: -1000, ..SpawnArgs::default() }).unwrap();
    let v = k.mmap(3, 5000, PROT_RW, MapFlags { anonymous: true, noreserve: true, ..Default::default() }, None).unwrap().unwrap();
    let o = k.touch(3, v, 5000, Access::Write).unwrap();
    assert!(matches!(o.stop, Some(TouchStop::Panic { .. })));
    assert!(killed_lines(&k).is_empty());
    let n = k.log.len();
    assert_eq!(k.log[n - 2], "Out of memory and no killable processes...");
    assert_eq!(k.log[n - 1], "Kernel panic - not syncing: System is deadlocked on memory");
    assert_eq!(k.oom_records()[0].outcome, OomOutcome::NoVictim);
    assert_eq!(k.panicked(), Some("System is deadlocked on memory"));
    let e = k.spawn(9, "x").unwrap_err();
    assert_eq!(e.code, "E_PANICKED");
    assert!(e.message.contains("panicked"), "{e}");
    assert_eq!(k.run_until(10), RunStop::Panic);
    let mut ev = Vec::new();
    k.drain_events(&mut ev);
    assert!(ev.chunks(8).any(|c| c[0] == EventKind::Panic as u32 && c[2] == PANIC_NO_KILLABLE));
}

/// vm.panic_on_oom=1 panics a global OOM before any selection, after dump_header.
#[test]
fn panic_on_oom_one() {
    let mut k = machine(4096);
    k.sysctl_write("vm.panic_on_oom", 1).unwrap().unwrap();
    spawn(&mut k, 1, "init", 0, 10);
    spawn(&mut k, 2, "big", 0, 2000);
    k.spawn(3, "stress").unwrap();
    let v = k.mmap(3, 3000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let o = k.touch(3, v, 3000, Access::Write).unwrap();
    assert!(matches!(o.stop, Some(TouchStop::Panic { .. })));
    assert_eq!(k.log.last().unwrap(), "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled");
    assert!(k.log.iter().any(|l| l.starts_with("stress invoked oom-killer")));
    assert!(killed_lines(&k).is_empty());
    assert_eq!(k.vmstat.get(Vmstat::oom_kill), 0);
    assert!(k.task(2).is_some());
}

/// Seed scenario: vm.oom_kill_allocating_task=1 kills the allocating task, not the largest one.
#[test]
fn oom_kill_allocating_task() {
    let mut k = machine(4096);
    k.sysctl_write("vm.oom_kill_allocating_task", 1).unwrap().unwrap();
    spawn(&mut k, 1, "init", 0, 10);
    spawn(&mut k, 2, "big", 0, 3000);
    k.spawn(3, "small").unwrap();
    let v = k.mmap(3, 2000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let o = k.touch(3, v, 2000, Access::Write).unwrap();
    assert!(matches!(o.stop, Some(TouchStop::Killed { .. })));
    let done = 4096 - k.wmark.min - 3010;
    assert_eq!(
        killed_lines(&k),
        vec![format!(
            "Out of memory (oom_kill_allocating_task): Killed process 3 (small) total-vm:8000kB, anon-rss:{}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:0kB oom_score_adj:0",
            done * 4
        )]
    );
    assert_eq!(k.oom_records()[0].outcome, OomOutcome::KillAllocatingTask);
    assert!(k.task(2).is_some() && k.task(3).is_none());
}

/// Page cache is reclaimed before the OOM killer runs.
#[test]
fn clean_page_cache_is_reclaimed_first() {
    let mut k = machine(4096);
    spawn(&mut k, 1, "init", 0, 10);
    let f = k.file_create("f", crate::filemap::FileKind::Disk, 1000, false).unwrap().unwrap();
    k.spawn(2, "reader").unwrap();
    k.file_read(2, f, 0, 1000).unwrap().unwrap();
    let v = k.mmap(2, 3500, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let o = k.touch(2, v, 3500, Access::Write).unwrap();
    assert_eq!(o.stop, None);
    assert!(k.oom_records().is_empty());
    assert!(k.vmstat.get(Vmstat::pgsteal_direct) > 0);
    crate::kernel::prop_tests::check_invariants(&k);
}

/// The reaper on a victim that is still there (not reachable through the ops timing rules, where victims exit at
/// once): private/anon VMAs are unmapped at kill + 2 s, the line is logged, MMF_OOM_SKIP is set.
#[test]
fn reaper_unmaps_a_live_victim() {
    let mut k = machine(4096);
    spawn(&mut k, 2, "victim", 0, 300);
    let mm = k.task(2).unwrap().mm;
    k.oom.reaper.push(ReapTimer { pid: 2, mm, due_ns: 2_000_000_000 });
    assert_eq!(k.run_until(2_000_000_000), RunStop::Done);
    assert_eq!(k.log.last().unwrap(), "oom_reaper: reaped process 2 (victim), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB");
    assert!(k.mm(mm).oom_skip);
    assert_eq!(k.oom_score(2).unwrap(), 0, "MMF_OOM_SKIP: unkillable");
    crate::kernel::prop_tests::check_invariants(&k);
}

#[test]
fn proc_oom_files() {
    let mut k = machine(4096);
    spawn(&mut k, 1, "init", 0, 10);
    spawn(&mut k, 2, "a", 0, 1000);
    // (1000 + 1000*1000/4096) * 2/3 = (1000 + 244) * 2/3 = 829
    assert_eq!(k.oom_score(2).unwrap(), 829);
    assert_eq!(k.oom_score(1).unwrap(), 0, "init");
    // unprivileged writes: raising is fine, lowering below oom_score_adj_min (0) is EACCES
    assert_eq!(k.write_oom_score_adj(2, 300, false).unwrap(), Ok(()));
    assert_eq!(k.write_oom_score_adj(2, -1, false).unwrap(), Err(crate::errno::Errno::EACCES));
    assert_eq!(k.write_oom_score_adj(2, 1001, true).unwrap(), Err(crate::errno::Errno::EINVAL));
    // a privileged write sets the floor
    assert_eq!(k.write_oom_score_adj(2, -200, true).unwrap(), Ok(()));
    assert_eq!(k.write_oom_score_adj(2, -100, false).unwrap(), Ok(()));
    assert_eq!(k.write_oom_score_adj(2, -300, false).unwrap(), Err(crate::errno::Errno::EACCES));
    assert_eq!(k.oom_score_adj(2).unwrap(), -100);
    // inherited on fork, independent afterwards
    k.fork(2, 3).unwrap().unwrap();
    assert_eq!(k.oom_score_adj(3).unwrap(), -100);
    k.write_oom_score_adj(3, 50, true).unwrap().unwrap();
    assert_eq!(k.oom_score_adj(2).unwrap(), -100);
    // a vfork child shares the mm but not later writes; it reads oom_score 0
    k.vfork(2, 4).unwrap().unwrap();
    assert_eq!(k.oom_score(4).unwrap(), 0);
    k.write_oom_score_adj(2, 10, true).unwrap().unwrap();
    assert_eq!(k.oom_score_adj(4).unwrap(), -100, "vfork child not updated");
    // legacy oom_adj: mapping, one-time warning
    k.write_oom_adj(2, 15, true, "bash", 77).unwrap().unwrap();
    assert_eq!(k.oom_score_adj(2).unwrap(), 1000);
    assert_eq!(k.oom_adj(2).unwrap(), 15);
    assert_eq!(k.log.last().unwrap(), "bash (77): /proc/2/oom_adj is deprecated, please use /proc/2/oom_score_adj instead.");
    let n = k.log.len();
    k.write_oom_adj(2, -17, true, "bash", 77).unwrap().unwrap();
    assert_eq!(k.log.len(), n, "warned once");
    assert_eq!(k.oom_adj(2).unwrap(), -17);
    assert_eq!(k.write_oom_adj(2, 16, true, "bash", 77).unwrap(), Err(crate::errno::Errno::EINVAL));
    let j: serde_json::Value = serde_json::from_str(&k.oom_explain_json()).unwrap();
    assert_eq!(j["totalpages"], 4096);
    assert_eq!(j["rows"][0]["pid"], 3);
    assert!(j["rows"].as_array().unwrap().iter().any(|r| r["pid"] == 1 && r["badness"].is_null() && r["reason"].is_string()));
}

/// 100,000 processes: the OOM path scores them all and picks the largest (no timing asserted).
#[test]
fn oom_over_100k_tasks() {
    let mut k = Kernel::new(MachineConfig { totalram_pages: 1 << 20, model_page_tables: false, ..Default::default() }).unwrap();
    k.spawn(1, "init").unwrap();
    for pid in 2..100_002u32 {
        k.spawn(pid, "w").unwrap();
        let pages = if pid == 77_777 { 40 } else { 1 + (pid as u64 % 7) };
        let v = k.mmap(pid, pages, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        k.touch(pid, v, pages, Access::Write).unwrap();
    }
    k.sysctl_write("vm.oom_dump_tasks", 0).unwrap().unwrap();
    let r = k.out_of_memory_global(2, USER_FAULT_GFP, 0);
    assert_eq!(r.victim_pid, Some(77_777));
    assert!(k.task(77_777).is_none());
    assert_eq!(k.tasks().count(), 100_000);
    // the pid index and the creation order survive the removal (slots are stable; the order skips the victim)
    assert_eq!(k.task(77_778).unwrap().pid, 77_778);
    let order: Vec<u32> = k.tasks().map(|t| t.pid).collect();
    assert_eq!(order.first(), Some(&1));
    assert_eq!(order.last(), Some(&100_001));
    assert!(order.windows(2).all(|w| w[0] < w[1]), "creation order kept");
    // a new task reuses the freed slot but goes last in creation order
    k.spawn(200_000, "late").unwrap();
    assert_eq!(k.tasks().last().unwrap().pid, 200_000);
}

/// `--explain`: the table recorded for an OOM kill is the one the OOM killer decided on — the victim alive in it,
/// chosen, with its RSS — not the state after the kill (where the victim is gone and another task ranks first).
#[test]
fn selection_explanation_is_taken_before_the_kill() {
    let mut k = machine(4096);
    spawn(&mut k, 1, "init", 0, 10);
    spawn(&mut k, 2, "db", -500, 1000);
    spawn(&mut k, 3, "web", 0, 800);
    spawn(&mut k, 4, "cache", 500, 600);
    k.spawn(5, "stress").unwrap();
    let v = k.mmap(5, 2000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    assert_eq!(k.take_selection_explanations_json(), "[]", "off by default");
    k.set_explain_selections(true);
    assert_eq!(k.touch(5, v, 2000, Access::Write).unwrap().stop, None);
    assert!(k.task(4).is_none(), "cache was killed");
    let j: serde_json::Value = serde_json::from_str(&k.take_selection_explanations_json()).unwrap();
    let items = j.as_array().unwrap();
    assert_eq!(items.len(), 1, "one OOM call killed");
    let table = &items[0]["table"];
    assert_eq!(table["constraint"], "CONSTRAINT_NONE");
    let top = &table["rows"][0];
    assert_eq!((top["pid"].as_i64(), top["chosen"].as_bool(), top["rss_pages"].as_u64()), (Some(4), Some(true), Some(600)));
    assert_eq!(top["badness"].as_i64(), Some(2600));
    // the state after the kill ranks another task first: that is what a table taken afterwards would show
    let after = k.oom_explain();
    assert!(after.iter().all(|r| r.pid != 4));
    assert_ne!(after[0].pid, 4);
    assert_eq!(k.take_selection_explanations_json(), "[]", "taken once");
}
