//! mm/util.c (and the overcommit parts of mm/mmap.c, security/commoncap.c): overcommit accounting.
//!
//! Committed_AS is charged *before* the admission test and uncharged when the test fails
//! (`mm/util.c:__vm_enough_memory`). The limit in strict mode is `vm_commit_limit()` minus the admin reserve (unless
//! the caller has CAP_SYS_ADMIN) and minus the caller's user reserve (only when it has an mm). All values are pages
//! inside; the reserves are sysctls in kB and are converted with a truncating `>> 2`.

use crate::{kb_to_pages, Errno, PAGE_SHIFT};

/// vm.overcommit_memory (include/uapi/linux/mman.h: OVERCOMMIT_GUESS/ALWAYS/NEVER).
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OvercommitPolicy {
    Guess = 0,
    Always = 1,
    Never = 2,
}

impl OvercommitPolicy {
    /// The sysctl value as written to /proc/sys/vm/overcommit_memory; anything outside 0..=2 is rejected
    /// (`proc_dointvec_minmax` range in mm/util.c, EINVAL).
    pub fn from_sysctl(v: i64) -> Option<Self> {
        match v {
            0 => Some(OvercommitPolicy::Guess),
            1 => Some(OvercommitPolicy::Always),
            2 => Some(OvercommitPolicy::Never),
            _ => None,
        }
    }
}

/// Kernel default of vm.user_reserve_kbytes before the boot initcall recomputes it (mm/util.c): 128 MiB.
pub const DEFAULT_USER_RESERVE_KBYTES: u64 = 1 << 17;
/// Kernel default of vm.admin_reserve_kbytes before the boot initcall recomputes it (mm/util.c): 8 MiB.
pub const DEFAULT_ADMIN_RESERVE_KBYTES: u64 = 1 << 13;
/// Default vm.overcommit_ratio (mm/util.c).
pub const DEFAULT_OVERCOMMIT_RATIO: i64 = 50;

/// The overcommit sysctls (mm/util.c: sysctl_overcommit_memory, _ratio, _kbytes, sysctl_user/admin_reserve_kbytes).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OvercommitSysctls {
    pub overcommit_memory: OvercommitPolicy,
    /// Plain int, no range check in the kernel; a negative value is used as the C code would (see
    /// [`vm_commit_limit`]).
    pub overcommit_ratio: i64,
    pub overcommit_kbytes: u64,
    pub user_reserve_kbytes: u64,
    pub admin_reserve_kbytes: u64,
}

impl OvercommitSysctls {
    /// The values a kernel has right after boot with `free_kbytes` free: mode 0, ratio 50, kbytes 0, and the two
    /// reserves as the mm/mmap.c initcalls compute them ([`init_reserves`]).
    pub fn defaults_for_free_kbytes(free_kbytes: u64) -> Self {
        let (user, admin) = init_reserves(free_kbytes);
        OvercommitSysctls {
            overcommit_memory: OvercommitPolicy::Guess,
            overcommit_ratio: DEFAULT_OVERCOMMIT_RATIO,
            overcommit_kbytes: 0,
            user_reserve_kbytes: user,
            admin_reserve_kbytes: admin,
        }
    }
}

/// Machine totals the overcommit code reads: totalram_pages() (managed RAM = MemTotal), total_swap_pages and
/// hugetlb_total_pages() (all huge page pools, persistent + surplus, in base pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemTotals {
    pub totalram_pages: u64,
    pub total_swap_pages: u64,
    pub hugetlb_total_pages: u64,
}

/// mm/util.c:vm_commit_limit(). With vm.overcommit_kbytes non-zero the limit is that many kB (truncated to
/// pages) and hugetlb is ignored; otherwise it is `overcommit_ratio` percent of the RAM outside the hugetlb pools
/// (multiplied first, then divided by 100). Swap is added in both modes. The kernel computes in `unsigned long`, so
/// the arithmetic wraps exactly like C would for odd inputs (a negative ratio, hugetlb larger than RAM).
pub fn vm_commit_limit(s: &OvercommitSysctls, m: &MemTotals) -> u64 {
    let allowed = if s.overcommit_kbytes != 0 {
        kb_to_pages(s.overcommit_kbytes)
    } else {
        m.totalram_pages.wrapping_sub(m.hugetlb_total_pages).wrapping_mul(s.overcommit_ratio as u64) / 100
    };
    allowed.wrapping_add(m.total_swap_pages)
}

