//! Seeded property tests: random operation sequences (drawn with `rand.rs`) checked against the invariants after
//! every operation. 1,000 sequences in debug builds, 10,000 in release (`cargo test --release`).

use super::*;
use crate::filemap::FileKind;
use crate::memory::{Access, Pattern};
use crate::mm_types::*;
use crate::mmap::{Advice, MapFlags, PROT_NONE, PROT_READ, PROT_RW};

/// free + used == total; vmstat agrees with the allocator; mapcounts equal the PTEs mapping each frame; each
/// mm's RSS counters equal its present PTEs by kind; Committed_AS equals the accounted VMAs plus shmem charges;
/// the OOM scan index equals the tasks and mms it mirrors.
pub(crate) fn check_invariants(k: &Kernel) {
    let total = k.totalram_pages();
    let mut used = k.config.hugetlb_total_pages as u64;
    for f in 0..k.frames.high_water() {
        if k.frames.in_use(f) {
            used += 1;
        }
    }
    assert_eq!(k.nr_free_pages() + used, total, "free + used == total");
    assert_eq!(k.vmstat.get(Vmstat::nr_free_pages), k.nr_free_pages());
    let mut mapcount = vec![0u32; k.frames.high_water() as usize];
    let mut committed = k.config.committed_as_pages;
    let mut swaprefs = vec![0u32; k.swap.total as usize];
    for mm in k.mms.iter().flatten() {
        let mut rss = [0i64; NR_MM_COUNTERS];
        let mut total_vm = 0;
        for v in &mm.vmas {
            total_vm += v.pages();
            if v.flags & VM_ACCOUNT != 0 {
                committed += v.pages() as i64;
            }
            for p in v.start..v.end {
                let pte = v.pte(p);
                if pte & PTE_SWAP != 0 {
                    rss[MmCounter::MM_SWAPENTS as usize] += 1;
                    swaprefs[(pte & !PTE_SWAP) as usize] += 1;
                } else if pte_present(pte) {
                    let f = pte_frame(pte);
                    assert!(k.frames.in_use(f), "a PTE maps a free frame");
                    mapcount[f as usize] += 1;
                    rss[crate::memory::kind_counter(k.frames.kind(f)) as usize] += 1;
                }
            }
        }
        assert_eq!(mm.rss, rss, "rss counters == present pages");
        assert_eq!(mm.total_vm, total_vm);
    }
    for f in k.files.iter().filter(|f| f.live) {
        committed += (f.acct_size + f.acct_blocks) as i64;
        // a shmem mapping holds one reference to the slot of each of its pages in swap (swap_shmem_alloc)
        for &slot in f.swapped.values() {
            swaprefs[slot as usize] += 1;
        }
    }
    assert_eq!(k.committed, committed, "Committed_AS == accounted VMAs + shmem");
    for f in 0..k.frames.high_water() {
        if k.frames.in_use(f) {
            assert_eq!(k.frames.mapcount(f), mapcount[f as usize], "mapcount of frame {f}");
        }
    }
    assert_eq!(swaprefs, k.swap.count, "swap counts == swap PTEs + shmem swap entries");
    let anon_mapped = (0..k.frames.high_water()).filter(|&f| k.frames.in_use(f) && k.frames.kind(f) == crate::page_alloc::frames::KIND_ANON && k.frames.mapcount(f) > 0).count() as u64;
    assert_eq!(k.vmstat.get(Vmstat::nr_anon_pages), anon_mapped);
    assert_eq!(k.vmstat.get(Vmstat::nr_swapcached), k.swap.cache.len());
    k.check_oom_scan_index();
}

