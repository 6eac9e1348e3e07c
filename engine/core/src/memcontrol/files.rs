//! Memory cgroup interface files (mm/memcontrol.c `memory_files`, `swap_files`; mm/memcontrol-v1.c
//! `mem_cgroup_legacy_files`, `memsw_files`), `memory.stat`, and the memcg lines of the OOM report
//! (`mem_cgroup_print_oom_meminfo`).
//!
//! Reads return the exact file contents, trailing newline included. Writes return the errno of the write.

use super::charge::MemcgEnv;
use super::{CgroupMode, MemCgroupTree, MemcgEvent, MemcgId, Stat, MAX_RECLAIM_RETRIES, MAX_SWAPPINESS, ROOT_MEMCG};
use crate::errno::Errno;
use crate::page_counter::{page_counter_memparse, strstrip, PAGE_COUNTER_MAX};
use crate::{pages_to_kb, PAGE_SIZE};

/// The v1 files this module knows (`memory.` prefix included).
pub const V1_FILES: &[&str] = &[
    "memory.failcnt",
    "memory.limit_in_bytes",
    "memory.max_usage_in_bytes",
    "memory.memsw.failcnt",
    "memory.memsw.limit_in_bytes",
    "memory.memsw.max_usage_in_bytes",
    "memory.memsw.usage_in_bytes",
    "memory.oom_control",
    "memory.soft_limit_in_bytes",
    "memory.stat",
    "memory.swappiness",
    "memory.usage_in_bytes",
    "memory.use_hierarchy",
    "memory.kmem.limit_in_bytes",
    "memory.kmem.usage_in_bytes",
    "memory.kmem.max_usage_in_bytes",
    "memory.kmem.failcnt",
];

/// The v2 files this module knows. All but `memory.stat` are absent on the root (CFTYPE_NOT_ON_ROOT).
pub const V2_FILES: &[&str] = &[
    "memory.current",
    "memory.events",
    "memory.events.local",
    "memory.high",
    "memory.low",
    "memory.max",
    "memory.min",
    "memory.oom.group",
    "memory.peak",
    "memory.stat",
    "memory.swap.current",
    "memory.swap.events",
    "memory.swap.high",
    "memory.swap.max",
    "memory.swap.peak",
];

/// `kstrtoull(s, 0)` as the cgroup `write_u64` handlers use it: an optional `+`, digits in the base given by
/// the prefix (0x: 16, 0: 8, else 10), at most one trailing newline, nothing else. Overflow is ERANGE in the
/// kernel; reported as EINVAL (`Errno` has no ERANGE).
pub fn kstrtoull(s: &str) -> Result<u64, Errno> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let s = s.strip_suffix('\n').unwrap_or(s);
    let b = s.as_bytes();
    let (base, start) = if b.first() == Some(&b'0') {
        if b.len() >= 3 && (b[1] | 0x20) == b'x' && b[2].is_ascii_hexdigit() {
            (16u64, 2)
        } else {
            (8, 0)
        }
    } else {
        (10, 0)
    };
    if start >= b.len() {
        return Err(Errno::EINVAL);
    }
    let mut v: u64 = 0;
    for &c in &b[start..] {
        let d = match c {
            b'0'..=b'9' => (c - b'0') as u64,
            b'a'..=b'f' => (c - b'a' + 10) as u64,
            b'A'..=b'F' => (c - b'A' + 10) as u64,
            _ => return Err(Errno::EINVAL),
        };
        if d >= base {
            return Err(Errno::EINVAL);
        }
        v = v.checked_mul(base).and_then(|v| v.checked_add(d)).ok_or(Errno::EINVAL)?;
    }
    Ok(v)
}

