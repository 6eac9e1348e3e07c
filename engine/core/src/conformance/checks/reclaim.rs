//! Conformance checks of the `reclaim` group (vectors-format.md §5.3). Each maps a check's inputs onto the
//! mm/vmscan.c functions in `crate::vmscan`.

use crate::conformance::input::Inputs;
use crate::conformance::{CheckError, CheckFn, CheckResult};
use crate::vmscan::{apply_proportional_protection, calculate_pressure_balance, inactive_is_low, MAX_SWAPPINESS};
use serde_json::{json, Map, Value};

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    match check {
        "inactive_is_low" => Some(check_inactive_is_low),
        "calculate_pressure_balance" => Some(check_calculate_pressure_balance),
        "apply_proportional_protection" => Some(check_apply_proportional_protection),
        _ => None,
    }
}

fn check_inactive_is_low(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let (ratio, low) = inactive_is_low(i.u64_req("inactive")?, i.u64_req("active")?);
    Ok(json!({"inactive_ratio": ratio, "inactive_is_low": low}))
}

fn check_calculate_pressure_balance(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let swappiness = i.u64_req("swappiness")?;
    if swappiness > MAX_SWAPPINESS {
        return Err(CheckError::Invalid(format!("inputs.swappiness: {swappiness} is outside 0..=200")));
    }
    let ([ap, fp], denominator) =
        calculate_pressure_balance(swappiness, i.u64_or("anon_cost", 0)?, i.u64_or("file_cost", 0)?);
    Ok(json!({"fraction": [ap, fp], "anon_share": [ap, denominator]}))
}

fn check_apply_proportional_protection(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let r = apply_proportional_protection(
        i.u64_req("lru_size_pages")?,
        i.u64_req("memcg_usage_pages")?,
        i.u64_or("emin", 0)?,
        i.u64_or("elow", 0)?,
        i.bool_or("memcg_low_reclaim", false)?,
    );
    Ok(json!({"scan_before_priority_shift": r.scan}))
}
