//! The OOM killer's kernel log lines, byte-exact (mm/oom_kill.c: `dump_header`, `dump_tasks`/`dump_task`,
//! `dump_oom_victim`, `__oom_kill_process`, `oom_reap_task`/`__oom_reap_task_mm`; mm/memcontrol.c:
//! `mem_cgroup_print_oom_context`, `mem_cgroup_print_oom_meminfo`, `mem_cgroup_print_oom_group`). Log format strings
//! are user-visible interface and are reproduced exactly; C conversions are emulated: `%hd` truncates to 16 bits,
//! `%d` of a uid_t prints it as a signed int, `K(x)` is `x << 2`.

use super::{OomConstraint, OomControl, OomTask, OomTaskTable, PAGE_COUNTER_MAX};
use crate::gfp_types::{format_gfp_mask, GfpMask};

/// `K(x)`: pages to kB.
fn k(pages: u64) -> u64 {
    pages.wrapping_shl(crate::PAGE_SHIFT - 10)
}

/// dump_header's first line:
/// `<comm> invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd`.
pub fn oom_invoked_line(comm: &str, gfp_mask: GfpMask, order: i32, current_oom_score_adj: i16) -> String {
    invoked_line_text(comm, &format_gfp_mask(gfp_mask), order as i64, current_oom_score_adj as i64)
}

/// The same line with the mask already rendered as text (`gfp_mask_and_flags` = `0x140cca(GFP_...)`).
pub fn invoked_line_text(comm: &str, gfp_mask_and_flags: &str, order: i64, current_oom_score_adj: i64) -> String {
    format!(
        "{comm} invoked oom-killer: gfp_mask={gfp_mask_and_flags}, order={}, oom_score_adj={}",
        order as i32, current_oom_score_adj as i16
    )
}

/// A model of dump_stack()'s output for `current` (the real trace depends on the call path; the engine may pass
/// its own lines in `OomEnv::stack_lines`).
pub fn dump_stack_lines(current: &OomTask) -> Vec<String> {
    vec![
        format!("CPU: 0 UID: {} PID: {} Comm: {} Not tainted 6.19.0 #1", current.uid, current.pid, current.comm),
        "Call Trace:".into(),
        " <TASK>".into(),
        " dump_stack_lvl".into(),
        " dump_header".into(),
        " out_of_memory".into(),
        " </TASK>".into(),
    ]
}

pub const DUMP_TASKS_HEADER1: &str = "Tasks state (memory values in pages):";
pub const DUMP_TASKS_HEADER2: &str =
    "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name";

/// One row of dump_tasks:
/// `[%7d] %5d %5d %8lu %8lu %8lu %8lu %9lu %8ld %8lu         %5hd %s` (pid, uid, tgid, total_vm, rss, rss_anon,
/// rss_file, rss_shmem, pgtables_bytes, swapents, oom_score_adj, comm). rss = anon + file + shmem.
#[allow(clippy::too_many_arguments)]
pub fn dump_task_row(
    pid: i64,
    uid: u32,
    tgid: i64,
    total_vm_pages: u64,
    rss_anon: u64,
    rss_file: u64,
    rss_shmem: u64,
    pgtables_bytes: u64,
    swapents: u64,
    oom_score_adj: i64,
    comm: &str,
) -> String {
    let rss = rss_anon.wrapping_add(rss_file).wrapping_add(rss_shmem);
    format!(
        "[{:>7}] {:>5} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8}         {:>5} {}",
        pid as i32,
        uid as i32,
        tgid as i32,
        total_vm_pages,
        rss,
        rss_anon,
        rss_file,
        rss_shmem,
        pgtables_bytes as i64,
        swapents,
        oom_score_adj as i16,
        comm
    )
}

/// mm/oom_kill.c:`dump_tasks`: the two header lines and one row per process of the OOM domain (the OOM memcg's
/// subtree, or every cpuset-eligible process for a global OOM), skipping global init, kthreads and processes
/// without an mm. Tasks with adj -1000 are listed.
pub fn dump_tasks(tasks: &[OomTask], oc: &OomControl) -> Vec<String> {
    dump_tasks_on(tasks, oc)
}

/// [`dump_tasks`] over any task table (it visits every task).
pub fn dump_tasks_on<T: OomTaskTable + ?Sized>(tasks: &T, oc: &OomControl) -> Vec<String> {
    let mut out = vec![DUMP_TASKS_HEADER1.to_string(), DUMP_TASKS_HEADER2.to_string()];
    for i in 0..tasks.nr_tasks() {
        let t = tasks.task(i);
        if !super::in_oom_domain(&t, oc) || t.oom_unkillable() {
            continue;
        }
        if !oc.is_memcg_oom() && !t.cpuset_eligible {
            continue;
        }
        if !t.has_mm {
            continue;
        }
        out.push(dump_task_row(
            t.pid,
            t.uid,
            t.tgid,
            t.total_vm_pages,
            t.rss_anon,
            t.rss_file,
            t.rss_shmem,
            t.pgtables_bytes,
            t.swapents,
            t.oom_score_adj as i64,
            &t.comm,
        ));
    }
    out
}

