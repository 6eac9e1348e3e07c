//! oomsim-wasm: wasm-bindgen glue over oomsim-core, and nothing else.
//!
//! Boundary design (docs/decisions/0002-wasm-boundary.md):
//! - one opaque `Engine` handle owning the whole simulation;
//! - numeric syscalls as a command buffer the engine allocates and JS fills through a `Uint32Array` view, executed
//!   by one call (`exec`); the few calls that carry strings (comm, file names, sysctl names) are methods;
//! - counters, results and events read through typed-array views over wasm memory (pointers + lengths exported
//!   here; JS rebuilds its views when `memory.buffer` changes);
//! - typed errors: every fallible call returns `Result<_, JsError>` whose message starts with a stable code
//!   (`E_NOPID (ESRCH): ...`); nothing traps on bad input. A trap (a bug) is caught by the TS wrapper, which poisons
//!   the handle. Errnos returned to the *simulated* caller are results (negative numbers), not errors.

use oomsim_core::cmd;
use oomsim_core::kernel::SpawnArgs;
use oomsim_core::{ApiError, Kernel, MachineConfig};
use wasm_bindgen::prelude::*;

/// The message of the last Rust panic, kept by a panic hook: with panic=abort the panic becomes a wasm trap
/// (`RuntimeError: unreachable`) that says nothing, so the TS wrapper reads this to name what went wrong.
static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
static HOOK: std::sync::Once = std::sync::Once::new();

fn install_panic_hook() {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            if let Ok(mut m) = LAST_PANIC.lock() {
                *m = info.to_string().replace('\n', " ");
            }
        }))
    });
}

/// The message of the last panic (a trap) and clear it; "" when there was none.
#[wasm_bindgen]
pub fn take_panic_message() -> String {
    LAST_PANIC.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default()
}

fn js_err(e: ApiError) -> JsError {
    JsError::new(&e.to_string())
}

fn sys<T: Into<i64>>(r: Result<T, oomsim_core::Errno>) -> i64 {
    match r {
        Ok(v) => v.into(),
        Err(e) => -(e as i64),
    }
}

/// Why `run` returned: the clock reached the time asked for, or the machine panicked. (Userspace policies act
/// between `run` calls at the runner's ticks, so the engine never stops for them.)
#[wasm_bindgen]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    Done = 0,
    Panic = 1,
}

#[wasm_bindgen]
pub struct Engine {
    k: Kernel,
    cmd: Vec<u32>,
    results: Vec<i64>,
    events: Vec<u32>,
    meminfo: Vec<u64>,
    /// The page-reference trace being walked (`pageref_start`), if any.
    pageref: Option<oomsim_core::pageref::PageRefWalk>,
}

#[wasm_bindgen]
impl Engine {
    /// A machine of `totalram_pages` frames (the hugetlb pool included) and `total_swap_pages` of swap.
    /// `cmd_capacity` is the command-buffer size in u32 words.
    #[wasm_bindgen(constructor)]
    /// `cgroup_v1`: mount the v1 memory controller (with memsw accounting) instead of cgroup v2.
    pub fn new(totalram_pages: u32, total_swap_pages: u32, hugetlb_total_pages: u32, seed: u64, cmd_capacity: u32, cgroup_v1: bool) -> Result<Engine, JsError> {
        install_panic_hook();
        if cmd_capacity < 16 {
            return Err(JsError::new("E_ARG: cmd_capacity: expected at least 16 words"));
        }
        let cgroup_mode = if cgroup_v1 { oomsim_core::memcontrol::CgroupMode::V1 } else { oomsim_core::memcontrol::CgroupMode::V2 };
        let config = MachineConfig { totalram_pages, total_swap_pages, hugetlb_total_pages, seed, cgroup_mode, ..MachineConfig::default() };
        let k = Kernel::new(config).map_err(js_err)?;
        Ok(Engine { k, cmd: vec![0; cmd_capacity as usize], results: Vec::new(), events: Vec::new(), meminfo: Vec::new(), pageref: None })
    }

