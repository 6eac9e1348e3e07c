//! Conformance checks of the `memcg` group (vectors-format.md §5.8). Each maps a check's inputs onto engine functions.

use crate::conformance::input::Inputs;
use crate::conformance::{CheckError, CheckFn, CheckResult};
use crate::memcontrol::charge::{ChargeGfp, ChargeResult, ChargeTask, MemcgEnv};
use crate::memcontrol::v1::{oom_control_text, soft_limit_excess, soft_reclaim_stop_threshold};
use crate::memcontrol::{
    calculate_high_delay, calculate_overage, clamp_high_delay, high_delay_sleeps, split_path, CgroupMode,
    MemCgroupTree, MemcgEvent, MemcgId,
};
use crate::page_counter::{child_effective_protection, protected_usage};
use serde_json::{json, Map, Value};

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    Some(match check {
        "mem_cgroup_get_oom_group" => mem_cgroup_get_oom_group,
        "try_charge_memcg" => try_charge_memcg,
        "calculate_high_delay" => calculate_high_delay_check,
        "effective_protection" => effective_protection_check,
        "soft_limit_excess" => soft_limit_excess_check,
        "mem_cgroup_oom_control_read" => mem_cgroup_oom_control_read,
        _ => return None,
    })
}

fn invalid(msg: impl Into<String>) -> CheckError {
    CheckError::Invalid(msg.into())
}

/// An env with nothing to reclaim and no OOM killer (for building trees in checks).
struct NoEnv;

impl MemcgEnv for NoEnv {
    fn reclaim(&mut self, _: &mut MemCgroupTree, _: MemcgId, _: u64, _: bool) -> u64 {
        0
    }
    fn out_of_memory(&mut self, _: &mut MemCgroupTree, _: MemcgId, _: u32) -> bool {
        false
    }
}

/// mkdir of `path` and any missing ancestors.
fn mkdir_p(tree: &mut MemCgroupTree, path: &str) -> Result<MemcgId, CheckError> {
    if let Some(id) = tree.lookup(path) {
        return Ok(id);
    }
    let (parent, _) = split_path(path).ok_or_else(|| invalid(format!("bad cgroup path {path:?}")))?;
    mkdir_p(tree, parent)?;
    tree.mkdir(path).map_err(|e| invalid(format!("mkdir {path}: {e}")))
}

fn mem_cgroup_get_oom_group(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let victim = i.str_req("victim_memcg")?;
    let oom_memcg = match i.get("oom_memcg") {
        None => return Err(invalid("inputs.oom_memcg is required")),
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(v) => return Err(invalid(format!("inputs.oom_memcg: expected a path or null, got {v}"))),
    };
    let mut tree = MemCgroupTree::new(CgroupMode::V2);
    let victim_id = mkdir_p(&mut tree, victim)?;
    let domain = oom_memcg.map(|p| mkdir_p(&mut tree, p)).transpose()?;
    if let Some(groups) = i.obj_or_empty("oom_group")? {
        for (path, v) in groups {
            let v = match v.as_i64() {
                Some(v @ (0 | 1)) => v,
                _ => return Err(invalid(format!("inputs.oom_group.{path}: expected 0 or 1, got {v}"))),
            };
            let id = mkdir_p(&mut tree, path)?;
            // The root has no memory.oom.group file (ENOENT): it never counts.
            let _ = tree.write(&mut NoEnv, id, "memory.oom.group", &v.to_string());
        }
    }
    let group = tree.mem_cgroup_get_oom_group(victim_id, domain);
    Ok(json!({ "oom_group": group.map(|g| tree.path(g).to_string()) }))
}

/// The env of the `try_charge_memcg` model: reclaim reports a fixed count and frees nothing, the OOM killer
/// returns the listed results; calls are counted.
struct ModelEnv {
    reclaim_returns: u64,
    oom_returns: Vec<bool>,
    reclaim_calls: u64,
    oom_invocations: u64,
    at_first_oom: Option<Value>,
    memcg: MemcgId,
}

