//! The simulated machine: one node with one Normal zone, tasks, address spaces, the page cache, swap, the
//! overcommit counter, sysctls and the /proc views built from them.
//!
//! The syscalls and faults are implemented beside the kernel files they restate, as `impl Kernel` blocks:
//! mmap.rs (mmap/munmap/brk/mprotect/madvise), memory.rs (faults, touch), fork.rs (fork/vfork/exec/exit),
//! filemap.rs/shmem (file read/write), swapfile.rs (swap-out); user pages are allocated/charged and
//! freed/uncharged in one place, page_alloc/engine.rs (`alloc_user_page`/`free_user_page`, rmap, the slow path).
//! This file holds the machine, the task table, the overcommit entry (`vm_enough`), sysctls and meminfo.
//!
//! Simulation outcomes (ENOMEM, ENOSPC, SIGSEGV) are results (`SysResult`) and events; `ApiError` is only for
//! input the simulated kernel could never receive (unknown pid, a size beyond the simulator's limits).

use crate::errno::{ApiError, Errno};
pub use crate::types::{AllocFail, CowKind, FaultKind, SysResult, MAX_MAP_PAGES, MMAP_BASE, START_BRK, TASK_SIZE_PAGES};
use crate::event::{Event, EventKind};
use crate::filemap::File;
use crate::mm_types::Mm;
use crate::page_alloc::frames::FrameAllocator;
use crate::page_alloc::zone::{calculate_min_free_kbytes, setup_per_zone_wmarks, ZoneSpec, ZoneType, ZoneWatermarks};
use crate::rand::Rng;
use crate::swapfile::SwapInfo;
use crate::task::{Task, TaskState, TaskTable};
use crate::util::{vm_commit_limit, vm_enough_memory, MemTotals, OvercommitPolicy, OvercommitSysctls};
use crate::vmstat::{Vmstat, VmstatCounters};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineConfig {
    /// Managed RAM in pages (MemTotal), the hugetlb pool included.
    pub totalram_pages: u32,
    pub seed: u64,
    /// Swap space in pages.
    pub total_swap_pages: u32,
    /// Preallocated hugetlb pool in base pages (2 MiB huge pages), part of totalram and never free.
    pub hugetlb_total_pages: u32,
    /// Committed_AS of processes outside the model, pages.
    pub committed_as_pages: i64,
    /// Count page-table pages in pgtables_bytes / VmPTE / PageTables. The `ops` check turns it off
    /// (vectors-format.md §6.2 rule 4: page tables are not modelled there).
    pub model_page_tables: bool,
    /// The memory cgroup hierarchy mounted (v1 with memsw accounting, or v2); only the root exists at boot.
    pub cgroup_mode: crate::memcontrol::CgroupMode,
    /// The simulated-time cost model (vmscan.rs `CostModel`).
    pub cost: crate::vmscan::CostModel,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig { totalram_pages: 262144, seed: 0, total_swap_pages: 0, hugetlb_total_pages: 0, committed_as_pages: 0, model_page_tables: true, cgroup_mode: crate::memcontrol::CgroupMode::V2, cost: crate::vmscan::CostModel::default() }
    }
}

/// The hasher of the pid index: one multiplication (Fibonacci hashing). Deterministic and cheap; pids are not
/// adversarial input, so SipHash's protection is not needed on the fault path (every fault looks its task up).
#[derive(Default, Clone, Copy)]
pub struct PidHasher(u64);

impl std::hash::Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Sysctls under /proc/sys/vm that the engine models.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sysctls {
    pub overcommit: OvercommitSysctls,
    pub swappiness: i64,
    pub panic_on_oom: i64,
    pub oom_kill_allocating_task: i64,
    pub oom_dump_tasks: i64,
    pub min_free_kbytes: i64,
    /// Set when the admin wrote vm.min_free_kbytes (mm/page_alloc.c:`user_min_free_kbytes`).
    pub user_min_free_kbytes: i64,
    pub watermark_scale_factor: i64,
}

