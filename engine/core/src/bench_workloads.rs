//! Benchmark workloads, defined once here and mirrored call for call by bench/workloads.ts for the wasm engine, so
//! the native bench binary, the wasm engine and the TS reference run the same work. Each workload has an untimed
//! `setup` and a timed `run`; `digest` (FNV-1a over /proc/vmstat and /proc/meminfo) must be identical across
//! implementations before any time is reported.

use crate::kernel::{Kernel, MachineConfig};
use crate::memory::{Access, Pattern};
use crate::mmap::{MapFlags, PROT_RW};

pub const WORKLOADS: &[&str] = &["first_touch", "resident_seq", "resident_uniform", "resident_zipf", "cow_storm", "oom_storm", "cgroup_charge", "reclaim_steady", "memcg_oom"];

/// oom_storm: 100,000 small tasks and `OOM_BIG` big ones; a hog with oom_score_adj -1000 then needs the memory of
/// exactly `OOM_BIG` big tasks, so the timed part is `OOM_BIG` global OOM events, each scoring every task.
pub const OOM_SMALL_TASKS: u32 = 100_000;
pub const OOM_BIG: u32 = 10;
const OOM_SMALL_PAGES: u64 = 2;
const OOM_BIG_PAGES: u64 = 20_000;
const OOM_HOG: u32 = 1;
const OOM_SLACK: u64 = 1000;

/// memcg_oom: 100,000 tasks in the memcg `/m` (the hog with oom_score_adj -1000, `OOM_BIG` big tasks, the rest
/// small); the memcg's limit then lets the hog charge only by `OOM_BIG` memcg OOM events, each scoring every task of
/// the memcg. The big tasks are small enough (`MEMCG_BIG_PAGES`) that the faults between the events cost little.
pub const MEMCG_TASKS: u32 = 100_000;
const MEMCG_BIG_PAGES: u64 = 1000;
const MEMCG_HOG: u32 = 2;

/// Operations the timed part performs (page touches or faults), for ops/s.
pub fn ops(workload: &str, frames: u32) -> u64 {
    let f = frames as u64;
    match workload {
        "first_touch" | "cgroup_charge" | "reclaim_steady" => f / 2,
        "resident_seq" | "resident_uniform" | "resident_zipf" => 8 * (f / 2),
        "cow_storm" => 2 * (f / 4),
        "oom_storm" | "memcg_oom" => OOM_BIG as u64,
        _ => 0,
    }
}

pub struct Prepared {
    pub k: Kernel,
    vpn: u64,
    /// oom_storm, memcg_oom: pages the timed part still touches from `vpn`.
    timed_pages: u64,
}

fn mmap_anon(k: &mut Kernel, pid: u32, pages: u64) -> u64 {
    let flags = MapFlags { anonymous: true, ..Default::default() };
    k.mmap(pid, pages, PROT_RW, flags, None).expect("valid mmap").expect("mmap admitted")
}

