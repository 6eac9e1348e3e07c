//! The simulated machine: one node with one Normal zone, tasks, address spaces, the page cache, swap, the
//! overcommit counter, sysctls and the /proc views built from them.
//!
//! `Kernel` holds the state of every subsystem, each in its own struct from its pure module (`FrameAllocator`,
//! `SwapInfo`, `MemCgroupTree`, `ReclaimState`, `OomState`, `Current`, ...). The syscalls and faults are
//! implemented beside the kernel files they restate, as `impl Kernel` blocks in each subsystem's engine.rs:
//! memory/engine.rs (faults, touch), mmap.rs (mmap/munmap/brk/mprotect/madvise), fork.rs (fork/vfork/exec/exit),
//! filemap/engine.rs (file read/write, shmem), swapfile/engine.rs (swap-out), vmscan/engine.rs (reclaim);
//! user pages are allocated/charged and freed/uncharged in one place, page_alloc/engine.rs
//! (`alloc_user_page`/`free_user_page`, rmap, the slow path). This file holds the machine, the task table, the
//! overcommit entry (`vm_enough`), meminfo and events; sysctl.rs the sysctls.
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

mod sysctl;
pub use sysctl::{Sysctls, SYSCTL_NAMES};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// User data pages (anon, page cache, shmem) allocated since boot.
    pub pages_allocated: u64,
    pub faults_minor: u64,
    pub faults_major: u64,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    /// pid -> index in `tasks` (kept in step with every insertion and removal; not in a snapshot, rebuilt).
    #[serde(skip)]
    pid_index: HashMap<u32, u32, std::hash::BuildHasherDefault<PidHasher>>,
    /// Free slots of `mms`.
    pub(crate) free_mms: Vec<u32>,
    /// The OOM killer's engine state (panic, the `oom_killer_disable()` switch, reaper timers, records).
    pub oom: crate::oom_kill::state::OomState,
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
    pub(crate) cgroup_fds: Vec<crate::memcontrol::CgroupFd>,
    /// One lruvec per memcg id (swap.rs): the LRU lists.
    pub(crate) lruvecs: Vec<crate::swap::Lruvec>,
    /// kswapd, the simulated-time cost model and PSI (vmscan.rs, psi.rs).
    pub reclaim: crate::vmscan::ReclaimState,
}

impl Kernel {
    pub fn new(config: MachineConfig) -> Result<Self, ApiError> {
        if config.totalram_pages == 0 {
            return Err(ApiError::new("E_ARG", format!("machine.totalram_pages: 0 is not allowed; expected 1..={} pages", crate::types::MAX_RAM_PAGES)));
        }
        if config.hugetlb_total_pages > config.totalram_pages {
            return Err(ApiError::new("E_ARG", format!("machine.hugetlb_total_pages: {} exceeds totalram_pages {}; expected 0..=totalram_pages", config.hugetlb_total_pages, config.totalram_pages)));
        }
        if config.total_swap_pages > crate::types::MAX_SWAP_PAGES {
            return Err(ApiError::new("E_ARG", format!("machine.total_swap_pages: {} is not allowed; expected 0..={} pages (256 GiB)", config.total_swap_pages, crate::types::MAX_SWAP_PAGES)));
        }
        if config.totalram_pages > crate::types::MAX_RAM_PAGES {
            return Err(ApiError::new("E_ARG", format!("machine.totalram_pages: {} is not allowed; expected 1..={} pages (512 GiB)", config.totalram_pages, crate::types::MAX_RAM_PAGES)));
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
            swap_memcg: vec![crate::memcontrol::NO_MEMCG; swap_slots as usize],
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

    /// Rebuild the pid index from the task table (a restored snapshot does not carry it); a pid in two slots is
    /// an error.
    pub(crate) fn rebuild_pid_index(&mut self) -> Result<(), String> {
        self.pid_index.clear();
        for slot in self.tasks.slots_in_order() {
            let pid = self.tasks.get(slot).map(|t| t.pid).unwrap_or(0);
            if self.pid_index.insert(pid, slot as u32).is_some() {
                return Err(format!("pid {pid} is in two task slots"));
            }
        }
        Ok(())
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

    // ---- /proc/meminfo --------------------------------------------------------------------------------------------

    /// A snapshot of the counters /proc/meminfo reads (fs/proc/meminfo.c:`meminfo_proc_show`); the derived fields
    /// and the line format are in `crate::meminfo`.
    pub fn meminfo(&self) -> crate::meminfo::Meminfo {
        let hugetlb_pages = self.config.hugetlb_total_pages as u64;
        let mut m = crate::meminfo::Meminfo::new();
        m.totalram_pages = self.totalram_pages();
        // The fields that are one node/zone vmstat counter each, as meminfo_proc_show reads them.
        for (field, item) in [
            (&mut m.nr_free_pages, Vmstat::nr_free_pages),
            (&mut m.nr_file_pages, Vmstat::nr_file_pages),
            (&mut m.swapcache_pages, Vmstat::nr_swapcached),
            (&mut m.inactive_anon, Vmstat::nr_inactive_anon),
            (&mut m.active_anon, Vmstat::nr_active_anon),
            (&mut m.inactive_file, Vmstat::nr_inactive_file),
            (&mut m.active_file, Vmstat::nr_active_file),
            (&mut m.unevictable, Vmstat::nr_unevictable),
            (&mut m.dirty, Vmstat::nr_dirty),
            (&mut m.writeback, Vmstat::nr_writeback),
            (&mut m.anon_mapped, Vmstat::nr_anon_pages),
            (&mut m.file_mapped, Vmstat::nr_mapped),
            (&mut m.shmem, Vmstat::nr_shmem),
            (&mut m.slab_reclaimable, Vmstat::nr_slab_reclaimable),
            (&mut m.slab_unreclaimable, Vmstat::nr_slab_unreclaimable),
        ] {
            *field = self.vmstat.get(item);
        }
        m.total_swap_pages = self.swap.total as u64;
        m.free_swap_pages = self.swap.nr_free as u64;
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
        self.meminfo().values()
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

#[cfg(test)]
mod tests;
/// Seeded property tests: random operation sequences (drawn with `rand.rs`) checked against the invariants after
/// every operation. 1,000 sequences in debug builds, 10,000 in release (`cargo test --release`).
#[cfg(test)]
pub(crate) mod prop_tests;
