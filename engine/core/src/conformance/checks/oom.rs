//! Conformance checks of the `oom` group (vectors-format.md §5.6). Each maps a check's inputs onto the kernel
//! functions of `oom_kill` and `proc_base`; no OOM semantics live here.

use crate::conformance::input::{points_json, points_value, Inputs};
use crate::conformance::{CheckError, CheckFn, CheckResult};
use crate::gfp_types::gfp_from_tokens;
use crate::oom_kill::reaper::{oom_reap_task, vma_reapable, ReapOutcome, VmaKind};
use crate::oom_kill::{
    self, adj_units, check_panic_on_oom, constrained_alloc, mem_cgroup_get_max, oom_badness, select_bad_process,
    MemcgMaxKind, OomConstraint, OomControl, OomEnv, OomSysctls, OomTask, Selection, TotalpagesInput,
    PAGE_COUNTER_MAX,
};
use crate::proc_base;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    Some(match check {
        "constrained_alloc" => check_constrained_alloc,
        "oom_badness" => check_oom_badness,
        "proc_oom_score" => check_proc_oom_score,
        "select_bad_process" => check_select_bad_process,
        "check_panic_on_oom" => check_check_panic_on_oom,
        "out_of_memory" => check_out_of_memory,
        "oom_reaper" => check_oom_reaper,
        "oom_adj_write" => check_oom_adj_write,
        "oom_adj_read" => check_oom_adj_read,
        _ => return None,
    })
}

fn invalid(msg: impl Into<String>) -> CheckError {
    CheckError::Invalid(msg.into())
}

fn constraint(inp: &Inputs) -> Result<OomConstraint, CheckError> {
    let s = inp.str_req("constraint")?;
    OomConstraint::parse(s).ok_or_else(|| invalid(format!("inputs.constraint: unknown constraint {s:?}")))
}

/// An int or "max" (PAGE_COUNTER_MAX pages).
fn pages_or_max(inp: &Inputs, key: &str) -> Result<u64, CheckError> {
    match inp.get(key) {
        None | Some(Value::Null) => Ok(PAGE_COUNTER_MAX),
        Some(Value::String(s)) if s == "max" => Ok(PAGE_COUNTER_MAX),
        Some(v) => v.as_u64().ok_or_else(|| invalid(format!("inputs.{key}: expected pages or \"max\", got {v}"))),
    }
}

fn adj16(key: &str, v: i64) -> Result<i16, CheckError> {
    if !(-1000..=1000).contains(&v) {
        return Err(invalid(format!("{key}: {v} is outside -1000..1000")));
    }
    Ok(v as i16)
}

fn check_constrained_alloc(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let c = constraint(&inp)?;
    let total_swap = inp.u64_or("total_swap_pages", 0)?;
    let input = match c {
        OomConstraint::None => {
            TotalpagesInput::Global { totalram_pages: inp.u64_req("totalram_pages")?, total_swap_pages: total_swap }
        }
        OomConstraint::Cpuset | OomConstraint::MemoryPolicy => {
            let nodes = inp
                .obj_or_empty("allowed_nodes_present_pages")?
                .ok_or_else(|| invalid("inputs.allowed_nodes_present_pages is required"))?;
            let mut pages = Vec::new();
            for (k, v) in nodes {
                pages.push(v.as_u64().ok_or_else(|| invalid(format!("allowed_nodes_present_pages.{k}: {v}")))?);
            }
            TotalpagesInput::Nodes { allowed_nodes_present_pages: pages, total_swap_pages: total_swap }
        }
        OomConstraint::Memcg => {
            let memory_max = inp.u64_req("memory_max_pages")?;
            let kind = match inp.str_or("cgroup", "v2")? {
                "v1" => MemcgMaxKind::V1 {
                    memsw_max: pages_or_max(&inp, "memsw_max_pages")?,
                    memcg_swappiness: inp.i64_or("memcg_swappiness", 60)?,
                },
                "v2" => MemcgMaxKind::V2 {
                    swap_max: pages_or_max(&inp, "swap_max_pages")?,
                    vm_swappiness: inp.i64_or("vm_swappiness", 60)?,
                },
                other => return Err(invalid(format!("inputs.cgroup: {other:?}"))),
            };
            TotalpagesInput::Memcg { mem_cgroup_max: mem_cgroup_get_max(memory_max, total_swap, kind) }
        }
    };
    Ok(json!({ "totalpages": constrained_alloc(&input) }))
}

