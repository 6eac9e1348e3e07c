//! STAND-IN (engine branch): minimal versions of the mm/util.c overcommit functions with the signatures agreed for
//! the parallel `util.rs` work, so the engine builds before the lead merges. The lead replaces this file with the
//! real module; the engine only calls the functions below.
//!
//! Rules restated from mm/util.c (`__vm_enough_memory`, `vm_commit_limit`) and mm/mmap.c (`init_user_reserve`,
//! `init_admin_reserve`); see linux-mm-semantics.md §1.

use crate::errno::Errno;

/// vm.overcommit_memory (include/uapi/linux/mman.h).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OvercommitPolicy {
    Guess = 0,
    Always = 1,
    Never = 2,
}

impl OvercommitPolicy {
    pub fn from_i64(v: i64) -> Option<Self> {
        match v {
            0 => Some(Self::Guess),
            1 => Some(Self::Always),
            2 => Some(Self::Never),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OvercommitSysctls {
    pub overcommit_memory: OvercommitPolicy,
    pub overcommit_ratio: i64,
    pub overcommit_kbytes: u64,
    pub user_reserve_kbytes: u64,
    pub admin_reserve_kbytes: u64,
}

impl OvercommitSysctls {
    /// Kernel defaults, with the reserves as the boot-time initcalls compute them from `free_kb`.
    pub fn defaults_for_free_kbytes(free_kb: u64) -> Self {
        let (user, admin) = init_reserves(free_kb);
        OvercommitSysctls {
            overcommit_memory: OvercommitPolicy::Guess,
            overcommit_ratio: 50,
            overcommit_kbytes: 0,
            user_reserve_kbytes: user,
            admin_reserve_kbytes: admin,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MemTotals {
    pub totalram_pages: u64,
    pub total_swap_pages: u64,
    pub hugetlb_total_pages: u64,
}

/// mm/util.c:`vm_commit_limit`: kbytes mode (kB >> 2) or ratio mode ((RAM - hugetlb) * ratio / 100), plus swap.
pub fn vm_commit_limit(s: &OvercommitSysctls, m: &MemTotals) -> u64 {
    let allowed = if s.overcommit_kbytes != 0 {
        s.overcommit_kbytes >> 2
    } else {
        // The kernel multiplies in unsigned long; the int ratio is converted first (a negative ratio wraps).
        m.totalram_pages.saturating_sub(m.hugetlb_total_pages).wrapping_mul(s.overcommit_ratio as u64) / 100
    };
    allowed.wrapping_add(m.total_swap_pages)
}

/// mm/util.c:`__vm_enough_memory`: charge first, then decide; on failure undo the charge and return ENOMEM.
pub fn vm_enough_memory(
    committed: &mut i64,
    pages: i64,
    s: &OvercommitSysctls,
    m: &MemTotals,
    mm_total_vm: Option<u64>,
    cap_sys_admin: bool,
) -> Result<(), Errno> {
    *committed += pages;
    match s.overcommit_memory {
        OvercommitPolicy::Always => return Ok(()),
        OvercommitPolicy::Guess => {
            if pages <= (m.totalram_pages + m.total_swap_pages) as i64 {
                return Ok(());
            }
        }
        OvercommitPolicy::Never => {
            let mut allowed = vm_commit_limit(s, m) as i64;
            if !cap_sys_admin {
                allowed -= (s.admin_reserve_kbytes >> 2) as i64;
            }
            if let Some(total_vm) = mm_total_vm {
                let reserve = (s.user_reserve_kbytes >> 2).min(total_vm / 32);
                allowed -= reserve as i64;
            }
            if *committed < allowed {
                return Ok(());
            }
        }
    }
    *committed -= pages;
    Err(Errno::ENOMEM)
}

/// The ratelimited warning `__vm_enough_memory` prints on failure.
pub fn vm_enough_memory_warning(pid: u32, comm: &str, pages: i64) -> String {
    format!("__vm_enough_memory: pid: {pid}, comm: {comm}, bytes: {} not enough memory for the allocation", pages << 12)
}

/// mm/mmap.c:`init_user_reserve` / `init_admin_reserve`: min(free_kb/32, 128 MiB) and min(free_kb/32, 8 MiB).
pub fn init_reserves(free_kb: u64) -> (u64, u64) {
    ((free_kb / 32).min(131072), (free_kb / 32).min(8192))
}