    // --- command buffer -------------------------------------------------------------------------------------
    pub fn cmd_ptr(&self) -> *const u32 {
        self.cmd.as_ptr()
    }
    pub fn cmd_capacity(&self) -> u32 {
        self.cmd.len() as u32
    }
    /// Execute the first `len` words of the command buffer. Returns the number of commands executed; their results
    /// are at `results_ptr()` (i64 each: >= 0 a value, < 0 a negated errno returned to the simulated caller).
    /// The whole batch is validated first (`cmd::validate`): a malformed batch changes nothing. An error that
    /// depends on kernel state (unknown pid) stops the batch at that command; `results_len()` then counts the
    /// commands that ran before it.
    pub fn exec(&mut self, len: u32) -> Result<u32, JsError> {
        if len as usize > self.cmd.len() {
            return Err(JsError::new(&format!("E_ARG: exec.len: {len} exceeds the command buffer ({} words)", self.cmd.len())));
        }
        self.results.clear();
        let words = &self.cmd[..len as usize];
        cmd::validate(words).map_err(js_err)?;
        cmd::execute(&mut self.k, words, &mut self.results).map_err(js_err)
    }
    pub fn results_ptr(&self) -> *const i64 {
        self.results.as_ptr()
    }
    pub fn results_len(&self) -> u32 {
        self.results.len() as u32
    }

    /// One direct call per access range (no command buffer): the per-call path the boundary benchmark measures.
    pub fn touch(&mut self, pid: u32, vpn: u64, count: u32, write: bool) -> Result<u32, JsError> {
        let access = if write { oomsim_core::memory::Access::Write } else { oomsim_core::memory::Access::Read };
        self.k.touch(pid, vpn, count as u64, access).map(|o| o.done as u32).map_err(js_err)
    }

    // --- page-reference traces (oomsim_core::pageref) --------------------------------------------------------
    /// Start walking a page-reference trace as `pid` (a live task) over its mapping of `max_pages` pages at `vpn`;
    /// replaces a walk already started.
    pub fn pageref_start(&mut self, pid: u32, vpn: u64, max_pages: u64) -> Result<(), JsError> {
        if self.k.task(pid).is_none() {
            return Err(js_err(ApiError::errno("E_NOPID", oomsim_core::Errno::ESRCH, format!("pageref_start.pid: pid {pid}: no such live task"))));
        }
        if max_pages == 0 || max_pages >= u32::MAX as u64 {
            return Err(JsError::new(&format!("E_ARG: pageref_start.max_pages: {max_pages} is not allowed; expected 1..={}", u32::MAX - 1)));
        }
        self.pageref = Some(oomsim_core::pageref::PageRefWalk::new(pid, vpn, max_pages));
        Ok(())
    }
    /// Walk one batch of references (two words each, the `oomsim_core::pageref` layout), one call for the whole
    /// batch. Returns the walk's state: 0 running, 1 the process is gone, 2 more distinct pages than `max_pages`.
    pub fn pageref_run(&mut self, refs: &[u32]) -> Result<u32, JsError> {
        let w = self.pageref.as_mut().ok_or_else(|| JsError::new("E_ARG: pageref_run: no walk started (pageref_start first)"))?;
        w.run(&mut self.k, refs).map(|s| s as u32).map_err(js_err)
    }
    /// [references, touches, distinct pages] of the walk (zeros when none was started).
    pub fn pageref_counts(&self) -> Vec<u64> {
        self.pageref.as_ref().map_or(vec![0, 0, 0], |w| vec![w.references, w.touches, w.distinct_pages()])
    }