/// The badness keys shared by oom_badness and proc_oom_score, as a task.
fn badness_task(inp: &Inputs) -> Result<OomTask, CheckError> {
    let mut t = OomTask::new(0);
    t.rss_anon = inp.u64_or("rss_pages", 0)?;
    t.swapents = inp.u64_or("swapents", 0)?;
    t.pgtables_bytes = inp.u64_or("pgtables_bytes", 0)?;
    t.oom_score_adj = adj16("inputs.oom_score_adj", inp.i64_or("oom_score_adj", 0)?)?;
    t.is_global_init = inp.bool_or("is_global_init", false)?;
    t.is_kthread = inp.bool_or("is_kthread", false)?;
    t.has_mm = inp.bool_or("has_mm", true)?;
    t.mmf_oom_skip = inp.bool_or("mmf_oom_skip", false)?;
    t.in_vfork = inp.bool_or("in_vfork", false)?;
    Ok(t)
}

fn check_oom_badness(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let totalpages = inp.u64_req("totalpages")?;
    let b = oom_badness(&badness_task(&inp)?, totalpages);
    Ok(json!({ "badness": points_json(b), "adj_units": adj_units(totalpages), "eligible": b != i64::MIN }))
}

fn check_proc_oom_score(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let totalpages = inp.u64_req("totalpages")?;
    let badness = match inp.get("badness") {
        Some(v) if !v.is_null() => points_value(v).ok_or_else(|| invalid(format!("inputs.badness: {v}")))?,
        _ => oom_badness(&badness_task(&inp)?, totalpages),
    };
    let mut out = Map::new();
    out.insert("eligible".into(), Value::Bool(badness != i64::MIN));
    match inp.str_or("formula", "v5.9+")? {
        "v5.9+" => {
            out.insert("badness".into(), points_json(badness));
            if let Some(s) = proc_base::oom_score_scaled(badness, totalpages) {
                out.insert("scaled".into(), Value::from(s));
            }
            out.insert("oom_score".into(), Value::from(proc_base::proc_oom_score(badness, totalpages)));
        }
        "v4.17-v5.8" => {
            out.insert("badness".into(), Value::from(proc_base::legacy_oom_badness(badness)));
            out.insert("oom_score".into(), Value::from(proc_base::legacy_proc_oom_score(badness, totalpages)));
        }
        f => return Err(invalid(format!("inputs.formula: {f:?}"))),
    }
    Ok(Value::Object(out))
}

/// Task descriptors (vectors-format §4.4) to OomTasks; mm names are interned to ids.
fn tasks(inp: &Inputs) -> Result<Vec<OomTask>, CheckError> {
    let list = inp.list_or_empty("tasks")?;
    let mut mm_ids: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for (k, v) in list.iter().enumerate() {
        let o = v.as_object().ok_or_else(|| invalid(format!("tasks[{k}]: expected an object")))?;
        let ti = Inputs::new(o);
        let pid = ti.i64_req("pid")?;
        let mut t = OomTask::new(pid);
        t.tgid = ti.i64_or("tgid", pid)?;
        t.comm = ti.str_or("comm", "")?.into();
        if !o.contains_key("comm") {
            t.comm = format!("task{pid}").into();
        }
        let uid = ti.i64_or("uid", 0)?;
        t.uid = u32::try_from(uid).map_err(|_| invalid(format!("tasks[{k}].uid: {uid}")))?;
        t.memcg = ti.str_or("memcg", "/")?.into();
        let mm_name = match o.get("mm").and_then(|v| v.as_str()) {
            Some(s) => s.to_string(),
            None => format!("mm{}", t.tgid),
        };
        let next = mm_ids.len() as u64;
        t.mm = *mm_ids.entry(mm_name).or_insert(next);
        t.points = match o.get("points") {
            Some(v) if !v.is_null() => {
                Some(points_value(v).ok_or_else(|| invalid(format!("tasks[{k}].points: {v}")))?)
            }
            _ => None,
        };
        // The format gives one rss figure: it is reported as anon rss (and total_vm) in log lines.
        t.rss_anon = ti.u64_or("rss_pages", 0)?;
        t.total_vm_pages = t.rss_anon;
        t.swapents = ti.u64_or("swapents", 0)?;
        t.pgtables_bytes = ti.u64_or("pgtables_bytes", 0)?;
        t.oom_score_adj = adj16(&format!("tasks[{k}].oom_score_adj"), ti.i64_or("oom_score_adj", 0)?)?;
        t.has_mm = ti.bool_or("has_mm", true)?;
        t.is_global_init = ti.bool_or("is_global_init", false)?;
        t.is_kthread = ti.bool_or("is_kthread", false)?;
        t.in_vfork = ti.bool_or("in_vfork", false)?;
        t.mmf_oom_skip = ti.bool_or("mmf_oom_skip", false)?;
        t.is_oom_victim = ti.bool_or("is_oom_victim", false)?;
        t.oom_origin = ti.bool_or("oom_origin", false)?;
        t.signal_group_exit = ti.bool_or("signal_group_exit", false)?;
        t.pf_exiting = ti.bool_or("pf_exiting", false)?;
        t.fatal_signal_pending = ti.bool_or("fatal_signal_pending", false)?;
        t.core_dumping = ti.bool_or("core_dumping", false)?;
        out.push(t);
    }
    // A killable task without points needs totalpages.
    Ok(out)
}

