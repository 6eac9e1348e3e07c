//! The `ops` check (vectors-format.md §6): a sequence of operations on a small simulated machine, with
//! observations after chosen ops and at the end. This adapter only translates: each op becomes one engine call
//! (`Kernel::spawn_task`, `fork`, `mmap`, `touch`, ...), and each observation reads engine state. Region and file
//! names are the vector's; the adapter maps them to the virtual page numbers and file ids the engine returned.
//!
//! Global and memcg OOMs run through the engine's allocation slow path, memcg charge path and OOM killer; `ooms`
//! and `log` report them. The cgroup ops map to the engine's cgroup interface (`Kernel::cgroup_create`,
//! `cgroup_write`, `cgroup_open`, `cgroup_fd_write`, `cgroup_charge`, `cgroup_uncharge`); a v1 memcg OOM wait
//! makes the op's result `"blocked"` (the engine resumes the task when a later op wakes it).

use crate::conformance::input::Inputs;
use crate::conformance::{CheckError, CheckFn, CheckResult, OBSERVE_KEY};
use crate::filemap::FileKind;
use crate::kernel::{Kernel, MachineConfig, SpawnArgs};
use crate::types::{CowKind, FaultKind};
use crate::memory::{Access, TouchStop};
use crate::mm_types::{pte_present, MmCounter, PTE_NONE, PTE_SWAP, PTE_ZERO, VM_FLAG_NAMES};
use crate::mmap::{Advice, MapFlags, PROT_NONE, PROT_READ, PROT_RW};
use crate::vmstat::{VMSTAT_NAMES, NR_VMSTAT};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    match check {
        "ops" => Some(run_ops),
        _ => None,
    }
}

fn unsupported(s: impl Into<String>) -> CheckError {
    CheckError::Unsupported(s.into())
}
fn invalid(s: impl Into<String>) -> CheckError {
    CheckError::Invalid(s.into())
}
fn api(e: crate::errno::ApiError) -> CheckError {
    if e.code == "E_UNSUPPORTED" {
        CheckError::Unsupported(e.message)
    } else {
        CheckError::Invalid(e.to_string())
    }
}

#[derive(Clone, Default)]
struct TaskSnap {
    alive: bool,
    rss: i64,
    rss_anon: i64,
    rss_file: i64,
    rss_shmem: i64,
    swapents: i64,
    total_vm: i64,
}

#[derive(Clone)]
struct Snap {
    vmstat: [u64; NR_VMSTAT],
    committed: i64,
    pages_allocated: u64,
    faults_minor: u64,
    faults_major: u64,
    log_len: usize,
    oom_len: usize,
    tasks: BTreeMap<u32, TaskSnap>,
    /// memory page_counter of every memcg: [usage, max, watermark, failcnt]
    counters: BTreeMap<String, [i64; 4]>,
}

struct Runner {
    k: Kernel,
    /// (pid, region name) -> (first virtual page, pages)
    regions: BTreeMap<(u32, String), (u64, u64)>,
    files: BTreeMap<String, u32>,
    /// every pid ever seen, for task observations of dead tasks
    pids: Vec<u32>,
    /// fd name -> engine cgroup fd
    fds: BTreeMap<String, u32>,
}

/// The files vectors-format.md §6.3 documents for the cgroup ops and observations (others are invalid).
const CGROUP_FILES: &[&str] = &[
    "memory.failcnt", "memory.limit_in_bytes", "memory.max_usage_in_bytes", "memory.memsw.failcnt",
    "memory.memsw.limit_in_bytes", "memory.memsw.max_usage_in_bytes", "memory.memsw.usage_in_bytes",
    "memory.oom_control", "memory.soft_limit_in_bytes", "memory.stat", "memory.swappiness", "memory.usage_in_bytes",
    "memory.use_hierarchy", "memory.current", "memory.events", "memory.events.local", "memory.high", "memory.low",
    "memory.max", "memory.min", "memory.oom.group", "memory.peak", "memory.swap.current", "memory.swap.events",
    "memory.swap.max", "memory.swap.peak",
];

/// Files read as "key value" objects in `cgroup_files`.
const KEYED_FILES: &[&str] = &["memory.events", "memory.events.local", "memory.swap.events", "memory.stat", "memory.oom_control"];

fn check_cgroup_file(file: &str) -> Result<(), CheckError> {
    if CGROUP_FILES.contains(&file) {
        Ok(())
    } else {
        Err(invalid(format!("cgroup file {file:?} is not one the format documents; expected one of {}", CGROUP_FILES.join(", "))))
    }
}