/// The sysctl names, as /proc/sys/vm spells them with the `vm.` prefix.
pub const SYSCTL_NAMES: &[&str] = &[
    "vm.overcommit_memory",
    "vm.overcommit_ratio",
    "vm.overcommit_kbytes",
    "vm.admin_reserve_kbytes",
    "vm.user_reserve_kbytes",
    "vm.swappiness",
    "vm.panic_on_oom",
    "vm.oom_kill_allocating_task",
    "vm.oom_dump_tasks",
    "vm.min_free_kbytes",
    "vm.watermark_scale_factor",
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// User data pages (anon, page cache, shmem) allocated since boot.
    pub pages_allocated: u64,
    pub faults_minor: u64,
    pub faults_major: u64,
}

#[derive(Clone, Debug)]
pub struct Kernel {
    pub config: MachineConfig,
    pub frames: FrameAllocator,
    /// Live tasks in creation order (the order the OOM killer scans).
    pub tasks: TaskTable,
    /// Address spaces; `None` marks a free slot.
    pub mms: Vec<Option<Mm>>,
    pub files: Vec<File>,
    pub swap: SwapInfo,
    pub vmstat: VmstatCounters,
    pub sysctl: Sysctls,
    pub wmark: ZoneWatermarks,
    /// vm_committed_as, pages (exact).
    pub committed: i64,
    /// Huge pages of the hugetlb pool reserved by mappings (`resv_huge_pages`).
    pub hugetlb_resv: u64,
    pub stats: Stats,
    pub last_fault: FaultKind,
    pub last_cow: CowKind,
    pub rng: Rng,
    pub(crate) next_anon_vma: u32,
    pub log: Vec<String>,
    events: Vec<Event>,
    pub(crate) now_ns: u64,
    /// pid -> index in `tasks` (kept in step with every insertion and removal).
    pid_index: HashMap<u32, u32, std::hash::BuildHasherDefault<PidHasher>>,
    /// Free slots of `mms`.
    pub(crate) free_mms: Vec<u32>,
    /// The OOM killer's engine state (panic, the `oom_killer_disable()` switch, reaper timers, records).
    pub oom: crate::oom_kill::engine::OomState,
    /// The memory cgroup hierarchy (memcontrol/engine.rs wires it into the engine).
    pub memcg: crate::memcontrol::MemCgroupTree,
    /// The memcg each swap slot's page was charged to (`swap_cgroup`); `NO_MEMCG` when none is recorded.
    pub(crate) swap_memcg: Vec<u32>,
    /// The task whose kernel entry is running and that entry's state (current.rs).
    pub(crate) current: crate::current::Current,
    /// Tasks woken from a v1 memcg OOM wait, to resume at the end of the current entry.
    pub(crate) oom_woken: Vec<u32>,
    pub(crate) cg_seq: u64,
    /// Open cgroup files (`cgroup_open`).
    pub(crate) cgroup_fds: Vec<crate::memcontrol::engine::CgroupFd>,
    /// One lruvec per memcg id (swap.rs): the LRU lists.
    pub(crate) lruvecs: Vec<crate::swap::Lruvec>,
    /// kswapd, the simulated-time cost model and PSI (vmscan.rs, psi.rs).
    pub reclaim: crate::vmscan::ReclaimState,
}