/// `kstrtoint(s, 0)`: kstrtoull with an optional leading `-`, in int range.
pub fn kstrtoint(s: &str) -> Result<i32, Errno> {
    if let Some(rest) = s.strip_prefix('-') {
        let v = kstrtoull(rest)?;
        if v > 1u64 << 31 {
            return Err(Errno::EINVAL);
        }
        Ok((-(v as i64)) as i32)
    } else {
        let v = kstrtoull(s)?;
        i32::try_from(v).map_err(|_| Errno::EINVAL)
    }
}

/// `seq_puts_memcg_tunable`: `max` for PAGE_COUNTER_MAX, else bytes.
pub fn memcg_tunable(pages: u64) -> String {
    if pages == PAGE_COUNTER_MAX {
        "max\n".to_string()
    } else {
        format!("{}\n", pages * PAGE_SIZE)
    }
}

/// One usage line of the memcg OOM report: `<name>: usage <kB>kB, limit <kB>kB, failcnt <n>`.
/// (A PAGE_COUNTER_MAX limit prints as 9007199254740988 kB.)
pub fn oom_meminfo_line(name: &str, usage_pages: u64, max_pages: u64, failcnt: u64) -> String {
    format!("{name}: usage {}kB, limit {}kB, failcnt {failcnt}", pages_to_kb(usage_pages), pages_to_kb(max_pages))
}

/// The header before the memcg statistics in the OOM report.
pub fn memcg_stats_header(path: &str) -> String {
    format!("Memory cgroup stats for {path}:")
}