/// A cgroup file's contents as an observation: the text without its final newline, or for "key value" files an
/// object of integers.
fn file_value(file: &str, text: Option<String>) -> Value {
    let Some(text) = text else { return Value::Null };
    if KEYED_FILES.contains(&file) {
        let mut m = Map::new();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once(' ') {
                if let Ok(n) = v.parse::<i64>() {
                    m.insert(k.to_string(), json!(n));
                }
            }
        }
        Value::Object(m)
    } else {
        Value::String(text.strip_suffix('\n').unwrap_or(&text).to_string())
    }
}

fn snap(r: &Runner) -> Snap {
    let mut tasks = BTreeMap::new();
    for &pid in &r.pids {
        let s = match r.k.task(pid) {
            Some(t) => {
                let mm = r.k.mm(t.mm);
                let c = |x: MmCounter| mm.counter(x) as i64;
                TaskSnap {
                    alive: true,
                    rss: mm.rss_pages() as i64,
                    rss_anon: c(MmCounter::MM_ANONPAGES),
                    rss_file: c(MmCounter::MM_FILEPAGES),
                    rss_shmem: c(MmCounter::MM_SHMEMPAGES),
                    swapents: c(MmCounter::MM_SWAPENTS),
                    total_vm: mm.total_vm as i64,
                }
            }
            None => TaskSnap::default(),
        };
        tasks.insert(pid, s);
    }
    Snap {
        vmstat: r.k.vmstat.v,
        committed: r.k.committed_as_pages() as i64,
        pages_allocated: r.k.stats.pages_allocated,
        faults_minor: r.k.stats.faults_minor,
        faults_major: r.k.stats.faults_major,
        log_len: r.k.log.len(),
        oom_len: r.k.oom_records().len(),
        tasks,
        counters: (0..r.k.memcg.len() as u32)
            .map(|m| {
                let c = r.k.memcg.memory(m);
                (r.k.memcg.path(m).to_string(), [c.usage as i64, c.max as i64, c.watermark as i64, c.failcnt as i64])
            })
            .collect(),
    }
}

fn machine(inp: &Inputs) -> Result<Kernel, CheckError> {
    let m = inp.obj_or_empty("machine")?.ok_or_else(|| invalid("inputs.machine is required"))?;
    let mi = Inputs::new(m);
    mi.check_page_size()?;
    let totalram = mi.u64_req("totalram_pages")?;
    let swap = mi.u64_or("total_swap_pages", 0)?;
    let huge = mi.u64_or("hugetlb_total_pages", 0)?;
    let cg = mi.str_or("cgroup", "v2")?;
    if cg != "v1" && cg != "v2" {
        return Err(invalid(format!("machine.cgroup: {cg:?}; expected \"v1\" or \"v2\"")));
    }
    let limit = (1u64 << 30) - 3;
    if totalram == 0 || totalram > limit || swap > limit || huge > totalram {
        return Err(unsupported(format!("machine: totalram_pages 1..={limit}, total_swap_pages 0..={limit}, hugetlb_total_pages <= totalram_pages are simulated")));
    }
    let cfg = MachineConfig {
        totalram_pages: totalram as u32,
        seed: 0,
        total_swap_pages: swap as u32,
        hugetlb_total_pages: huge as u32,
        committed_as_pages: mi.i64_or("committed_as_pages", 0)?,
        model_page_tables: false,
        // vectors-format §6.2 rule 1: no time passes
        cost: crate::vmscan::CostModel { timed: false, ..Default::default() },
        cgroup_mode: if cg == "v1" { crate::memcontrol::CgroupMode::V1 } else { crate::memcontrol::CgroupMode::V2 },
    };
    let mut k = Kernel::new(cfg).map_err(api)?;
    if let Some(sys) = mi.obj_or_empty("sysctl")? {
        for (name, v) in sys {
            let v = v.as_i64().ok_or_else(|| invalid(format!("machine.sysctl.{name}: expected an integer")))?;
            k.sysctl_set_boot(name, v).map_err(api)?;
        }
    }
    Ok(k)
}

fn errno_str(e: crate::errno::Errno) -> Value {
    Value::String(e.name().to_string())
}

fn ok_or<T>(r: Result<T, crate::errno::Errno>) -> Value {
    match r {
        Ok(_) => Value::String("ok".into()),
        Err(e) => errno_str(e),
    }
}

