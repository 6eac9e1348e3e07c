//! Conformance checks of the `page_alloc` group (vectors-format.md §5.2). Each maps a check's inputs onto the
//! mm/page_alloc.c functions in `crate::page_alloc`.

use crate::conformance::input::Inputs;
use crate::conformance::{CheckError, CheckFn, CheckResult};
use crate::page_alloc::zone::DEFAULT_WATERMARK_SCALE_FACTOR;
use crate::page_alloc::{
    alloc_pages_slowpath_model, calculate_min_free_kbytes, calculate_totalreserve_pages, kswapd_wake_sleep_model,
    setup_per_zone_lowmem_reserve, setup_per_zone_wmarks, watermark_effective_min, zone_watermark_ok, AllocFlags, Gfp,
    ZoneRetryState, ZoneSpec, ZoneType,
};
use serde_json::{json, Map, Value};

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    match check {
        "calculate_min_free_kbytes" => Some(check_calculate_min_free_kbytes),
        "setup_per_zone_wmarks" => Some(check_setup_per_zone_wmarks),
        "setup_per_zone_lowmem_reserve" => Some(check_setup_per_zone_lowmem_reserve),
        "zone_watermark_ok" => Some(check_zone_watermark_ok),
        "alloc_pages_slowpath" => Some(check_alloc_pages_slowpath),
        "kswapd_wake_sleep" => Some(check_kswapd_wake_sleep),
        _ => None,
    }
}