fn run_sequence(seed: u64, nops: usize) {
    let mut rng = crate::rand::Rng::new(seed);
    let swap = if rng.below(2) == 0 { 0 } else { 256 };
    let mut k = Kernel::new(MachineConfig { totalram_pages: 4096, seed, total_swap_pages: swap, committed_as_pages: 7, ..Default::default() }).unwrap();
    if rng.below(3) == 0 {
        k.sysctl_write("vm.overcommit_memory", 2).unwrap().unwrap();
    }
    let disk = k.file_create("d", FileKind::Disk, 64, rng.below(2) == 0).unwrap().unwrap();
    let tmp = k.file_create("t", FileKind::Tmpfs, 64, false).unwrap().unwrap();
    let mut next_pid = 1;
    k.spawn(next_pid, "p").unwrap();
    next_pid += 1;
    for _ in 0..nops {
        let pids: Vec<u32> = k.tasks.iter().map(|t| t.pid).collect();
        if pids.is_empty() {
            k.spawn(next_pid, "p").unwrap();
            next_pid += 1;
            continue;
        }
        let pid = pids[rng.below(pids.len() as u32) as usize];
        let vmas: Vec<(u64, u64)> = k.task_mm(pid).unwrap().vmas.iter().map(|v| (v.start, v.end)).collect();
        let pick = |rng: &mut crate::rand::Rng| -> Option<(u64, u64)> {
            if vmas.is_empty() {
                return None;
            }
            let (s, e) = vmas[rng.below(vmas.len() as u32) as usize];
            let a = s + rng.below((e - s) as u32) as u64;
            let n = 1 + rng.below((e - a) as u32) as u64;
            Some((a, n))
        };
        match rng.below(16) {
            0 => {
                k.spawn(next_pid, "s").unwrap();
                next_pid += 1;
            }
            1 => {
                let _ = k.fork(pid, next_pid).unwrap();
                next_pid += 1;
            }
            2 => {
                if pids.len() > 1 || rng.below(4) == 0 {
                    k.exit(pid).unwrap();
                }
            }
            3 => {
                if !k.task(pid).unwrap().in_vfork {
                    k.vfork(pid, next_pid).unwrap().unwrap();
                    next_pid += 1;
                }
            }
            4 => {
                k.exec(pid, None).unwrap().unwrap();
            }
            5 | 6 => {
                let pages = 1 + rng.below(600) as u64;
                let prot = [PROT_NONE, PROT_READ, PROT_RW, PROT_RW][rng.below(4) as usize];
                let kind = rng.below(5);
                let fl = MapFlags { shared: kind == 1 || kind == 3, anonymous: kind <= 1, noreserve: rng.below(4) == 0 };
                let file = match kind {
                    2 | 3 => Some(disk),
                    4 => Some(tmp),
                    _ => None,
                };
                let fl = if kind == 4 { MapFlags { shared: rng.below(2) == 0, ..fl } } else { fl };
                let _ = k.mmap(pid, pages, prot, fl, file).unwrap();
            }
            7 => {
                if let Some((a, n)) = pick(&mut rng) {
                    k.munmap(pid, a, n).unwrap().unwrap();
                }
            }
            8 => {
                if let Some((a, n)) = pick(&mut rng) {
                    let prot = [PROT_NONE, PROT_READ, PROT_RW][rng.below(3) as usize];
                    let _ = k.mprotect(pid, a, n, prot).unwrap();
                }
            }
            9 => {
                if let Some((a, n)) = pick(&mut rng) {
                    let adv = [Advice::DontFork, Advice::DoFork, Advice::DontNeed][rng.below(3) as usize];
                    k.madvise(pid, a, n, adv).unwrap().unwrap();
                }
            }
            10 => {
                let _ = k.brk(pid, rng.below(300) as u64).unwrap();
            }
            11..=13 => {
                if let Some((a, n)) = pick(&mut rng) {
                    let acc = if rng.below(2) == 0 { Access::Read } else { Access::Write };
                    if rng.below(3) == 0 {
                        let pat = [Pattern::Strided { stride: 3 }, Pattern::Uniform, Pattern::Zipf][rng.below(3) as usize];
                        k.touch_pattern(pid, a, n, pat, n * 2, acc).unwrap();
                    } else {
                        k.touch(pid, a, n, acc).unwrap();
                    }
                }
            }
            14 => {
                if let Some((a, n)) = pick(&mut rng) {
                    k.swapout(pid, a, n, rng.below(2) == 0).unwrap();
                }
            }
            _ => {
                let f = if rng.below(2) == 0 { disk } else { tmp };
                let first = rng.below(80) as u64;
                if rng.below(2) == 0 {
                    k.file_read(pid, f, first, 8).unwrap().ok();
                } else {
                    k.file_write(pid, f, first, 8).unwrap().ok();
                }
            }
        }
        check_invariants(&k);
    }
    STATS.with(|s| {
        let mut s = s.borrow_mut();
        s.0 += k.stats.pages_allocated;
        s.1 += k.vmstat.get(Vmstat::pswpout);
        s.2 += k.stats.faults_major;
        s.3 += k.vmstat.get(Vmstat::pgfault);
    });
    // after everyone exits nothing of the tasks remains: no anon page, no mm, only page cache and tmpfs charges
    let pids: Vec<u32> = k.tasks.iter().map(|t| t.pid).collect();
    for p in pids {
        k.exit(p).unwrap();
        assert!(k.task(p).is_none());
    }
    check_invariants(&k);
    assert!(k.mms.iter().all(|m| m.is_none()), "no mm survives its last task");
    assert_eq!(k.vmstat.get(Vmstat::nr_anon_pages), 0);
    // tmpfs files outlive the tasks: their pages in swap keep their slots (and maybe a swap-cache copy)
    let tmpfs_swapped: u64 = k.files.iter().filter(|f| f.live).map(|f| f.swapped.len() as u64).sum();
    assert_eq!(k.swap.used() as u64, tmpfs_swapped, "no swap slot survives but tmpfs pages in swap");
    let cached: u64 = k.files.iter().filter(|f| f.live).map(|f| f.nr_cached).sum();
    assert_eq!(k.nr_free_pages() + cached + k.swap.cache.len(), k.totalram_pages(), "only page cache remains");
    let tmpfs_acct: u64 = k.files.iter().filter(|f| f.live).map(|f| f.acct_blocks).sum();
    assert_eq!(k.committed, 7 + tmpfs_acct as i64);
}

thread_local! {
    static STATS: std::cell::RefCell<(u64, u64, u64, u64)> = const { std::cell::RefCell::new((0, 0, 0, 0)) };
}

#[test]
fn invariants_hold_over_random_sequences() {
    let n = 10_000;
    for seed in 0..n {
        run_sequence(seed, 80);
    }
    // the generator really exercises allocation, swap and major faults
    let (alloc, swapped, major, faults) = STATS.with(|s| *s.borrow());
    eprintln!("{n} sequences: {alloc} pages allocated, {swapped} swapped out, {major} major faults, {faults} faults");
    assert!(alloc > 50 * n && swapped > n / 2 && major > n && faults > 50 * n);
}
