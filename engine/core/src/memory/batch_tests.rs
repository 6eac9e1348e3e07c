//! The batched first-touch and COW paths, and `touch_pattern`'s gathered blocks, against the single-page path: random sequences run twice, batched and not,
//! must leave the whole engine state (its Debug form: frames, LRU rings, counters, memcg tree, PTEs, tasks, OOM
//! scan index) identical after every operation, and return the same results.

use crate::filemap::FileKind;
use crate::kernel::{Kernel, MachineConfig, SpawnArgs};
use crate::memory::Access;
use crate::mmap::{MapFlags, PROT_READ, PROT_RW};
use std::cell::Cell;

thread_local! {
    /// Set: every fault takes the single-page path.
    /// Set: every fault takes the single-page path, and `touch_pattern` reads one PTE at a time.
    pub(in crate::memory) static SINGLE_PAGE: Cell<bool> = const { Cell::new(false) };
    /// Set: `touch` never takes its present-page fast path (`touch_present`).
    pub(in crate::memory) static NO_PRESENT_FAST: Cell<bool> = const { Cell::new(false) };
    /// Accesses `touch_pattern` did in gathered blocks.
    pub(in crate::memory) static GATHERED: Cell<u64> = const { Cell::new(0) };
    /// Pages the batched path resolved (to check that the sequences exercise it).
    pub(super) static BATCHED: Cell<u64> = const { Cell::new(0) };
    /// Pages the batched COW path copied.
    pub(super) static BATCHED_COW: Cell<u64> = const { Cell::new(0) };
}

/// One random sequence on a small machine with memcgs near their limits, page cache to reclaim, fork (COW),
/// munmap and partial touches; `single`: without the batched path. Returns the state after each operation.
fn run(seed: u64, single: bool) -> Vec<String> {
    SINGLE_PAGE.with(|c| c.set(single));
    let mut rng = crate::rand::Rng::new(seed);
    let frames = 2048 + rng.below(2048);
    let swap = if rng.below(2) == 0 { 0 } else { 512 };
    let mut k = Kernel::new(MachineConfig { totalram_pages: frames, seed, total_swap_pages: swap, ..Default::default() }).unwrap();
    let mut out = Vec::new();
    for (i, path) in ["/a", "/a/b", "/c"].iter().enumerate() {
        k.cgroup_create(path).unwrap().unwrap();
        let max = 200 + rng.below(1500) as u64;
        k.cgroup_write(path, "memory.max", &(max * 4096).to_string()).unwrap().unwrap();
        if rng.below(2) == 0 {
            let high = max - rng.below(150) as u64;
            k.cgroup_write(path, "memory.high", &(high * 4096).to_string()).unwrap().unwrap();
        }
        k.spawn_task(SpawnArgs { pid: 10 + i as u32, comm: "m".into(), cgroup: (*path).into(), ..Default::default() }).unwrap();
    }
    k.spawn(1, "root").unwrap();
    let file = k.file_create("f", FileKind::Disk, frames as u64, false).unwrap().unwrap();
    let mut next = 100;
    for _ in 0..60 {
        let pids: Vec<u32> = k.tasks.iter().map(|t| t.pid).collect();
        let Some(&pid) = pids.get(rng.below(pids.len().max(1) as u32) as usize) else { break };
        let vmas: Vec<(u64, u64)> = k.task_mm(pid).unwrap().vmas.iter().map(|v| (v.start, v.end)).collect();
        let r = match rng.below(10) {
            0..=1 => {
                let prot = if rng.below(6) == 0 { PROT_READ } else { PROT_RW };
                let pages = 1 + rng.below(1500) as u64;
                format!("{:?}", k.mmap(pid, pages, prot, MapFlags { anonymous: true, ..Default::default() }, None).unwrap())
            }
            2..=6 if !vmas.is_empty() => {
                let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
                let a = s + rng.below((e - s) as u32) as u64;
                let n = 1 + rng.below((e - a) as u32 + 8) as u64; // may run past the VMA: SIGSEGV there
                let acc = if rng.below(5) == 0 { Access::Read } else { Access::Write };
                format!("{:?}", k.touch(pid, a, n, acc))
            }
            7 => {
                let child = next;
                next += 1;
                format!("{:?}", k.fork(pid, child).unwrap())
            }
            8 if !vmas.is_empty() => {
                let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
                let a = s + rng.below((e - s) as u32) as u64;
                format!("{:?}", k.munmap(pid, a, 1 + rng.below((e - a) as u32) as u64).unwrap())
            }
            _ => {
                let first = rng.below(frames / 2) as u64;
                format!("{:?}", k.file_read(pid, file, first, 1 + rng.below(frames / 2) as u64).unwrap())
            }
        };
        out.push(format!("{r}\n{k:?}"));
    }
    SINGLE_PAGE.with(|c| c.set(false));
    out
}

