//! Memory cgroups, v1 and v2 (mm/memcontrol.c, mm/memcontrol-v1.c): the hierarchy of memcgs with their page
//! counters, settings, events and statistics, and the kernel functions that act on them.
//!
//! * `charge`: `try_charge_memcg` (the charge retry loop), `mem_cgroup_oom`, `__mem_cgroup_handle_over_high`,
//!   with reclaim and the OOM killer behind the `MemcgEnv` trait the engine implements.
//! * `files`: the cgroup interface files (read and write, v1 and v2), `memory.stat`, and the memcg part of the
//!   OOM report.
//! * `v1`: cgroup v1 only rules (`mem_cgroup_resize_max`, `memory.oom_control`, soft limit).
//! * `counters`, `limits`: the rest of the tree's methods (counter-level charging, stock, events, statistics;
//!   limit and OOM helpers, memory.peak fds, the memory.high delay math).
//! * `engine`: the tree wired into the engine (charge of user pages, cgroup files and moves, v1 OOM wait).
//!
//! Every memcg is addressed by a `MemcgId` (index into the tree); the root is `ROOT_MEMCG`. Amounts are pages.

pub mod charge;
mod counters;
pub mod engine;
pub mod files;
pub mod v1;
mod limits;

pub use limits::{calculate_high_delay, calculate_overage, clamp_high_delay, high_delay_sleeps, split_path};

use crate::errno::Errno;
use crate::page_counter::{CounterId, PageCounter, PageCounterArena, PAGE_COUNTER_MAX};
use std::collections::BTreeMap;

pub use charge::{ChargeGfp, ChargeResult, ChargeTask, MemcgEnv};

pub use crate::types::{MemcgId, ROOT_MEMCG};

/// No memcg recorded for a swap slot.
pub const NO_MEMCG: u32 = u32::MAX;

/// An open cgroup file (`cgroup_open`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CgroupFd {
    pub memcg: MemcgId,
    pub file: String,
    /// `memory.peak` / `memory.swap.peak` keep per-fd state.
    pub peak: Option<PeakFdId>,
}

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
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    #[serde(with = "crate::snapshot::serde_array::array")]
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
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MemCgroupTree {
    pub mode: CgroupMode,
    counters: PageCounterArena,
    memcgs: Vec<MemCgroup>,
    /// path -> id (derived from `memcgs`: not in a snapshot, rebuilt by `rebuild_path_index`).
    #[serde(skip)]
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

    /// A restored tree is well formed (ids and counter ids in range, one memcg per path, parents before
    /// children) and its path index is rebuilt (snapshot/check.rs).
    pub(crate) fn rebuild_path_index(&mut self) -> Result<(), String> {
        let n = self.memcgs.len();
        let nc = self.counters.len();
        if n == 0 {
            return Err("memcg: no root".into());
        }
        self.counters.check_parents()?;
        self.by_path.clear();
        for (id, m) in self.memcgs.iter().enumerate() {
            let ids_ok = m.parent.is_none_or(|p| (p as usize) < id) && (id == 0) == m.parent.is_none() && m.children.iter().all(|&c| (c as usize) < n && c as usize > id);
            let counters_ok = [Some(m.memory), m.memsw, m.kmem, m.swap].into_iter().flatten().all(|c| (c as usize) < nc);
            let more_ok = m.reclaim_iter_pos.is_none_or(|p| (p as usize) < n);
            if !ids_ok || !counters_ok || !more_ok || self.by_path.insert(m.path.clone(), id as MemcgId).is_some() {
                return Err(format!("memcg {id} ({:?}) is inconsistent", m.path));
            }
        }
        let ids_ok = |v: &[MemcgId]| v.iter().all(|&i| (i as usize) < n);
        if !ids_ok(&self.soft_limit_tree) || self.stock.is_some_and(|(m, _)| m as usize >= n) || self.peak_fds.iter().any(|p| p.memcg as usize >= n) {
            return Err("memcg: an id out of range".into());
        }
        Ok(())
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
}

#[cfg(test)]
mod tests;