/// The untimed part: a machine of `frames` frames, seed 42, with what the timed part needs.
pub fn setup(workload: &str, frames: u32) -> Prepared {
    let mut k = Kernel::new(MachineConfig { totalram_pages: frames, seed: 42, ..MachineConfig::default() }).expect("machine");
    if workload == "cgroup_charge" {
        // a 3-level v2 tree /a/b/c, each limited above what the workload charges (memory.max = RAM)
        let limit = (frames as u64 * crate::PAGE_SIZE).to_string();
        for path in ["/a", "/a/b", "/a/b/c"] {
            k.cgroup_create(path).expect("valid").expect("mkdir");
            k.cgroup_write(path, "memory.max", &limit).expect("valid").expect("memory.max");
        }
        k.spawn_task(crate::kernel::SpawnArgs { pid: 1, comm: "bench".into(), cgroup: "/a/b/c".into(), ..Default::default() }).expect("spawn");
    } else {
        k.spawn(1, "bench").expect("spawn");
    }
    let f = frames as u64;
    let vpn = match workload {
        "first_touch" | "cgroup_charge" => mmap_anon(&mut k, 1, f / 2),
        "reclaim_steady" => {
            // page cache fills RAM first (a disk file of RAM's size, 7/8 of it read), so every anon fault of the
            // timed part needs direct reclaim of cache: faults under steady reclaim
            let file = k.file_create("cache", crate::filemap::FileKind::Disk, f, false).expect("valid").expect("file");
            k.file_read(1, file, 0, f - f / 8).expect("valid").expect("read");
            mmap_anon(&mut k, 1, f / 2)
        }
        "resident_seq" | "resident_uniform" | "resident_zipf" => {
            let v = mmap_anon(&mut k, 1, f / 2);
            k.touch(1, v, f / 2, Access::Write).expect("touch");
            v
        }
        "cow_storm" => {
            let v = mmap_anon(&mut k, 1, f / 4);
            k.touch(1, v, f / 4, Access::Write).expect("touch");
            v
        }
        "oom_storm" => {
            // pid 1 (the hog) is global init here, which the OOM killer never picks; give it adj -1000 anyway.
            k.set_oom_score_adj(OOM_HOG, -1000).expect("adj").expect("adj accepted");
            // Time the scoring, not 100,000 formatted rows of the Tasks state dump (measured separately).
            k.sysctl_write("vm.oom_dump_tasks", 0).expect("sysctl").expect("sysctl accepted");
            for i in 0..OOM_SMALL_TASKS + OOM_BIG {
                let pid = 2 + i;
                let pages = if i % (OOM_SMALL_TASKS / OOM_BIG + 1) == 0 { OOM_BIG_PAGES } else { OOM_SMALL_PAGES };
                k.spawn(pid, "t").expect("spawn");
                let v = mmap_anon(&mut k, pid, pages);
                k.touch(pid, v, pages, Access::Write).expect("touch");
            }
            // The hog needs every free page above the min watermark plus all but a sliver of the big tasks' memory.
            // Setup touches all but OOM_SLACK of the free pages (no OOM yet), so the timed part is the OOM events
            // and the faults that lead to them (OOM_SLACK + the big tasks' memory), not filling all of RAM.
            let need = k.nr_free_pages() - k.wmark.min + (OOM_BIG as u64 - 1) * OOM_BIG_PAGES + 100;
            let pre = k.nr_free_pages() - k.wmark.min - OOM_SLACK;
            let v = mmap_anon(&mut k, OOM_HOG, need);
            k.touch(OOM_HOG, v, pre, Access::Write).expect("touch");
            return Prepared { k, vpn: v + pre, timed_pages: need - pre };
        }
        "memcg_oom" => {
            // pid 1 (init) stays in the root; every other task is in /m, the hog (pid 2, adj -1000) first
            k.sysctl_write("vm.oom_dump_tasks", 0).expect("sysctl").expect("sysctl accepted");
            k.cgroup_create("/m").expect("valid").expect("mkdir");
            let every = MEMCG_TASKS / OOM_BIG;
            for i in 0..MEMCG_TASKS {
                let pid = MEMCG_HOG + i;
                let adj = if pid == MEMCG_HOG { -1000 } else { 0 };
                k.spawn_task(crate::kernel::SpawnArgs { pid, comm: "t".into(), cgroup: "/m".into(), oom_score_adj: adj, ..Default::default() }).expect("spawn");
                if pid != MEMCG_HOG {
                    let pages = if i % every == 1 { MEMCG_BIG_PAGES } else { OOM_SMALL_PAGES };
                    let v = mmap_anon(&mut k, pid, pages);
                    k.touch(pid, v, pages, Access::Write).expect("touch");
                }
            }
            // memory.max leaves OOM_SLACK pages; the hog needs those and all but a sliver of the big tasks' memory
            let need = OOM_SLACK + (OOM_BIG as u64 - 1) * MEMCG_BIG_PAGES + MEMCG_BIG_PAGES / 2;
            let v = mmap_anon(&mut k, MEMCG_HOG, need);
            let max = (k.memcg_counter("/m").expect("/m").usage + OOM_SLACK) * crate::PAGE_SIZE;
            k.cgroup_write("/m", "memory.max", &max.to_string()).expect("valid").expect("memory.max");
            return Prepared { k, vpn: v, timed_pages: need };
        }
        w => panic!("unknown workload {w}; expected one of {WORKLOADS:?}"),
    };
    Prepared { k, vpn, timed_pages: 0 }
}