/// The strict-mode (OVERCOMMIT_NEVER) limit of `mm/util.c:__vm_enough_memory`: the commit limit, minus the admin
/// reserve for callers without CAP_SYS_ADMIN, minus `min(total_vm / 32, user reserve)` for callers with an mm.
/// Returns `(allowed, user_reserve_deduction)`; the deduction is 0 without an mm. Signed (`long`) as in the kernel:
/// it may go negative, which then refuses every request.
pub fn vm_enough_memory_allowed(
    commit_limit_pages: u64,
    s: &OvercommitSysctls,
    mm_total_vm: Option<u64>,
    cap_sys_admin: bool,
) -> (i64, i64) {
    let mut allowed = commit_limit_pages as i64;
    if !cap_sys_admin {
        allowed = allowed.wrapping_sub(kb_to_pages(s.admin_reserve_kbytes) as i64);
    }
    let mut deduction = 0i64;
    if let Some(total_vm) = mm_total_vm {
        let reserve = kb_to_pages(s.user_reserve_kbytes) as i64;
        deduction = ((total_vm / 32) as i64).min(reserve);
        allowed = allowed.wrapping_sub(deduction);
    }
    (allowed, deduction)
}

/// __vm_enough_memory: charges `pages` to *committed first, undoes it on failure.
///
/// The commit limit is computed from the sysctls and totals with [`vm_commit_limit`]; see
/// [`vm_enough_memory_at_limit`] for the rule.
pub fn vm_enough_memory(
    committed: &mut i64,
    pages: i64,
    s: &OvercommitSysctls,
    m: &MemTotals,
    mm_total_vm: Option<u64>,
    cap_sys_admin: bool,
) -> Result<(), Errno> {
    let limit = vm_commit_limit(s, m);
    vm_enough_memory_at_limit(committed, pages, s, m, limit, mm_total_vm, cap_sys_admin)
}

/// mm/util.c:__vm_enough_memory with an explicit `vm_commit_limit()` value (used where the limit is given rather
/// than derived). The rule:
/// * the request is added to Committed_AS first, whatever the mode;
/// * ALWAYS succeeds;
/// * GUESS fails only when this single request exceeds RAM + swap (compared as `unsigned long`, so equality
///   passes); earlier commitments do not matter (since v5.2);
/// * NEVER succeeds when the new Committed_AS (read clamped at 0, as `percpu_counter_read_positive`) is strictly
///   below [`vm_enough_memory_allowed`];
/// * on failure the request is taken off Committed_AS again and ENOMEM is returned.
pub fn vm_enough_memory_at_limit(
    committed: &mut i64,
    pages: i64,
    s: &OvercommitSysctls,
    m: &MemTotals,
    commit_limit_pages: u64,
    mm_total_vm: Option<u64>,
    cap_sys_admin: bool,
) -> Result<(), Errno> {
    *committed = committed.wrapping_add(pages);
    let ok = match s.overcommit_memory {
        OvercommitPolicy::Always => true,
        OvercommitPolicy::Guess => {
            // `pages` (long) against an unsigned long sum: C converts pages to unsigned.
            (pages as u64) <= m.totalram_pages.wrapping_add(m.total_swap_pages)
        }
        OvercommitPolicy::Never => {
            let (allowed, _) = vm_enough_memory_allowed(commit_limit_pages, s, mm_total_vm, cap_sys_admin);
            (*committed).max(0) < allowed
        }
    };
    if ok {
        Ok(())
    } else {
        *committed = committed.wrapping_sub(pages);
        Err(Errno::ENOMEM)
    }
}

/// The pr_warn line __vm_enough_memory prints on failure (exact text).
/// The byte count is `pages << PAGE_SHIFT`.
pub fn vm_enough_memory_warning(pid: u32, comm: &str, pages: u64) -> String {
    format!(
        "__vm_enough_memory: pid: {pid}, comm: {comm}, bytes: {} not enough memory for the allocation",
        pages.wrapping_shl(PAGE_SHIFT)
    )
}

/// Boot-time (user_reserve_kbytes, admin_reserve_kbytes) from free kB (mm/mmap.c init_user_reserve/init_admin_reserve).
/// Each is 1/32 of the free memory (3.125 %), capped at 128 MiB (user) and 8 MiB (admin).
pub fn init_reserves(free_kbytes: u64) -> (u64, u64) {
    let share = free_kbytes / 32;
    (share.min(DEFAULT_USER_RESERVE_KBYTES), share.min(DEFAULT_ADMIN_RESERVE_KBYTES))
}