#[test]
fn batched_first_touch_equals_single_page_faults() {
    let before = BATCHED.with(|c| c.get());
    for seed in 0..60 {
        let (a, b) = (run(seed, false), run(seed, true));
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(x == y, "seed {seed}, operation {i}: the batched path left a different state");
        }
    }
    let batched = BATCHED.with(|c| c.get()) - before;
    assert!(batched > 10_000, "the sequences take the batched path ({batched} pages)");
}

/// COW-heavy sequences: a parent's written pages shared with up to three children (mapcount 2–4), written by
/// any of them in random ranges (copies, and reuse once a page is mapped once again), children exiting,
/// memcgs near their limits and RAM near the min watermark; batched and single-page states compared after
/// every operation.
fn run_cow(seed: u64, single: bool) -> Vec<String> {
    SINGLE_PAGE.with(|c| c.set(single));
    let mut rng = crate::rand::Rng::new(seed);
    let frames = 3072 + rng.below(2048);
    let mut k = Kernel::new(MachineConfig { totalram_pages: frames, seed, ..Default::default() }).unwrap();
    let cg = ["/", "/a", "/a/b"][rng.below(3) as usize];
    if cg != "/" {
        k.cgroup_create("/a").unwrap().unwrap();
        k.cgroup_create("/a/b").unwrap().unwrap();
        let max = 1200 + rng.below(2000) as u64;
        k.cgroup_write(cg, "memory.max", &(max * 4096).to_string()).unwrap().unwrap();
        if rng.below(2) == 0 {
            k.cgroup_write(cg, "memory.high", &((max - rng.below(200) as u64) * 4096).to_string()).unwrap().unwrap();
        }
    }
    k.spawn_task(SpawnArgs { pid: 2, comm: "p".into(), cgroup: cg.into(), ..Default::default() }).unwrap();
    let pages = 600 + rng.below(1200) as u64;
    let v = k.mmap(2, pages, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let mut out = vec![format!("{:?}", k.touch(2, v, pages, Access::Write))];
    let mut next = 100;
    for _ in 0..40 {
        let pids: Vec<u32> = k.tasks.iter().map(|t| t.pid).filter(|p| *p != 1).collect();
        let Some(&pid) = pids.get(rng.below(pids.len().max(1) as u32) as usize) else { break };
        let r = match rng.below(8) {
            0 | 1 if pids.len() < 5 => {
                next += 1;
                format!("{:?}", k.fork(pid, next).unwrap())
            }
            2 if pid != 2 => format!("{:?}", k.exit(pid)),
            3 => format!("{:?}", k.touch(pid, v + rng.below(pages as u32) as u64, 1 + rng.below(600) as u64, Access::Read)),
            _ => {
                let a = v + rng.below(pages as u32) as u64;
                format!("{:?}", k.touch(pid, a, 1 + rng.below((v + pages - a) as u32 + 4) as u64, Access::Write))
            }
        };
        out.push(format!("{r}\n{k:?}"));
    }
    SINGLE_PAGE.with(|c| c.set(false));
    out
}

#[test]
fn batched_cow_equals_single_page_faults() {
    let before = BATCHED_COW.with(|c| c.get());
    for seed in 0..40 {
        let (a, b) = (run_cow(seed, false), run_cow(seed, true));
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(x == y, "seed {seed}, operation {i}: the batched COW path left a different state");
        }
    }
    let batched = BATCHED_COW.with(|c| c.get()) - before;
    assert!(batched > 10_000, "the sequences take the batched COW path ({batched} pages)");
}