    // --- calls that carry strings ---------------------------------------------------------------------------
    /// Create a process with an empty address space (as after exec) in the cgroup at `cgroup` (absolute path).
    pub fn spawn_task(&mut self, pid: u32, comm: &str, uid: u32, cap_sys_admin: bool, oom_score_adj: i32, cgroup: &str) -> Result<(), JsError> {
        let cgroup = if cgroup.is_empty() { "/".to_string() } else { cgroup.to_string() };
        self.k.spawn_task(SpawnArgs { pid, comm: comm.to_string(), uid, cap_sys_admin, oom_score_adj, cgroup }).map_err(js_err)
    }

    // --- memory cgroups -------------------------------------------------------------------------------------
    /// mkdir of a memory cgroup: 0 or a negated errno (ENOENT: no parent; EINVAL: exists or bad path).
    pub fn cgroup_create(&mut self, path: &str) -> Result<i64, JsError> {
        Ok(sys(self.k.cgroup_create(path).map_err(js_err)?.map(|_| 0i64)))
    }
    /// Write a cgroup control file: 0 or a negated errno (EINVAL, EBUSY, ENOENT, ...).
    pub fn cgroup_write(&mut self, path: &str, file: &str, value: &str) -> Result<i64, JsError> {
        Ok(sys(self.k.cgroup_write(path, file, value).map_err(js_err)?.map(|_| 0i64)))
    }
    /// Read a cgroup file (fresh open): its exact contents, or undefined when the cgroup or file does not exist.
    pub fn cgroup_read(&mut self, path: &str, file: &str) -> Option<String> {
        self.k.cgroup_read(path, file)
    }
    /// Move a task to another cgroup (its charges stay behind): 0 or a negated errno (ENOENT).
    pub fn move_task(&mut self, pid: u32, path: &str) -> Result<i64, JsError> {
        Ok(sys(self.k.move_task(pid, path).map_err(js_err)?.map(|_| 0i64)))
    }
    /// Whether a task is blocked in a v1 memcg OOM wait (state D).
    pub fn task_blocked(&self, pid: u32) -> bool {
        self.k.task(pid).is_some_and(|t| t.state == oomsim_core::task::TaskState::Blocked)
    }
    /// execve(): the address space is replaced; `comm` becomes the new command name when non-empty.
    pub fn exec_comm(&mut self, pid: u32, comm: &str) -> Result<i64, JsError> {
        let c = (!comm.is_empty()).then_some(comm);
        Ok(sys(self.k.exec(pid, c).map_err(js_err)?.map(|_| 0i64)))
    }
    /// Create a file: fs 0 disk, 1 tmpfs, 2 hugetlbfs. Returns its id (for mmap/read/write) or a negated errno.
    pub fn file_create(&mut self, name: &str, fs: u32, pages: u64, cached: bool) -> Result<i64, JsError> {
        let kind = cmd::fs_of(fs).map_err(|m| JsError::new(&format!("E_ARG: {m}")))?;
        cmd::file_pages_ok(pages).map_err(|m| JsError::new(&format!("E_ARG: {m}")))?;
        Ok(sys(self.k.file_create(name, kind, pages, cached).map_err(js_err)?.map(|f| f as i64)))
    }
    /// The id of a file by name, or -1.
    pub fn file_id(&self, name: &str) -> i64 {
        self.k.file_id(name).map(|f| f as i64).unwrap_or(-1)
    }
    pub fn sysctl_read(&self, name: &str) -> Result<i64, JsError> {
        self.k.sysctl_read(name).map_err(js_err)
    }
    /// Write a sysctl through its handler: 0, or a negated errno (EINVAL out of range) as the kernel returns it.
    pub fn sysctl_write(&mut self, name: &str, value: i64) -> Result<i64, JsError> {
        Ok(sys(self.k.sysctl_write(name, value).map_err(js_err)?.map(|_| 0i64)))
    }

