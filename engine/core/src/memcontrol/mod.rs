//! Memory cgroups, v1 and v2 (mm/memcontrol.c, mm/memcontrol-v1.c): the hierarchy of memcgs with their page
//! counters, settings, events and statistics, and the kernel functions that act on them.
//!
//! * `charge`: `try_charge_memcg` (the charge retry loop), `mem_cgroup_oom`, `__mem_cgroup_handle_over_high`,
//!   with reclaim and the OOM killer behind the `MemcgEnv` trait the engine implements.
//! * `files`: the cgroup interface files (read and write, v1 and v2), `memory.stat`, and the memcg part of the
//!   OOM report.
//! * `v1`: cgroup v1 only rules (`mem_cgroup_resize_max`, `memory.oom_control`, soft limit).
//!
//! Every memcg is addressed by a `MemcgId` (index into the tree); the root is `ROOT_MEMCG`. Amounts are pages.

pub mod charge;
pub mod engine;
pub mod files;
pub mod v1;

use crate::errno::Errno;
use crate::page_counter::{CounterId, PageCounter, PageCounterArena, PAGE_COUNTER_MAX};
use std::collections::BTreeMap;

pub use charge::{ChargeGfp, ChargeResult, ChargeTask, MemcgEnv};

pub use crate::types::{MemcgId, ROOT_MEMCG};

/// MEMCG_CHARGE_BATCH (include/linux/memcontrol.h).
pub const MEMCG_CHARGE_BATCH: u64 = 64;
/// MAX_RECLAIM_RETRIES (mm/internal.h).
pub const MAX_RECLAIM_RETRIES: u32 = 16;
/// PAGE_ALLOC_COSTLY_ORDER (include/linux/mmzone.h).
pub const PAGE_ALLOC_COSTLY_ORDER: u32 = 3;
/// SWAP_CLUSTER_MAX (include/linux/swap.h).
pub const SWAP_CLUSTER_MAX: u64 = 32;
/// MAX_SWAPPINESS (include/linux/swap.h).
pub const MAX_SWAPPINESS: u64 = 200;
/// Fixed-point shift of the memory.high overage (mm/memcontrol.c: MEMCG_DELAY_PRECISION_SHIFT).
pub const MEMCG_DELAY_PRECISION_SHIFT: u32 = 20;
/// Scaling of the squared overage (MEMCG_DELAY_SCALING_SHIFT).
pub const MEMCG_DELAY_SCALING_SHIFT: u32 = 14;

/// Which memory cgroup hierarchy is mounted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CgroupMode {
    /// Legacy hierarchy with memsw accounting (`do_memsw_account()` true).
    V1,
    /// Unified hierarchy.
    V2,
}

/// `enum memcg_memory_event` (include/linux/memcontrol.h).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum MemcgEvent {
    Low = 0,
    High,
    Max,
    Oom,
    OomKill,
    OomGroupKill,
    SockThrottled,
    SwapHigh,
    SwapMax,
    SwapFail,
}

pub const MEMCG_NR_MEMORY_EVENTS: usize = 10;

/// Per-memcg statistics (`memcg_stat_item`, `node_stat_item`, `vm_event_item` subsets). Page-valued items are in
/// pages; the event items are counts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Stat {
    // page-valued (printed in bytes)
    Anon = 0, // NR_ANON_MAPPED (v1 "rss")
    File,     // NR_FILE_PAGES (v1 "cache"), includes shmem
    Kernel,
    KernelStack,
    Pagetables,
    SecPagetables,
    Percpu,
    Sock,
    Vmalloc,
    Shmem,
    Zswap,
    Zswapped,
    FileMapped,
    FileDirty,
    FileWriteback,
    Swapcached,
    AnonThp,
    FileThp,
    ShmemThp,
    InactiveAnon,
    ActiveAnon,
    InactiveFile,
    ActiveFile,
    Unevictable,
    SlabReclaimable,
    SlabUnreclaimable,
    /// MEMCG_SWAP: pages of this memcg in swap (v1 "swap").
    Swap,
    // counts
    WorkingsetRefaultAnon,
    WorkingsetRefaultFile,
    WorkingsetActivateAnon,
    WorkingsetActivateFile,
    WorkingsetRestoreAnon,
    WorkingsetRestoreFile,
    WorkingsetNodereclaim,
    PgdemoteKswapd,
    PgdemoteDirect,
    PgdemoteKhugepaged,
    PgdemoteProactive,
    PgpromoteSuccess,
    Pswpin,
    Pswpout,
    PgscanKswapd,
    PgscanDirect,
    PgscanKhugepaged,
    PgscanProactive,
    PgstealKswapd,
    PgstealDirect,
    PgstealKhugepaged,
    PgstealProactive,
    Pgfault,
    Pgmajfault,
    Pgrefill,
    Pgactivate,
    Pgdeactivate,
    Pglazyfree,
    Pglazyfreed,
    SwpinZero,
    SwpoutZero,
    Zswpin,
    Zswpout,
    Zswpwb,
    ThpFaultAlloc,
    ThpCollapseAlloc,
    ThpSwpout,
    ThpSwpoutFallback,
    NumaPagesMigrated,
    NumaPteUpdates,
    NumaHintFaults,
    Pgpgin,
    Pgpgout,
}

