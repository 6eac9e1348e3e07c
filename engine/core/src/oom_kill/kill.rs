//! mm/oom_kill.c:`out_of_memory` and what it runs, as pure functions: the sysctls and the environment it reads
//! ([`OomSysctls`], [`OomEnv`]), `dump_header`, `oom_kill_process` (with the oom_group walk) and the outcome it
//! returns ([`OomOutcome`], [`OomResult`]: what to SIGKILL, count, mark and reap, and the log lines in order).

use super::*;

/// The vm.* OOM sysctls (mm/oom_kill.c:`vm_oom_kill_table`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OomSysctls {
    pub panic_on_oom: i32,
    pub oom_kill_allocating_task: i32,
    pub oom_dump_tasks: i32,
}

impl Default for OomSysctls {
    fn default() -> Self {
        OomSysctls { panic_on_oom: 0, oom_kill_allocating_task: 0, oom_dump_tasks: 1 }
    }
}

/// A memory.oom.group cgroup to sweep: its path and its processes (indices into the task slice, in
/// `mem_cgroup_scan_tasks` order).
#[derive(Clone, Debug, PartialEq)]
pub struct OomGroup {
    pub path: String,
    pub members: Vec<usize>,
}

/// Everything `out_of_memory` needs beyond the task table and the oom_control.
pub struct OomEnv<'a> {
    pub sysctls: OomSysctls,
    /// `oom_killer_disable()` is in effect (suspend/hibernation): out_of_memory returns false at once.
    pub oom_killer_disabled: bool,
    /// Pages the OOM notifier chain freed (global OOM only); > 0 ends a non-SysRq OOM.
    pub notifier_freed: u64,
    /// `__ratelimit(&oom_rs)` allows the dump_header + `oom-kill:` lines of oom_kill_process (10 per 5 s).
    pub ratelimit_ok: bool,
    /// Lines `dump_header` prints after the stack: `show_mem` for a global OOM, `mem_cgroup_print_oom_meminfo` for a
    /// memcg OOM. Supplied by the engine (page allocator / memcg code).
    pub meminfo_lines: Vec<String>,
    /// The stack dump lines; `None` uses [`log::dump_stack_lines`].
    pub stack_lines: Option<Vec<String>>,
    /// The allocating task's cpuset name and mems_allowed list for the `oom-kill:` line.
    pub cpuset_name: String,
    pub mems_allowed: String,
    /// `mem_cgroup_get_oom_group(victim, oc->memcg)` for a victim index: the memcg code decides. None = no group.
    pub get_oom_group: Option<&'a dyn Fn(usize) -> Option<OomGroup>>,
}

impl Default for OomEnv<'_> {
    fn default() -> Self {
        OomEnv {
            sysctls: OomSysctls::default(),
            oom_killer_disabled: false,
            notifier_freed: 0,
            ratelimit_ok: true,
            meminfo_lines: Vec::new(),
            stack_lines: None,
            cpuset_name: "/".into(),
            mems_allowed: "0".into(),
            get_oom_group: None,
        }
    }
}

/// Which branch of `out_of_memory` ended the call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OomOutcome {
    /// Step 1: the OOM killer is disabled; returns false.
    Disabled,
    /// Step 2: the OOM notifier chain freed memory (global, non-SysRq); returns true.
    NotifierFreed,
    /// Step 3: current is exiting; it is marked and reaped, nothing else happens.
    CurrentWillFreeMem,
    /// Step 4: a global GFP_NOFS allocation; returns true without killing.
    NofsSkip,
    /// Step 6: vm.panic_on_oom.
    Panic,
    /// Step 7: vm.oom_kill_allocating_task killed current.
    KillAllocatingTask,
    /// Step 10: the chosen victim was handled by oom_kill_process.
    Kill,
    /// Step 11 with the -1 marker: an earlier victim is still exiting; returns true.
    Abort,
    /// Step 9: nothing killable (panics for a global non-SysRq OOM).
    NoVictim,
}