    // --- reading state --------------------------------------------------------------------------------------
    pub fn vmstat_ptr(&self) -> *const u64 {
        self.k.vmstat.v.as_ptr()
    }
    pub fn vmstat_len(&self) -> u32 {
        self.k.vmstat.v.len() as u32
    }
    /// Recompute the meminfo array (kB values in the order of `meminfo_names()`) and return its pointer.
    pub fn meminfo_ptr(&mut self) -> *const u64 {
        self.meminfo.clear();
        self.meminfo.extend(self.k.meminfo_kb().into_iter().map(|(_, v)| v));
        self.meminfo.as_ptr()
    }
    pub fn meminfo_len(&self) -> u32 {
        self.meminfo.len() as u32
    }
    /// The Normal zone's watermarks in pages: [min, low, high] (mm/page_alloc.c:`__setup_per_zone_wmarks`).
    pub fn watermarks(&self) -> Vec<u64> {
        vec![self.k.wmark.min, self.k.wmark.low, self.k.wmark.high]
    }
    /// /proc/meminfo, byte for byte.
    pub fn meminfo_text(&self) -> String {
        self.k.meminfo_text()
    }
    /// /proc/pressure/memory (kernel/sched/psi.c:psi_show) at the current simulated time.
    pub fn psi_text(&mut self) -> String {
        self.k.psi_text()
    }
    /// memory.pressure of a cgroup (the root's is /proc/pressure/memory); undefined for an unknown path.
    pub fn cgroup_pressure(&mut self, path: &str) -> Option<String> {
        self.k.cgroup_pressure(path)
    }
    /// swapon of one more swap area: `kind` disk, ssd or zram (zram: `ratio_x100` = compression ratio × 100).
    /// Returns the area's index.
    pub fn swapon(&mut self, pages: u32, prio: i32, kind: &str, ratio_x100: u32) -> Result<u32, JsError> {
        let io = oomsim_core::vmscan::IoDevice::from_name(kind)
            .ok_or_else(|| js_err(ApiError::new("E_ARG", format!("swapon: device kind {kind:?}: expected disk, ssd or zram"))))?;
        self.k.swapon(pages, prio, io, ratio_x100).map(|i| i as u32).map_err(js_err)
    }
    /// /proc/swaps, byte for byte.
    pub fn proc_swaps(&self) -> String {
        self.k.swap.proc_swaps()
    }
    /// RAM frames held by zram pools (vmstat nr_zspages).
    pub fn zram_pool_pages(&self) -> u64 {
        self.k.swap.zram_pool_pages()
    }
    /// A task's accumulated memory stall time, ns.
    pub fn task_stall_ns(&self, pid: u32) -> u64 {
        self.k.task_stall_ns(pid)
    }
    /// /proc/vmstat text.
    pub fn vmstat_text(&self) -> String {
        self.k.vmstat.format()
    }
    /// The memory lines of /proc/<pid>/status.
    pub fn proc_status(&self, pid: u32) -> Result<String, JsError> {
        self.k.proc_status_mem(pid).map_err(js_err)
    }
    /// The live tasks, in creation order, as JSON: pid, ppid, comm, uid, oom_score_adj, state, in_vfork,
    /// min_flt, maj_flt, cgroup, and the /proc/<pid>/status memory values in kB.
    pub fn tasks_json(&self) -> Result<String, JsError> {
        let mut rows = Vec::new();
        for t in self.k.tasks() {
            let m = self.k.task_mem(t.pid).map_err(js_err)?;
            rows.push(format!(
                "{{\"pid\":{},\"ppid\":{},\"comm\":{},\"uid\":{},\"oom_score_adj\":{},\"state\":\"{:?}\",\"in_vfork\":{},\"min_flt\":{},\"maj_flt\":{},\"cgroup\":{},\"vm_size_kb\":{},\"vm_rss_kb\":{},\"rss_anon_kb\":{},\"rss_file_kb\":{},\"rss_shmem_kb\":{},\"vm_pte_kb\":{},\"vm_swap_kb\":{}}}",
                t.pid, t.ppid, json_str(&t.comm), t.uid, t.oom_score_adj, t.state, t.in_vfork, t.min_flt, t.maj_flt, json_str(&t.cgroup),
                m.vm_size, m.vm_rss, m.rss_anon, m.rss_file, m.rss_shmem, m.vm_pte, m.vm_swap
            ));
        }
        Ok(format!("[{}]", rows.join(",")))
    }
    /// Kernel log lines printed since the last call (dmesg order), newline-separated.
    pub fn drain_log(&mut self) -> String {
        let mut s = String::new();
        for l in self.k.drain_log() {
            s.push_str(&l);
            s.push('\n');
        }
        s
    }
    /// Move queued events into the event buffer; returns how many records (8 u32 words each) it now holds.
    pub fn drain_events(&mut self) -> u32 {
        self.events.clear();
        self.k.drain_events(&mut self.events);
        (self.events.len() / oomsim_core::event::EVENT_WORDS) as u32
    }
    pub fn events_ptr(&self) -> *const u32 {
        self.events.as_ptr()
    }