#[test]
fn batched_path_stops_at_the_min_watermark_and_the_memcg_limit() {
    for cg in [false, true] {
        let mut ks = [false, true].map(|single| {
            SINGLE_PAGE.with(|c| c.set(single));
            let mut k = Kernel::new(MachineConfig { totalram_pages: 4096, seed: 1, ..Default::default() }).unwrap();
            if cg {
                k.cgroup_create("/l").unwrap().unwrap();
                k.cgroup_write("/l", "memory.max", &(1000 * 4096).to_string()).unwrap().unwrap();
                k.cgroup_write("/l", "memory.high", &(900 * 4096).to_string()).unwrap().unwrap();
            }
            k.spawn_task(SpawnArgs { pid: 1, comm: "t".into(), cgroup: if cg { "/l".into() } else { "/".into() }, ..Default::default() }).unwrap();
            let v = k.mmap(1, 4000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
            let o = k.touch(1, v, 4000, Access::Write);
            SINGLE_PAGE.with(|c| c.set(false));
            (format!("{o:?}"), k)
        });
        let [(oa, ka), (ob, kb)] = &mut ks;
        assert_eq!(oa, ob);
        assert_eq!(format!("{ka:?}"), format!("{kb:?}"), "cgroup {cg}");
        // the run ended where the single-page path needs its slow path: OOM (root) or memcg reclaim/OOM
        assert!(ka.vmstat.get(crate::vmstat::Vmstat::pgfault) > 800);
    }
}

/// `touch_pattern` with gathered blocks against one access at a time: ranges partly untouched, shared after a
/// fork (COW on write), partly swapped out under a memcg limit, all three patterns, reads and writes, counts
/// that are and are not multiples of the block.
fn run_pattern(seed: u64, single: bool) -> Vec<String> {
    use crate::memory::Pattern;
    SINGLE_PAGE.with(|c| c.set(single));
    let mut rng = crate::rand::Rng::new(seed);
    let frames = 4096 + rng.below(2048);
    let mut k = Kernel::new(MachineConfig { totalram_pages: frames, seed, total_swap_pages: 2048, ..Default::default() }).unwrap();
    k.cgroup_create("/l").unwrap().unwrap();
    let max = 800 + rng.below(1500) as u64;
    k.cgroup_write("/l", "memory.max", &(max * 4096).to_string()).unwrap().unwrap();
    k.spawn_task(SpawnArgs { pid: 2, comm: "p".into(), cgroup: "/l".into(), ..Default::default() }).unwrap();
    let pages = 500 + rng.below(1500) as u64;
    let v = k.mmap(2, pages, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let mut out = Vec::new();
    let mut next = 100;
    for _ in 0..30 {
        let pids: Vec<u32> = k.tasks.iter().map(|t| t.pid).filter(|p| *p != 1).collect();
        let Some(&pid) = pids.get(rng.below(pids.len().max(1) as u32) as usize) else { break };
        let r = match rng.below(8) {
            0 if pids.len() < 3 => {
                next += 1;
                format!("{:?}", k.fork(pid, next).unwrap())
            }
            1 => {
                let a = rng.below(pages as u32) as u64;
                format!("{:?}", k.touch(pid, v + a, 1 + rng.below((pages - a) as u32) as u64, Access::Write))
            }
            _ => {
                let pattern = match rng.below(3) {
                    0 => Pattern::Uniform,
                    1 => Pattern::Zipf,
                    _ => Pattern::Strided { stride: 1 + rng.below(97) as u64 },
                };
                let (a, n) = if rng.below(4) == 0 { (rng.below(pages as u32 / 2) as u64, 1 + rng.below(pages as u32 / 2) as u64) } else { (0, pages) };
                let acc = if rng.below(3) == 0 { Access::Read } else { Access::Write };
                let count = 1 + rng.below(3000) as u64;
                format!("{:?}", k.touch_pattern(pid, v + a, n, pattern, count, acc))
            }
        };
        out.push(format!("{r}\n{k:?}"));
    }
    SINGLE_PAGE.with(|c| c.set(false));
    out
}

#[test]
fn gathered_touch_pattern_equals_one_access_at_a_time() {
    let before = GATHERED.with(|c| c.get());
    for seed in 0..40 {
        let (a, b) = (run_pattern(seed, false), run_pattern(seed, true));
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(x == y, "seed {seed}, operation {i}: the gathered blocks left a different state");
        }
    }
    let gathered = GATHERED.with(|c| c.get()) - before;
    assert!(gathered > 100_000, "the sequences take the gathered blocks ({gathered} accesses)");
}

thread_local! {
    /// `touch` calls the present-page fast path completed.
    pub(in crate::memory) static PRESENT_FAST: Cell<u64> = const { Cell::new(0) };
}

/// `touch`'s present-page fast path against the full entry: mostly short re-touches of resident pages (a trace's
/// hits), mixed with faults, swap-out, reclaim under memcg max and high (memory.high work pending at the end of an
/// entry), the timed cost model (kswapd timers), cgroup v1 and v2, fork (COW), read-only mappings (SIGSEGV),
/// mprotect, munmap and OOM kills. Run with and without the fast path, the result of every operation and the whole
/// engine state after it must be identical.
fn run_present(seed: u64, no_fast: bool) -> Vec<String> {
    NO_PRESENT_FAST.with(|c| c.set(no_fast));
    let mut rng = crate::rand::Rng::new(seed);
    let frames = 1024 + rng.below(2048);
    let swap = [0, 256, 2048][rng.below(3) as usize];
    let cost = crate::vmscan::CostModel { timed: rng.below(2) == 0, ..Default::default() };
    let cgroup_mode = if rng.below(3) == 0 { crate::memcontrol::CgroupMode::V1 } else { crate::memcontrol::CgroupMode::V2 };
    let mut k = Kernel::new(MachineConfig { totalram_pages: frames, seed, total_swap_pages: swap, cost, cgroup_mode, ..Default::default() }).unwrap();
    k.sysctl_write("vm.overcommit_memory", 1).unwrap().unwrap();
    let v1 = cgroup_mode == crate::memcontrol::CgroupMode::V1;
    k.cgroup_create("/a").unwrap().unwrap();
    let max = 300 + rng.below(1200) as u64;
    let (max_file, high_file) = if v1 { ("memory.limit_in_bytes", "memory.soft_limit_in_bytes") } else { ("memory.max", "memory.high") };
    k.cgroup_write("/a", max_file, &(max * 4096).to_string()).unwrap().unwrap();
    if rng.below(2) == 0 {
        k.cgroup_write("/a", high_file, &((max - rng.below(200) as u64) * 4096).to_string()).unwrap().unwrap();
    }
    k.spawn_task(SpawnArgs { pid: 2, comm: "a".into(), cgroup: "/a".into(), ..Default::default() }).unwrap();
    k.spawn(3, "root").unwrap();
    let mut out = Vec::new();
    let mut next = 100;
    let mut recent: Vec<(u32, u64)> = Vec::new();
    for _ in 0..400 {
        let pids: Vec<u32> = k.tasks.iter().map(|t| t.pid).filter(|&p| p != 1).collect();
        let Some(&pid) = pids.get(rng.below(pids.len().max(1) as u32) as usize) else {
            // every task was killed: a new one in /a
            next += 1;
            let r = k.spawn_task(SpawnArgs { pid: next, comm: "a".into(), cgroup: "/a".into(), ..Default::default() });
            out.push(format!("{r:?}\n{k:?}"));
            continue;
        };
        let vmas: Vec<(u64, u64)> = k.task_mm(pid).unwrap().vmas.iter().map(|v| (v.start, v.end)).collect();
        let r = match rng.below(40) {
            0..=1 => {
                let prot = if rng.below(5) == 0 { PROT_READ } else { PROT_RW };
                let pages = 1 + rng.below(900) as u64;
                format!("{:?}", k.mmap(pid, pages, prot, MapFlags { anonymous: true, ..Default::default() }, None).unwrap())
            }
            2 if pids.len() < 4 => {
                next += 1;
                format!("{:?}", k.fork(pid, next).unwrap())
            }
            3 if !vmas.is_empty() => {
                let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
                let a = s + rng.below((e - s) as u32) as u64;
                format!("{:?}", k.munmap(pid, a, 1 + rng.below((e - a) as u32) as u64).unwrap())
            }
            4 if !vmas.is_empty() => {
                let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
                let prot = if rng.below(2) == 0 { PROT_READ } else { PROT_RW };
                format!("{:?}", k.mprotect(pid, s, e - s, prot).unwrap())
            }
            5 if !vmas.is_empty() && swap > 0 => {
                let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
                let a = s + rng.below((e - s) as u32) as u64;
                format!("{:?}", k.swapout(pid, a, 1 + rng.below(64) as u64, rng.below(2) == 0))
            }
            6..=9 if !vmas.is_empty() => {
                // a large write: faults, reclaim, memory.high overage, maybe the OOM killer
                let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
                let a = s + rng.below((e - s) as u32) as u64;
                format!("{:?}", k.touch(pid, a, 1 + rng.below((e - a) as u32) as u64, Access::Write))
            }
            _ if !vmas.is_empty() => {
                // short touches, mostly of resident pages; some cross a PTE table or the VMA's end
                let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
                let mut a = s + rng.below((e - s) as u32) as u64;
                if let Some(&(p, b)) = recent.get(rng.below(recent.len() as u32 + 1) as usize) {
                    if p == pid {
                        a = b; // a page touched before: likely still resident
                    }
                }
                if recent.len() < 64 {
                    recent.push((pid, a));
                } else {
                    recent[rng.below(64) as usize] = (pid, a);
                }
                let n = if rng.below(8) == 0 { rng.below(600) as u64 } else { 1 + rng.below(3) as u64 };
                let acc = if rng.below(3) == 0 { Access::Write } else { Access::Read };
                format!("{:?}", k.touch(pid, a, n, acc))
            }
            39 => format!("{:?}", k.touch(pid, 0, 1, Access::Read)), // no VMA there: SIGSEGV kills the task
            _ => format!("{:?}", k.mmap(pid, 1 + rng.below(900) as u64, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap()),
        };
        out.push(format!("{r}\n{k:?}"));
    }
    NO_PRESENT_FAST.with(|c| c.set(false));
    out
}

#[test]
fn present_page_fast_touch_equals_the_full_entry() {
    let before = PRESENT_FAST.with(|c| c.get());
    for seed in 0..40 {
        let (a, b) = (run_present(seed, false), run_present(seed, true));
        assert_eq!(a.len(), b.len(), "seed {seed}");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(x == y, "seed {seed}, operation {i}: the fast path left a different state:\n{}", first_difference(x, y));
        }
    }
    let fast = PRESENT_FAST.with(|c| c.get()) - before;
    assert!(fast > 2_000, "the sequences take the fast path ({fast} touches)");
}

fn first_difference(x: &str, y: &str) -> String {
    let at = x.bytes().zip(y.bytes()).position(|(a, b)| a != b).unwrap_or(x.len().min(y.len()));
    let lo = at.saturating_sub(200);
    format!("fast: …{}…\nfull: …{}…", &x[lo..(at + 200).min(x.len())], &y[lo..(at + 200).min(y.len())])
}