pub const NR_STATS: usize = Stat::Pgpgout as usize + 1;

/// Kernel configuration that decides which `memory.stat` keys exist (a typical x86_64 distribution kernel by
/// default: CONFIG_ZSWAP, CONFIG_TRANSPARENT_HUGEPAGE, CONFIG_NUMA_BALANCING all on).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemcgStatConfig {
    pub zswap: bool,
    pub thp: bool,
    pub numa_balancing: bool,
}

impl Default for MemcgStatConfig {
    fn default() -> Self {
        MemcgStatConfig { zswap: true, thp: true, numa_balancing: true }
    }
}

/// One memory cgroup (`struct mem_cgroup`).
#[derive(Clone, Debug)]
pub struct MemCgroup {
    /// Absolute path: `/` for the root, else `/A/B`.
    pub path: String,
    pub parent: Option<MemcgId>,
    pub children: Vec<MemcgId>,
    /// `memcg->memory`.
    pub memory: CounterId,
    /// v1: `memcg->memsw` (memory + swap).
    pub memsw: Option<CounterId>,
    /// v1: `memcg->kmem` (usage only; its limit is ignored).
    pub kmem: Option<CounterId>,
    /// v2: `memcg->swap`.
    pub swap: Option<CounterId>,
    /// v1 soft limit, pages (PAGE_COUNTER_MAX = none).
    pub soft_limit: u64,
    /// v1 per-memcg swappiness (v2 and the v1 root use vm.swappiness).
    pub swappiness: u64,
    /// v1 memory.oom_control oom_kill_disable.
    pub oom_kill_disable: bool,
    /// v2 memory.oom.group.
    pub oom_group: bool,
    /// `memory_events` (hierarchical in v2) and `memory_events_local`.
    pub events: [u64; MEMCG_NR_MEMORY_EVENTS],
    pub events_local: [u64; MEMCG_NR_MEMORY_EVENTS],
    /// v1 `under_oom` nesting count (memory.oom_control prints it as 0/1).
    pub under_oom: u64,
    /// Local statistics (this memcg's own pages and events only).
    pub stat: [i64; NR_STATS],
    /// v1 `events_percpu->nr_page_events` (one CPU): pages charged plus pages uncharged, the clock of the
    /// ratelimited v1 event checks (`memcg1_check_events`).
    pub nr_page_events: u64,
    /// v1 `events_percpu->targets[]`: the next THRESH and SOFTLIMIT check points.
    pub event_targets: [u64; 2],
    /// v1 soft limit tree: `mem_cgroup_per_node->on_tree` and the excess it was filed under (`usage_in_excess`,
    /// stale until the next tree update).
    pub soft_on_tree: bool,
    pub usage_in_excess: u64,
    /// `mem_cgroup_per_node->iter.position`: the last memcg a reclaim walk rooted here (with a reclaim cookie)
    /// returned; the next such walk resumes after it.
    pub reclaim_iter_pos: Option<MemcgId>,
}

/// State of one open `memory.peak` / `memory.swap.peak` file (`struct cgroup_of_peak`).
#[derive(Clone, Debug)]
struct PeakFd {
    memcg: MemcgId,
    swap: bool,
    /// None = OFP_PEAK_UNSET (never written: reads the global watermark).
    value: Option<u64>,
    open: bool,
}

/// Handle of an open peak file.
pub type PeakFdId = u32;

