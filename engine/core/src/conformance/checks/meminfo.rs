//! Conformance checks of the `meminfo` group (vectors-format.md §5.4). Maps the counters onto a
//! `crate::meminfo::Meminfo` and reports its printed fields and lines.

use crate::conformance::input::Inputs;
use crate::conformance::{CheckFn, CheckResult};
use crate::meminfo::Meminfo;
use serde_json::{json, Map, Value};

/// The checks this module implements, by name.
pub fn lookup(check: &str) -> Option<CheckFn> {
    match check {
        "meminfo_proc_show" => Some(check_meminfo_proc_show),
        _ => None,
    }
}

fn check_meminfo_proc_show(map: &Map<String, Value>) -> CheckResult {
    let i = Inputs::new(map);
    i.check_page_size()?;
    let mut m = Meminfo::new();
    m.nr_free_pages = i.u64_or("NR_FREE_PAGES", 0)?;
    m.nr_file_pages = i.u64_or("NR_FILE_PAGES", 0)?;
    m.shmem = i.u64_or("NR_SHMEM", 0)?;
    m.swapcache_pages = i.u64_or("swapcache_pages", 0)?;
    m.buffer_pages = i.u64_or("buffer_pages", 0)?;
    m.active_file = i.u64_or("active_file", 0)?;
    m.inactive_file = i.u64_or("inactive_file", 0)?;
    m.slab_reclaimable = i.u64_or("slab_reclaimable_pages", 0)?;
    m.kernel_misc_reclaimable = i.u64_or("kernel_misc_reclaimable_pages", 0)?;
    m.totalreserve_pages = i.u64_or("totalreserve_pages", 0)?;
    m.sum_low_wmark_pages = i.u64_or("sum_low_wmark_pages", 0)?;
    m.commit_limit = i.u64_or("commit_limit_pages", 0)?;
    let mut fields = Map::new();
    let mut lines = Map::new();
    for (name, kb, line) in m.lines() {
        fields.insert(name.into(), json!(kb));
        lines.insert(name.into(), json!(line));
    }
    Ok(json!({"available_pages": m.available(), "fields_kb": fields, "lines": lines}))
}