/// dump_oom_victim's line: `oom-kill:constraint=%s,nodemask=%*pbl,cpuset=<name>,mems_allowed=<list>,` then
/// `oom_memcg=<path>` (memcg OOM) or `global_oom`, then `,task_memcg=<path>,task=%s,pid=%d,uid=%d`. The nodemask
/// prints `(null)` unless given (out_of_memory drops it unless CONSTRAINT_MEMORY_POLICY).
#[allow(clippy::too_many_arguments)]
pub fn oom_constraint_line(
    constraint: OomConstraint,
    nodemask: Option<&str>,
    cpuset_name: &str,
    mems_allowed: &str,
    oom_memcg: Option<&str>,
    task_memcg: &str,
    comm: &str,
    pid: i64,
    uid: u32,
) -> String {
    let domain = match oom_memcg {
        Some(m) => format!("oom_memcg={m}"),
        None => "global_oom".to_string(),
    };
    format!(
        "oom-kill:constraint={},nodemask={},cpuset={},mems_allowed={},{},task_memcg={},task={},pid={},uid={}",
        constraint.text(),
        nodemask.unwrap_or("(null)"),
        cpuset_name,
        mems_allowed,
        domain,
        task_memcg,
        comm,
        pid as i32,
        uid as i32
    )
}

/// __oom_kill_process's line: `%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB,
/// shmem-rss:%lukB, UID:%u pgtables:%lukB oom_score_adj:%hd` (memory in pages here, printed in kB; pgtables is
/// bytes >> 10).
#[allow(clippy::too_many_arguments)]
pub fn killed_process_line(
    prefix: &str,
    pid: i64,
    comm: &str,
    total_vm_pages: u64,
    rss_anon: u64,
    rss_file: u64,
    rss_shmem: u64,
    uid: u32,
    pgtables_bytes: u64,
    oom_score_adj: i16,
) -> String {
    format!(
        "{prefix}: Killed process {} ({comm}) total-vm:{}kB, anon-rss:{}kB, file-rss:{}kB, shmem-rss:{}kB, UID:{uid} pgtables:{}kB oom_score_adj:{}",
        pid as i32,
        k(total_vm_pages),
        k(rss_anon),
        k(rss_file),
        k(rss_shmem),
        pgtables_bytes >> 10,
        oom_score_adj
    )
}

/// `%s: OOM victim %d (%s) is already exiting. Skip killing the task`
pub fn already_exiting_line(prefix: &str, pid: i64, comm: &str) -> String {
    format!("{prefix}: OOM victim {} ({comm}) is already exiting. Skip killing the task", pid as i32)
}

/// `oom killer %d (%s) has mm pinned by %d (%s)`
pub fn mm_pinned_line(victim_pid: i64, victim_comm: &str, pid: i64, comm: &str) -> String {
    format!("oom killer {} ({victim_comm}) has mm pinned by {} ({comm})", victim_pid as i32, pid as i32)
}

/// mem_cgroup_print_oom_group: `Tasks in <path> are going to be killed due to memory.oom.group set`
pub fn oom_group_line(path: &str) -> String {
    format!("Tasks in {path} are going to be killed due to memory.oom.group set")
}

pub const NO_KILLABLE_PROCESSES: &str = "Out of memory and no killable processes...";

/// panic()'s line: `Kernel panic - not syncing: <msg>`.
pub fn panic_line(msg: &str) -> String {
    format!("Kernel panic - not syncing: {msg}")
}

/// `oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB` (pages in).
pub fn reaped_line(pid: i64, comm: &str, anon: u64, file: u64, shmem: u64) -> String {
    format!(
        "oom_reaper: reaped process {} ({comm}), now anon-rss:{}kB, file-rss:{}kB, shmem-rss:{}kB",
        pid as i32,
        k(anon),
        k(file),
        k(shmem)
    )
}

/// `oom_reaper: unable to reap pid:%d (%s)`
pub fn unable_to_reap_line(pid: i64, comm: &str) -> String {
    format!("oom_reaper: unable to reap pid:{} ({comm})", pid as i32)
}

/// A memcg limit in kB as the OOM report prints it: PAGE_COUNTER_MAX ("max") prints 9007199254740988.
pub fn limit_kb(pages: u64) -> u64 {
    k(pages.min(PAGE_COUNTER_MAX))
}