impl ModelEnv {
    fn counts(&self, tree: &MemCgroupTree) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("reclaim_calls".into(), json!(self.reclaim_calls));
        m.insert("max_events".into(), json!(tree.events(self.memcg, MemcgEvent::Max)));
        m.insert("oom_events".into(), json!(tree.events(self.memcg, MemcgEvent::Oom)));
        m.insert("failcnt".into(), json!(tree.memory(self.memcg).failcnt));
        m
    }
}

impl MemcgEnv for ModelEnv {
    fn reclaim(&mut self, _: &mut MemCgroupTree, _: MemcgId, _: u64, _: bool) -> u64 {
        self.reclaim_calls += 1;
        self.reclaim_returns
    }
    fn out_of_memory(&mut self, _: &mut MemCgroupTree, _: MemcgId, _: u32) -> bool {
        let r = self.oom_returns.get(self.oom_invocations as usize).copied().unwrap_or(false);
        self.oom_invocations += 1;
        r
    }
    fn on_mem_cgroup_oom(&mut self, tree: &MemCgroupTree, _: MemcgId) {
        if self.at_first_oom.is_none() {
            self.at_first_oom = Some(Value::Object(self.counts(tree)));
        }
    }
}

fn try_charge_memcg(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let nr_pages = i.u64_req("nr_pages")?;
    if nr_pages == 0 {
        return Err(invalid("inputs.nr_pages: must be at least 1"));
    }
    let tokens: Vec<&str> = match i.get("gfp") {
        None | Some(Value::Null) => vec!["GFP_KERNEL"],
        Some(Value::Array(a)) => a
            .iter()
            .map(|t| t.as_str().ok_or_else(|| invalid(format!("inputs.gfp: expected tokens, got {t}"))))
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(invalid(format!("inputs.gfp: expected a list, got {v}"))),
    };
    let gfp = ChargeGfp::from_tokens(tokens.iter().copied())
        .ok_or_else(|| invalid(format!("inputs.gfp: unknown token in {tokens:?}")))?;
    let reclaim_returns = i.u64_or("reclaim_always_returns", 0)?;
    if !i.bool_or("margin_never_sufficient", false)? {
        return Err(CheckError::Unsupported("only margin_never_sufficient=true is modelled".into()));
    }
    if reclaim_returns > 0 && nr_pages <= 8 && gfp.direct_reclaim && !gfp.noretry {
        // try_charge_memcg retries without bound while reclaim reports progress on a small charge.
        return Err(invalid("reclaim_always_returns > 0 with nr_pages <= 8: the modelled loop never ends"));
    }
    let oom_kill_disable = i.bool_or("oom_kill_disable", false)?;
    let oom_returns = match i.get("out_of_memory_returns") {
        None | Some(Value::Null) => vec![false],
        Some(Value::Array(a)) => a
            .iter()
            .map(|b| b.as_bool().ok_or_else(|| invalid(format!("inputs.out_of_memory_returns: {b}"))))
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(invalid(format!("inputs.out_of_memory_returns: expected a list, got {v}"))),
    };

    // A v1 memcg (the hierarchy whose memory counter tracks failcnt) with a limit of 0 pages: every
    // try_charge fails and the margin stays 0. The 64-page batch precharge is the kernel's stock path.
    let mut tree = MemCgroupTree::new(CgroupMode::V1);
    tree.use_stock = true;
    let memcg = tree.mkdir("/memcg").map_err(|e| invalid(e.to_string()))?;
    tree.write(&mut NoEnv, memcg, "memory.limit_in_bytes", "0").map_err(|e| invalid(e.to_string()))?;
    if oom_kill_disable {
        tree.write(&mut NoEnv, memcg, "memory.oom_control", "1").map_err(|e| invalid(e.to_string()))?;
    }
    let mut env = ModelEnv {
        reclaim_returns,
        oom_returns,
        reclaim_calls: 0,
        oom_invocations: 0,
        at_first_oom: None,
        memcg,
    };
    // Kernel context (not a user fault): oom_kill_disable makes the charge fail instead of waiting.
    let mut task = ChargeTask::default();
    let r = tree.try_charge_memcg(&mut env, &mut task, memcg, gfp, nr_pages);
    let result = match r {
        ChargeResult::Charged | ChargeResult::Forced => "ok",
        ChargeResult::NoMem | ChargeResult::OomWait(_) => "ENOMEM",
    };
    let mut total = env.counts(&tree);
    total.insert("oom_invocations".into(), json!(env.oom_invocations));
    let mut out = Map::new();
    out.insert("result".into(), json!(result));
    out.insert("total".into(), Value::Object(total));
    if let Some(a) = env.at_first_oom {
        out.insert("at_first_oom".into(), a);
    }
    Ok(Value::Object(out))
}