impl Kernel {
    pub fn new(config: MachineConfig) -> Result<Self, ApiError> {
        if config.totalram_pages == 0 {
            return Err(ApiError::new("E_ARG", format!("machine.totalram_pages: 0 is not allowed; expected 1..={} pages", crate::mm_types::MAX_PTE_FRAME)));
        }
        if config.hugetlb_total_pages > config.totalram_pages {
            return Err(ApiError::new("E_ARG", format!("machine.hugetlb_total_pages: {} exceeds totalram_pages {}; expected 0..=totalram_pages", config.hugetlb_total_pages, config.totalram_pages)));
        }
        if config.total_swap_pages >= (1 << 30) {
            return Err(ApiError::new("E_ARG", "machine.total_swap_pages: expected 0..=1073741823 pages"));
        }
        if config.totalram_pages > crate::mm_types::MAX_PTE_FRAME {
            return Err(ApiError::new("E_ARG", format!("machine.totalram_pages: expected 1..={} pages", crate::mm_types::MAX_PTE_FRAME)));
        }
        let mut frames = FrameAllocator::new(config.totalram_pages);
        frames.reserve_at_boot(config.hugetlb_total_pages);
        let free_kb = crate::pages_to_kb(config.totalram_pages as u64);
        let min_free = calculate_min_free_kbytes(free_kb) as i64;
        let sysctl = Sysctls {
            overcommit: OvercommitSysctls::defaults_for_free_kbytes(free_kb),
            swappiness: 60,
            panic_on_oom: 0,
            oom_kill_allocating_task: 0,
            oom_dump_tasks: 1,
            min_free_kbytes: min_free,
            user_min_free_kbytes: -1,
            watermark_scale_factor: 10,
        };
        let mut vmstat = VmstatCounters::default();
        vmstat.v[Vmstat::nr_free_pages as usize] = frames.nr_free() as u64;
        let config_mode = config.cgroup_mode;
        let swap_slots = config.total_swap_pages;
        let cost = config.cost;
        let mut k = Kernel {
            swap: {
                let mut sw = SwapInfo::new(config.total_swap_pages);
                if let Some(d) = sw.devices.first_mut() {
                    d.io = config.cost.swap_device;
                }
                sw
            },
            committed: config.committed_as_pages,
            rng: Rng::new(config.seed),
            config,
            frames,
            tasks: TaskTable::default(),
            mms: Vec::new(),
            files: Vec::new(),
            vmstat,
            sysctl,
            wmark: ZoneWatermarks::default(),
            hugetlb_resv: 0,
            stats: Stats::default(),
            last_fault: FaultKind::None,
            last_cow: CowKind::None,
            next_anon_vma: 1,
            log: Vec::new(),
            events: Vec::new(),
            now_ns: 0,
            pid_index: HashMap::default(),
            free_mms: Vec::new(),
            oom: Default::default(),
            memcg: crate::memcontrol::MemCgroupTree::new(config_mode),
            swap_memcg: vec![crate::memcontrol::engine::NO_MEMCG; swap_slots as usize],
            current: Default::default(),
            oom_woken: Vec::new(),
            cg_seq: 0,
            cgroup_fds: Vec::new(),
            lruvecs: Vec::new(),
            reclaim: crate::vmscan::ReclaimState::new(cost),
        };
        k.memcg.vm_swappiness = k.sysctl.swappiness as u64;
        k.setup_per_zone_wmarks();
        Ok(k)
    }

    pub fn totalram_pages(&self) -> u64 {
        self.config.totalram_pages as u64
    }

    pub fn nr_free_pages(&self) -> u64 {
        self.frames.nr_free() as u64
    }

    pub fn mem_totals(&self) -> MemTotals {
        MemTotals { totalram_pages: self.totalram_pages(), total_swap_pages: self.config.total_swap_pages as u64, hugetlb_total_pages: self.config.hugetlb_total_pages as u64 }
    }

    /// mm/page_alloc.c:`__setup_per_zone_wmarks` for the single Normal zone.
    pub fn setup_per_zone_wmarks(&mut self) {
        let zones = [ZoneSpec { kind: ZoneType::Normal, managed_pages: self.totalram_pages() }];
        let w = setup_per_zone_wmarks(self.sysctl.min_free_kbytes as u64, self.sysctl.watermark_scale_factor as u64, &zones);
        self.wmark = w[0];
    }

    // ---- tasks ------------------------------------------------------------------------------------------------

    /// Index of a live task in `tasks` (O(1) through the pid index).
    pub fn task_index(&self, pid: u32) -> Result<usize, ApiError> {
        self.pid_index
            .get(&pid)
            .map(|&i| i as usize)
            .ok_or_else(|| ApiError::errno("E_NOPID", Errno::ESRCH, format!("pid {pid}: no such live task")))
    }

