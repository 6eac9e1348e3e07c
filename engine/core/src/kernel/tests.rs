//! The machine: boot defaults, sysctls, meminfo, the min watermark, API errors.

use super::*;
use crate::memory::Access;
use crate::mmap::{MapFlags, PROT_RW};

fn k(pages: u32) -> Kernel {
    Kernel::new(MachineConfig { totalram_pages: pages, ..Default::default() }).unwrap()
}
fn k2(pages: u32) -> Kernel {
    k(pages)
}

#[test]
fn boot_defaults_follow_the_kernel() {
    let k = k(4194304); // 16 GiB
    assert_eq!(k.sysctl.min_free_kbytes, 16384);
    assert_eq!(k.sysctl.overcommit.user_reserve_kbytes, 131072);
    assert_eq!(k.sysctl.overcommit.admin_reserve_kbytes, 8192);
    assert_eq!(k.wmark.min, 4096);
    assert_eq!(k.meminfo_field("MemFree"), Some(16777216));
}

#[test]
fn sysctl_ranges_and_side_effects() {
    let mut k = k(262144);
    assert_eq!(k.sysctl_write("vm.overcommit_memory", 3).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.sysctl_write("vm.overcommit_memory", -1).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.sysctl_write("vm.overcommit_memory", 2).unwrap(), Ok(()));
    assert_eq!(k.sysctl_write("vm.swappiness", 201).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.sysctl_write("vm.swappiness", 200).unwrap(), Ok(()));
    assert_eq!(k.sysctl_write("vm.panic_on_oom", 3).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.sysctl_write("vm.watermark_scale_factor", 0).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.sysctl_write("vm.watermark_scale_factor", 3001).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.sysctl_write("vm.min_free_kbytes", -1).unwrap(), Err(Errno::EINVAL));
    // ratio/kbytes mutual exclusion, even for a write of 0
    k.sysctl_write("vm.overcommit_kbytes", 0).unwrap().unwrap();
    assert_eq!(k.sysctl_read("vm.overcommit_ratio").unwrap(), 0);
    k.sysctl_write("vm.overcommit_kbytes", 4096).unwrap().unwrap();
    k.sysctl_write("vm.overcommit_ratio", 60).unwrap().unwrap();
    assert_eq!(k.sysctl_read("vm.overcommit_kbytes").unwrap(), 0);
    assert_eq!(k.sysctl_write("vm.overcommit_kbytes", -5).unwrap(), Err(Errno::EINVAL));
    // min_free_kbytes moves the watermarks
    k.sysctl_write("vm.min_free_kbytes", 8192).unwrap().unwrap();
    assert_eq!(k.wmark.min, 2048);
    assert_eq!(k.sysctl.user_min_free_kbytes, 8192);
    let e = k.sysctl_write("vm.oom_kill", 1).unwrap_err();
    assert!(e.message.contains("vm.overcommit_memory"), "names the allowed sysctls: {e}");
}

#[test]
fn meminfo_line_format() {
    let k = Kernel::new(MachineConfig { totalram_pages: 4194304, total_swap_pages: 524288, ..Default::default() }).unwrap();
    let text = k.meminfo_text();
    assert!(text.contains("CommitLimit:    10485760 kB\n"), "{text}");
    assert!(text.starts_with("MemTotal:       16777216 kB\n"));
    assert!(text.contains("HugePages_Total:       0\n"));
}

#[test]
fn memavailable_subtracts_the_reserve() {
    let k = k(262144);
    // free - high watermark (no page cache, no slab)
    assert_eq!(k.si_mem_available(), 262144 - k.wmark.high);
}

#[test]
fn allocation_stops_at_the_min_watermark() {
    let mut k = k(2048);
    k.spawn(1, "a").unwrap();
    // mode 0 refuses a single request above RAM + swap
    assert_eq!(k.mmap(1, 2049, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap(), Err(Errno::ENOMEM));
    let v = k.mmap(1, 2048, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let o = k.touch(1, v, 2048, Access::Write).unwrap();
    assert_eq!(o.done, 2048 - k.wmark.min, "the last page allocated leaves exactly min free");
    // the only task is global init: nothing killable, the kernel panics
    assert!(matches!(o.stop, Some(crate::memory::TouchStop::Panic { .. })), "{:?}", o.stop);
    assert_eq!(k.nr_free_pages(), k.wmark.min);
    assert_eq!(k.log.last().unwrap(), "Kernel panic - not syncing: System is deadlocked on memory");
    assert_eq!(k.touch(1, v, 1, Access::Read).unwrap_err().code, "E_PANICKED");
    // with the OOM killer disabled (simulation switch) the fault fails instead
    let mut k = k2(2048);
    k.spawn(1, "a").unwrap();
    k.set_oom_killer_disabled(true);
    let v = k.mmap(1, 2048, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
    let o = k.touch(1, v, 2048, Access::Write).unwrap();
    assert!(matches!(o.stop, Some(crate::memory::TouchStop::OutOfMemory { .. })));
    assert_eq!(k.oom_records()[0].outcome, crate::oom_kill::OomOutcome::Disabled);
    assert!(k.panicked().is_none());
}

#[test]
fn unknown_pid_and_bad_sizes_are_api_errors() {
    let mut k = k(1024);
    assert_eq!(k.touch(9, 0, 1, Access::Read).unwrap_err().code, "E_NOPID");
    k.spawn(1, "a").unwrap();
    let e = k.munmap(1, TASK_SIZE_PAGES - 1, 2).unwrap_err();
    assert!(e.message.contains("address-space limit"), "{e}");
    assert_eq!(k.mmap(1, 0, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.mmap(1, TASK_SIZE_PAGES, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap(), Err(Errno::ENOMEM));
    assert!(k.spawn(1, "dup").is_err());
    assert!(Kernel::new(MachineConfig { totalram_pages: 0, ..Default::default() }).is_err());
    assert_eq!(k.set_oom_score_adj(1, 1001).unwrap(), Err(Errno::EINVAL));
    assert_eq!(k.set_oom_score_adj(1, -1000).unwrap(), Ok(()));
}