    /// Run simulated time to `until_ns`, firing the OOM reaper timers due by then. Stops with `Done` at the time,
    /// or `Panic` when the machine has panicked.
    pub fn run(&mut self, until_ns: u64) -> StopReason {
        match self.k.run_until(until_ns) {
            oomsim_core::oom_kill::engine::RunStop::Done => StopReason::Done,
            oomsim_core::oom_kill::engine::RunStop::Panic => StopReason::Panic,
        }
    }
    /// Advance simulated time by `ns` (see `run`).
    pub fn advance(&mut self, ns: u64) -> StopReason {
        let until = self.k.now_ns().saturating_add(ns);
        self.run(until)
    }
    /// The simulated clock, ns.
    pub fn now_ns(&self) -> u64 {
        self.k.now_ns()
    }
    /// The panic message if the kernel panicked, else "".
    pub fn panic_message(&self) -> String {
        self.k.panicked().unwrap_or("").to_string()
    }
    /// /proc/<pid>/oom_score.
    pub fn oom_score(&self, pid: u32) -> Result<i64, JsError> {
        self.k.oom_score(pid).map_err(js_err)
    }
    /// /proc/<pid>/oom_score_adj.
    pub fn oom_score_adj(&self, pid: u32) -> Result<i64, JsError> {
        self.k.oom_score_adj(pid).map_err(js_err)
    }
    /// Write /proc/<pid>/oom_score_adj by a writer with or without CAP_SYS_RESOURCE: 0 or -errno (EINVAL, EACCES).
    pub fn write_oom_score_adj(&mut self, pid: u32, value: i64, cap_sys_resource: bool) -> Result<i64, JsError> {
        Ok(sys(self.k.write_oom_score_adj(pid, value, cap_sys_resource).map_err(js_err)?.map(|_| 0i64)))
    }
    /// /proc/<pid>/oom_adj (legacy).
    pub fn oom_adj(&self, pid: u32) -> Result<i64, JsError> {
        self.k.oom_adj(pid).map_err(js_err)
    }
    /// Write the legacy /proc/<pid>/oom_adj: 0 or -errno. The writer is named in the one-time deprecation line.
    pub fn write_oom_adj(&mut self, pid: u32, value: i64, cap_sys_resource: bool, writer_comm: &str, writer_pid: u32) -> Result<i64, JsError> {
        Ok(sys(self.k.write_oom_adj(pid, value, cap_sys_resource, writer_comm, writer_pid).map_err(js_err)?.map(|_| 0i64)))
    }
    /// The OOM explanation table for a global OOM now, as JSON (`Kernel::oom_explain_json`).
    pub fn oom_explain_json(&self) -> String {
        self.k.oom_explain_json()
    }
    /// Record the candidate table of each OOM kill as the OOM killer saw it, before the kill (for `--explain`).
    pub fn set_explain_selections(&mut self, on: bool) {
        self.k.set_explain_selections(on);
    }
    /// The tables recorded since the last call: a JSON array of `{"time_ns", "table"}`.
    pub fn take_selection_explanations_json(&mut self) -> String {
        self.k.take_selection_explanations_json()
    }
    /// SIMULATION SWITCH, not a sysctl: the kernel's `oom_killer_disable()` state. While set, allocations that
    /// would need the OOM killer fail instead.
    pub fn set_oom_killer_disabled(&mut self, disabled: bool) {
        self.k.set_oom_killer_disabled(disabled);
    }
    pub fn oom_killer_disabled(&self) -> bool {
        self.k.oom_killer_disabled()
    }

