//! Memcg on the engine end to end: charges of user pages, limit reclaim, the memcg OOM, the v1 OOM wait, the
//! cgroup interface.

use crate::filemap::FileKind;
use crate::kernel::{Kernel, MachineConfig, SpawnArgs};
use crate::memcontrol::{CgroupMode, Stat};
use crate::memory::Access;
use crate::mmap::{MapFlags, PROT_RW};

fn k(mode: CgroupMode, swap: u32) -> Kernel {
    let mut k = Kernel::new(MachineConfig { totalram_pages: 65536, total_swap_pages: swap, cgroup_mode: mode, ..Default::default() }).unwrap();
    k.cgroup_create("/A").unwrap().unwrap();
    k.cgroup_create("/A/B").unwrap().unwrap();
    k.spawn_task(SpawnArgs { pid: 10, cgroup: "/A/B".into(), ..Default::default() }).unwrap();
    k
}
fn anon(k: &mut Kernel, pid: u32, pages: u64) -> u64 {
    k.mmap(pid, pages, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap()
}
fn usage(k: &Kernel, p: &str) -> u64 {
    k.memcg_counter(p).unwrap().usage
}

/// memory.high (v2): going over it never OOM-kills; the task reclaims and, with nothing reclaimable (anon, no
/// swap), sleeps the kernel's penalty on return to user space, a memory stall that PSI sees.
#[test]
fn memory_high_throttles_with_a_stall_and_never_kills() {
    let mut k = k(CgroupMode::V2, 0);
    // high = 100 MiB = 25600 pages; the task then charges 120 MiB in one fault range
    k.cgroup_write("/A/B", "memory.high", "104857600").unwrap().unwrap();
    let v = anon(&mut k, 10, 30720);
    k.touch(10, v, 30720, Access::Write).unwrap();
    assert!(k.task(10).is_some(), "memory.high never kills");
    assert_eq!(usage(&k, "/A/B"), 30720, "nothing reclaimable: usage stays over high");
    let events = k.cgroup_read("/A/B", "memory.events").unwrap();
    let high: u64 = events.lines().find_map(|l| l.strip_prefix("high ")).unwrap().parse().unwrap();
    assert!(high > 0, "the high event is raised: {events}");
    assert!(events.contains("oom 0") && events.contains("oom_kill 0"), "{events}");
    // 20% over high: each throttling round (at most every 64 pages charged over high, MEMCG_CHARGE_BATCH) costs
    // the capped penalty of 2 s (calculate_high_delay: ((overage^2 * HZ) >> 34) * nr_pages / 64 ≈ 2560 jiffies,
    // clamped to 2 * HZ). 5120 pages over high: between one and 5120/64 + 1 such sleeps.
    let stalled = k.task_stall_ns(10);
    assert!(stalled >= 2_000_000_000, "stalled {stalled} ns");
    assert!(stalled <= 2_000_000_000 * (5120 / 64 + 1), "stalled {stalled} ns");
    let t = k.task(10).unwrap();
    assert_eq!(t.memcg_high_delay_jiffies, t.memcg_high_slept_jiffies, "every penalty was slept");
    assert!(k.psi_text().lines().next().unwrap().contains("total="), "PSI file");
    assert_ne!(k.psi_text(), "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
}

#[test]
fn anon_pages_charge_up_the_tree_and_exit_uncharges() {
    let mut k = k(CgroupMode::V2, 0);
    let v = anon(&mut k, 10, 100);
    k.touch(10, v, 30, Access::Read).unwrap();
    assert_eq!(usage(&k, "/A/B"), 0, "zero-page reads are not charged");
    k.touch(10, v, 40, Access::Write).unwrap();
    assert_eq!((usage(&k, "/A/B"), usage(&k, "/A")), (40, 40));
    let b = k.memcg.lookup("/A/B").unwrap();
    assert_eq!(k.memcg.stat_local(b, Stat::Anon), 40);
    assert_eq!(k.memcg.stat_local(b, Stat::Pgfault), 70);
    k.exit(10).unwrap();
    assert_eq!((usage(&k, "/A/B"), usage(&k, "/A")), (0, 0));
    assert_eq!(k.memcg.stat_local(b, Stat::Anon), 0);
}

#[test]
fn cow_pages_are_charged_once_and_copies_to_the_writer() {
    let mut k = k(CgroupMode::V2, 0);
    let v = anon(&mut k, 10, 50);
    k.touch(10, v, 50, Access::Write).unwrap();
    k.fork(10, 11).unwrap().unwrap();
    assert_eq!(usage(&k, "/A/B"), 50, "fork shares, charges nothing");
    k.move_task(11, "/A").unwrap().unwrap();
    k.touch(11, v, 5, Access::Write).unwrap();
    assert_eq!((usage(&k, "/A/B"), usage(&k, "/A")), (50, 55), "5 copies charged to /A, the writer's memcg");
    k.exit(10).unwrap();
    assert_eq!(usage(&k, "/A/B"), 45, "the 5 pages only 10 mapped are uncharged; the 45 shared stay (11 maps them)");
}

#[test]
fn page_cache_stays_charged_to_the_first_reader() {
    let mut k = k(CgroupMode::V1, 0);
    let f = k.file_create("f", FileKind::Disk, 20, false).unwrap().unwrap();
    k.file_read(10, f, 0, 20).unwrap().unwrap();
    k.spawn(11, "root").unwrap();
    k.file_read(11, f, 0, 20).unwrap().unwrap();
    assert_eq!(usage(&k, "/A/B"), 20);
    k.exit(10).unwrap();
    assert_eq!(usage(&k, "/A/B"), 20, "cache outlives the reader");
    assert_eq!(k.cgroup_read("/A/B", "memory.stat").unwrap().lines().next(), Some("cache 81920"));
}

#[test]
fn limit_reclaims_page_cache_then_swaps_anon() {
    let mut k = k(CgroupMode::V2, 1024);
    k.cgroup_write("/A", "memory.max", "409600").unwrap().unwrap();
    let f = k.file_create("f", FileKind::Disk, 40, false).unwrap().unwrap();
    k.file_read(10, f, 0, 40).unwrap().unwrap();
    let v = anon(&mut k, 10, 200);
    k.touch(10, v, 150, Access::Write).unwrap();
    assert_eq!(k.task(10).unwrap().state, crate::task::TaskState::Running);
    let a = k.memcg.lookup("/A").unwrap();
    let mm = k.task_mm(10).unwrap();
    let (rss, swapents) = (mm.counter(crate::mm_types::MmCounter::MM_ANONPAGES), mm.counter(crate::mm_types::MmCounter::MM_SWAPENTS));
    assert_eq!(rss + swapents, 150);
    assert_eq!(k.memcg.stat_recursive(a, Stat::File), 0, "the page cache went first");
    assert_eq!(usage(&k, "/A"), rss, "memory holds the resident anon pages only");
    assert!(rss <= 100 && rss > 100 - 32, "reclaim frees 32-page batches: {rss}");
    assert_eq!(k.memcg.swap(a).unwrap().usage, swapents, "every swapped page is charged to swap");
    assert_eq!(k.oom_records().len(), 0);
    // swap.max 0 stops swapping: the next overflow is an OOM
    k.cgroup_write("/A", "memory.swap.max", "0").unwrap().unwrap();
    let o = k.touch(10, v + 150, 50, Access::Write).unwrap();
    assert!(matches!(o.stop, Some(crate::memory::TouchStop::Killed { .. })), "rss {rss}: {o:?}");
    assert_eq!(k.memcg.swap(a).unwrap().usage, 0, "the victim's swap entries are uncharged");
}

#[test]
fn blocked_task_refuses_new_ops_and_oom_control_zero_kills() {
    let mut k = k(CgroupMode::V1, 0);
    k.cgroup_write("/A", "memory.limit_in_bytes", "40960").unwrap().unwrap();
    // memcg1_oom_prepare looks at the memcg whose limit failed (/A), not the charging one
    k.cgroup_write("/A", "memory.oom_control", "1").unwrap().unwrap();
    let v = anon(&mut k, 10, 20);
    let o = k.touch(10, v, 20, Access::Write).unwrap();
    assert_eq!(o.stop, Some(crate::memory::TouchStop::Blocked { vpn: v + 10 }));
    assert_eq!(k.touch(10, v, 1, Access::Read).unwrap_err().code, "E_BLOCKED");
    // under_oom is raised on /A's whole subtree
    assert!(k.cgroup_read("/A/B", "memory.oom_control").unwrap().contains("under_oom 1"));
    k.cgroup_write("/A", "memory.oom_control", "0").unwrap().unwrap();
    assert!(k.task(10).is_none(), "woken, the retried fault OOM-kills the task");
    assert_eq!(usage(&k, "/A"), 0);
}

/// v1 soft limit under global pressure: the group furthest above its soft limit loses its page cache first;
/// the other keeps its cache although global reclaim would otherwise walk it first (it was created first).
#[test]
fn soft_limit_reclaim_takes_the_largest_excess_first() {
    let mut k = Kernel::new(MachineConfig { totalram_pages: 16384, cgroup_mode: CgroupMode::V1, ..Default::default() }).unwrap();
    for (cg, pid) in [("/A", 10), ("/B", 20)] {
        k.cgroup_create(cg).unwrap().unwrap();
        k.spawn_task(SpawnArgs { pid, cgroup: cg.into(), ..Default::default() }).unwrap();
    }
    k.spawn(30, "app").unwrap();
    k.cgroup_write("/B", "memory.soft_limit_in_bytes", "4M").unwrap().unwrap();
    let fa = k.file_create("fa", FileKind::Disk, 6000, false).unwrap().unwrap();
    let fb = k.file_create("fb", FileKind::Disk, 6000, false).unwrap().unwrap();
    k.file_read(10, fa, 0, 6000).unwrap().unwrap();
    k.file_read(20, fb, 0, 6000).unwrap().unwrap();
    let b = k.memcg.lookup("/B").unwrap();
    assert_eq!(k.memcg.soft_limit_tree_order(), vec![b], "B was filed at a page event past its soft limit");
    // the root app takes memory until the machine is under pressure
    let v = k.mmap(30, 6000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    k.touch(30, v, 6000, Access::Write).unwrap();
    let (a_left, b_left) = (usage(&k, "/A"), usage(&k, "/B"));
    let reclaimed = 12000 - a_left - b_left;
    assert!(reclaimed > 1000, "the pressure reclaimed {reclaimed} pages");
    assert!(b_left + 1000 < a_left, "B (above its soft limit) gave up more: A {a_left} pages left, B {b_left}");
    assert!(b_left >= 1024, "soft limit reclaim pushes B towards 1024 pages, it does not empty it ({b_left})");
    let stat = k.cgroup_read("/B", "memory.stat").unwrap();
    assert!(!stat.is_empty());
    assert!(k.oom_records().is_empty());
}
