//! Conformance checks of the `overcommit` group (vectors-format.md §5.1). Each maps a check's inputs onto the
//! mm/util.c functions in `crate::util`.

use crate::conformance::input::Inputs;
use crate::conformance::{CheckError, CheckFn, CheckResult};
use crate::util::{
    init_reserves, vm_commit_limit, vm_enough_memory_allowed, vm_enough_memory_at_limit, MemTotals, OvercommitPolicy,
    OvercommitSysctls, DEFAULT_ADMIN_RESERVE_KBYTES, DEFAULT_OVERCOMMIT_RATIO, DEFAULT_USER_RESERVE_KBYTES,
};
use serde_json::{json, Map, Value};

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    match check {
        "vm_commit_limit" => Some(check_vm_commit_limit),
        "vm_enough_memory" => Some(check_vm_enough_memory),
        "init_reserves" => Some(check_init_reserves),
        _ => None,
    }
}

fn check_vm_commit_limit(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let m = MemTotals {
        totalram_pages: i.u64_req("totalram_pages")?,
        total_swap_pages: i.u64_or("total_swap_pages", 0)?,
        hugetlb_total_pages: i.u64_or("hugetlb_total_pages", 0)?,
    };
    let s = OvercommitSysctls {
        overcommit_memory: OvercommitPolicy::Guess,
        overcommit_ratio: i.i64_or("overcommit_ratio", DEFAULT_OVERCOMMIT_RATIO)?,
        overcommit_kbytes: i.u64_or("overcommit_kbytes", 0)?,
        user_reserve_kbytes: DEFAULT_USER_RESERVE_KBYTES,
        admin_reserve_kbytes: DEFAULT_ADMIN_RESERVE_KBYTES,
    };
    let limit = vm_commit_limit(&s, &m);
    Ok(json!({"commit_limit_pages": limit, "meminfo_CommitLimit_kb": limit.wrapping_shl(2)}))
}

fn check_vm_enough_memory(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let mode = i.i64_req("overcommit_memory")?;
    let policy = OvercommitPolicy::from_sysctl(mode)
        .ok_or_else(|| CheckError::Invalid(format!("inputs.overcommit_memory: {mode} is not 0, 1 or 2")))?;
    let mut requests = Vec::new();
    for (k, v) in i.list_or_empty("requests_pages")?.iter().enumerate() {
        requests.push(
            v.as_i64().ok_or_else(|| {
                CheckError::Invalid(format!("inputs.requests_pages[{k}]: expected an integer, got {v}"))
            })?,
        );
    }
    if !i.has("requests_pages") {
        return Err(CheckError::Invalid("inputs.requests_pages is required".into()));
    }
    let totalram = if i.has("totalram_pages") { Some(i.u64_req("totalram_pages")?) } else { None };
    let commit_limit = if i.has("commit_limit_pages") { Some(i.u64_req("commit_limit_pages")?) } else { None };
    if policy == OvercommitPolicy::Guess && totalram.is_none() {
        return Err(CheckError::Invalid("inputs.totalram_pages is required in mode 0".into()));
    }
    if policy == OvercommitPolicy::Never && commit_limit.is_none() {
        return Err(CheckError::Invalid("inputs.commit_limit_pages is required in mode 2".into()));
    }
    let m = MemTotals {
        totalram_pages: totalram.unwrap_or(0),
        total_swap_pages: i.u64_or("total_swap_pages", 0)?,
        hugetlb_total_pages: 0,
    };
    let s = OvercommitSysctls {
        overcommit_memory: policy,
        overcommit_ratio: DEFAULT_OVERCOMMIT_RATIO,
        overcommit_kbytes: 0,
        user_reserve_kbytes: i.u64_or("user_reserve_kbytes", DEFAULT_USER_RESERVE_KBYTES)?,
        admin_reserve_kbytes: i.u64_or("admin_reserve_kbytes", DEFAULT_ADMIN_RESERVE_KBYTES)?,
    };
    let mm_total_vm = if i.has("mm_total_vm_pages") { Some(i.u64_req("mm_total_vm_pages")?) } else { None };
    let cap = i.bool_or("cap_sys_admin", false)?;
    let mut committed = i.i64_or("committed_as_before_pages", 0)?;
    let limit = commit_limit.unwrap_or(0);
    let mut results = Vec::new();
    for pages in requests {
        let r = vm_enough_memory_at_limit(&mut committed, pages, &s, &m, limit, mm_total_vm, cap);
        results.push(match r {
            Ok(()) => "ok".to_string(),
            Err(e) => e.name().to_string(),
        });
    }
    let mut out = json!({"results": results, "committed_as_after_pages": committed});
    if policy == OvercommitPolicy::Never {
        let (allowed, deduction) = vm_enough_memory_allowed(limit, &s, mm_total_vm, cap);
        out["allowed_pages"] = json!(allowed);
        out["user_reserve_deduction_pages"] = json!(deduction);
    }
    if let Some(cl) = commit_limit {
        // a plain numeric comparison of the signed total with the limit (no wrapping)
        out["committed_exceeds_commit_limit"] = json!(i128::from(committed) > i128::from(cl));
    }
    Ok(out)
}

fn check_init_reserves(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let (user, admin) = init_reserves(i.u64_req("free_kbytes_at_boot")?);
    Ok(json!({"user_reserve_kbytes": user, "admin_reserve_kbytes": admin}))
}