fn prot_of(s: &str) -> Result<u32, CheckError> {
    match s {
        "none" => Ok(PROT_NONE),
        "r" => Ok(PROT_READ),
        "rw" => Ok(PROT_RW),
        _ => Err(invalid(format!("prot: {s:?}; expected \"none\", \"r\" or \"rw\""))),
    }
}

fn pid_of(o: &Inputs, key: &str) -> Result<u32, CheckError> {
    let v = o.i64_req(key)?;
    u32::try_from(v).map_err(|_| invalid(format!("{key}: {v} is not a pid")))
}

impl Runner {
    fn region(&self, pid: u32, name: &str) -> Result<(u64, u64), CheckError> {
        if let Some(r) = self.regions.get(&(pid, name.to_string())) {
            return Ok(*r);
        }
        // every process has a heap from exec on, empty until brk grows it (§6.3 brk)
        if name == "[heap]" {
            if let Ok(mm) = self.k.task_mm(pid) {
                return Ok((mm.start_brk, 0));
            }
        }
        Err(invalid(format!("region {name:?} of task {pid} does not exist")))
    }

    fn range(&self, o: &Inputs, pid: u32) -> Result<(u64, u64), CheckError> {
        let (base, _) = self.region(pid, o.str_req("region")?)?;
        let first = o.u64_req("first")?;
        let count = o.u64_req("count")?;
        Ok((base + first, count))
    }

    fn file(&self, name: &str) -> Result<u32, CheckError> {
        self.files.get(name).copied().ok_or_else(|| invalid(format!("file {name:?} was not created")))
    }

    fn see(&mut self, pid: u32) {
        if !self.pids.contains(&pid) {
            self.pids.push(pid);
        }
    }