/// The memory cgroup hierarchy.
#[derive(Clone, Debug)]
pub struct MemCgroupTree {
    pub mode: CgroupMode,
    counters: PageCounterArena,
    memcgs: Vec<MemCgroup>,
    by_path: BTreeMap<String, MemcgId>,
    /// vm.swappiness (the v1 root's memory.swappiness reads and writes it).
    pub vm_swappiness: u64,
    /// cgroup2 mount option `memory_localevents`.
    pub memory_localevents: bool,
    /// cgroup2 mount option `memory_recursiveprot`.
    pub memory_recursiveprot: bool,
    /// Timer frequency for memory.high delays.
    pub hz: u64,
    pub stat_config: MemcgStatConfig,
    /// Model the per-CPU charge stock (one CPU). The engine's ops model has no stock: false.
    pub use_stock: bool,
    stock: Option<(MemcgId, u64)>,
    peak_fds: Vec<PeakFd>,
    /// v1 `soft_limit_tree` (one node): the memcgs filed above their soft limit, ascending by the excess they
    /// were filed under; equal excesses in filing order, so the last element is the rb-tree's rightmost.
    pub(crate) soft_limit_tree: Vec<MemcgId>,
}

impl Default for MemCgroupTree {
    /// An empty placeholder (no root, allocation-free): what the engine leaves behind while it lends its tree to
    /// the charge path (`std::mem::take`).
    fn default() -> Self {
        MemCgroupTree {
            mode: CgroupMode::V2,
            counters: PageCounterArena::new(),
            memcgs: Vec::new(),
            by_path: BTreeMap::new(),
            vm_swappiness: 60,
            memory_localevents: false,
            memory_recursiveprot: false,
            hz: 1000,
            stat_config: MemcgStatConfig::default(),
            use_stock: false,
            stock: None,
            peak_fds: Vec::new(),
            soft_limit_tree: Vec::new(),
        }
    }
}

impl MemCgroupTree {
    /// A hierarchy holding only the root. In v6.19 only the v1 `memory` counter tracks failcnt.
    pub fn new(mode: CgroupMode) -> Self {
        let mut t = MemCgroupTree { mode, ..Default::default() };
        t.alloc_memcg("/".to_string(), None);
        t
    }

    fn alloc_memcg(&mut self, path: String, parent: Option<MemcgId>) -> MemcgId {
        let id = self.memcgs.len() as MemcgId;
        let pm = parent.map(|p| self.memcgs[p as usize].clone());
        let v1 = self.mode == CgroupMode::V1;
        let memory = self.counters.alloc(pm.as_ref().map(|p| p.memory), v1, true);
        let (memsw, kmem, swap) = if v1 {
            (
                Some(self.counters.alloc(pm.as_ref().and_then(|p| p.memsw), false, false)),
                Some(self.counters.alloc(pm.as_ref().and_then(|p| p.kmem), false, false)),
                None,
            )
        } else {
            (None, None, Some(self.counters.alloc(pm.as_ref().and_then(|p| p.swap), false, false)))
        };
        // mem_cgroup_css_alloc: a v1 child starts with its parent's swappiness and oom_kill_disable.
        let (swappiness, oom_kill_disable) = match parent {
            Some(p) => (self.mem_cgroup_swappiness(p), self.memcgs[p as usize].oom_kill_disable),
            None => (self.vm_swappiness, false),
        };
        self.memcgs.push(MemCgroup {
            path: path.clone(),
            parent,
            children: Vec::new(),
            memory,
            memsw,
            kmem,
            swap,
            soft_limit: PAGE_COUNTER_MAX,
            swappiness,
            oom_kill_disable,
            oom_group: false,
            events: [0; MEMCG_NR_MEMORY_EVENTS],
            events_local: [0; MEMCG_NR_MEMORY_EVENTS],
            under_oom: 0,
            stat: [0; NR_STATS],
            nr_page_events: 0,
            event_targets: [0; 2],
            soft_on_tree: false,
            usage_in_excess: 0,
            reclaim_iter_pos: None,
        });
        if let Some(p) = parent {
            self.memcgs[p as usize].children.push(id);
        }
        self.by_path.insert(path, id);
        id
    }

    /// mkdir of a cgroup (`cgroup_mkdir` + `mem_cgroup_css_alloc`): the parent must exist (ENOENT); an existing
    /// name is EEXIST in the kernel, reported as EINVAL because `Errno` has no EEXIST. Paths are absolute
    /// without a trailing slash. A v1 child inherits swappiness and oom_kill_disable from its parent.
    pub fn mkdir(&mut self, path: &str) -> Result<MemcgId, Errno> {
        let (parent_path, name) = split_path(path).ok_or(Errno::EINVAL)?;
        if name.is_empty() || name == "." || name == ".." {
            return Err(Errno::EINVAL);
        }
        let parent = self.lookup(parent_path).ok_or(Errno::ENOENT)?;
        if self.by_path.contains_key(path) {
            // EEXIST in the kernel; `Errno` has no EEXIST, so the caller sees EINVAL.
            return Err(Errno::EINVAL);
        }
        Ok(self.alloc_memcg(path.to_string(), Some(parent)))
    }