/// mem_cgroup_print_oom_meminfo (v2), the lines this module can render: `memory: usage %llukB, limit %llukB,
/// failcnt %lu` (failcnt = memory.events max), `swap: usage %llukB, limit %llukB, failcnt %lu` (swap.events max),
/// `Memory cgroup stats for <path>:`. The memory.stat lines that follow come from the memcg code.
#[allow(clippy::too_many_arguments)]
pub fn memcg_oom_meminfo_v2(
    path: &str,
    memory_usage_pages: u64,
    memory_max_pages: u64,
    memory_events_max: u64,
    swap_usage_pages: u64,
    swap_max_pages: u64,
    swap_events_max: u64,
) -> Vec<String> {
    vec![
        format!(
            "memory: usage {}kB, limit {}kB, failcnt {}",
            k(memory_usage_pages),
            limit_kb(memory_max_pages),
            memory_events_max
        ),
        format!("swap: usage {}kB, limit {}kB, failcnt {}", k(swap_usage_pages), limit_kb(swap_max_pages), swap_events_max),
        format!("Memory cgroup stats for {path}:"),
    ]
}

/// fs/proc/base.c:`__set_oom_adj`'s one-time warning on the first legacy oom_adj write.
pub fn oom_adj_deprecated_line(writer_comm: &str, writer_pid: i64, target_pid: i64) -> String {
    format!(
        "{writer_comm} ({}): /proc/{}/oom_adj is deprecated, please use /proc/{}/oom_score_adj instead.",
        writer_pid as i32, target_pid as i32, target_pid as i32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn killed_line_exact() {
        assert_eq!(
            killed_process_line("Out of memory", 4312, "stress", 262656, 262144, 300, 0, 1000, 532480, 0),
            "Out of memory: Killed process 4312 (stress) total-vm:1050624kB, anon-rss:1048576kB, file-rss:1200kB, shmem-rss:0kB, UID:1000 pgtables:520kB oom_score_adj:0"
        );
        // pgtables truncates: 1023 bytes -> 0 kB
        assert!(killed_process_line("x", 1, "a", 0, 0, 0, 0, 0, 1023, -1000).ends_with("pgtables:0kB oom_score_adj:-1000"));
    }

    #[test]
    fn dump_row_widths() {
        assert_eq!(
            dump_task_row(2001, 0, 2001, 51200, 40000, 1200, 16, 217088, 12, 100, "postgres"),
            "[   2001]     0  2001    51200    41216    40000     1200        16   217088       12           100 postgres"
        );
        // wider values push columns out, as printf does; %hd truncates to 16 bits
        let r = dump_task_row(12345678, 100000, 7, 0, 0, 0, 0, 0, 0, 70000, "x");
        assert_eq!(r, "[12345678] 100000     7        0        0        0        0         0        0        0          4464 x");
        assert!(dump_task_row(1, 0, 1, 0, 0, 0, 0, 0, 0, -1000, "n").ends_with("         -1000 n"));
    }

    #[test]
    fn constraint_line_both_domains() {
        assert_eq!(
            oom_constraint_line(OomConstraint::Memcg, None, "/", "0", Some("/app"), "/app/worker", "python3", 777, 0),
            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/app,task_memcg=/app/worker,task=python3,pid=777,uid=0"
        );
        assert_eq!(
            oom_constraint_line(OomConstraint::MemoryPolicy, Some("1"), "/", "0-1", None, "/", "a", 5, 4294967295),
            "oom-kill:constraint=CONSTRAINT_MEMORY_POLICY,nodemask=1,cpuset=/,mems_allowed=0-1,global_oom,task_memcg=/,task=a,pid=5,uid=-1"
        );
    }

    #[test]
    fn invoked_line() {
        assert_eq!(
            oom_invoked_line("stress", 0x140cca, 0, 0),
            "stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0"
        );
        assert_eq!(
            oom_invoked_line("bash", crate::gfp_types::GFP_KERNEL, -1, -500),
            "bash invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=-1, oom_score_adj=-500"
        );
    }

    #[test]
    fn meminfo_max_prints_page_counter_max_kb() {
        let l = memcg_oom_meminfo_v2("/b", 51200, PAGE_COUNTER_MAX, 3, 1024, PAGE_COUNTER_MAX, 0);
        assert_eq!(l[0], "memory: usage 204800kB, limit 9007199254740988kB, failcnt 3");
        assert_eq!(l[1], "swap: usage 4096kB, limit 9007199254740988kB, failcnt 0");
        assert_eq!(l[2], "Memory cgroup stats for /b:");
    }

    #[test]
    fn reaper_lines() {
        assert_eq!(
            reaped_line(4312, "stress", 0, 3, 1),
            "oom_reaper: reaped process 4312 (stress), now anon-rss:0kB, file-rss:12kB, shmem-rss:4kB"
        );
        assert_eq!(unable_to_reap_line(4312, "stress"), "oom_reaper: unable to reap pid:4312 (stress)");
    }
}