    /// Run one op; its result value.
    fn op(&mut self, o: &Map<String, Value>) -> Result<Value, CheckError> {
        let oi = Inputs::new(o);
        let name = oi.str_req("op")?;
        let ok = Value::String("ok".into());
        // An op of a task that does not exist (exited, killed by a fatal signal, or never created, e.g. the child of
        // a fork that failed) finds no process: ESRCH, as the kernel answers for a pid without a process.
        if name != "spawn" {
            if let Some(pid) = o.get("task").and_then(Value::as_u64).and_then(|p| u32::try_from(p).ok()) {
                if self.k.task(pid).is_none() {
                    return Ok(Value::String("ESRCH".into()));
                }
            }
        }
        Ok(match name {
            "spawn" => {
                let pid = pid_of(&oi, "task")?;
                let cgroup = oi.str_or("cgroup", "/")?;
                let args = SpawnArgs {
                    pid,
                    comm: oi.str_or("comm", "")?.to_string(),
                    uid: oi.u64_or("uid", 1000)? as u32,
                    cap_sys_admin: oi.bool_or("cap_sys_admin", false)?,
                    oom_score_adj: oi.i64_or("oom_score_adj", 0)? as i32,
                    cgroup: cgroup.to_string(),
                };
                self.k.spawn_task(args).map_err(api)?;
                self.see(pid);
                ok
            }
            "fork" => {
                let pid = pid_of(&oi, "task")?;
                let child = pid_of(&oi, "child")?;
                let r = self.k.fork(pid, child).map_err(api)?;
                if r.is_ok() {
                    self.see(child);
                    let inherited: Vec<_> = self.regions.iter().filter(|((p, _), _)| *p == pid).map(|((_, n), v)| (n.clone(), *v)).collect();
                    for (n, v) in inherited {
                        self.regions.insert((child, n), v);
                    }
                }
                ok_or(r)
            }
            "exit" => {
                let pid = pid_of(&oi, "task")?;
                self.k.exit(pid).map_err(api)?;
                self.regions.retain(|(p, _), _| *p != pid);
                ok
            }
            "mmap" => {
                let pid = pid_of(&oi, "task")?;
                let region = oi.str_req("region")?.to_string();
                let pages = oi.u64_req("pages")?;
                let prot = prot_of(oi.str_req("prot")?)?;
                let mut fl = MapFlags::default();
                let (mut private, mut shared) = (false, false);
                for f in oi.list_or_empty("flags")? {
                    match f.as_str() {
                        Some("private") => private = true,
                        Some("shared") => shared = true,
                        Some("anon") => fl.anonymous = true,
                        Some("noreserve") => fl.noreserve = true,
                        _ => return Err(invalid(format!("mmap.flags: {f}; expected private, shared, anon, noreserve"))),
                    }
                }
                if private == shared {
                    return Err(invalid("mmap.flags: exactly one of private/shared"));
                }
                fl.shared = shared;
                let file = match oi.get("file") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(self.file(oi.str_req("file")?)?),
                };
                let r = self.k.mmap(pid, pages, prot, fl, file).map_err(api)?;
                match r {
                    Ok(vpn) => {
                        let len = self.k.task_mm(pid).map_err(api)?.vmas.iter().find(|v| v.start == vpn).map(|v| v.pages()).unwrap_or(pages);
                        self.regions.insert((pid, region), (vpn, len));
                    }
                    // a region whose mmap failed names no memory: later ops on it address unmapped pages (page 0 is
                    // below mmap_min_addr, never mapped): touch gives SIGSEGV, mprotect/madvise ENOMEM
                    Err(_) => {
                        self.regions.entry((pid, region)).or_insert((0, 0));
                    }
                }
                ok_or(r)
            }
            "munmap" => {
                let pid = pid_of(&oi, "task")?;
                let (vpn, count) = self.range(&oi, pid)?;
                ok_or(self.k.munmap(pid, vpn, count).map_err(api)?)
            }
            "mprotect" => {
                let pid = pid_of(&oi, "task")?;
                let (vpn, count) = self.range(&oi, pid)?;
                let prot = prot_of(oi.str_req("prot")?)?;
                ok_or(self.k.mprotect(pid, vpn, count, prot).map_err(api)?)
            }
            "madvise" => {
                let pid = pid_of(&oi, "task")?;
                let (vpn, count) = self.range(&oi, pid)?;
                let adv = match oi.str_req("advice")? {
                    "MADV_DONTFORK" => Advice::DontFork,
                    "MADV_DOFORK" => Advice::DoFork,
                    "MADV_DONTNEED" => Advice::DontNeed,
                    a => return Err(invalid(format!("madvise.advice: {a:?}; expected MADV_DONTFORK or MADV_DOFORK"))),
                };
                ok_or(self.k.madvise(pid, vpn, count, adv).map_err(api)?)
            }
            "brk" => {
                let pid = pid_of(&oi, "task")?;
                let pages = oi.u64_req("pages")?;
                let r = self.k.brk(pid, pages).map_err(api)?;
                if r.is_ok() {
                    let start = self.k.task_mm(pid).map_err(api)?.start_brk;
                    self.regions.insert((pid, "[heap]".into()), (start, pages));
                }
                ok_or(r)
            }
            "touch" => {
                let pid = pid_of(&oi, "task")?;
                let (vpn, count) = self.range(&oi, pid)?;
                let access = match oi.str_req("access")? {
                    "read" => Access::Read,
                    "write" => Access::Write,
                    a => return Err(invalid(format!("touch.access: {a:?}; expected read or write"))),
                };
                let out = self.k.touch(pid, vpn, count, access).map_err(api)?;
                match out.stop {
                    None => ok,
                    Some(TouchStop::Segv { .. }) => Value::String("SIGSEGV".into()),
                    Some(TouchStop::Sigbus { .. }) => Value::String("SIGBUS".into()),
                    Some(TouchStop::Killed { .. }) => Value::String("killed".into()),
                    Some(TouchStop::Panic { .. }) => Value::String("panic".into()),
                    Some(TouchStop::Blocked { .. }) => Value::String("blocked".into()),
                    Some(TouchStop::OutOfMemory { .. }) => {
                        return Err(unsupported("a fault failed after reclaim and the OOM killer made no progress (the kernel retries such a fault forever); the format has no result for it"))
                    }
                    Some(TouchStop::Unsupported(s)) => return Err(unsupported(s)),
                }
            }
            "swapout" => {
                let pid = pid_of(&oi, "task")?;
                let (vpn, count) = self.range(&oi, pid)?;
                let keep = oi.bool_or("swapcache", false)?;
                self.k.swapout(pid, vpn, count, keep).map_err(api)?;
                ok
            }
            "file_create" => {
                let name = oi.str_req("file")?;
                let kind = match oi.str_req("fs")? {
                    "disk" => FileKind::Disk,
                    "tmpfs" => FileKind::Tmpfs,
                    "hugetlbfs" => FileKind::Hugetlbfs,
                    f => return Err(invalid(format!("file_create.fs: {f:?}; expected disk, tmpfs or hugetlbfs"))),
                };
                let r = self.k.file_create(name, kind, oi.u64_or("pages", 0)?, oi.bool_or("cached", false)?).map_err(api)?;
                if let Ok(fid) = r {
                    self.files.insert(name.to_string(), fid);
                }
                ok_or(r)
            }
            "file_read" | "file_write" => {
                let pid = pid_of(&oi, "task")?;
                let fid = self.file(oi.str_req("file")?)?;
                let (first, count) = (oi.u64_req("first")?, oi.u64_req("count")?);
                let r = if name == "file_read" { self.k.file_read(pid, fid, first, count) } else { self.k.file_write(pid, fid, first, count) };
                ok_or(r.map_err(api)?)
            }
            "sysctl" => ok_or(self.k.sysctl_write(oi.str_req("name")?, oi.i64_req("value")?).map_err(api)?),
            "cgroup_create" => ok_or(self.k.cgroup_create(oi.str_req("path")?).map_err(api)?),
            "cgroup_write" => {
                let (path, file) = (oi.str_req("path")?, oi.str_req("file")?);
                check_cgroup_file(file)?;
                ok_or(self.k.cgroup_write(path, file, oi.str_req("value")?).map_err(api)?)
            }
            "cgroup_open" => {
                let (path, file) = (oi.str_req("path")?, oi.str_req("file")?);
                check_cgroup_file(file)?;
                let fd = oi.str_req("fd")?.to_string();
                let r = self.k.cgroup_open(path, file);
                if let Ok(n) = r {
                    self.fds.insert(fd, n);
                }
                ok_or(r)
            }
            "fd_write" => {
                let fd = oi.str_req("fd")?;
                let n = *self.fds.get(fd).ok_or_else(|| invalid(format!("fd {fd:?} was not opened")))?;
                ok_or(self.k.cgroup_fd_write(n, oi.str_req("value")?).map_err(api)?)
            }
            "charge" => ok_or(self.k.cgroup_charge(oi.str_req("path")?, oi.u64_req("pages")?).map_err(api)?),
            "uncharge" => ok_or(self.k.cgroup_uncharge(oi.str_req("path")?, oi.u64_req("pages")?).map_err(api)?),
            other => return Err(invalid(format!("unknown op {other:?}"))),
        })
    }
}