fn need_totalpages(inp: &Inputs, ts: &[OomTask]) -> Result<u64, CheckError> {
    if inp.has("totalpages") {
        return inp.u64_req("totalpages");
    }
    if ts.iter().any(|t| t.points.is_none() && oom_kill::oom_unkillable_reason(t).is_none()) {
        return Err(invalid("inputs.totalpages is required: a killable task has no points"));
    }
    Ok(0)
}

fn order(inp: &Inputs) -> Result<i32, CheckError> {
    let o = inp.i64_or("order", 0)?;
    i32::try_from(o).map_err(|_| invalid(format!("inputs.order: {o}")))
}

fn check_select_bad_process(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let ts = tasks(&inp)?;
    let mut oc = OomControl::global(need_totalpages(&inp, &ts)?);
    oc.order = order(&inp)?;
    let chosen = match select_bad_process(&ts, &oc) {
        Selection::None => Value::Null,
        Selection::Abort { .. } => Value::String("abort".into()),
        Selection::Chosen { index, .. } => Value::from(ts[index].pid),
    };
    Ok(json!({ "chosen": chosen }))
}

fn check_check_panic_on_oom(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let p = inp.i64_req("panic_on_oom")?;
    if !(0..=2).contains(&p) {
        return Err(invalid(format!("inputs.panic_on_oom: {p}")));
    }
    let panic = check_panic_on_oom(p as i32, constraint(&inp)?, inp.bool_or("sysrq", false)?);
    Ok(json!({ "panic": panic }))
}

fn check_out_of_memory(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let c = constraint(&inp)?;
    let ts = tasks(&inp)?;
    let mut oc = OomControl::global(need_totalpages(&inp, &ts)?);
    oc.constraint = c;
    if c == OomConstraint::Memcg {
        oc.memcg = Some(inp.str_req("oom_memcg")?.to_string());
    }
    oc.order = order(&inp)?;
    let gfp = inp.list_or_empty("gfp")?;
    if inp.has("gfp") {
        let toks: Vec<&str> =
            gfp.iter().map(|v| v.as_str().ok_or_else(|| invalid("inputs.gfp: tokens are strings"))).collect::<Result<_, _>>()?;
        oc.gfp_mask = gfp_from_tokens(toks).map_err(|t| invalid(format!("inputs.gfp: unknown token {t:?}")))?;
    }
    let p = inp.i64_or("panic_on_oom", 0)?;
    let env = OomEnv {
        sysctls: OomSysctls {
            panic_on_oom: oom_kill::sysctl::validate_panic_on_oom(p).map_err(|e| invalid(e.message))?,
            oom_kill_allocating_task: oom_kill::sysctl::validate_oom_kill_allocating_task(
                inp.i64_or("oom_kill_allocating_task", 0)?,
            )
            .map_err(|e| invalid(e.message))?,
            ..OomSysctls::default()
        },
        ..OomEnv::default()
    };
    let current_pid = inp.i64_req("current")?;
    let current = ts
        .iter()
        .position(|t| t.pid == current_pid)
        .ok_or_else(|| invalid(format!("inputs.current: pid {current_pid} is not one of the tasks")))?;
    let r = oom_kill::out_of_memory(&ts, &oc, current, &env).map_err(|e| invalid(e.message))?;
    let victim_mm = r.victim_pid.and_then(|pid| ts.iter().find(|t| t.pid == pid)).map(|t| t.mm);
    Ok(json!({
        "outcome": r.outcome.map(|o| o.name()),
        "returns": r.returns,
        "panic": r.panic,
        "victim_pid": r.victim_pid,
        "scan_performed": r.scan_performed,
        "killed": r.killed,
        "sigkill_sent_to": r.sigkill_sent_to,
        "marked_victims": r.marked_victims,
        "reaper_queued": !r.reaper_queued.is_empty(),
        "mmf_oom_skip_set": victim_mm.is_some_and(|mm| r.mmf_oom_skip_set.contains(&mm)),
        "log": r.log,
        "log_line_count": r.log.len(),
        "vmstat_oom_kill_delta": r.vmstat_oom_kill_delta(),
    }))
}

fn secs(ms: u64) -> Value {
    Value::from(ms as f64 / 1000.0)
}

