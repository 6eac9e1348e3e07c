//! The dense memcg OOM against the snapshot of every process (the path before it), on random machines.

use crate::kernel::{Kernel, MachineConfig, SpawnArgs};
use crate::memcontrol::CgroupMode;
use crate::memory::Access;
use crate::mmap::{MapFlags, PROT_RW};
use crate::oom_kill::OomOutcome;
use crate::rand::Rng;
use crate::types::MemcgId;

const ADJS: [i32; 10] = [-1000, -999, -500, 0, 0, 0, 1, 500, 999, 1000];
/// Few distinct sizes, so that equal badness (ties: the later task wins) is common.
const PAGES: [u64; 7] = [0, 1, 5, 5, 10, 20, 37];

fn pick<'a, T>(r: &mut Rng, xs: &'a [T]) -> &'a T {
    &xs[r.below(xs.len() as u32) as usize]
}

fn pids(k: &Kernel) -> Vec<u32> {
    k.tasks().map(|t| t.pid).collect()
}

/// A machine with a random memcg tree (up to 7 levels of nesting), limits, oom.group cgroups and tasks: forks,
/// vforks (mms shared, also across memcgs), moves, exits (slots and mm ids reused), swap, adj -1000..1000, pid 1
/// (global init) sometimes inside a memcg, victims, reaped mms, exiting tasks, the OOM sysctls.
fn random_machine(r: &mut Rng) -> (Kernel, Vec<String>) {
    let mode = if r.below(3) == 0 { CgroupMode::V1 } else { CgroupMode::V2 };
    let swap = *pick(r, &[0, 0, 4096]);
    let mut k = Kernel::new(MachineConfig { totalram_pages: 16384, total_swap_pages: swap, cgroup_mode: mode, ..Default::default() }).unwrap();
    let mut paths = vec!["/".to_string()];
    for i in 0..1 + r.below(7) {
        let parent = pick(r, &paths).clone();
        let p = if parent == "/" { format!("/c{i}") } else { format!("{parent}/c{i}") };
        k.cgroup_create(&p).unwrap().unwrap();
        if r.below(2) == 0 {
            let max = (1500 + r.below(40_000)) as u64 * 4096;
            let file = if mode == CgroupMode::V1 { "memory.limit_in_bytes" } else { "memory.max" };
            k.cgroup_write(&p, file, &max.to_string()).unwrap().unwrap();
        }
        if mode == CgroupMode::V2 && r.below(4) == 0 {
            k.cgroup_write(&p, "memory.oom.group", "1").unwrap().unwrap();
        }
        paths.push(p);
    }
    let mut next_pid = 1 + r.below(2);
    for _ in 0..1 + r.below(40) {
        let pid = next_pid;
        next_pid += 1;
        let cgroup = pick(r, &paths).clone();
        let comm = pick(r, &["a", "b", "worker", "t"]).to_string();
        k.spawn_task(SpawnArgs { pid, comm, cgroup, oom_score_adj: *pick(r, &ADJS), ..SpawnArgs::default() }).unwrap();
        let pages = *pick(r, &PAGES);
        let v = k.mmap(pid, pages.max(1), PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        if pages > 0 && k.task(pid).is_some() {
            k.touch(pid, v, pages, Access::Write).unwrap();
        }
    }
    for _ in 0..r.below(30) {
        let live = pids(&k);
        if live.is_empty() || k.panicked().is_some() {
            break;
        }
        let p = *pick(r, &live);
        match r.below(8) {
            0 => {
                let c = next_pid;
                next_pid += 1;
                k.fork(p, c).unwrap().unwrap();
            }
            1 => {
                let c = next_pid;
                next_pid += 1;
                k.vfork(p, c).unwrap().unwrap();
                if r.below(2) == 0 {
                    k.move_task(c, &pick(r, &paths).clone()).unwrap().unwrap();
                }
            }
            2 => k.move_task(p, &pick(r, &paths).clone()).unwrap().unwrap(),
            3 if p != 1 => k.exit(p).unwrap(),
            4 => k.set_oom_score_adj(p, *pick(r, &ADJS) as i64).unwrap().unwrap(),
            5 if swap > 0 => {
                let mm = k.task_mm(p).unwrap();
                if let Some(v) = mm.vmas.first().map(|v| v.start) {
                    k.swapout(p, v, 1 + r.below(10) as u64, false).unwrap();
                }
            }
            _ => {
                let pages = *pick(r, &PAGES);
                let v = k.mmap(p, pages.max(1), PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
                if pages > 0 && k.task(p).is_some() {
                    k.touch(p, v, pages, Access::Write).unwrap();
                }
            }
        }
    }
    k.sysctl_write("vm.oom_kill_allocating_task", r.below(2) as i64).unwrap().unwrap();
    k.sysctl_write("vm.oom_dump_tasks", r.below(2) as i64).unwrap().unwrap();
    k.sysctl_write("vm.panic_on_oom", if r.below(8) == 0 { 2 } else { 0 }).unwrap().unwrap();
    k.set_explain_selections(r.below(2) == 0);
    (k, paths)
}

/// Earlier victims, reaped mms and tasks killed during their current entry (exiting), at random.
fn random_flags(k: &mut Kernel, r: &mut Rng) {
    if r.below(3) != 0 {
        return;
    }
    for pid in pids(k) {
        let slot = k.task_index(pid).unwrap();
        match r.below(24) {
            0 => {
                k.tasks[slot].oom_victim = true;
                k.oom_scan_task(slot);
            }
            1 => {
                let mm = k.tasks[slot].mm;
                k.mm_mut(mm).oom_skip = true;
                k.oom_scan_mm(mm);
            }
            2 => k.oom.current_killed.push(pid),
            _ => {}
        }
    }
}

/// One memcg OOM of `memcg` by `current` on the dense table and on the snapshot: the same result, log, records,
/// events, explanation tables and whole engine state after it. Returns the dense machine and its result.
fn dense_equals_snapshot(k: &Kernel, memcg: MemcgId, order: u32, current: Option<u32>) -> (Kernel, crate::oom_kill::OomResult) {
    let (mut a, mut b) = (k.clone(), k.clone());
    let oc = a.memcg_oom_control(memcg, order);
    let ra = a.out_of_memory_memcg(&oc, memcg, current);
    let rb = b.mem_cgroup_out_of_memory_snapshot(memcg, order, current);
    assert_eq!(ra, rb, "result of the OOM of {} by {current:?}", k.memcg.path(memcg));
    assert_eq!(a.log, b.log);
    assert_eq!(a.take_selection_explanations_json(), b.take_selection_explanations_json());
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    a.drain_events(&mut ea);
    b.drain_events(&mut eb);
    assert_eq!(ea, eb);
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "engine state after the OOM");
    a.check_oom_scan_index();
    (a, ra)
}

#[test]
fn dense_memcg_oom_equals_the_snapshot() {
    let mut outcomes = std::collections::BTreeMap::new();
    let (mut ties, mut outside_sharers, mut admin) = (0, 0, 0);
    for seed in 0..300u64 {
        let mut r = Rng::new(0x6d656d63 ^ seed);
        let (mut k, paths) = random_machine(&mut r);
        for _ in 0..4 {
            if k.panicked().is_some() {
                break;
            }
            random_flags(&mut k, &mut r);
            let memcg = k.memcg.lookup(pick::<String>(&mut r, &paths[1..])).unwrap();
            let live = pids(&k);
            let current = match r.below(6) {
                0 => None,
                1 => Some(99_999), // not a live task: the admin process
                _ if !live.is_empty() => Some(*pick(&mut r, &live)),
                _ => None,
            };
            admin += current.is_none_or(|p| k.task(p).is_none()) as u32;
            // coverage: a tie for the victim's points, an mm shared across the domain's boundary
            let inside: Vec<_> = k.tasks().filter(|t| k.memcg.is_descendant(t.memcg, memcg)).collect();
            let cand: Vec<_> = inside.iter().map(|t| k.oom_candidate(k.task_index(t.pid).unwrap())).collect();
            let tp = k.memcg_oom_control(memcg, 0).totalpages;
            let pts: Vec<i64> = cand.iter().map(|c| crate::oom_kill::oom_badness_of(c, tp)).filter(|&p| p != i64::MIN).collect();
            ties += pts.iter().any(|p| pts.iter().filter(|q| *q == p).count() > 1 && Some(p) == pts.iter().max()) as u32;
            outside_sharers += inside.iter().any(|t| k.tasks().any(|o| o.mm == t.mm && !k.memcg.is_descendant(o.memcg, memcg))) as u32;
            let (next, res) = dense_equals_snapshot(&k, memcg, r.below(2), current);
            *outcomes.entry(res.outcome.map(|o| o.name())).or_insert(0) += 1;
            k = next;
            // the victims exited; clear what is left so the next round scores again
            k.oom.current_killed.clear();
        }
    }
    // every branch of the memcg OOM was taken (no vacuous comparison)
    for o in [OomOutcome::Kill, OomOutcome::Abort, OomOutcome::NoVictim, OomOutcome::CurrentWillFreeMem, OomOutcome::Panic] {
        assert!(outcomes.get(&Some(o.name())).is_some_and(|&n| n > 5), "outcome {} too rare: {outcomes:?}", o.name());
    }
    assert!(ties > 20 && outside_sharers > 20 && admin > 50, "ties {ties}, outside sharers {outside_sharers}, admin {admin}");
}

/// The admin process (no modelled current) has an mm of its own: a victim on mm id 0 is not its mm sharer.
#[test]
fn admin_current_shares_no_mm() {
    let mut k = Kernel::new(MachineConfig { totalram_pages: 16384, ..Default::default() }).unwrap();
    k.cgroup_create("/g").unwrap().unwrap();
    k.spawn_task(SpawnArgs { pid: 5, cgroup: "/g".into(), ..SpawnArgs::default() }).unwrap();
    assert_eq!(k.task(5).unwrap().mm, 0, "the first mm has id 0, as the admin process's snapshot once had");
    let v = k.mmap(5, 100, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    k.touch(5, v, 100, Access::Write).unwrap();
    let g = k.memcg.lookup("/g").unwrap();
    let (_, r) = dense_equals_snapshot(&k, g, 0, None);
    assert_eq!(r.victim_pid, Some(5));
    assert_eq!(r.sigkill_sent_to, vec![5], "nobody else is on the victim's mm");
    let r = k.clone().mem_cgroup_out_of_memory_snapshot(g, 0, None);
    assert_eq!(r.sigkill_sent_to, vec![5]);
}