struct OpInfo {
    result: Value,
    one_page_touch: bool,
    is_write: bool,
    fault: FaultKind,
    cow: CowKind,
}

fn observe(r: &Runner, req: &Map<String, Value>, before: &Snap, after: &Snap, info: Option<&OpInfo>) -> Result<Value, CheckError> {
    let mut out = Map::new();
    for (key, want) in req {
        let v = match key.as_str() {
            "op" | "from_op" => want.clone(),
            "result" => info.map(|i| i.result.clone()).ok_or_else(|| invalid("result only exists in at entries"))?,
            "fault" => {
                let i = info.ok_or_else(|| invalid("fault only exists in at entries"))?;
                if !i.one_page_touch {
                    return Err(invalid("fault is observed only for a touch of exactly one page"));
                }
                json!(match i.fault {
                    FaultKind::None => "none",
                    FaultKind::Minor => "minor",
                    FaultKind::Major => "major",
                })
            }
            "cow" => {
                let i = info.ok_or_else(|| invalid("cow only exists in at entries"))?;
                if !i.one_page_touch || !i.is_write {
                    return Err(invalid("cow is observed only for a write touch of exactly one page"));
                }
                json!(match i.cow {
                    CowKind::None => "none",
                    CowKind::Copy => "copy",
                    CowKind::Reuse => "reuse",
                })
            }
            "pages_allocated" => json!(after.pages_allocated - before.pages_allocated),
            "faults_minor" => json!(after.faults_minor - before.faults_minor),
            "faults_major" => json!(after.faults_major - before.faults_major),
            "committed_as_pages" => json!(r.k.committed_as_pages()),
            "committed_as_delta_pages" => json!(after.committed - before.committed),
            "commit_limit_pages" => json!(r.k.commit_limit_pages()),
            "meminfo_kb" => {
                let mut m = Map::new();
                for f in want.as_object().ok_or_else(|| invalid("meminfo_kb: expected an object"))?.keys() {
                    let v = r.k.meminfo_field(f).ok_or_else(|| unsupported(format!("meminfo field {f} is not modelled")))?;
                    m.insert(f.clone(), json!(v));
                }
                Value::Object(m)
            }
            "sysctl" => {
                let mut m = Map::new();
                for n in want.as_object().ok_or_else(|| invalid("sysctl: expected an object"))?.keys() {
                    m.insert(n.clone(), json!(r.k.sysctl_read(n).map_err(api)?));
                }
                Value::Object(m)
            }
            "vmstat_delta" => {
                let mut m = Map::new();
                for n in want.as_object().ok_or_else(|| invalid("vmstat_delta: expected an object"))?.keys() {
                    let i = VMSTAT_NAMES.iter().position(|x| x == n).ok_or_else(|| unsupported(format!("vmstat counter {n} is not modelled")))?;
                    m.insert(n.clone(), json!(after.vmstat[i] as i64 - before.vmstat[i] as i64));
                }
                Value::Object(m)
            }
            "tasks" | "tasks_delta" => {
                let delta = key == "tasks_delta";
                let mut m = Map::new();
                for (p, fields) in want.as_object().ok_or_else(|| invalid(format!("{key}: expected an object")))? {
                    let pid: u32 = p.parse().map_err(|_| invalid(format!("{key}: {p:?} is not a pid")))?;
                    let zero = TaskSnap::default();
                    let a = after.tasks.get(&pid).unwrap_or(&zero);
                    let b = before.tasks.get(&pid).unwrap_or(&zero);
                    let mut t = Map::new();
                    for f in fields.as_object().ok_or_else(|| invalid(format!("{key}.{p}: expected an object")))?.keys() {
                        let val = |s: &TaskSnap| -> Option<i64> {
                            Some(match f.as_str() {
                                "rss" => s.rss,
                                "rss_anon" => s.rss_anon,
                                "rss_file" => s.rss_file,
                                "rss_shmem" => s.rss_shmem,
                                "swapents" => s.swapents,
                                "total_vm_pages" => s.total_vm,
                                _ => return None,
                            })
                        };
                        let v = match (f.as_str(), delta) {
                            ("alive", false) => json!(a.alive),
                            ("blocked", false) => json!(r.k.task(pid).is_some_and(|t| t.state == crate::task::TaskState::Blocked)),
                            (_, false) => json!(val(a).ok_or_else(|| invalid(format!("tasks field {f} is unknown")))?),
                            (_, true) => json!(val(a).ok_or_else(|| invalid(format!("tasks_delta field {f} is unknown")))? - val(b).unwrap()),
                        };
                        t.insert(f.clone(), v);
                    }
                    m.insert(p.clone(), Value::Object(t));
                }
                Value::Object(m)
            }
            "pte" | "vma_flags" => {
                let mut list = Vec::new();
                for e in want.as_array().ok_or_else(|| invalid(format!("{key}: expected a list")))? {
                    let eo = e.as_object().ok_or_else(|| invalid(format!("{key}: entries are objects")))?;
                    let ei = Inputs::new(eo);
                    let pid = pid_of(&ei, "task")?;
                    let page = ei.u64_req("page")?;
                    let region = ei.str_req("region")?;
                    let mut o = eo.clone();
                    let vma = r.region(pid, region).ok().and_then(|(base, _)| {
                        let mm = r.k.task_mm(pid).ok()?;
                        let vpn = base + page;
                        mm.find_vma(vpn).map(|vi| (&mm.vmas[vi], vpn))
                    });
                    if key == "pte" {
                        let state = match vma.map(|(v, vpn)| v.pte(vpn)).unwrap_or(PTE_NONE) {
                            PTE_NONE => "none",
                            PTE_ZERO => "zero_page",
                            p if p & PTE_SWAP != 0 => "swap",
                            p if pte_present(p) => "present",
                            _ => "none",
                        };
                        o.insert("state".into(), json!(state));
                    } else {
                        let flags = vma.map(|(v, _)| v.flags).unwrap_or(0);
                        for (n, bit) in VM_FLAG_NAMES {
                            o.insert((*n).into(), json!(flags & bit != 0));
                        }
                    }
                    list.push(Value::Object(o));
                }
                Value::Array(list)
            }
            "ooms" => {
                let recs = &r.k.oom_records()[before.oom_len..after.oom_len];
                Value::Array(
                    recs.iter()
                        .map(|o| {
                            json!({
                                "constraint": o.constraint.text(),
                                "memcg": o.memcg,
                                "totalpages": o.totalpages,
                                "outcome": o.outcome.name(),
                                "victim": o.victim,
                                "oom_group": o.oom_group,
                                "killed": o.killed,
                            })
                        })
                        .collect(),
                )
            }
            "log" => json!(r.k.log[before.log_len..after.log_len]),
            "counters" | "counters_delta" => {
                let delta = key == "counters_delta";
                let mut m = Map::new();
                for (path, fields) in want.as_object().ok_or_else(|| invalid(format!("{key}: expected an object")))? {
                    let (a, b) = (after.counters.get(path), before.counters.get(path));
                    let a = a.ok_or_else(|| invalid(format!("{key}: cgroup {path:?} does not exist")))?;
                    let zero = [0i64; 4];
                    let b = b.unwrap_or(&zero);
                    let mut o = Map::new();
                    for f in fields.as_object().ok_or_else(|| invalid(format!("{key}.{path}: expected an object")))?.keys() {
                        let i = ["usage", "max", "watermark", "failcnt"].iter().position(|x| x == f).ok_or_else(|| invalid(format!("{key} field {f} is unknown; expected usage, max, watermark, failcnt")))?;
                        o.insert(f.clone(), json!(if delta { a[i] - b[i] } else { a[i] }));
                    }
                    m.insert(path.clone(), Value::Object(o));
                }
                Value::Object(m)
            }
            "cgroup_files" => {
                let mut m = Map::new();
                for (path, files) in want.as_object().ok_or_else(|| invalid("cgroup_files: expected an object"))? {
                    let mut o = Map::new();
                    for f in files.as_object().ok_or_else(|| invalid(format!("cgroup_files.{path}: expected an object")))?.keys() {
                        check_cgroup_file(f)?;
                        o.insert(f.clone(), file_value(f, r.k.memcg.read_file(path, f)));
                    }
                    m.insert(path.clone(), Value::Object(o));
                }
                Value::Object(m)
            }
            "fd_reads" => {
                let mut m = Map::new();
                for fd in want.as_object().ok_or_else(|| invalid("fd_reads: expected an object"))?.keys() {
                    let n = *r.fds.get(fd).ok_or_else(|| invalid(format!("fd_reads: fd {fd:?} was not opened")))?;
                    let file = r.k.cgroup_fds_file(n).unwrap_or_default();
                    m.insert(fd.clone(), file_value(&file, r.k.cgroup_fd_read(n)));
                }
                Value::Object(m)
            }
            other => return Err(invalid(format!("unknown observation key {other:?}"))),
        };
        out.insert(key.clone(), v);
    }
    Ok(Value::Object(out))
}