impl OomOutcome {
    /// The format's outcome names.
    pub const fn name(self) -> &'static str {
        match self {
            OomOutcome::Disabled => "disabled",
            OomOutcome::NotifierFreed => "notifier_freed",
            OomOutcome::CurrentWillFreeMem => "current_will_free_mem",
            OomOutcome::NofsSkip => "nofs_skip",
            OomOutcome::Panic => "panic",
            OomOutcome::KillAllocatingTask => "kill_allocating_task",
            OomOutcome::Kill => "kill",
            OomOutcome::Abort => "abort",
            OomOutcome::NoVictim => "no_victim",
        }
    }
}

/// Everything one `out_of_memory` call decided, for the engine to apply. Lists are pids in kernel order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct OomResult {
    pub outcome: Option<OomOutcome>,
    /// out_of_memory()'s return value (false after a panic: it never returns).
    pub returns: bool,
    /// The panic message without newline; the machine halts.
    pub panic: Option<String>,
    /// The chosen victim (current for kill_allocating_task).
    pub victim_pid: Option<i64>,
    /// Its select_bad_process points (None when no scan chose it).
    pub victim_points: Option<i64>,
    pub scan_performed: bool,
    /// Processes counted by `__oom_kill_process` (one "Killed process" line, one vmstat oom_kill and one memcg
    /// oom_kill event on the task's memcg each), in order; a pid may appear twice (oom.group revisits the victim).
    pub killed: Vec<i64>,
    /// Processes sent SIGKILL (whole thread group), in order; includes unlogged mm sharers.
    pub sigkill_sent_to: Vec<i64>,
    /// Processes marked as OOM victims (`mark_oom_victim`: TIF_MEMDIE, signal->oom_mm, reserves access).
    pub marked_victims: Vec<i64>,
    /// Processes whose OOM reaper was queued (runs 2 s later), in order.
    pub reaper_queued: Vec<i64>,
    /// mm ids that got MMF_OOM_SKIP during the call (mm shared with global init).
    pub mmf_oom_skip_set: Vec<u64>,
    /// The memory.oom.group cgroup swept (its `oom_group_kill` event is raised once).
    pub oom_group: Option<String>,
    /// Kernel log lines, in order, without trailing newlines.
    pub log: Vec<String>,
}

impl OomResult {
    pub fn vmstat_oom_kill_delta(&self) -> u64 {
        self.killed.len() as u64
    }
}

fn dump_header<T: OomTaskTable + ?Sized>(tasks: &T, oc: &OomControl, current: usize, env: &OomEnv, log: &mut Vec<String>) {
    let cur = tasks.task(current);
    log.push(log::oom_invoked_line(&cur.comm, oc.gfp_mask, oc.order, cur.oom_score_adj));
    match &env.stack_lines {
        Some(lines) => log.extend(lines.iter().cloned()),
        None => log.extend(log::dump_stack_lines(&cur)),
    }
    log.extend(env.meminfo_lines.iter().cloned());
    if env.sysctls.oom_dump_tasks != 0 {
        log.extend(log::dump_tasks_on(tasks, oc));
    }
}

/// mm/oom_kill.c:`__oom_kill_process` on `tasks[v]` with the message prefix `msg`.
fn __oom_kill_process<T: OomTaskTable + ?Sized>(tasks: &T, v: usize, msg: &str, r: &mut OomResult) {
    let victim = tasks.task(v);
    let victim = &*victim;
    if !victim.has_mm {
        r.log.push(log::already_exiting_line(msg, victim.pid, &victim.comm));
        return;
    }
    r.killed.push(victim.pid);
    r.sigkill_sent_to.push(victim.pid);
    r.marked_victims.push(victim.pid);
    r.log.push(log::killed_process_line(
        msg,
        victim.pid,
        &victim.comm,
        victim.total_vm_pages,
        victim.rss_anon,
        victim.rss_file,
        victim.rss_shmem,
        victim.uid,
        victim.pgtables_bytes,
        victim.oom_score_adj,
    ));
    let mut can_oom_reap = true;
    for p in tasks.mm_sharers(v) {
        let p = tasks.task(p);
        if p.is_global_init {
            can_oom_reap = false;
            if !r.mmf_oom_skip_set.contains(&victim.mm) {
                r.mmf_oom_skip_set.push(victim.mm);
            }
            r.log.push(log::mm_pinned_line(victim.pid, &victim.comm, p.pid, &p.comm));
            continue;
        }
        if p.is_kthread {
            continue;
        }
        r.sigkill_sent_to.push(p.pid);
    }
    if can_oom_reap {
        r.reaper_queued.push(victim.pid);
    }
}

