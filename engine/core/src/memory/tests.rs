//! The fault path end to end: fault counts, protections, swap out and in, fork, file faults, patterns, page
//! tables.

use super::*;
use crate::filemap::FileKind;
use crate::kernel::{Kernel, MachineConfig};
use crate::mmap::{MapFlags, PROT_NONE, PROT_READ, PROT_RW};

fn setup(swap: u32) -> (Kernel, u64) {
    let mut k = Kernel::new(MachineConfig { totalram_pages: 65536, total_swap_pages: swap, ..Default::default() }).unwrap();
    k.spawn(1, "a").unwrap();
    let v = k.mmap(1, 1000, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    (k, v)
}

#[test]
fn read_then_write_is_two_faults_write_only_one() {
    let (mut k, v) = setup(0);
    k.touch(1, v, 100, Access::Read).unwrap();
    assert_eq!(k.stats.pages_allocated, 0, "zero page");
    assert_eq!(k.task_mem(1).unwrap().vm_rss, 0);
    k.touch(1, v, 100, Access::Write).unwrap();
    k.touch(1, v + 100, 100, Access::Write).unwrap();
    assert_eq!(k.vmstat.get(Vmstat::pgfault), 300);
    assert_eq!(k.stats.pages_allocated, 200);
    assert_eq!(k.vmstat.get(Vmstat::nr_inactive_anon), 200);
    k.touch(1, v, 200, Access::Write).unwrap();
    assert_eq!(k.vmstat.get(Vmstat::pgfault), 300, "resident pages take no fault");
}

#[test]
fn protection_violations_are_sigsegv() {
    // each violation kills the task (SIGSEGV's default action), so each case runs on a fresh machine
    let (mut k, v) = setup(0);
    k.mprotect(1, v, 10, PROT_READ).unwrap().unwrap();
    let o = k.touch(1, v + 5, 10, Access::Write).unwrap();
    assert_eq!(o.stop, Some(TouchStop::Segv { vpn: v + 5 }));
    assert!(k.task(1).is_none(), "SIGSEGV killed the task");
    let (mut k, v) = setup(0);
    k.mprotect(1, v, 10, PROT_NONE).unwrap().unwrap();
    assert_eq!(k.touch(1, v, 1, Access::Read).unwrap().stop, Some(TouchStop::Segv { vpn: v }));
    let (mut k, v) = setup(0);
    let o = k.touch(1, v + 990, 20, Access::Read).unwrap();
    assert_eq!((o.done, o.stop), (10, Some(TouchStop::Segv { vpn: v + 1000 })), "past the end of the mapping");
    assert!(k.task(1).is_none());
    let (mut k, v) = setup(0);
    assert_eq!(k.touch(1, v, 5, Access::Write).unwrap().stop, None, "an allowed access leaves the task alive");
    assert!(k.task(1).is_some());
}

#[test]
fn swap_out_and_in() {
    let (mut k, v) = setup(100);
    k.touch(1, v, 10, Access::Write).unwrap();
    let r = k.swapout(1, v, 10, false).unwrap();
    assert_eq!(r.swapped, 10);
    assert_eq!(k.task_mem(1).unwrap().vm_swap, 40);
    assert_eq!(k.vmstat.get(Vmstat::pswpout), 10);
    assert_eq!(k.nr_free_pages(), 65536);
    k.touch(1, v, 1, Access::Read).unwrap();
    assert_eq!(k.last_fault, FaultKind::Major);
    assert_eq!(k.vmstat.get(Vmstat::pswpin), 1);
    // kept in the swap cache: the swap-in is minor
    k.touch(1, v + 5, 1, Access::Write).unwrap();
    k.swapout(1, v + 5, 1, true).unwrap();
    // page 0 (read back in, not exclusive-written) and page 5 are in the swap cache
    assert_eq!(k.meminfo_field("SwapCached"), Some(8));
    assert_eq!(k.vmstat.get(Vmstat::pswpin), 2, "page 5 was read back from swap by the write");
    k.touch(1, v + 5, 1, Access::Read).unwrap();
    assert_eq!(k.last_fault, FaultKind::Minor);
    assert_eq!(k.vmstat.get(Vmstat::pswpin), 2, "a swap-cache hit reads nothing");
    // no swap slot left: the page stays
    let (mut k, v) = setup(0);
    k.touch(1, v, 3, Access::Write).unwrap();
    assert_eq!(k.swapout(1, v, 3, false).unwrap().no_slot, 3);
}

#[test]
fn shared_swap_entries_after_fork() {
    let (mut k, v) = setup(100);
    k.touch(1, v, 4, Access::Write).unwrap();
    k.fork(1, 2).unwrap().unwrap();
    k.swapout(1, v, 4, false).unwrap();
    // the rmap walk unmapped the child's PTEs too
    assert_eq!(k.task_mem(2).unwrap().vm_swap, 16);
    assert_eq!(k.task_mem(1).unwrap().vm_rss, 0);
    k.touch(2, v, 1, Access::Read).unwrap();
    assert_eq!(k.last_fault, FaultKind::Major);
    k.touch(1, v, 1, Access::Read).unwrap();
    assert_eq!(k.last_fault, FaultKind::Minor, "the parent finds the page in the swap cache");
    k.touch(1, v, 1, Access::Write).unwrap();
    assert_eq!(k.last_cow, CowKind::Copy, "still shared with the child");
}

#[test]
fn file_faults_major_then_minor_and_private_write_copies() {
    let mut k = Kernel::new(MachineConfig::default()).unwrap();
    k.spawn(1, "a").unwrap();
    let f = k.file_create("f", FileKind::Disk, 4, false).unwrap().unwrap();
    let v = k.mmap(1, 4, PROT_RW, MapFlags::default(), Some(f)).unwrap().unwrap();
    k.touch(1, v, 1, Access::Read).unwrap();
    assert_eq!(k.last_fault, FaultKind::Major);
    assert_eq!(k.vmstat.get(Vmstat::pgmajfault), 1);
    k.touch(1, v, 1, Access::Write).unwrap();
    assert_eq!((k.last_fault, k.last_cow), (FaultKind::Minor, CowKind::Copy));
    let m = k.task_mem(1).unwrap();
    assert_eq!((m.rss_file, m.rss_anon), (0, 4));
    // a write fault on an uncached page: reads it (major) and copies
    k.touch(1, v + 1, 1, Access::Write).unwrap();
    assert_eq!(k.last_fault, FaultKind::Major);
    assert_eq!(k.meminfo_field("Cached"), Some(8));
    // beyond EOF: SIGBUS
    let w = k.mmap(1, 8, PROT_READ, MapFlags::default(), Some(f)).unwrap().unwrap();
    assert_eq!(k.touch(1, w + 4, 1, Access::Read).unwrap().stop, Some(TouchStop::Sigbus { vpn: w + 4 }));
}

#[test]
fn patterns_are_deterministic_and_stay_in_range() {
    let run = |p: Pattern| {
        let (mut k, v) = setup(0);
        k.touch_pattern(1, v, 1000, p, 5000, Access::Write).unwrap();
        (k.stats.pages_allocated, k.vmstat.get(Vmstat::pgfault))
    };
    for p in [Pattern::Uniform, Pattern::Zipf, Pattern::Strided { stride: 7 }] {
        let a = run(p);
        assert_eq!(a, run(p));
        assert!(a.0 <= 1000 && a.0 > 0);
    }
    assert_eq!(run(Pattern::Strided { stride: 1 }).0, 1000);
    assert!(run(Pattern::Zipf).0 < run(Pattern::Uniform).0, "zipf concentrates on few pages");
}

#[test]
fn page_tables_counted_like_the_kernel() {
    let (mut k, v) = setup(0);
    assert_eq!(k.task_mm(1).unwrap().pgtables_bytes(), 0);
    k.touch(1, v, 1, Access::Read).unwrap();
    // one PTE page, one PMD page, one PUD page
    assert_eq!(k.task_mm(1).unwrap().pgtables_bytes(), 3 * 4096);
    k.touch(1, v, 1000, Access::Write).unwrap();
    let mm = k.task_mm(1).unwrap();
    let chunks = ((v + 999) >> 9) - (v >> 9) + 1;
    assert_eq!(mm.pte_tables.len() as u64, chunks);
    assert!(k.proc_status_mem(1).unwrap().contains(&format!("VmPTE:\t{:>8} kB\n", (chunks + 2) * 4)));
    k.munmap(1, v, 1000).unwrap().unwrap();
    assert_eq!(k.task_mm(1).unwrap().pgtables_bytes(), 0);
}

#[test]
fn a_64gib_machine_boots() {
    let k = Kernel::new(MachineConfig { totalram_pages: 16_777_216, ..Default::default() }).unwrap();
    assert_eq!(k.nr_free_pages(), 16_777_216);
    assert_eq!(crate::page_alloc::FrameAllocator::BYTES_PER_FRAME, 16);
}