/// The timed part.
pub fn run(workload: &str, p: &mut Prepared) {
    let f = p.k.totalram_pages();
    let (k, vpn, timed_pages) = (&mut p.k, p.vpn, p.timed_pages);
    match workload {
        "first_touch" | "cgroup_charge" | "reclaim_steady" => {
            k.touch(1, vpn, f / 2, Access::Write).expect("touch");
        }
        "resident_seq" => {
            for _ in 0..8 {
                k.touch(1, vpn, f / 2, Access::Write).expect("touch");
            }
        }
        "resident_uniform" => {
            k.touch_pattern(1, vpn, f / 2, Pattern::Uniform, 8 * (f / 2), Access::Write).expect("touch");
        }
        "resident_zipf" => {
            k.touch_pattern(1, vpn, f / 2, Pattern::Zipf, 8 * (f / 2), Access::Write).expect("touch");
        }
        "cow_storm" => {
            for child in [2, 3] {
                k.fork(1, child).expect("fork").expect("fork admitted");
                k.touch(child, vpn, f / 4, Access::Write).expect("touch");
            }
        }
        "oom_storm" => {
            k.touch(OOM_HOG, vpn, timed_pages, Access::Write).expect("touch");
        }
        "memcg_oom" => {
            k.touch(MEMCG_HOG, vpn, timed_pages, Access::Write).expect("touch");
        }
        w => panic!("unknown workload {w}"),
    }
}

/// FNV-1a (64-bit) over the vmstat counters and the meminfo kB values, little-endian u64 each.
pub fn digest(k: &Kernel) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |v: u64| {
        for b in v.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for v in k.vmstat.v.iter() {
        eat(*v);
    }
    for (_, v) in k.meminfo_kb() {
        eat(v);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_storm_kills_the_big_tasks() {
        let mut p = setup("oom_storm", 1 << 20);
        run("oom_storm", &mut p);
        assert_eq!(p.k.vmstat.get(crate::vmstat::Vmstat::oom_kill), OOM_BIG as u64);
        assert!(p.k.task(OOM_HOG).is_some(), "the hog (adj -1000) survives");
    }

    #[test]
    fn memcg_oom_kills_the_big_tasks_of_the_memcg() {
        let mut p = setup("memcg_oom", 1 << 20);
        assert_eq!(p.k.tasks().filter(|t| &*t.cgroup == "/m").count(), MEMCG_TASKS as usize);
        run("memcg_oom", &mut p);
        assert_eq!(p.k.vmstat.get(crate::vmstat::Vmstat::oom_kill), OOM_BIG as u64);
        let records = p.k.oom_records();
        assert_eq!(records.len(), OOM_BIG as usize);
        assert!(records.iter().all(|r| r.constraint == crate::oom_kill::OomConstraint::Memcg && r.memcg.as_deref() == Some("/m")));
        let every = MEMCG_TASKS / OOM_BIG;
        // equal big tasks: the later one in the memcg's task list wins each time
        let want: Vec<i64> = (0..OOM_BIG).rev().map(|b| (MEMCG_HOG + 1 + b * every) as i64).collect();
        assert_eq!(records.iter().map(|r| r.victim.unwrap()).collect::<Vec<_>>(), want);
        assert!(p.k.task(MEMCG_HOG).is_some(), "the hog (adj -1000) survives");
    }

    #[test]
    fn workloads_do_what_they_say() {
        for w in WORKLOADS {
            if *w == "oom_storm" || *w == "memcg_oom" {
                continue; // need 100,000 tasks: covered by the two tests above
            }
            let mut p = setup(w, 4096);
            let before = p.k.vmstat.get(crate::vmstat::Vmstat::pgfault);
            run(w, &mut p);
            let faults = p.k.vmstat.get(crate::vmstat::Vmstat::pgfault) - before;
            match *w {
                "first_touch" | "cgroup_charge" => assert_eq!(faults, 2048),
                "reclaim_steady" => {
                    assert_eq!(faults, 2048);
                    assert!(p.k.vmstat.get(crate::vmstat::Vmstat::pgsteal_direct) > 1000, "the faults ran on reclaimed cache");
                }
                "cow_storm" => assert_eq!(faults, 2 * 1024, "one COW fault per page per child"),
                _ => assert_eq!(faults, 0, "{w}: resident pages take no faults"),
            }
            // Deterministic: the same workload twice gives the same digest.
            let mut q = setup(w, 4096);
            run(w, &mut q);
            assert_eq!(digest(&p.k), digest(&q.k), "{w}");
            if *w == "cgroup_charge" {
                assert_eq!(p.k.memcg_counter("/a").unwrap().usage, 2048, "charged up the 3-level tree");
                assert_eq!(p.k.memcg_counter("/a/b/c").unwrap().failcnt, 0);
            }
        }
    }
}