    pub(crate) fn task_mut(&mut self, pid: u32) -> Option<&mut Task> {
        let i = *self.pid_index.get(&pid)? as usize;
        self.tasks.get_mut(i)
    }

    /// Append a new task (creation order) and index it.
    pub(crate) fn push_task(&mut self, t: Task) {
        let pid = t.pid;
        let slot = self.tasks.push(t);
        self.pid_index.insert(pid, slot as u32);
        self.oom_scan_task(slot);
    }

    /// Remove the task in slot `ti`; the others keep their slots and their creation order.
    pub(crate) fn remove_task(&mut self, ti: usize) -> Task {
        let t = self.tasks.remove(ti);
        self.pid_index.remove(&t.pid);
        self.oom_scan_task(ti);
        t
    }

    /// Refuse syscalls after a kernel panic (the machine has stopped).
    pub(crate) fn check_running(&self) -> Result<(), ApiError> {
        match &self.oom.panicked {
            Some(msg) => Err(ApiError::new("E_PANICKED", format!("the simulated kernel has panicked ({msg}); no further syscalls run. Start a new machine"))),
            None => Ok(()),
        }
    }

    /// The live tasks in creation order (the order `for_each_process` walks them).
    pub fn tasks(&self) -> impl Iterator<Item = &Task> + '_ {
        self.tasks.iter()
    }

    /// Take the kernel log lines printed since the last call, in order.
    pub fn drain_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }

    pub fn task(&self, pid: u32) -> Option<&Task> {
        self.pid_index.get(&pid).map(|&i| &self.tasks[i as usize])
    }

    pub fn mm(&self, id: u32) -> &Mm {
        self.mms[id as usize].as_ref().expect("live mm")
    }

    pub fn mm_mut(&mut self, id: u32) -> &mut Mm {
        self.mms[id as usize].as_mut().expect("live mm")
    }

    /// The mm of a live task.
    pub fn task_mm(&self, pid: u32) -> Result<&Mm, ApiError> {
        let ti = self.task_index(pid)?;
        Ok(self.mm(self.tasks[ti].mm))
    }

    pub(crate) fn new_mm(&mut self) -> u32 {
        let mm = Mm { users: 1, start_brk: START_BRK, brk: START_BRK, mmap_base: MMAP_BASE, ..Default::default() };
        let id = if let Some(i) = self.free_mms.pop() {
            self.mms[i as usize] = Some(mm);
            i
        } else {
            self.mms.push(Some(mm));
            (self.mms.len() - 1) as u32
        };
        self.oom_scan_mm(id);
        id
    }

    /// Create a process with an empty address space (as after exec), uid 1000, no capabilities.
    pub fn spawn(&mut self, pid: u32, comm: &str) -> Result<(), ApiError> {
        self.spawn_task(SpawnArgs { pid, comm: comm.to_string(), ..SpawnArgs::default() })
    }

    pub fn spawn_task(&mut self, a: SpawnArgs) -> Result<(), ApiError> {
        self.check_running()?;
        if a.pid == 0 || a.pid > 4_194_304 {
            return Err(ApiError::new("E_ARG", format!("spawn.pid: {} is not allowed; expected 1..=4194304 (pid_max)", a.pid)));
        }
        if self.task(a.pid).is_some() {
            return Err(ApiError::errno("E_ARG", Errno::EINVAL, format!("spawn.pid: pid {} is already in use", a.pid)));
        }
        if !crate::task::valid_oom_score_adj(a.oom_score_adj as i64) {
            return Err(ApiError::errno("E_ARG", Errno::EINVAL, format!("spawn.oom_score_adj: {} is out of range; expected -1000..=1000", a.oom_score_adj)));
        }
        let memcg = self.memcg.lookup(&a.cgroup).ok_or_else(|| ApiError::errno("E_ARG", Errno::ENOENT, format!("spawn.cgroup: {:?} does not exist; create it first (cgroup_create)", a.cgroup)))?;
        let cg_seq = self.next_cg_seq();
        let mm = self.new_mm();
        let comm = if a.comm.is_empty() { crate::task::default_comm(a.pid) } else { truncate_comm(&a.comm) };
        self.push_task(Task {
            pid: a.pid,
            ppid: 0,
            comm: comm.into(),
            uid: a.uid,
            cap_sys_admin: a.cap_sys_admin,
            oom_score_adj: a.oom_score_adj,
            oom_score_adj_min: 0,
            oom_victim: false,
            state: TaskState::Running,
            mm,
            in_vfork: false,
            min_flt: 0,
            maj_flt: 0,
            cgroup: a.cgroup.into(),
            memcg,
            cg_seq,
            memcg_nr_pages_over_high: 0,
            memcg_high_delay_jiffies: 0,
            memcg_high_slept_jiffies: 0,
            oom_wait: None,
        });
        self.event(EventKind::TaskNew, a.pid, 0, 0, 0);
        Ok(())
    }

    /// Write /proc/<pid>/oom_score_adj as a privileged admin (CAP_SYS_RESOURCE): -1000..=1000, otherwise EINVAL;
    /// see [`Kernel::write_oom_score_adj`] for the full rules (the admin's write also sets oom_score_adj_min).
    pub fn set_oom_score_adj(&mut self, pid: u32, adj: i64) -> Result<SysResult<()>, ApiError> {
        self.write_oom_score_adj(pid, adj, true)
    }

    // ---- overcommit ---------------------------------------------------------------------------------------------

    /// `security_vm_enough_memory_mm(mm, pages)`: mm/util.c:`__vm_enough_memory` with the caller's CAP_SYS_ADMIN,
    /// the mm's total_vm for the user reserve (None when there is no mm). Logs the kernel's warning on failure.
    pub(crate) fn vm_enough(&mut self, pid: Option<u32>, mm_total_vm: Option<u64>, pages: u64) -> SysResult<()> {
        let cap = pid.and_then(|p| self.task(p)).map(|t| t.cap_sys_admin).unwrap_or(true);
        let totals = self.mem_totals();
        let r = vm_enough_memory(&mut self.committed, pages as i64, &self.sysctl.overcommit, &totals, mm_total_vm, cap);
        if r.is_err() {
            let (p, comm) = pid.and_then(|p| self.task(p)).map(|t| (t.pid, t.comm.to_string())).unwrap_or((0, String::new()));
            self.log.push(crate::util::vm_enough_memory_warning(p, &comm, pages));
        }
        r
    }

    /// `vm_unacct_memory`.
    pub(crate) fn vm_unacct_memory(&mut self, pages: u64) {
        self.committed -= pages as i64;
    }

    /// Committed_AS in pages (`vm_memory_committed`: the exact sum, clamped at 0).
    pub fn committed_as_pages(&self) -> u64 {
        self.committed.max(0) as u64
    }

    pub fn commit_limit_pages(&self) -> u64 {
        vm_commit_limit(&self.sysctl.overcommit, &self.mem_totals())
    }

    pub fn overcommit_policy(&self) -> OvercommitPolicy {
        self.sysctl.overcommit.overcommit_memory
    }

    // ---- the one place user pages are allocated and freed ----------------------------------------------------------

    // ---- sysctls ------------------------------------------------------------------------------------------------

    /// Read a sysctl by name.
    pub fn sysctl_read(&self, name: &str) -> Result<i64, ApiError> {
        let s = &self.sysctl;
        Ok(match name {
            "vm.overcommit_memory" => s.overcommit.overcommit_memory as i64,
            "vm.overcommit_ratio" => s.overcommit.overcommit_ratio,
            "vm.overcommit_kbytes" => s.overcommit.overcommit_kbytes as i64,
            "vm.admin_reserve_kbytes" => s.overcommit.admin_reserve_kbytes as i64,
            "vm.user_reserve_kbytes" => s.overcommit.user_reserve_kbytes as i64,
            "vm.swappiness" => s.swappiness,
            "vm.panic_on_oom" => s.panic_on_oom,
            "vm.oom_kill_allocating_task" => s.oom_kill_allocating_task,
            "vm.oom_dump_tasks" => s.oom_dump_tasks,
            "vm.min_free_kbytes" => s.min_free_kbytes,
            "vm.watermark_scale_factor" => s.watermark_scale_factor,
            _ => return Err(unknown_sysctl(name)),
        })
    }

    /// Set a sysctl directly, as at boot (no handler side effects, no range check beyond the type's).
    pub fn sysctl_set_boot(&mut self, name: &str, value: i64) -> Result<(), ApiError> {
        let s = &mut self.sysctl;
        let bad = |what: &str| ApiError::errno("E_ARG", Errno::EINVAL, format!("machine.sysctl.{name}: {value} is not allowed; expected {what}"));
        match name {
            "vm.overcommit_memory" => s.overcommit.overcommit_memory = OvercommitPolicy::from_sysctl(value).ok_or_else(|| bad("0..=2"))?,
            "vm.overcommit_ratio" => s.overcommit.overcommit_ratio = value,
            "vm.overcommit_kbytes" => s.overcommit.overcommit_kbytes = u64::try_from(value).map_err(|_| bad(">= 0"))?,
            "vm.admin_reserve_kbytes" => s.overcommit.admin_reserve_kbytes = u64::try_from(value).map_err(|_| bad(">= 0"))?,
            "vm.user_reserve_kbytes" => s.overcommit.user_reserve_kbytes = u64::try_from(value).map_err(|_| bad(">= 0"))?,
            "vm.swappiness" => {
                s.swappiness = value;
                self.memcg.vm_swappiness = value.max(0) as u64;
            }
            "vm.panic_on_oom" => s.panic_on_oom = value,
            "vm.oom_kill_allocating_task" => s.oom_kill_allocating_task = value,
            "vm.oom_dump_tasks" => s.oom_dump_tasks = value,
            "vm.min_free_kbytes" => {
                if value < 0 {
                    return Err(bad(">= 0"));
                }
                s.min_free_kbytes = value;
            }
            "vm.watermark_scale_factor" => s.watermark_scale_factor = value,
            _ => return Err(unknown_sysctl(name)),
        }
        self.setup_per_zone_wmarks();
        Ok(())
    }

    /// Write a sysctl through its handler (kernel/sysctl.c `proc_dointvec*`, mm/util.c and mm/page_alloc.c
    /// handlers): range check (EINVAL) and side effects. Unknown names are an `ApiError` listing the known ones.
    pub fn sysctl_write(&mut self, name: &str, value: i64) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let int_ok = |v: i64| (i32::MIN as i64..=i32::MAX as i64).contains(&v);
        let s = &mut self.sysctl;
        let r: SysResult<()> = match name {
            // proc_dointvec_minmax 0..2 (mm/util.c:overcommit_policy_handler)
            "vm.overcommit_memory" => match OvercommitPolicy::from_sysctl(value) {
                Some(p) => {
                    s.overcommit.overcommit_memory = p;
                    Ok(())
                }
                None => Err(Errno::EINVAL),
            },
            // proc_dointvec; a successful write zeroes overcommit_kbytes (overcommit_ratio_handler)
            "vm.overcommit_ratio" => {
                if int_ok(value) {
                    s.overcommit.overcommit_ratio = value;
                    s.overcommit.overcommit_kbytes = 0;
                    Ok(())
                } else {
                    Err(Errno::EINVAL)
                }
            }
            // proc_doulongvec_minmax; a successful write zeroes overcommit_ratio, even a write of 0
            "vm.overcommit_kbytes" => match u64::try_from(value) {
                Ok(v) => {
                    s.overcommit.overcommit_kbytes = v;
                    s.overcommit.overcommit_ratio = 0;
                    Ok(())
                }
                Err(_) => Err(Errno::EINVAL),
            },
            "vm.admin_reserve_kbytes" => u64::try_from(value).map(|v| s.overcommit.admin_reserve_kbytes = v).map_err(|_| Errno::EINVAL),
            "vm.user_reserve_kbytes" => u64::try_from(value).map(|v| s.overcommit.user_reserve_kbytes = v).map_err(|_| Errno::EINVAL),
            // proc_dointvec_minmax 0..MAX_SWAPPINESS (200)
            "vm.swappiness" => range_set(&mut s.swappiness, value, 0, 200),
            // proc_dointvec_minmax 0..2
            "vm.panic_on_oom" => range_set(&mut s.panic_on_oom, value, 0, 2),
            "vm.oom_kill_allocating_task" => range_set(&mut s.oom_kill_allocating_task, value, i32::MIN as i64, i32::MAX as i64),
            "vm.oom_dump_tasks" => range_set(&mut s.oom_dump_tasks, value, i32::MIN as i64, i32::MAX as i64),
            // min_free_kbytes_sysctl_handler: >= 0; remembered as the user's value; watermarks recomputed
            "vm.min_free_kbytes" => {
                let r = range_set(&mut s.min_free_kbytes, value, 0, i32::MAX as i64);
                if r.is_ok() {
                    s.user_min_free_kbytes = value;
                }
                r
            }
            // watermark_scale_factor_sysctl_handler: 1..3000
            "vm.watermark_scale_factor" => range_set(&mut s.watermark_scale_factor, value, 1, 3000),
            _ => return Err(unknown_sysctl(name)),
        };
        if r.is_ok() && name == "vm.swappiness" {
            self.memcg.vm_swappiness = self.sysctl.swappiness as u64;
        }
        if r.is_ok() && matches!(name, "vm.min_free_kbytes" | "vm.watermark_scale_factor") {
            self.setup_per_zone_wmarks();
        }
        Ok(r)
    }

    // ---- /proc/meminfo --------------------------------------------------------------------------------------------

    /// A snapshot of the counters /proc/meminfo reads (fs/proc/meminfo.c:`meminfo_proc_show`); the derived fields
    /// and the line format are in `crate::meminfo`.
    pub fn meminfo(&self) -> crate::meminfo::Meminfo {
        let v = |i: Vmstat| self.vmstat.get(i);
        let hugetlb_pages = self.config.hugetlb_total_pages as u64;
        let mut m = crate::meminfo::Meminfo::new();
        m.totalram_pages = self.totalram_pages();
        m.nr_free_pages = v(Vmstat::nr_free_pages);
        m.nr_file_pages = v(Vmstat::nr_file_pages);
        m.swapcache_pages = v(Vmstat::nr_swapcached);
        m.inactive_anon = v(Vmstat::nr_inactive_anon);
        m.active_anon = v(Vmstat::nr_active_anon);
        m.inactive_file = v(Vmstat::nr_inactive_file);
        m.active_file = v(Vmstat::nr_active_file);
        m.unevictable = v(Vmstat::nr_unevictable);
        m.total_swap_pages = self.swap.total as u64;
        m.free_swap_pages = self.swap.nr_free as u64;
        m.dirty = v(Vmstat::nr_dirty);
        m.writeback = v(Vmstat::nr_writeback);
        m.anon_mapped = v(Vmstat::nr_anon_pages);
        m.file_mapped = v(Vmstat::nr_mapped);
        m.shmem = v(Vmstat::nr_shmem);
        m.slab_reclaimable = v(Vmstat::nr_slab_reclaimable);
        m.slab_unreclaimable = v(Vmstat::nr_slab_unreclaimable);
        m.pagetables = if self.config.model_page_tables {
            // the sum over the live mms, kept by the OOM scan index
            self.oom.scan.pgtables_bytes() >> crate::PAGE_SHIFT
        } else {
            0
        };
        m.commit_limit = self.commit_limit_pages();
        m.committed_as = self.committed_as_pages() as i64;
        m.hugepages_total = hugetlb_pages / 512;
        m.hugepages_free = hugetlb_pages / 512 - self.hugetlb_used();
        m.hugepages_rsvd = self.hugetlb_resv;
        m.hugetlb_kb = crate::pages_to_kb(hugetlb_pages);
        // One Normal zone: totalreserve is its high watermark (no lowmem_reserve above the only zone).
        m.totalreserve_pages = self.wmark.high.min(self.totalram_pages());
        m.sum_low_wmark_pages = self.wmark.low;
        m
    }

    /// /proc/meminfo fields in kB, in the kernel's order (HugePages_* are counts, as the kernel prints them).
    pub fn meminfo_kb(&self) -> Vec<(&'static str, u64)> {
        self.meminfo().lines().into_iter().map(|(n, v, _)| (n, v)).collect()
    }

    /// One /proc/meminfo value by field name, kB (HugePages_* are counts, as the kernel prints them).
    pub fn meminfo_field(&self, name: &str) -> Option<u64> {
        self.meminfo().field_kb(name)
    }

    /// The /proc/meminfo text, byte for byte as the kernel prints it.
    pub fn meminfo_text(&self) -> String {
        self.meminfo().format()
    }

    /// MemAvailable in pages (mm/show_mem.c:`si_mem_available`).
    pub fn si_mem_available(&self) -> u64 {
        self.meminfo().available()
    }

    /// Huge pages in use (faulted) from the pool: not modelled beyond reservations.
    pub fn hugetlb_used(&self) -> u64 {
        0
    }

    // ---- events -------------------------------------------------------------------------------------------------

    pub(crate) fn event(&mut self, kind: EventKind, pid: u32, a: u32, b: u32, c: u64) {
        self.events.push(Event { kind, pid, a, b, c, time_ns: self.now_ns });
    }

    /// Report an errno returned to a simulated caller as an event, and pass the result through.
    pub(crate) fn syscall_result<T>(&mut self, pid: u32, syscall: u32, r: SysResult<T>) -> SysResult<T> {
        if let Err(e) = &r {
            self.event(EventKind::SyscallError, pid, syscall, *e as u32, 0);
        }
        r
    }

    /// Move the queued events out (the caller drains them after each call returns).
    pub fn drain_events(&mut self, out: &mut Vec<u32>) {
        for e in self.events.drain(..) {
            e.encode(out);
        }
    }

    pub fn pending_events(&self) -> usize {
        self.events.len()
    }
}