/// mm/oom_kill.c:`oom_kill_process` on `tasks[v]`.
fn oom_kill_process<T: OomTaskTable + ?Sized>(
    tasks: &T,
    oc: &OomControl,
    current: usize,
    v: usize,
    msg: &str,
    env: &OomEnv,
    r: &mut OomResult,
) {
    if task_will_free_mem_on(tasks, v) {
        let pid = tasks.task(v).pid;
        r.marked_victims.push(pid);
        r.reaper_queued.push(pid);
        return;
    }
    if env.ratelimit_ok {
        dump_header(tasks, oc, current, env, &mut r.log);
        let victim = tasks.task(v);
        r.log.push(log::oom_constraint_line(
            oc.constraint,
            oc.nodemask.as_deref(),
            &env.cpuset_name,
            &env.mems_allowed,
            oc.memcg.as_deref(),
            &victim.memcg,
            &victim.comm,
            victim.pid,
            victim.uid,
        ));
    }
    let group = env.get_oom_group.and_then(|f| f(v));
    __oom_kill_process(tasks, v, msg, r);
    if let Some(g) = group {
        r.log.push(log::oom_group_line(&g.path));
        for &m in &g.members {
            if m < tasks.nr_tasks() {
                let t = tasks.task(m);
                if t.oom_score_adj != OOM_SCORE_ADJ_MIN && !t.is_global_init {
                    __oom_kill_process(tasks, m, msg, r);
                }
            }
        }
        r.oom_group = Some(g.path);
    }
}

/// mm/oom_kill.c:`out_of_memory` (dossier §2.2), one call, as a pure decision over `tasks` (`current` is the index
/// of the allocating task). The steps, in order:
/// 1. OOM killer disabled -> false.  2. Global: the notifier freed memory and not SysRq -> true.
/// 3. `task_will_free_mem(current)` -> mark current, queue its reaper, true (nothing logged).
/// 4. Global and no __GFP_FS -> true, no kill.  5. (constrained_alloc: done by the caller, in `oc`.)
/// 6. `check_panic_on_oom` -> dump_header, panic.
/// 7. Global, vm.oom_kill_allocating_task, current has an mm, is not init/kthread, is cpuset eligible and its adj
///    is not -1000 -> oom_kill_process(current, "Out of memory (oom_kill_allocating_task)"), true.
/// 8. select_bad_process.  9. Nothing: dump_header + "Out of memory and no killable processes..."; a global
///    non-SysRq OOM panics "System is deadlocked on memory"; false.  10. A real victim -> oom_kill_process with
///    "Out of memory" / "Memory cgroup out of memory".  11. true if anything (even the abort marker) was chosen.
///
/// `oom_kill_process`: a victim that will free its memory anyway is only marked and reaped; otherwise (if the
/// ratelimit allows) dump_header and the `oom-kill:` line, then `__oom_kill_process` (count, SIGKILL, mark, log
/// "Killed process", SIGKILL other mm sharers unlogged, init sharing the mm pins it: MMF_OOM_SKIP, no reaper),
/// then the memory.oom.group sweep over `env.get_oom_group(victim)` (every member whose adj != -1000 and that is
/// not init, the victim included again).
pub fn out_of_memory(
    tasks: &[OomTask],
    oc: &OomControl,
    current: usize,
    env: &OomEnv,
) -> Result<OomResult, crate::ApiError> {
    out_of_memory_on(tasks, oc, current, env)
}