fn invalid(msg: String) -> CheckError {
    CheckError::Invalid(msg)
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, CheckError> {
    v.as_object().ok_or_else(|| invalid(format!("{what}: expected an object, got {v}")))
}

fn u64_field(o: &Map<String, Value>, key: &str, what: &str) -> Result<u64, CheckError> {
    let v = o.get(key).ok_or_else(|| invalid(format!("{what}.{key} is required")))?;
    v.as_u64().ok_or_else(|| invalid(format!("{what}.{key}: expected a non-negative integer, got {v}")))
}

fn i64_field(o: &Map<String, Value>, key: &str, what: &str) -> Result<i64, CheckError> {
    let v = o.get(key).ok_or_else(|| invalid(format!("{what}.{key} is required")))?;
    v.as_i64().ok_or_else(|| invalid(format!("{what}.{key}: expected an integer, got {v}")))
}

/// `zones`: list of {name, managed[, high]}, lowest first (strictly increasing zone types).
fn zones_input(i: &Inputs, with_high: bool) -> Result<(Vec<ZoneSpec>, Vec<u64>), CheckError> {
    if !i.has("zones") {
        return Err(invalid("inputs.zones is required".into()));
    }
    let mut zones: Vec<ZoneSpec> = Vec::new();
    let mut highs = Vec::new();
    for (k, v) in i.list_or_empty("zones")?.iter().enumerate() {
        let what = format!("inputs.zones[{k}]");
        let o = obj(v, &what)?;
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{what}.name: expected a zone name")))?;
        let kind = ZoneType::from_name(name).ok_or_else(|| invalid(format!("{what}.name: unknown zone {name:?}")))?;
        if zones.last().is_some_and(|z| z.kind >= kind) {
            return Err(invalid(format!("{what}: zones must be listed lowest first, each at most once")));
        }
        zones.push(ZoneSpec { kind, managed_pages: u64_field(o, "managed", &what)? });
        if with_high {
            highs.push(u64_field(o, "high", &what)?);
        }
    }
    Ok((zones, highs))
}

fn check_calculate_min_free_kbytes(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    Ok(json!({"min_free_kbytes": calculate_min_free_kbytes(i.u64_req("lowmem_kbytes")?)}))
}

fn check_setup_per_zone_wmarks(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let (zones, _) = zones_input(&i, false)?;
    let min_free_kbytes = i.u64_req("min_free_kbytes")?;
    let wsf = i.u64_or("watermark_scale_factor", DEFAULT_WATERMARK_SCALE_FACTOR)?;
    let wm = setup_per_zone_wmarks(min_free_kbytes, wsf, &zones);
    let mut out = Map::new();
    for (z, w) in zones.iter().zip(wm) {
        out.insert(z.kind.name().into(), json!({"min": w.min, "low": w.low, "high": w.high, "promo": w.promo}));
    }
    Ok(json!({"watermarks_pages": out}))
}

fn check_setup_per_zone_lowmem_reserve(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let (zones, highs) = zones_input(&i, true)?;
    let overrides = i.obj_or_empty("lowmem_reserve_ratio")?;
    if let Some(o) = overrides {
        for (name, v) in o {
            ZoneType::from_name(name)
                .ok_or_else(|| invalid(format!("inputs.lowmem_reserve_ratio: unknown zone {name:?}")))?;
            v.as_u64().ok_or_else(|| {
                invalid(format!("inputs.lowmem_reserve_ratio.{name}: expected a non-negative integer"))
            })?;
        }
    }
    let ratios: Vec<u64> = zones
        .iter()
        .map(|z| {
            overrides
                .and_then(|o| o.get(z.kind.name()))
                .and_then(Value::as_u64)
                .unwrap_or_else(|| z.kind.default_lowmem_reserve_ratio())
        })
        .collect();
    let reserve = setup_per_zone_lowmem_reserve(&zones, &ratios);
    let mut out = Map::new();
    for (a, lower) in zones.iter().enumerate() {
        let mut row = Map::new();
        for (b, higher) in zones.iter().enumerate().skip(a + 1) {
            row.insert(higher.kind.name().into(), json!(reserve[a][b]));
        }
        if !row.is_empty() {
            out.insert(lower.kind.name().into(), Value::Object(row));
        }
    }
    let total = calculate_totalreserve_pages(&zones, &highs, &reserve);
    Ok(json!({"lowmem_reserve": out, "totalreserve_pages": total}))
}

fn check_zone_watermark_ok(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let free = i.i64_req("free")?;
    let mark = i.u64_req("mark")?;
    let order = order_input(&i)?;
    let lowmem_reserve = i.i64_or("lowmem_reserve", 0)?;
    let mut flags = 0u32;
    for (k, v) in i.list_or_empty("alloc_flags")?.iter().enumerate() {
        flags |= match v.as_str() {
            Some("MIN_RESERVE") => AllocFlags::MIN_RESERVE,
            Some("NON_BLOCK") => AllocFlags::NON_BLOCK,
            Some("OOM") => AllocFlags::OOM,
            _ => {
                return Err(invalid(format!(
                    "inputs.alloc_flags[{k}]: expected MIN_RESERVE, NON_BLOCK or OOM, got {v}"
                )))
            }
        };
    }
    let flags = AllocFlags(flags);
    let block = i.bool_or("free_block_available", true)?;
    Ok(json!({
        "ok": zone_watermark_ok(free, order, mark, lowmem_reserve, flags, block),
        "effective_min": watermark_effective_min(mark, flags),
    }))
}

fn order_input(i: &Inputs) -> Result<u32, CheckError> {
    let order = i.i64_or("order", 0)?;
    u32::try_from(order)
        .ok()
        .filter(|o| *o < 64)
        .ok_or_else(|| invalid(format!("inputs.order: {order} is not an order")))
}

fn check_alloc_pages_slowpath(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    if !i.has("gfp") {
        return Err(invalid("inputs.gfp is required".into()));
    }
    let mut gfp = 0u32;
    for (k, v) in i.list_or_empty("gfp")?.iter().enumerate() {
        gfp |= v
            .as_str()
            .and_then(Gfp::token)
            .ok_or_else(|| invalid(format!("inputs.gfp[{k}]: unknown gfp token {v}")))?;
    }
    let order = order_input(&i)?;
    let z = i.obj_or_empty("zone")?.ok_or_else(|| invalid("inputs.zone is required".into()))?;
    let zone = ZoneRetryState {
        min: u64_field(z, "min", "inputs.zone")?,
        free: u64_field(z, "free", "inputs.zone")?,
        reclaimable: u64_field(z, "reclaimable", "inputs.zone")?,
        lowmem_reserve: 0,
        free_block_available: true,
    };
    let mut progress = Vec::new();
    for (k, v) in i.list_or_empty("reclaim_progress")?.iter().enumerate() {
        progress
            .push(v.as_bool().ok_or_else(|| invalid(format!("inputs.reclaim_progress[{k}]: expected true or false")))?);
    }
    let r = alloc_pages_slowpath_model(Gfp(gfp), order, zone, &progress);
    Ok(json!({
        "oom_killer_invoked": r.oom_killer_invoked,
        "should_reclaim_retry": r.should_reclaim_retry,
        "no_progress_loops_when_oom": r.oom_entry.map(|e| e.0),
        "oom_invoked_after_attempt": r.oom_entry.map(|e| e.1),
    }))
}

fn check_kswapd_wake_sleep(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let z = i.obj_or_empty("zone")?.ok_or_else(|| invalid("inputs.zone is required".into()))?;
    // min is part of the zone description but neither decision uses it
    let _min = i64_field(z, "min", "inputs.zone")?;
    let low = u64_field(z, "low", "inputs.zone")?;
    let high = u64_field(z, "high", "inputs.zone")?;
    if !i.has("free_sequence") {
        return Err(invalid("inputs.free_sequence is required".into()));
    }
    let mut seq = Vec::new();
    for (k, v) in i.list_or_empty("free_sequence")?.iter().enumerate() {
        seq.push(v.as_i64().ok_or_else(|| invalid(format!("inputs.free_sequence[{k}]: expected an integer")))?);
    }
    let t = kswapd_wake_sleep_model(low, high, &seq);
    Ok(json!({
        "fast_path_ok": t.fast_path_ok,
        "kswapd_woken_at_index": t.kswapd_woken_at_index,
        "kswapd_can_sleep": t.kswapd_can_sleep,
    }))
}
