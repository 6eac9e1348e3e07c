//! Conformance checks of the `psi` group (vectors-format.md §5.5). Each maps a check's inputs onto the
//! kernel/sched/psi.c functions in `crate::psi`.

use crate::conformance::input::Inputs;
use crate::conformance::{CheckError, CheckFn, CheckResult};
use crate::psi::{psi_aggregate_model, psi_avg_text, psi_avgs_model, psi_line, psi_show_text, psi_test_states};
use serde_json::{json, Map, Value};

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    match check {
        "psi_avgs" => Some(check_psi_avgs),
        "psi_show" => Some(check_psi_show),
        "psi_test_states" => Some(check_psi_test_states),
        "psi_aggregate_model" => Some(check_psi_aggregate_model),
        _ => None,
    }
}

fn invalid(msg: String) -> CheckError {
    CheckError::Invalid(msg)
}

fn avg3(v: Option<&Value>, what: &str, default: [u64; 3]) -> Result<[u64; 3], CheckError> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(default) };
    let a = v.as_array().filter(|a| a.len() == 3).ok_or_else(|| invalid(format!("{what}: expected 3 integers")))?;
    let mut out = [0u64; 3];
    for (k, x) in a.iter().enumerate() {
        out[k] = x.as_u64().ok_or_else(|| invalid(format!("{what}[{k}]: expected a non-negative integer")))?;
    }
    Ok(out)
}

fn check_psi_avgs(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    if !i.has("samples") {
        return Err(invalid("inputs.samples is required".into()));
    }
    let mut samples = Vec::new();
    for (k, v) in i.list_or_empty("samples")?.iter().enumerate() {
        let what = format!("inputs.samples[{k}]");
        let o = v.as_object().ok_or_else(|| invalid(format!("{what}: expected an object")))?;
        let get = |key: &str| {
            o.get(key)
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid(format!("{what}.{key}: expected a non-negative integer")))
        };
        let period = get("period_ns")?;
        if period == 0 {
            return Err(invalid(format!("{what}.period_ns must be positive")));
        }
        samples.push((get("stall_ns")?, period));
    }
    let initial = avg3(i.get("initial_avgs"), "inputs.initial_avgs", [0; 3])?;
    let state = i.str_or("state", "some")?;
    if state != "some" && state != "full" {
        return Err(invalid(format!("inputs.state: expected \"some\" or \"full\", got {state:?}")));
    }
    let t = psi_avgs_model(initial, &samples);
    let total_us = t.total_ns / 1000;
    Ok(json!({
        "pcts": t.pcts,
        "avg_fixed": t.avg,
        "avg_text": {"avg10": psi_avg_text(t.avg[0]), "avg60": psi_avg_text(t.avg[1]), "avg300": psi_avg_text(t.avg[2])},
        "total_us": total_us,
        "line": psi_line(state, &t.avg, total_us),
    }))
}

fn psi_state(v: &Value, what: &str) -> Result<([u64; 3], u64), CheckError> {
    let o = v.as_object().ok_or_else(|| invalid(format!("{what}: expected {{avg_fixed, total_us}}")))?;
    let avg = o.get("avg_fixed").ok_or_else(|| invalid(format!("{what}.avg_fixed is required")))?;
    let avg = avg3(Some(avg), &format!("{what}.avg_fixed"), [0; 3])?;
    let total = o
        .get("total_us")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid(format!("{what}.total_us: expected a non-negative integer")))?;
    Ok((avg, total))
}

fn check_psi_show(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let some = psi_state(i.get("some").ok_or_else(|| invalid("inputs.some is required".into()))?, "inputs.some")?;
    let full = match i.get("full") {
        None | Some(Value::Null) => None,
        Some(v) => Some(psi_state(v, "inputs.full")?),
    };
    let text = psi_show_text((&some.0, some.1), full.as_ref().map(|f| (&f.0, f.1)));
    Ok(json!({"text": text}))
}

fn check_psi_test_states(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let (some, full) = psi_test_states(i.u64_req("memstall")?, i.u64_req("running_not_memstall")?);
    Ok(json!({"some": some, "full": full}))
}

fn check_psi_aggregate_model(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let (some, full) = psi_aggregate_model(
        i.u64_req("nr_cpus")?,
        i.u64_req("nonidle_tasks")?,
        i.u64_req("memory_delayed_tasks")?,
        i.u64_req("productive_tasks")?,
    );
    Ok(json!({"some_pct": some, "full_pct": full}))
}