/// [`out_of_memory`] over any task table (the engine's live tasks for a global OOM).
pub fn out_of_memory_on<T: OomTaskTable + ?Sized>(
    tasks: &T,
    oc: &OomControl,
    current: usize,
    env: &OomEnv,
) -> Result<OomResult, crate::ApiError> {
    if current >= tasks.nr_tasks() {
        return Err(crate::ApiError::new(
            "E_ARG",
            format!("out_of_memory: current index {current} is not one of the {} tasks", tasks.nr_tasks()),
        ));
    }
    Ok(out_of_memory_inner(tasks, oc, current, env))
}

fn out_of_memory_inner<T: OomTaskTable + ?Sized>(tasks: &T, oc: &OomControl, current: usize, env: &OomEnv) -> OomResult {
    let mut r = OomResult::default();
    let finish = |mut r: OomResult, o: OomOutcome, returns: bool| {
        r.outcome = Some(o);
        r.returns = returns;
        r
    };
    // 1
    if env.oom_killer_disabled {
        return finish(r, OomOutcome::Disabled, false);
    }
    // 2
    if !oc.is_memcg_oom() && env.notifier_freed > 0 && !oc.is_sysrq_oom() {
        return finish(r, OomOutcome::NotifierFreed, true);
    }
    // 3
    if task_will_free_mem_on(tasks, current) {
        let pid = tasks.task(current).pid;
        r.marked_victims.push(pid);
        r.reaper_queued.push(pid);
        return finish(r, OomOutcome::CurrentWillFreeMem, true);
    }
    // 4
    if oc.gfp_mask & __GFP_FS == 0 && !oc.is_memcg_oom() {
        return finish(r, OomOutcome::NofsSkip, true);
    }
    // 5: the nodemask only matters for CONSTRAINT_MEMORY_POLICY.
    let mut oc = oc.clone();
    if oc.constraint != OomConstraint::MemoryPolicy {
        oc.nodemask = None;
    }
    let oc = &oc;
    // 6
    if let Some(msg) = check_panic_on_oom(env.sysctls.panic_on_oom, oc.constraint, oc.is_sysrq_oom()) {
        dump_header(tasks, oc, current, env, &mut r.log);
        r.log.push(log::panic_line(&msg));
        r.panic = Some(msg);
        return finish(r, OomOutcome::Panic, false);
    }
    // 7
    let cur = tasks.task(current);
    if !oc.is_memcg_oom()
        && env.sysctls.oom_kill_allocating_task != 0
        && cur.has_mm
        && !cur.oom_unkillable()
        && cur.cpuset_eligible
        && cur.oom_score_adj != OOM_SCORE_ADJ_MIN
    {
        r.victim_pid = Some(cur.pid);
        oom_kill_process(tasks, oc, current, current, MSG_ALLOCATING_TASK, env, &mut r);
        return finish(r, OomOutcome::KillAllocatingTask, true);
    }
    // 8
    r.scan_performed = true;
    match select_bad_process_on(tasks, oc) {
        Selection::None => {
            dump_header(tasks, oc, current, env, &mut r.log);
            r.log.push(log::NO_KILLABLE_PROCESSES.to_string());
            if !oc.is_sysrq_oom() && !oc.is_memcg_oom() {
                let msg = "System is deadlocked on memory".to_string();
                r.log.push(log::panic_line(&msg));
                r.panic = Some(msg);
            }
            finish(r, OomOutcome::NoVictim, false)
        }
        Selection::Abort { .. } => finish(r, OomOutcome::Abort, true),
        Selection::Chosen { index, points } => {
            r.victim_pid = Some(tasks.task(index).pid);
            r.victim_points = Some(points);
            let msg = if oc.is_memcg_oom() { MSG_MEMCG } else { MSG_GLOBAL };
            oom_kill_process(tasks, oc, current, index, msg, env, &mut r);
            finish(r, OomOutcome::Kill, true)
        }
    }
}