/// Arguments of `spawn_task` (defaults as the `spawn` op's).
#[derive(Clone, Debug)]
pub struct SpawnArgs {
    pub pid: u32,
    pub comm: String,
    pub uid: u32,
    pub cap_sys_admin: bool,
    pub oom_score_adj: i32,
    pub cgroup: String,
}

impl Default for SpawnArgs {
    fn default() -> Self {
        SpawnArgs { pid: 0, comm: String::new(), uid: 1000, cap_sys_admin: false, oom_score_adj: 0, cgroup: "/".into() }
    }
}

/// TASK_COMM_LEN is 16: comm holds at most 15 bytes.
fn truncate_comm(s: &str) -> String {
    let mut end = s.len().min(15);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn range_set(slot: &mut i64, v: i64, lo: i64, hi: i64) -> SysResult<()> {
    if (lo..=hi).contains(&v) {
        *slot = v;
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

fn unknown_sysctl(name: &str) -> ApiError {
    ApiError::errno("E_ARG", Errno::ENOENT, format!("sysctl.name: {name:?} is not a modelled sysctl; expected one of {}", SYSCTL_NAMES.join(", ")))
}

#[cfg(test)]
mod tests {
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
}

/// Seeded property tests: random operation sequences (drawn with `rand.rs`) checked against the invariants after
/// every operation. 1,000 sequences in debug builds, 10,000 in release (`cargo test --release`).
#[cfg(test)]
pub(crate) mod prop_tests {
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
        assert_eq!(k.vmstat.get(Vmstat::nr_swapcached), k.swap.cache.len() as u64);
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
        assert_eq!(k.nr_free_pages() + cached + k.swap.cache.len() as u64, k.totalram_pages(), "only page cache remains");
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
}