fn run_ops(inputs: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(inputs);
    inp.check_page_size()?;
    let k = machine(&inp)?;
    let ops = inp.list_or_empty("ops")?;
    let empty = Map::new();
    let req = inp.obj_or_empty(OBSERVE_KEY)?.unwrap_or(&empty);
    let at_reqs: Vec<&Map<String, Value>> = match req.get("at") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(|x| x.as_object().ok_or_else(|| invalid("expected.at entries are objects"))).collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("expected.at is not a list")),
    };
    let mut r = Runner { k, regions: BTreeMap::new(), files: BTreeMap::new(), pids: Vec::new(), fds: BTreeMap::new() };
    // pids named by observations are tracked from the start
    for a in at_reqs.iter().copied().chain(req.get("final").and_then(Value::as_object)) {
        for key in ["tasks", "tasks_delta"] {
            if let Some(o) = a.get(key).and_then(Value::as_object) {
                for p in o.keys() {
                    if let Ok(pid) = p.parse::<u32>() {
                        r.see(pid);
                    }
                }
            }
        }
    }
    let mut snaps = vec![snap(&r)];
    let mut at_out: Vec<Option<Value>> = vec![None; at_reqs.len()];
    for (idx, op) in ops.iter().enumerate() {
        let o = op.as_object().ok_or_else(|| invalid(format!("ops[{idx}] is not an object")))?;
        let oi = Inputs::new(o);
        let one_page_touch = oi.str_or("op", "")? == "touch" && oi.u64_or("count", 0)? == 1;
        let is_write = oi.str_or("access", "")? == "write";
        // §6.2 rule 2: an op whose task the OOM killer killed during the op returns "killed". After a kernel panic
        // the machine has stopped: later ops do not run and return "panic".
        let op_task = o.get("task").and_then(Value::as_u64).map(|p| p as u32);
        let alive_before = op_task.is_some_and(|p| r.k.task(p).is_some());
        let is_exit = oi.str_or("op", "")? == "exit";
        let result = if r.k.panicked().is_some() {
            Value::String("panic".into())
        } else {
            let v = r.op(o).map_err(|e| match e {
                CheckError::Unsupported(s) => CheckError::Unsupported(format!("ops[{idx}]: {s}")),
                CheckError::Invalid(s) => CheckError::Invalid(format!("ops[{idx}]: {s}")),
            })?;
            // a task that died of its own SIGSEGV/SIGBUS (docs/decisions/0004) reports the signal, not "killed"
            let by_signal = matches!(v.as_str(), Some("SIGSEGV" | "SIGBUS"));
            if !is_exit && !by_signal && alive_before && op_task.is_some_and(|p| r.k.task(p).is_none()) {
                Value::String("killed".into())
            } else if r.k.panicked().is_some() {
                Value::String("panic".into())
            } else {
                v
            }
        };
        let info = OpInfo { result, one_page_touch, is_write, fault: r.k.last_fault, cow: r.k.last_cow };
        snaps.push(snap(&r));
        for (ai, a) in at_reqs.iter().enumerate() {
            let at_op = a.get("op").and_then(Value::as_u64).ok_or_else(|| invalid("expected.at[].op is required"))?;
            if at_op as usize != idx {
                continue;
            }
            let from = a.get("from_op").and_then(Value::as_u64).unwrap_or(at_op) as usize;
            if from > idx {
                return Err(invalid(format!("expected.at[{ai}]: from_op {from} is after op {idx}")));
            }
            at_out[ai] = Some(observe(&r, a, &snaps[from], &snaps[idx + 1], Some(&info))?);
        }
    }
    let mut result = Map::new();
    if !at_reqs.is_empty() {
        let mut list = Vec::new();
        for (ai, v) in at_out.into_iter().enumerate() {
            list.push(v.ok_or_else(|| invalid(format!("expected.at[{ai}] names an op that does not exist")))?);
        }
        result.insert("at".into(), Value::Array(list));
    }
    if let Some(f) = req.get("final").and_then(Value::as_object) {
        result.insert("final".into(), observe(&r, f, &snaps[0], snaps.last().unwrap(), None)?);
    }
    Ok(Value::Object(result))
}

