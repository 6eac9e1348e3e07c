//! Conformance checks of the `oom_log` group (vectors-format.md §5.7): each formats one part of the OOM report
//! with the functions of `oom_kill::log`.

use crate::conformance::input::Inputs;
use crate::conformance::{CheckError, CheckFn, CheckResult};
use crate::oom_kill::{log, OomConstraint, MSG_ALLOCATING_TASK, MSG_GLOBAL, MSG_MEMCG, PAGE_COUNTER_MAX};
use serde_json::{json, Map, Value};

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    Some(match check {
        "oom_log_killed_process" => check_killed_process,
        "oom_log_constraint" => check_constraint,
        "oom_log_invoked" => check_invoked,
        "oom_log_dump_tasks_row" => check_dump_tasks_row,
        "oom_log_memcg_meminfo" => check_memcg_meminfo,
        _ => return None,
    })
}

fn invalid(msg: impl Into<String>) -> CheckError {
    CheckError::Invalid(msg.into())
}

fn uid(inp: &Inputs, key: &str) -> Result<u32, CheckError> {
    let v = inp.i64_req(key)?;
    u32::try_from(v).map_err(|_| invalid(format!("inputs.{key}: {v} is not a uid")))
}

fn check_killed_process(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let prefix = inp.str_req("prefix")?;
    if ![MSG_GLOBAL, MSG_MEMCG, MSG_ALLOCATING_TASK].contains(&prefix) {
        return Err(invalid(format!("inputs.prefix: {prefix:?}")));
    }
    let adj = inp.i64_req("oom_score_adj")?;
    let line = log::killed_process_line(
        prefix,
        inp.i64_req("pid")?,
        inp.str_req("comm")?,
        inp.u64_req("total_vm_pages")?,
        inp.u64_req("rss_anon")?,
        inp.u64_req("rss_file")?,
        inp.u64_req("rss_shmem")?,
        uid(&inp, "uid")?,
        inp.u64_req("pgtables_bytes")?,
        adj as i16,
    );
    Ok(json!({ "line": line }))
}

fn check_constraint(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let cs = inp.str_req("constraint")?;
    let c = OomConstraint::parse(cs).ok_or_else(|| invalid(format!("inputs.constraint: {cs:?}")))?;
    let nodemask = match inp.get("nodemask") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().ok_or_else(|| invalid("inputs.nodemask: expected a string or null"))?),
    };
    let oom_memcg = match inp.get("oom_memcg") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().ok_or_else(|| invalid("inputs.oom_memcg: expected a string or null"))?),
    };
    let victim = inp.obj_or_empty("victim")?.ok_or_else(|| invalid("inputs.victim is required"))?;
    let vi = Inputs::new(victim);
    let (comm, pid, vuid) = (vi.str_req("comm")?, vi.i64_req("pid")?, uid(&vi, "uid")?);
    let line = log::oom_constraint_line(
        c,
        nodemask,
        inp.str_req("current_cpuset_name")?,
        inp.str_req("mems_allowed")?,
        oom_memcg,
        inp.str_req("victim_memcg")?,
        comm,
        pid,
        vuid,
    );
    let prefix = if oom_memcg.is_some() { MSG_MEMCG } else { MSG_GLOBAL };
    // The memory fields are not inputs: the killed line is rendered with zeros (vectors match it by prefix).
    let killed = log::killed_process_line(prefix, pid, comm, 0, 0, 0, 0, vuid, 0, 0);
    Ok(json!({ "line": line, "killed_line": killed }))
}

fn check_invoked(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let mask = format!("{}({})", inp.str_req("gfp_mask")?, inp.str_req("gfp_flags")?);
    let line = log::invoked_line_text(
        inp.str_req("comm")?,
        &mask,
        inp.i64_req("order")?,
        inp.i64_req("current_oom_score_adj")?,
    );
    Ok(json!({ "line": line }))
}

fn check_dump_tasks_row(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let row = log::dump_task_row(
        inp.i64_req("pid")?,
        uid(&inp, "uid")?,
        inp.i64_req("tgid")?,
        inp.u64_req("total_vm_pages")?,
        inp.u64_req("rss_anon")?,
        inp.u64_req("rss_file")?,
        inp.u64_req("rss_shmem")?,
        inp.u64_req("pgtables_bytes")?,
        inp.u64_req("swapents")?,
        inp.i64_req("oom_score_adj")?,
        inp.str_req("comm")?,
    );
    Ok(json!({ "header1": log::DUMP_TASKS_HEADER1, "header2": log::DUMP_TASKS_HEADER2, "row": row }))
}

fn pages_or_max(inp: &Inputs, key: &str) -> Result<u64, CheckError> {
    match inp.get(key) {
        Some(Value::String(s)) if s == "max" => Ok(PAGE_COUNTER_MAX),
        Some(v) => v.as_u64().ok_or_else(|| invalid(format!("inputs.{key}: expected pages or \"max\", got {v}"))),
        None => Err(invalid(format!("inputs.{key} is required"))),
    }
}

fn check_memcg_meminfo(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let v = inp.str_or("cgroup", "v2")?;
    if v != "v2" {
        return Err(CheckError::Unsupported(format!("oom_log_memcg_meminfo for cgroup {v}: only v2 is defined")));
    }
    let lines = log::memcg_oom_meminfo_v2(
        inp.str_req("path")?,
        inp.u64_req("memory_usage_pages")?,
        pages_or_max(&inp, "memory_max_pages")?,
        inp.u64_req("memory_events_max")?,
        inp.u64_req("swap_usage_pages")?,
        pages_or_max(&inp, "swap_max_pages")?,
        inp.u64_req("swap_events_max")?,
    );
    Ok(json!({ "lines": lines }))
}