    /// A new, independent engine in this one's state (the kernel state is a deep copy: what either does later
    /// does not reach the other). Queued commands are the caller's to flush first; the copy's command buffer is
    /// empty and of the same size, its event and log queues are this one's undrained ones. A page-reference walk in
    /// progress (`pageref_start`) is not copied: the copy starts without one.
    pub fn duplicate(&self) -> Engine {
        Engine { k: self.k.clone(), cmd: vec![0; self.cmd.len()], results: Vec::new(), events: Vec::new(), meminfo: Vec::new(), pageref: None }
    }

    /// Managed RAM in pages (the machine's size, for a restored handle).
    pub fn totalram_pages(&self) -> u32 {
        self.k.config.totalram_pages
    }

    /// The kernel's state as bytes (oomsim_core::snapshot: versioned, checksummed, deterministic). Like
    /// `duplicate`, queued commands are the caller's to flush first and a page-reference walk is not saved.
    pub fn snapshot(&self) -> Vec<u8> {
        self.k.snapshot()
    }

    /// A new engine in the state `bytes` saved, with a command buffer of `cmd_capacity` words; `E_SNAPSHOT` says
    /// what is wrong with bytes that are not a snapshot of this engine build or are damaged or inconsistent.
    pub fn restore(bytes: &[u8], cmd_capacity: u32) -> Result<Engine, JsError> {
        install_panic_hook();
        if cmd_capacity < 16 {
            return Err(JsError::new("E_ARG: cmd_capacity: expected at least 16 words"));
        }
        let k = Kernel::restore(bytes).map_err(js_err)?;
        Ok(Engine { k, cmd: vec![0; cmd_capacity as usize], results: Vec::new(), events: Vec::new(), meminfo: Vec::new(), pageref: None })
    }

    /// Deliberately trap (for tests of handle poisoning). Never called by the library itself.
    pub fn debug_trap(&mut self) {
        panic!("debug_trap called");
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Names of the meminfo array's entries, in order (the /proc/meminfo field names).
#[wasm_bindgen]
pub fn meminfo_names() -> Vec<String> {
    oomsim_core::meminfo::Meminfo::new().lines().into_iter().map(|(n, _, _)| n.to_string()).collect()
}

/// Evaluate a kernel-vector file (JSON text) with the conformance runner; returns one line per vector and the
/// summary line `N passed, N failed, N unsupported` last.
#[wasm_bindgen]
pub fn conformance_run(text: &str) -> Result<String, JsError> {
    let reports = oomsim_core::conformance::run_text(text).map_err(|e| JsError::new(&format!("E_ARG: {e}")))?;
    let mut out = String::new();
    for r in &reports {
        out.push_str(&r.line());
        out.push('\n');
    }
    out.push_str(&oomsim_core::conformance::Summary::of(&reports).line());
    out.push('\n');
    Ok(out)
}

/// Run an `ops` scenario (`{machine, ops, observe}`, the vector format's op vocabulary) and return the requested
/// observations as JSON. Used by the differential tests against the TS reference engine.
#[wasm_bindgen]
pub fn ops_run(text: &str) -> Result<String, JsError> {
    oomsim_core::conformance::checks::ops::run_scenario_json(text).map_err(|e| JsError::new(&format!("E_ARG: {e}")))
}