/// lib/math/int_sqrt.c:int_sqrt(): the floor of the square root of `x`, computed exactly in integers.
pub fn int_sqrt(x: u64) -> u64 {
    if x < 2 {
        return x;
    }
    // Newton's iteration from above converges to floor(sqrt(x)) for integers.
    let mut r = 1u64 << ((64 - x.leading_zeros()).div_ceil(2));
    loop {
        let next = (r + x / r) / 2;
        if next >= r {
            return r;
        }
        r = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(mode: OvercommitPolicy) -> OvercommitSysctls {
        OvercommitSysctls {
            overcommit_memory: mode,
            overcommit_ratio: 50,
            overcommit_kbytes: 0,
            user_reserve_kbytes: 131072,
            admin_reserve_kbytes: 8192,
        }
    }
    fn totals(ram: u64, swap: u64) -> MemTotals {
        MemTotals { totalram_pages: ram, total_swap_pages: swap, hugetlb_total_pages: 0 }
    }

    #[test]
    fn commit_limit_ratio_and_kbytes() {
        let s = sys(OvercommitPolicy::Guess);
        // 16 GiB RAM + 2 GiB swap, ratio 50: 10485760 kB.
        assert_eq!(crate::pages_to_kb(vm_commit_limit(&s, &totals(4194304, 524288))), 10485760);
        // ratio truncates: 3 * 50 / 100 = 1
        assert_eq!(vm_commit_limit(&s, &totals(3, 0)), 1);
        // hugetlb is subtracted in ratio mode only
        let m = MemTotals { totalram_pages: 1000, total_swap_pages: 10, hugetlb_total_pages: 200 };
        assert_eq!(vm_commit_limit(&s, &m), 410);
        let s2 = OvercommitSysctls { overcommit_kbytes: 1023, ..s.clone() };
        assert_eq!(vm_commit_limit(&s2, &m), 255 + 10);
        // ratio over 100
        let s3 = OvercommitSysctls { overcommit_ratio: 150, ..s };
        assert_eq!(vm_commit_limit(&s3, &totals(1000, 0)), 1500);
    }

    #[test]
    fn mode2_strict_less_and_uncharge() {
        let s = sys(OvercommitPolicy::Never);
        let m = totals(0, 0);
        let mut c = 2_500_000;
        // allowed = 2621440 - 2048 - min(1000000/32=31250, 32768) = 2588142
        assert_eq!(vm_enough_memory_allowed(2621440, &s, Some(1_000_000), false), (2588142, 31250));
        assert_eq!(
            vm_enough_memory_at_limit(&mut c, 88142, &s, &m, 2621440, Some(1_000_000), false),
            Err(Errno::ENOMEM)
        );
        assert_eq!(c, 2_500_000);
        assert_eq!(vm_enough_memory_at_limit(&mut c, 88141, &s, &m, 2621440, Some(1_000_000), false), Ok(()));
        assert_eq!(c, 2_588_141);
        // no mm: no user reserve deduction; root: no admin reserve
        assert_eq!(vm_enough_memory_allowed(2621440, &s, None, true), (2621440, 0));
        // user reserve capped
        assert_eq!(vm_enough_memory_allowed(2621440, &s, Some(u64::from(u32::MAX)), true).1, 32768);
    }

    #[test]
    fn mode0_per_request_and_mode1() {
        let s = sys(OvercommitPolicy::Guess);
        let m = totals(100, 20);
        let mut c = 0;
        assert!(vm_enough_memory(&mut c, 120, &s, &m, None, false).is_ok());
        assert!(vm_enough_memory(&mut c, 120, &s, &m, None, false).is_ok());
        assert_eq!(c, 240);
        assert_eq!(vm_enough_memory(&mut c, 121, &s, &m, None, false), Err(Errno::ENOMEM));
        assert_eq!(c, 240);
        let s1 = sys(OvercommitPolicy::Always);
        assert!(vm_enough_memory(&mut c, 1 << 40, &s1, &m, None, false).is_ok());
        assert_eq!(c, 240 + (1 << 40));
    }

    #[test]
    fn int_sqrt_floor() {
        for x in 0..2000u64 {
            let r = int_sqrt(x);
            assert!(r * r <= x && (r + 1) * (r + 1) > x, "{x}");
        }
        assert_eq!(int_sqrt(u64::MAX), u64::from(u32::MAX));
        assert_eq!(int_sqrt(131072), 362);
        assert_eq!(int_sqrt((1u64 << 32) * 16), 262144);
        assert_eq!(int_sqrt(99_999_999_999_999_999), 316_227_766);
    }

    #[test]
    fn reserves_and_warning() {
        assert_eq!(init_reserves(200000), (6250, 6250));
        assert_eq!(init_reserves(16_000_000), (131072, 8192));
        assert_eq!(init_reserves(31), (0, 0));
        let d = OvercommitSysctls::defaults_for_free_kbytes(1_000_000);
        assert_eq!((d.user_reserve_kbytes, d.admin_reserve_kbytes, d.overcommit_ratio), (31250, 8192, 50));
        assert_eq!(
            vm_enough_memory_warning(42, "a.out", 2),
            "__vm_enough_memory: pid: 42, comm: a.out, bytes: 8192 not enough memory for the allocation"
        );
        assert_eq!(OvercommitPolicy::from_sysctl(3), None);
    }
}