/// Run an `ops` scenario outside a vector: `{"machine": {...}, "ops": [...], "observe": {"at": [...], "final": {...}}}`
/// where `observe` has the shape of an `ops` vector's `expected` (its values are ignored; only which observations,
/// ops, pids and pages it names). Returns `{"at": [...], "final": {...}}` computed by the engine. This is what the
/// differential tests diff against the TS reference engine (bindings/src/reference/ops.ts `runOps`).
pub fn run_scenario_json(text: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let o = v.as_object().ok_or("expected an object {machine, ops, observe}")?;
    let mut inputs = Map::new();
    for k in ["machine", "ops", "page_size"] {
        if let Some(x) = o.get(k) {
            inputs.insert(k.into(), x.clone());
        }
    }
    inputs.insert(OBSERVE_KEY.into(), o.get("observe").cloned().unwrap_or(Value::Object(Map::new())));
    match run_ops(&inputs) {
        Ok(v) => Ok(v.to_string()),
        Err(CheckError::Unsupported(s)) => Err(format!("unsupported: {s}")),
        Err(CheckError::Invalid(s)) => Err(format!("invalid: {s}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::conformance::{run_text, Outcome};

    fn public_vectors() -> Option<String> {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        for p in [root.join("../shared/spec/kernel-vectors.json"), root.join("test/vectors/kernel-vectors.json")] {
            if let Ok(t) = std::fs::read_to_string(p) {
                return Some(t);
            }
        }
        None
    }

    /// Every public `ops` vector of the areas this engine owns passes; the others are at worst unsupported.
    #[test]
    fn public_ops_vectors() {
        let Some(text) = public_vectors() else { return };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ops: Vec<_> = v.as_array().unwrap().iter().filter(|x| x["check"] == "ops").cloned().collect();
        let reports = run_text(&serde_json::Value::Array(ops).to_string()).unwrap();
        let mut bad = Vec::new();
        for r in &reports {
            eprintln!("{}", r.line());
            let owned = matches!(r.area.as_str(), "fault" | "overcommit" | "meminfo" | "page_alloc" | "memcg_v1" | "memcg_v2");
            match &r.outcome {
                Outcome::Pass => {}
                Outcome::Fail(_) => bad.push(r.line()),
                _ if owned => bad.push(r.line()),
                _ => {}
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
