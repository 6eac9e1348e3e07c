//! Check dispatch. Each group's module maps its checks' inputs onto engine calls; `lookup` asks each in turn.

pub mod meminfo;
pub mod memcg;
pub mod oom;
pub mod oom_log;
pub mod ops;
pub mod overcommit;
pub mod page_alloc;
pub mod psi;
pub mod reclaim;

use super::CheckFn;

pub fn lookup(check: &str) -> Option<CheckFn> {
    overcommit::lookup(check)
        .or_else(|| page_alloc::lookup(check))
        .or_else(|| reclaim::lookup(check))
        .or_else(|| meminfo::lookup(check))
        .or_else(|| psi::lookup(check))
        .or_else(|| oom::lookup(check))
        .or_else(|| oom_log::lookup(check))
        .or_else(|| memcg::lookup(check))
        .or_else(|| ops::lookup(check))
}