fn check_oom_reaper(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let kill_time = match inp.get("kill_time_s") {
        None | Some(Value::Null) => 0.0,
        Some(v) => v.as_f64().ok_or_else(|| invalid(format!("inputs.kill_time_s: {v}")))?,
    };
    if kill_time.is_nan() || kill_time < 0.0 {
        return Err(invalid("inputs.kill_time_s must be >= 0"));
    }
    let kill_ms = (kill_time * 1000.0).round() as u64;
    let plan = oom_reap_task(
        kill_ms,
        inp.bool_or("victim_exits_by_itself", false)?,
        inp.bool_or("mmap_lock_available", true)?,
    );
    let mut out = Map::new();
    out.insert("reaper_runs_at_s".into(), secs(plan.runs_at_ms));
    out.insert("delay_after_kill_s".into(), secs(oom_kill::reaper::OOM_REAPER_DELAY_MS));
    out.insert("max_attempts".into(), Value::from(oom_kill::reaper::MAX_OOM_REAP_RETRIES));
    out.insert("retry_sleep_ms".into(), Value::from(oom_kill::reaper::OOM_REAP_RETRY_SLEEP_MS));
    out.insert("mmf_oom_skip_at_s".into(), plan.mmf_oom_skip_at_ms.map(secs).unwrap_or(Value::Null));
    out.insert("mmf_oom_skip_set".into(), Value::Bool(true));
    out.insert("outcome".into(), Value::from(plan.outcome.name()));
    if let (Some(pid), Some(comm)) = (inp.get("pid"), inp.get("comm")) {
        let pid = pid.as_i64().ok_or_else(|| invalid("inputs.pid: expected an integer"))?;
        let comm = comm.as_str().ok_or_else(|| invalid("inputs.comm: expected a string"))?;
        match plan.outcome {
            ReapOutcome::Reaped => {
                let (mut a, mut f, mut s) = (0, 0, 0);
                if let Some(o) = inp.obj_or_empty("after_reap_pages")? {
                    let oi = Inputs::new(o);
                    a = oi.u64_req("anon")?;
                    f = oi.u64_req("file")?;
                    s = oi.u64_req("shmem")?;
                }
                out.insert("line".into(), Value::from(oom_kill::log::reaped_line(pid, comm, a, f, s)));
            }
            ReapOutcome::UnableToReap => {
                out.insert("line".into(), Value::from(oom_kill::log::unable_to_reap_line(pid, comm)));
            }
            ReapOutcome::VictimExited => {}
        }
    }
    let mut reaped = Vec::new();
    for (k, v) in inp.list_or_empty("vmas")?.iter().enumerate() {
        let o = v.as_object().ok_or_else(|| invalid(format!("vmas[{k}]: expected an object")))?;
        let vi = Inputs::new(o);
        let kind_s = vi.str_req("kind")?;
        let kind = VmaKind::parse(kind_s).ok_or_else(|| invalid(format!("vmas[{k}].kind: {kind_s:?}")))?;
        reaped.push(Value::Bool(vma_reapable(kind, vi.bool_or("VM_HUGETLB", false)?, vi.bool_or("VM_PFNMAP", false)?)));
    }
    out.insert("vmas_reaped".into(), Value::Array(reaped));
    // What select_bad_process does with this victim before/after MMF_OOM_SKIP: evaluate the kernel function.
    let mut victim = OomTask::new(2);
    victim.is_oom_victim = true;
    let oc = OomControl::global(1);
    let verdict = |t: &OomTask| match select_bad_process(std::slice::from_ref(t), &oc) {
        Selection::Abort { .. } => "abort",
        _ => "skip",
    };
    out.insert("select_before_mmf_oom_skip".into(), Value::from(verdict(&victim)));
    victim.mmf_oom_skip = true;
    out.insert("select_after_mmf_oom_skip".into(), Value::from(verdict(&victim)));
    Ok(Value::Object(out))
}

fn check_oom_adj_write(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let value = inp.i64_req("value")?;
    let cur = adj16("inputs.oom_score_adj", inp.i64_or("oom_score_adj", 0)?)?;
    let min = adj16("inputs.oom_score_adj_min", inp.i64_or("oom_score_adj_min", 0)?)?;
    let cap = inp.bool_or("cap_sys_resource", false)?;
    let r = match inp.str_req("file")? {
        "oom_score_adj" => proc_base::oom_score_adj_write(value, cur, min, cap),
        "oom_adj" => proc_base::oom_adj_write(value, cur, min, cap),
        f => return Err(invalid(format!("inputs.file: {f:?}"))),
    };
    Ok(match r {
        Ok(w) => json!({ "result": "ok", "oom_score_adj": w.oom_score_adj }),
        Err(e) => json!({ "result": e.name(), "oom_score_adj": cur }),
    })
}

fn check_oom_adj_read(m: &Map<String, Value>) -> CheckResult {
    let inp = Inputs::new(m);
    inp.check_page_size()?;
    let adj = adj16("inputs.oom_score_adj", inp.i64_req("oom_score_adj")?)?;
    Ok(json!({ "oom_adj": proc_base::oom_adj_read(adj) }))
}