    /// The memcg with this absolute path.
    pub fn lookup(&self, path: &str) -> Option<MemcgId> {
        self.by_path.get(path).copied()
    }

    pub fn root(&self) -> MemcgId {
        ROOT_MEMCG
    }

    pub fn len(&self) -> usize {
        self.memcgs.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn memcg(&self, id: MemcgId) -> &MemCgroup {
        &self.memcgs[id as usize]
    }

    pub fn memcg_mut(&mut self, id: MemcgId) -> &mut MemCgroup {
        &mut self.memcgs[id as usize]
    }

    pub fn path(&self, id: MemcgId) -> &str {
        &self.memcgs[id as usize].path
    }

    /// `parent_mem_cgroup`.
    pub fn parent(&self, id: MemcgId) -> Option<MemcgId> {
        self.memcgs[id as usize].parent
    }

    pub fn is_root(&self, id: MemcgId) -> bool {
        id == ROOT_MEMCG
    }

    /// `mem_cgroup_is_descendant(memcg, root)`: memcg is root or below it.
    pub fn is_descendant(&self, memcg: MemcgId, root: MemcgId) -> bool {
        let mut cur = Some(memcg);
        while let Some(c) = cur {
            if c == root {
                return true;
            }
            cur = self.parent(c);
        }
        false
    }

    /// All memcgs of the subtree rooted at `id`, parents before children (`for_each_mem_cgroup_tree`).
    pub fn subtree(&self, id: MemcgId) -> Vec<MemcgId> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            out.extend(self.memcgs[out[i] as usize].children.iter().copied());
            i += 1;
        }
        out
    }

    pub fn counters(&self) -> &PageCounterArena {
        &self.counters
    }

    /// The memcg's `memory` page_counter.
    pub fn memory(&self, id: MemcgId) -> &PageCounter {
        self.counters.get(self.memcgs[id as usize].memory)
    }

    /// The v1 `memsw` counter.
    pub fn memsw(&self, id: MemcgId) -> Option<&PageCounter> {
        self.memcgs[id as usize].memsw.map(|c| self.counters.get(c))
    }

    /// The v1 `kmem` counter.
    pub fn kmem(&self, id: MemcgId) -> Option<&PageCounter> {
        self.memcgs[id as usize].kmem.map(|c| self.counters.get(c))
    }

    /// The v2 `swap` counter.
    pub fn swap(&self, id: MemcgId) -> Option<&PageCounter> {
        self.memcgs[id as usize].swap.map(|c| self.counters.get(c))
    }

    /// `do_memsw_account()`.
    pub fn do_memsw_account(&self) -> bool {
        self.mode == CgroupMode::V1
    }

    // ---------------------------------------------------------------------------------------------------------
    // Counter-level charging (used by the charge path and by the engine directly).

    /// `page_counter_try_charge` on the memcg's hierarchy as the `charge` op does: v1 tries memsw first, then
    /// memory (a memory failure undoes the memsw part). No stock, reclaim, events or OOM. The error is the memcg
    /// whose counter failed (`mem_over_limit`) and whether that counter was memsw.
    pub fn counter_try_charge(&mut self, id: MemcgId, nr_pages: u64) -> Result<(), (MemcgId, bool)> {
        let m = &self.memcgs[id as usize];
        let (memory, memsw) = (m.memory, m.memsw);
        if let Some(sw) = memsw {
            if let Err(c) = self.counters.try_charge(sw, nr_pages) {
                return Err((self.memcg_of_counter(c), true));
            }
        }
        match self.counters.try_charge(memory, nr_pages) {
            Ok(()) => Ok(()),
            Err(c) => {
                if let Some(sw) = memsw {
                    self.counters.uncharge(sw, nr_pages);
                }
                Err((self.memcg_of_counter(c), false))
            }
        }
    }

    /// Take back the `failcnt` increment of a failed [`MemCgroupTree::counter_try_charge`] (the engine's
    /// allocation-free fast path probes the counters before it runs the full charge path, whose own first attempt
    /// is the one the kernel counts).
    pub fn undo_failcnt(&mut self, over: MemcgId, memsw: bool) {
        let m = &self.memcgs[over as usize];
        let c = if memsw { m.memsw } else { Some(m.memory) };
        if let Some(c) = c {
            let pc = self.counters.get_mut(c);
            if pc.track_failcnt {
                pc.failcnt = pc.failcnt.saturating_sub(1);
            }
        }
    }

    /// Forced charge of memory (and v1 memsw): `page_counter_charge`, no limit check.
    pub fn counter_charge(&mut self, id: MemcgId, nr_pages: u64) {
        let m = &self.memcgs[id as usize];
        let (memory, memsw) = (m.memory, m.memsw);
        self.counters.charge(memory, nr_pages);
        if let Some(sw) = memsw {
            self.counters.charge(sw, nr_pages);
        }
    }

    /// Uncharge pages (a folio uncharge, or the `uncharge` op): memory and, in v1, memsw. Returns true when a
    /// counter would have gone negative (clamped, the kernel warns). It does not wake v1 OOM waiters: folio
    /// uncharges call `memcg1_oom_recover` in the engine (`MemcgEnv::memcg1_oom_recover`).
    pub fn uncharge(&mut self, id: MemcgId, nr_pages: u64) -> bool {
        let m = &self.memcgs[id as usize];
        let (memory, memsw) = (m.memory, m.memsw);
        let mut w = self.counters.uncharge(memory, nr_pages);
        if let Some(sw) = memsw {
            w |= self.counters.uncharge(sw, nr_pages);
        }
        w
    }

    /// Swap-out of `nr_pages` charged pages (`mem_cgroup_swapout` v1 / the folio uncharge v2): the memory
    /// counter is uncharged; v1 memsw keeps the charge (the page now sits in swap).
    pub fn swapout(&mut self, id: MemcgId, nr_pages: u64) {
        let memory = self.memcgs[id as usize].memory;
        self.counters.uncharge(memory, nr_pages);
    }

    /// `__mem_cgroup_try_charge_swap`: v2 charges the swap counter; on failure it raises `max` and `fail` swap
    /// events on the memcg and the page is not swapped (false). v1 charges nothing here (memsw already holds
    /// the page). The MEMCG_SWAP statistic is updated on success.
    pub fn try_charge_swap(&mut self, id: MemcgId, nr_pages: u64) -> bool {
        if let Some(sw) = self.memcgs[id as usize].swap {
            if self.counters.try_charge(sw, nr_pages).is_err() {
                self.memcg_memory_event(id, MemcgEvent::SwapMax);
                self.memcg_memory_event(id, MemcgEvent::SwapFail);
                return false;
            }
        }
        self.mod_stat(id, Stat::Swap, nr_pages as i64);
        true
    }

    /// `__mem_cgroup_uncharge_swap`: a swap entry freed (or swapped in): v1 uncharges memsw, v2 the swap
    /// counter; MEMCG_SWAP decreases.
    pub fn uncharge_swap(&mut self, id: MemcgId, nr_pages: u64) {
        let m = &self.memcgs[id as usize];
        if let Some(sw) = m.memsw.or(m.swap) {
            self.counters.uncharge(sw, nr_pages);
        }
        self.mod_stat(id, Stat::Swap, -(nr_pages as i64));
    }

    /// v1 kmem usage (kernel memory the engine charges in v1; the counter has no effect on limits).
    pub fn kmem_charge(&mut self, id: MemcgId, nr_pages: i64) {
        if let Some(k) = self.memcgs[id as usize].kmem {
            if nr_pages >= 0 {
                self.counters.charge(k, nr_pages as u64);
            } else {
                self.counters.uncharge(k, nr_pages.unsigned_abs());
            }
        }
    }

    fn memcg_of_counter(&self, c: CounterId) -> MemcgId {
        self.memcgs
            .iter()
            .position(|m| m.memory == c || m.memsw == Some(c) || m.swap == Some(c) || m.kmem == Some(c))
            .expect("counter belongs to a memcg") as MemcgId
    }

    // ---------------------------------------------------------------------------------------------------------
    // Per-CPU stock (one CPU; only with `use_stock`).

    /// `consume_stock`.
    fn consume_stock(&mut self, id: MemcgId, nr_pages: u64) -> bool {
        match &mut self.stock {
            Some((m, n)) if *m == id && *n >= nr_pages => {
                *n -= nr_pages;
                true
            }
            _ => false,
        }
    }

    /// `refill_stock`: another memcg's stock is drained first.
    fn refill_stock(&mut self, id: MemcgId, nr_pages: u64) {
        if let Some((m, _)) = self.stock {
            if m != id {
                self.drain_stock();
            }
        }
        match &mut self.stock {
            Some((_, n)) => *n += nr_pages,
            None => self.stock = Some((id, nr_pages)),
        }
    }

    /// `drain_stock`: the stocked pre-charge is uncharged.
    pub fn drain_stock(&mut self) {
        if let Some((m, n)) = self.stock.take() {
            if n > 0 {
                self.uncharge(m, n);
            }
        }
    }

    /// `drain_all_stock(root_memcg)`: drains the stock if it belongs to the subtree.
    pub fn drain_all_stock(&mut self, root: MemcgId) {
        if let Some((m, _)) = self.stock {
            if self.is_descendant(m, root) {
                self.drain_stock();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events.

    /// `memcg_memory_event`: `events_local` on the memcg; `events` on it and, in v2 without
    /// `memory_localevents`, on every ancestor except the root. (In v1 the events do not propagate.)
    pub fn memcg_memory_event(&mut self, id: MemcgId, event: MemcgEvent) {
        let e = event as usize;
        let v2 = self.mode == CgroupMode::V2;
        self.memcgs[id as usize].events_local[e] += 1;
        let mut cur = id;
        loop {
            self.memcgs[cur as usize].events[e] += 1;
            if !v2 || self.memory_localevents {
                break;
            }
            match self.parent(cur) {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => break,
            }
        }
    }

    pub fn events(&self, id: MemcgId, event: MemcgEvent) -> u64 {
        self.memcgs[id as usize].events[event as usize]
    }

    pub fn events_local(&self, id: MemcgId, event: MemcgEvent) -> u64 {
        self.memcgs[id as usize].events_local[event as usize]
    }

    // ---------------------------------------------------------------------------------------------------------
    // Statistics.

    /// `mod_memcg_state` / `count_memcg_events` on the memcg's local statistics.
    pub fn mod_stat(&mut self, id: MemcgId, item: Stat, delta: i64) {
        let s = &mut self.memcgs[id as usize].stat[item as usize];
        *s = s.wrapping_add(delta);
    }

    pub fn stat_local(&self, id: MemcgId, item: Stat) -> i64 {
        self.memcgs[id as usize].stat[item as usize]
    }

    /// Hierarchical value (the memcg and all its descendants), as rstat aggregates it.
    pub fn stat_recursive(&self, id: MemcgId, item: Stat) -> i64 {
        self.subtree(id).iter().map(|&m| self.memcgs[m as usize].stat[item as usize]).sum()
    }

    // ---------------------------------------------------------------------------------------------------------
    // Limits and OOM helpers.

    /// `mem_cgroup_swappiness`: v1 non-root memcgs have their own; v2 and the v1 root use vm.swappiness.
    pub fn mem_cgroup_swappiness(&self, id: MemcgId) -> u64 {
        if self.mode == CgroupMode::V2 || id == ROOT_MEMCG {
            self.vm_swappiness
        } else {
            self.memcgs[id as usize].swappiness
        }
    }

    /// `mem_cgroup_margin`: pages that can still be charged before memory.max (and in v1 memsw.max).
    pub fn mem_cgroup_margin(&self, id: MemcgId) -> u64 {
        let mem = self.memory(id);
        let mut margin = mem.max.saturating_sub(mem.usage);
        if let Some(sw) = self.memsw(id) {
            margin = if sw.usage < sw.max { margin.min(sw.max - sw.usage) } else { 0 };
        }
        margin
    }

    /// `mem_cgroup_get_max`: the memcg OOM's `totalpages` base: memory.max plus, when swappiness is not 0, the
    /// swap it may use: v1 `min(memsw.max - memory.max, total_swap_pages)`, v2 `min(swap.max, total_swap_pages)`.
    pub fn mem_cgroup_get_max(&self, id: MemcgId, total_swap_pages: u64) -> u64 {
        let max = self.memory(id).max;
        if self.mem_cgroup_swappiness(id) == 0 {
            return max;
        }
        let swap = match self.mode {
            CgroupMode::V1 => self.memsw(id).map_or(0, |c| c.max.wrapping_sub(max)),
            CgroupMode::V2 => self.swap(id).map_or(0, |c| c.max),
        };
        max.wrapping_add(swap.min(total_swap_pages))
    }

    /// `mem_cgroup_get_oom_group(victim, oom_domain)`: v2 only. From the victim's memcg up to the OOM domain
    /// (the root when `oom_domain` is None), the highest memcg with memory.oom.group set. None when the victim is
    /// in the root memcg or outside the domain.
    pub fn mem_cgroup_get_oom_group(&self, victim_memcg: MemcgId, oom_domain: Option<MemcgId>) -> Option<MemcgId> {
        if self.mode != CgroupMode::V2 {
            return None;
        }
        let domain = oom_domain.unwrap_or(ROOT_MEMCG);
        if victim_memcg == ROOT_MEMCG || !self.is_descendant(victim_memcg, domain) {
            return None;
        }
        let mut group = None;
        let mut cur = Some(victim_memcg);
        while let Some(c) = cur {
            if self.memcgs[c as usize].oom_group {
                group = Some(c);
            }
            if c == domain {
                break;
            }
            cur = self.parent(c);
        }
        group
    }

    /// Whether the memcg or an ancestor has memory (or swap) usage above its high limit: the condition that
    /// makes a successful charge account over-high pages (`try_charge_memcg`'s tail).
    #[inline]
    pub fn over_high(&self, id: MemcgId) -> bool {
        let mut cur = id;
        loop {
            let m = &self.memcgs[cur as usize];
            let mem = self.counters.get(m.memory);
            if mem.usage > mem.high {
                return true;
            }
            if let Some(sw) = m.swap {
                let s = self.counters.get(sw);
                if s.usage > s.high {
                    return true;
                }
            }
            match m.parent {
                // the root's high is never set (no memory.high file on the root)
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return false,
            }
        }
    }

    /// `mem_cgroup_calculate_protection(root, memcg)`: effective min/low of `memcg` for a reclaim rooted at
    /// `reclaim_root` (None = the root memcg). Call top-down.
    pub fn mem_cgroup_calculate_protection(&mut self, reclaim_root: Option<MemcgId>, id: MemcgId) {
        let root = self.memcgs[reclaim_root.unwrap_or(ROOT_MEMCG) as usize].memory;
        let c = self.memcgs[id as usize].memory;
        let rec = self.memory_recursiveprot;
        self.counters.calculate_protection(root, c, rec);
    }

    /// `mem_cgroup_unprotected`: the root and the reclaim target are never protected.
    fn unprotected(&self, target: Option<MemcgId>, id: MemcgId) -> bool {
        id == ROOT_MEMCG || Some(id) == target
    }

    /// `mem_cgroup_below_min`: emin >= usage.
    pub fn mem_cgroup_below_min(&self, target: Option<MemcgId>, id: MemcgId) -> bool {
        !self.unprotected(target, id) && self.memory(id).emin >= self.memory(id).usage
    }

    /// `mem_cgroup_below_low`: elow >= usage.
    pub fn mem_cgroup_below_low(&self, target: Option<MemcgId>, id: MemcgId) -> bool {
        !self.unprotected(target, id) && self.memory(id).elow >= self.memory(id).usage
    }

    /// `mem_find_max_overage`: the largest memory.high overage of the memcg and its non-root ancestors.
    pub fn mem_find_max_overage(&self, id: MemcgId) -> u64 {
        let mut max = 0;
        let mut cur = id;
        loop {
            let c = self.memory(cur);
            max = max.max(calculate_overage(c.usage, c.high));
            match self.parent(cur) {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return max,
            }
        }
    }

    /// `swap_find_max_overage`: the same for swap.high (v2), raising `swap_high` (MEMCG_SWAP_HIGH) on every
    /// memcg over it.
    pub fn swap_find_max_overage(&mut self, id: MemcgId) -> u64 {
        let mut max = 0;
        let mut cur = id;
        loop {
            if let Some(sw) = self.swap(cur) {
                let o = calculate_overage(sw.usage, sw.high);
                if o != 0 {
                    self.memcg_memory_event(cur, MemcgEvent::SwapHigh);
                }
                max = max.max(o);
            }
            match self.parent(cur) {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return max,
            }
        }
    }

    /// v1 `under_oom` is raised on the whole subtree (`mem_cgroup_mark_under_oom`) while a task waits in
    /// `mem_cgroup_oom_synchronize`.
    pub fn mark_under_oom(&mut self, id: MemcgId) {
        for m in self.subtree(id) {
            self.memcgs[m as usize].under_oom += 1;
        }
    }

    /// `mem_cgroup_unmark_under_oom`: the waiter is gone.
    pub fn unmark_under_oom(&mut self, id: MemcgId) {
        for m in self.subtree(id) {
            let u = &mut self.memcgs[m as usize].under_oom;
            *u = u.saturating_sub(1);
        }
    }

    /// `memcg_oom_wake_function`'s filter: a wake-up on `woken` reaches a task waiting on `waiter` when one is an
    /// ancestor of the other (or they are equal).
    pub fn oom_wake_matches(&self, woken: MemcgId, waiter: MemcgId) -> bool {
        self.is_descendant(woken, waiter) || self.is_descendant(waiter, woken)
    }

    // ---------------------------------------------------------------------------------------------------------
    // memory.peak file descriptors.

    /// Open `memory.peak` (swap=false) or `memory.swap.peak` (swap=true) of a memcg.
    pub fn peak_open(&mut self, id: MemcgId, swap: bool) -> PeakFdId {
        self.peak_fds.push(PeakFd { memcg: id, swap, value: None, open: true });
        (self.peak_fds.len() - 1) as PeakFdId
    }

    /// Close a peak fd (`peak_release`).
    pub fn peak_close(&mut self, fd: PeakFdId) {
        if let Some(f) = self.peak_fds.get_mut(fd as usize) {
            f.open = false;
        }
    }

    fn peak_counter(&self, id: MemcgId, swap: bool) -> Option<CounterId> {
        let m = &self.memcgs[id as usize];
        if swap {
            m.swap
        } else {
            Some(m.memory)
        }
    }

    /// `peak_show` through an fd, in pages: the global watermark for an fd never written, else
    /// max(fd value, local_watermark).
    pub fn peak_read(&self, fd: PeakFdId) -> Option<u64> {
        let f = self.peak_fds.get(fd as usize).filter(|f| f.open)?;
        let c = self.counters.get(self.peak_counter(f.memcg, f.swap)?);
        Some(match f.value {
            None => c.watermark,
            Some(v) => v.max(c.local_watermark),
        })
    }

    /// `peak_write`: any non-empty write resets: `local_watermark` becomes the current usage, every other fd
    /// that was reset keeps the peak it has seen so far (its value is raised to the old local watermark), and
    /// this fd's value becomes the current usage.
    pub fn peak_write(&mut self, fd: PeakFdId, value: &str) -> Result<(), Errno> {
        let f = self.peak_fds.get(fd as usize).filter(|f| f.open).ok_or(Errno::EINVAL)?;
        if value.is_empty() {
            return Ok(());
        }
        let (memcg, swap) = (f.memcg, f.swap);
        let cid = self.peak_counter(memcg, swap).ok_or(Errno::EINVAL)?;
        let c = self.counters.get(cid);
        let (usage, old_local) = (c.usage, c.local_watermark);
        for p in self.peak_fds.iter_mut() {
            if p.open && p.memcg == memcg && p.swap == swap {
                if let Some(v) = &mut p.value {
                    *v = (*v).max(old_local);
                }
            }
        }
        self.counters.get_mut(cid).local_watermark = usage;
        self.peak_fds[fd as usize].value = Some(usage);
        Ok(())
    }

}

/// `calculate_overage(usage, high)`: how far usage is over high, as a 2^20 fixed-point fraction of high
/// (a high of 0 counts as 1 page); 0 when usage <= high.
pub fn calculate_overage(usage: u64, high: u64) -> u64 {
    if usage <= high {
        return 0;
    }
    let high = high.max(1);
    ((usage - high) << MEMCG_DELAY_PRECISION_SHIFT) / high
}

/// `calculate_high_delay(memcg, nr_pages, max_overage)`: the throttling penalty in jiffies before clamping:
/// `((overage^2 * HZ) >> 20 >> 14) * nr_pages / 64`, 0 without overage (u64, wrapping as in C).
pub fn calculate_high_delay(max_overage: u64, nr_pages: u64, hz: u64) -> u64 {
    if max_overage == 0 {
        return 0;
    }
    let p = max_overage.wrapping_mul(max_overage).wrapping_mul(hz) >> MEMCG_DELAY_PRECISION_SHIFT
        >> MEMCG_DELAY_SCALING_SHIFT;
    p.wrapping_mul(nr_pages) / MEMCG_CHARGE_BATCH
}

/// MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ: the clamp of the penalty.
pub fn clamp_high_delay(penalty: u64, hz: u64) -> u64 {
    penalty.min(2 * hz)
}

/// Whether `__mem_cgroup_handle_over_high` sleeps for a (clamped) penalty: only above HZ/100 (10 ms).
pub fn high_delay_sleeps(clamped: u64, hz: u64) -> bool {
    clamped > hz / 100
}

/// Splits `/A/B` into (`/A`, `B`), `/A` into (`/`, `A`). None for the root or a relative path.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    if !path.starts_with('/') || path == "/" || path.ends_with('/') {
        return None;
    }
    let i = path.rfind('/')?;
    Some((if i == 0 { "/" } else { &path[..i] }, &path[i + 1..]))
}

#[cfg(test)]
mod tests;