fn bytes(v: i64) -> u64 {
    (v.max(0) as u64).wrapping_mul(PAGE_SIZE)
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

/// v1 memory.stat page-valued items (`memcg1_stats`), name and item.
const V1_STATS: &[(&str, Stat, bool)] = &[
    ("cache", Stat::File, true),
    ("rss", Stat::Anon, true),
    ("rss_huge", Stat::AnonThp, true),
    ("shmem", Stat::Shmem, true),
    ("mapped_file", Stat::FileMapped, true),
    ("dirty", Stat::FileDirty, true),
    ("writeback", Stat::FileWriteback, true),
    ("workingset_refault_anon", Stat::WorkingsetRefaultAnon, false),
    ("workingset_refault_file", Stat::WorkingsetRefaultFile, false),
    ("swap", Stat::Swap, true),
    ("swapcached", Stat::Swapcached, true),
    ("pgpgin", Stat::Pgpgin, false),
    ("pgpgout", Stat::Pgpgout, false),
    ("pgfault", Stat::Pgfault, false),
    ("pgmajfault", Stat::Pgmajfault, false),
    ("inactive_anon", Stat::InactiveAnon, true),
    ("active_anon", Stat::ActiveAnon, true),
    ("inactive_file", Stat::InactiveFile, true),
    ("active_file", Stat::ActiveFile, true),
    ("unevictable", Stat::Unevictable, true),
];

impl MemCgroupTree {
    /// Whether `file` exists on this memcg (by mode and root-ness).
    pub fn file_exists(&self, id: MemcgId, file: &str) -> bool {
        match self.mode {
            CgroupMode::V1 => V1_FILES.contains(&file),
            CgroupMode::V2 => V2_FILES.contains(&file) && (id != ROOT_MEMCG || file == "memory.stat"),
        }
    }

    /// Read a file of the memcg at `path` with a fresh open. None when the cgroup or the file does not exist.
    pub fn read_file(&self, path: &str, file: &str) -> Option<String> {
        self.read(self.lookup(path)?, file)
    }

    /// Read a file of a memcg with a fresh open (exact contents). None when the file does not exist there.
    pub fn read(&self, id: MemcgId, file: &str) -> Option<String> {
        if !self.file_exists(id, file) {
            return None;
        }
        let line = |v: u64| Some(format!("{v}\n"));
        let m = self.memcg(id);
        match self.mode {
            CgroupMode::V1 => {
                let memsw = self.memsw(id)?;
                let kmem = self.kmem(id)?;
                let mem = self.memory(id);
                match file {
                    "memory.usage_in_bytes" => line(self.mem_cgroup_usage(id, false) * PAGE_SIZE),
                    "memory.memsw.usage_in_bytes" => line(self.mem_cgroup_usage(id, true) * PAGE_SIZE),
                    "memory.kmem.usage_in_bytes" => line(kmem.usage * PAGE_SIZE),
                    "memory.limit_in_bytes" => line(mem.max * PAGE_SIZE),
                    "memory.memsw.limit_in_bytes" => line(memsw.max * PAGE_SIZE),
                    "memory.kmem.limit_in_bytes" => line(kmem.max * PAGE_SIZE),
                    "memory.max_usage_in_bytes" => line(mem.watermark * PAGE_SIZE),
                    "memory.memsw.max_usage_in_bytes" => line(memsw.watermark * PAGE_SIZE),
                    "memory.kmem.max_usage_in_bytes" => line(kmem.watermark * PAGE_SIZE),
                    "memory.failcnt" => line(mem.failcnt),
                    "memory.memsw.failcnt" => line(memsw.failcnt),
                    "memory.kmem.failcnt" => line(kmem.failcnt),
                    "memory.soft_limit_in_bytes" => line(m.soft_limit * PAGE_SIZE),
                    "memory.swappiness" => line(self.mem_cgroup_swappiness(id)),
                    "memory.use_hierarchy" => line(1),
                    "memory.oom_control" => Some(self.oom_control_read(id)),
                    "memory.stat" => Some(self.memcg1_stat_format(id)),
                    _ => None,
                }
            }
            CgroupMode::V2 => {
                let mem = self.memory(id);
                let swap = self.swap(id)?;
                match file {
                    "memory.current" => line(mem.usage * PAGE_SIZE),
                    "memory.peak" => line(mem.watermark * PAGE_SIZE),
                    "memory.min" => Some(memcg_tunable(mem.min)),
                    "memory.low" => Some(memcg_tunable(mem.low)),
                    "memory.high" => Some(memcg_tunable(mem.high)),
                    "memory.max" => Some(memcg_tunable(mem.max)),
                    "memory.events" => Some(memory_events_text(&m.events)),
                    "memory.events.local" => Some(memory_events_text(&m.events_local)),
                    "memory.oom.group" => line(m.oom_group as u64),
                    "memory.stat" => Some(self.memcg_stat_format(id)),
                    "memory.swap.current" => line(swap.usage * PAGE_SIZE),
                    "memory.swap.peak" => line(swap.watermark * PAGE_SIZE),
                    "memory.swap.high" => Some(memcg_tunable(swap.high)),
                    "memory.swap.max" => Some(memcg_tunable(swap.max)),
                    "memory.swap.events" => Some(format!(
                        "high {}\nmax {}\nfail {}\n",
                        m.events[MemcgEvent::SwapHigh as usize],
                        m.events[MemcgEvent::SwapMax as usize],
                        m.events[MemcgEvent::SwapFail as usize]
                    )),
                    _ => None,
                }
            }
        }
    }

    /// Write `value` to a file of the memcg at `path` (a fresh open, blocking). ENOENT when the cgroup or the
    /// file does not exist there.
    pub fn write_file(&mut self, env: &mut dyn MemcgEnv, path: &str, file: &str, value: &str) -> Result<(), Errno> {
        let id = self.lookup(path).ok_or(Errno::ENOENT)?;
        self.write(env, id, file, value)
    }

    /// Write `value` to a file of a memcg. An empty write is a no-op. Read-only files give EINVAL (the cgroup
    /// core's answer for a file without a write handler).
    pub fn write(&mut self, env: &mut dyn MemcgEnv, id: MemcgId, file: &str, value: &str) -> Result<(), Errno> {
        if !self.file_exists(id, file) {
            return Err(Errno::ENOENT);
        }
        if value.is_empty() {
            return Ok(());
        }
        match self.mode {
            CgroupMode::V1 => self.write_v1(env, id, file, value),
            CgroupMode::V2 => self.write_v2(env, id, file, value),
        }
    }

    fn write_v1(&mut self, env: &mut dyn MemcgEnv, id: MemcgId, file: &str, value: &str) -> Result<(), Errno> {
        let m = self.memcg(id).clone_ids();
        match file {
            // mem_cgroup_write
            "memory.limit_in_bytes"
            | "memory.memsw.limit_in_bytes"
            | "memory.kmem.limit_in_bytes"
            | "memory.soft_limit_in_bytes" => {
                let nr_pages = page_counter_memparse(strstrip(value), "-1")?;
                match file {
                    "memory.soft_limit_in_bytes" => {
                        self.memcg_mut(id).soft_limit = nr_pages;
                        Ok(())
                    }
                    _ if id == ROOT_MEMCG => Err(Errno::EINVAL),
                    "memory.limit_in_bytes" => self.mem_cgroup_resize_max(env, id, nr_pages, false),
                    "memory.memsw.limit_in_bytes" => self.mem_cgroup_resize_max(env, id, nr_pages, true),
                    // deprecated: accepted, no effect
                    _ => Ok(()),
                }
            }
            // mem_cgroup_reset: any content
            "memory.max_usage_in_bytes" => {
                self.counters.reset_watermark(m.0);
                Ok(())
            }
            "memory.memsw.max_usage_in_bytes" => {
                self.counters.reset_watermark(m.1);
                Ok(())
            }
            "memory.kmem.max_usage_in_bytes" => {
                self.counters.reset_watermark(m.2);
                Ok(())
            }
            "memory.failcnt" => {
                self.counters.get_mut(m.0).failcnt = 0;
                Ok(())
            }
            "memory.memsw.failcnt" => {
                self.counters.get_mut(m.1).failcnt = 0;
                Ok(())
            }
            "memory.kmem.failcnt" => {
                self.counters.get_mut(m.2).failcnt = 0;
                Ok(())
            }
            "memory.swappiness" => {
                let v = kstrtoull(value)?;
                if v > MAX_SWAPPINESS {
                    return Err(Errno::EINVAL);
                }
                if id == ROOT_MEMCG {
                    self.vm_swappiness = v;
                } else {
                    self.memcg_mut(id).swappiness = v;
                }
                Ok(())
            }
            "memory.use_hierarchy" => match kstrtoull(value)? {
                1 => Ok(()),
                _ => Err(Errno::EINVAL),
            },
            "memory.oom_control" => {
                let v = kstrtoull(value)?;
                if id == ROOT_MEMCG || v > 1 {
                    return Err(Errno::EINVAL);
                }
                self.memcg_mut(id).oom_kill_disable = v == 1;
                if v == 0 {
                    self.memcg1_oom_recover(env, id);
                }
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn write_v2(&mut self, env: &mut dyn MemcgEnv, id: MemcgId, file: &str, value: &str) -> Result<(), Errno> {
        let (memory, _, _) = self.memcg(id).clone_ids();
        let swap = self.memcg(id).swap.ok_or(Errno::EINVAL)?;
        let parse = || page_counter_memparse(strstrip(value), "max");
        match file {
            "memory.min" => {
                let v = parse()?;
                self.counters.set_min(memory, v);
                Ok(())
            }
            "memory.low" => {
                let v = parse()?;
                self.counters.set_low(memory, v);
                Ok(())
            }
            "memory.high" => {
                let v = parse()?;
                self.memory_high_write(env, id, v);
                Ok(())
            }
            "memory.max" => {
                let v = parse()?;
                self.memory_max_write(env, id, v);
                Ok(())
            }
            "memory.swap.high" => {
                let v = parse()?;
                self.counters.set_high(swap, v);
                Ok(())
            }
            "memory.swap.max" => {
                let v = parse()?;
                self.counters.get_mut(swap).max = v;
                Ok(())
            }
            "memory.oom.group" => {
                let v = kstrtoint(strstrip(value))?;
                if v != 0 && v != 1 {
                    return Err(Errno::EINVAL);
                }
                self.memcg_mut(id).oom_group = v == 1;
                Ok(())
            }
            "memory.peak" | "memory.swap.peak" => {
                let fd = self.peak_open(id, file == "memory.swap.peak");
                let r = self.peak_write(fd, value);
                self.peak_close(fd);
                r
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// `memory_high_write`: set memory.high, then (blocking writer) drain the stock once and reclaim the
    /// excess until usage fits; after 16 extra fruitless reclaims it gives up (the write still succeeds).
    pub fn memory_high_write(&mut self, env: &mut dyn MemcgEnv, id: MemcgId, high: u64) {
        let memory = self.memcg(id).memory;
        self.counters.set_high(memory, high);
        let mut nr_retries = MAX_RECLAIM_RETRIES;
        let mut drained = false;
        loop {
            let nr_pages = self.counters.read(memory);
            if nr_pages <= high || env.signal_pending() {
                break;
            }
            if !drained {
                self.drain_all_stock(id);
                drained = true;
                continue;
            }
            let reclaimed = env.reclaim(self, id, nr_pages - high, true);
            if reclaimed == 0 {
                if nr_retries == 0 {
                    break;
                }
                nr_retries -= 1;
            }
        }
    }

    /// `memory_max_write`: memory.max is set at once (even below usage); then the stock is drained once, and
    /// the excess reclaimed; after 16 fruitless reclaims each further pass raises `oom` and runs the memcg OOM
    /// killer, until usage fits or the OOM killer finds nothing. The write always succeeds.
    pub fn memory_max_write(&mut self, env: &mut dyn MemcgEnv, id: MemcgId, max: u64) {
        let memory = self.memcg(id).memory;
        self.counters.get_mut(memory).max = max;
        let mut nr_reclaims = MAX_RECLAIM_RETRIES;
        let mut drained = false;
        loop {
            let nr_pages = self.counters.read(memory);
            if nr_pages <= max || env.signal_pending() {
                break;
            }
            if !drained {
                self.drain_all_stock(id);
                drained = true;
                continue;
            }
            if nr_reclaims > 0 {
                if env.reclaim(self, id, nr_pages - max, true) == 0 {
                    nr_reclaims -= 1;
                }
                continue;
            }
            self.memcg_memory_event(id, MemcgEvent::Oom);
            if !self.mem_cgroup_out_of_memory(env, id, 0, false) {
                break;
            }
        }
    }

    /// v1 memory.stat (`memcg1_stat_format`): local values, the hierarchical limits, then `total_` values over
    /// the subtree.
    pub fn memcg1_stat_format(&self, id: MemcgId) -> String {
        let mut s = String::new();
        for &(name, item, is_bytes) in V1_STATS {
            let v = self.stat_local(id, item);
            s += &format!("{name} {}\n", if is_bytes { bytes(v) } else { count(v) });
        }
        let (mut memory, mut memsw) = (PAGE_COUNTER_MAX, PAGE_COUNTER_MAX);
        let mut cur = Some(id);
        while let Some(c) = cur {
            memory = memory.min(self.memory(c).max);
            if let Some(sw) = self.memsw(c) {
                memsw = memsw.min(sw.max);
            }
            cur = self.parent(c);
        }
        s += &format!("hierarchical_memory_limit {}\n", memory * PAGE_SIZE);
        s += &format!("hierarchical_memsw_limit {}\n", memsw * PAGE_SIZE);
        for &(name, item, is_bytes) in V1_STATS {
            let v = self.stat_recursive(id, item);
            s += &format!("total_{name} {}\n", if is_bytes { bytes(v) } else { count(v) });
        }
        s
    }

    /// v2 memory.stat (`memcg_stat_format`): hierarchical values, keys in the kernel's order.
    pub fn memcg_stat_format(&self, id: MemcgId) -> String {
        let cfg = self.stat_config;
        let r = |item: Stat| self.stat_recursive(id, item);
        let mut s = String::new();
        let mut b = |name: &str, v: i64| s += &format!("{name} {}\n", bytes(v));
        b("anon", r(Stat::Anon));
        b("file", r(Stat::File));
        b("kernel", r(Stat::Kernel));
        b("kernel_stack", r(Stat::KernelStack));
        b("pagetables", r(Stat::Pagetables));
        b("sec_pagetables", r(Stat::SecPagetables));
        b("percpu", r(Stat::Percpu));
        b("sock", r(Stat::Sock));
        b("vmalloc", r(Stat::Vmalloc));
        b("shmem", r(Stat::Shmem));
        if cfg.zswap {
            b("zswap", r(Stat::Zswap));
            b("zswapped", r(Stat::Zswapped));
        }
        b("file_mapped", r(Stat::FileMapped));
        b("file_dirty", r(Stat::FileDirty));
        b("file_writeback", r(Stat::FileWriteback));
        b("swapcached", r(Stat::Swapcached));
        if cfg.thp {
            b("anon_thp", r(Stat::AnonThp));
            b("file_thp", r(Stat::FileThp));
            b("shmem_thp", r(Stat::ShmemThp));
        }
        b("inactive_anon", r(Stat::InactiveAnon));
        b("active_anon", r(Stat::ActiveAnon));
        b("inactive_file", r(Stat::InactiveFile));
        b("active_file", r(Stat::ActiveFile));
        b("unevictable", r(Stat::Unevictable));
        b("slab_reclaimable", r(Stat::SlabReclaimable));
        b("slab_unreclaimable", r(Stat::SlabUnreclaimable));
        b("slab", r(Stat::SlabReclaimable) + r(Stat::SlabUnreclaimable));
        let mut c = |name: &str, v: i64| s += &format!("{name} {}\n", count(v));
        use Stat::*;
        for (name, item) in [
            ("workingset_refault_anon", WorkingsetRefaultAnon),
            ("workingset_refault_file", WorkingsetRefaultFile),
            ("workingset_activate_anon", WorkingsetActivateAnon),
            ("workingset_activate_file", WorkingsetActivateFile),
            ("workingset_restore_anon", WorkingsetRestoreAnon),
            ("workingset_restore_file", WorkingsetRestoreFile),
            ("workingset_nodereclaim", WorkingsetNodereclaim),
            ("pgdemote_kswapd", PgdemoteKswapd),
            ("pgdemote_direct", PgdemoteDirect),
            ("pgdemote_khugepaged", PgdemoteKhugepaged),
            ("pgdemote_proactive", PgdemoteProactive),
            ("pgpromote_success", PgpromoteSuccess),
        ] {
            c(name, r(item));
        }
        c("pgscan", r(PgscanKswapd) + r(PgscanDirect) + r(PgscanKhugepaged) + r(PgscanProactive));
        c("pgsteal", r(PgstealKswapd) + r(PgstealDirect) + r(PgstealKhugepaged) + r(PgstealProactive));
        for (name, item) in [
            ("pswpin", Pswpin),
            ("pswpout", Pswpout),
            ("pgscan_kswapd", PgscanKswapd),
            ("pgscan_direct", PgscanDirect),
            ("pgscan_khugepaged", PgscanKhugepaged),
            ("pgscan_proactive", PgscanProactive),
            ("pgsteal_kswapd", PgstealKswapd),
            ("pgsteal_direct", PgstealDirect),
            ("pgsteal_khugepaged", PgstealKhugepaged),
            ("pgsteal_proactive", PgstealProactive),
            ("pgfault", Pgfault),
            ("pgmajfault", Pgmajfault),
            ("pgrefill", Pgrefill),
            ("pgactivate", Pgactivate),
            ("pgdeactivate", Pgdeactivate),
            ("pglazyfree", Pglazyfree),
            ("pglazyfreed", Pglazyfreed),
            ("swpin_zero", SwpinZero),
            ("swpout_zero", SwpoutZero),
        ] {
            c(name, r(item));
        }
        if cfg.zswap {
            c("zswpin", r(Zswpin));
            c("zswpout", r(Zswpout));
            c("zswpwb", r(Zswpwb));
        }
        if cfg.thp {
            c("thp_fault_alloc", r(ThpFaultAlloc));
            c("thp_collapse_alloc", r(ThpCollapseAlloc));
            c("thp_swpout", r(ThpSwpout));
            c("thp_swpout_fallback", r(ThpSwpoutFallback));
        }
        if cfg.numa_balancing {
            c("numa_pages_migrated", r(NumaPagesMigrated));
            c("numa_pte_updates", r(NumaPteUpdates));
            c("numa_hint_faults", r(NumaHintFaults));
        }
        s
    }

    /// The usage lines of `mem_cgroup_print_oom_meminfo` for the OOM memcg: v2 `memory:` (failcnt = the
    /// memory.events `max` count) and `swap:` (failcnt = swap.events `max`); v1 `memory:`, `memory+swap:` and
    /// `kmem:` with the counters' failcnt.
    pub fn oom_meminfo_lines(&self, id: MemcgId) -> Vec<String> {
        let mem = self.memory(id);
        let m = self.memcg(id);
        match self.mode {
            CgroupMode::V2 => {
                let swap = self.swap(id).expect("v2 memcg has a swap counter");
                vec![
                    oom_meminfo_line("memory", mem.usage, mem.max, m.events[MemcgEvent::Max as usize]),
                    oom_meminfo_line("swap", swap.usage, swap.max, m.events[MemcgEvent::SwapMax as usize]),
                ]
            }
            CgroupMode::V1 => {
                let sw = self.memsw(id).expect("v1 memcg has memsw");
                let k = self.kmem(id).expect("v1 memcg has kmem");
                vec![
                    oom_meminfo_line("memory", mem.usage, mem.max, mem.failcnt),
                    oom_meminfo_line("memory+swap", sw.usage, sw.max, sw.failcnt),
                    oom_meminfo_line("kmem", k.usage, k.max, k.failcnt),
                ]
            }
        }
    }

    /// `mem_cgroup_print_oom_meminfo`: the usage lines, the `Memory cgroup stats for <path>:` header, then the
    /// memory.stat lines of the memcg (v1 or v2 format).
    pub fn mem_cgroup_print_oom_meminfo(&self, id: MemcgId) -> Vec<String> {
        let mut lines = self.oom_meminfo_lines(id);
        lines.push(memcg_stats_header(self.path(id)));
        let stat = match self.mode {
            CgroupMode::V1 => self.memcg1_stat_format(id),
            CgroupMode::V2 => self.memcg_stat_format(id),
        };
        lines.extend(stat.lines().map(str::to_string));
        lines
    }
}

/// memory.events / memory.events.local text (`__memory_events_show`).
pub fn memory_events_text(ev: &[u64; super::MEMCG_NR_MEMORY_EVENTS]) -> String {
    format!(
        "low {}\nhigh {}\nmax {}\noom {}\noom_kill {}\noom_group_kill {}\nsock_throttled {}\n",
        ev[MemcgEvent::Low as usize],
        ev[MemcgEvent::High as usize],
        ev[MemcgEvent::Max as usize],
        ev[MemcgEvent::Oom as usize],
        ev[MemcgEvent::OomKill as usize],
        ev[MemcgEvent::OomGroupKill as usize],
        ev[MemcgEvent::SockThrottled as usize]
    )
}

impl super::MemCgroup {
    /// (memory, memsw-or-swap, kmem-or-memory) counter ids, for the file handlers.
    fn clone_ids(&self) -> (crate::page_counter::CounterId, crate::page_counter::CounterId, crate::page_counter::CounterId) {
        (self.memory, self.memsw.or(self.swap).unwrap_or(self.memory), self.kmem.unwrap_or(self.memory))
    }
}