fn calculate_high_delay_check(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let hz = i.u64_or("HZ", 1000)?;
    let high = i.u64_req("memory_high_pages")?;
    let usage = i.u64_req("usage_pages")?;
    let nr = i.u64_req("nr_pages_over_high")?;
    let overage = calculate_overage(usage, high);
    let penalty = calculate_high_delay(overage, nr, hz);
    let clamped = clamp_high_delay(penalty, hz);
    Ok(json!({
        "overage_fixed20": overage,
        "penalty_jiffies": penalty,
        "clamped_jiffies": clamped,
        "sleeps": high_delay_sleeps(clamped, hz),
    }))
}

fn effective_protection_check(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let root = i.bool_or("parent_is_reclaim_root", false)?;
    let parent_elow = i.u64_or("parent_elow", 0)?;
    let parent_emin = i.u64_or("parent_emin", 0)?;
    let recursive = i.bool_or("memory_recursiveprot", false)?;
    let children = i.obj_or_empty("children")?.ok_or_else(|| invalid("inputs.children is required"))?;
    let mut kids = Vec::new();
    for (name, c) in children {
        let o = c.as_object().ok_or_else(|| invalid(format!("inputs.children.{name}: expected an object")))?;
        let f = |k: &str| -> Result<u64, CheckError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => v.as_u64().ok_or_else(|| invalid(format!("inputs.children.{name}.{k}: {v}"))),
            }
        };
        kids.push((name.clone(), f("usage")?, f("low")?, f("min")?));
    }
    let children_low: u64 = kids.iter().map(|k| protected_usage(k.1, k.2)).sum();
    let children_min: u64 = kids.iter().map(|k| protected_usage(k.1, k.3)).sum();
    // The parent's usage includes its children's: the sum when not given.
    let parent_usage = match i.get("parent_usage") {
        None | Some(Value::Null) => kids.iter().map(|k| k.1).sum(),
        Some(_) => i.u64_req("parent_usage")?,
    };
    let (mut elow, mut emin, mut below_low, mut below_min) = (Map::new(), Map::new(), Map::new(), Map::new());
    for (name, usage, low, min) in kids {
        let el = child_effective_protection(root, usage, parent_usage, low, parent_elow, children_low, recursive);
        let em = child_effective_protection(root, usage, parent_usage, min, parent_emin, children_min, recursive);
        elow.insert(name.clone(), json!(el));
        emin.insert(name.clone(), json!(em));
        below_low.insert(name.clone(), json!(el >= usage));
        below_min.insert(name, json!(em >= usage));
    }
    Ok(json!({
        "children_low_usage": children_low,
        "children_min_usage": children_min,
        "elow": elow,
        "emin": emin,
        "below_low": below_low,
        "below_min": below_min,
    }))
}

fn soft_limit_excess_check(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let usage = i.u64_req("usage_pages")?;
    let soft = i.u64_req("soft_limit_pages")?;
    let excess = soft_limit_excess(usage, soft);
    Ok(json!({ "excess_pages": excess, "stop_when_reclaimed_at_least": soft_reclaim_stop_threshold(excess) }))
}

fn mem_cgroup_oom_control_read(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let disable = match i.i64_req("oom_kill_disable")? {
        0 => false,
        1 => true,
        v => return Err(invalid(format!("inputs.oom_kill_disable: expected 0 or 1, got {v}"))),
    };
    let under_oom = i.u64_req("under_oom")?;
    let oom_kill = i.u64_req("oom_kill")?;
    Ok(json!({ "text": oom_control_text(disable, under_oom, oom_kill) }))
}
