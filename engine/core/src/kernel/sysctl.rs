//! kernel/sysctl.c and the /proc/sys/vm handlers of mm/: the sysctls the engine models, their ranges, and what a
//! write changes besides the value (watermarks recomputed, the memcg tree's swappiness).

use super::Kernel;
use crate::errno::{ApiError, Errno};
use crate::types::SysResult;
use crate::util::{OvercommitPolicy, OvercommitSysctls};

/// Sysctls under /proc/sys/vm that the engine models.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sysctls {
    pub overcommit: OvercommitSysctls,
    pub swappiness: i64,
    pub panic_on_oom: i64,
    pub oom_kill_allocating_task: i64,
    pub oom_dump_tasks: i64,
    pub min_free_kbytes: i64,
    /// Set when the admin wrote vm.min_free_kbytes (mm/page_alloc.c:`user_min_free_kbytes`).
    pub user_min_free_kbytes: i64,
    pub watermark_scale_factor: i64,
}

/// The sysctl names, as /proc/sys/vm spells them with the `vm.` prefix.
pub const SYSCTL_NAMES: &[&str] = &[
    "vm.overcommit_memory",
    "vm.overcommit_ratio",
    "vm.overcommit_kbytes",
    "vm.admin_reserve_kbytes",
    "vm.user_reserve_kbytes",
    "vm.swappiness",
    "vm.panic_on_oom",
    "vm.oom_kill_allocating_task",
    "vm.oom_dump_tasks",
    "vm.min_free_kbytes",
    "vm.watermark_scale_factor",
];

impl Kernel {
    /// Read a sysctl by name.
    pub fn sysctl_read(&self, name: &str) -> Result<i64, ApiError> {
        let s = &self.sysctl;
        Ok(match name {
            "vm.overcommit_memory" => s.overcommit.overcommit_memory as i64,
            "vm.overcommit_ratio" => s.overcommit.overcommit_ratio,
            "vm.overcommit_kbytes" => s.overcommit.overcommit_kbytes as i64,
            "vm.admin_reserve_kbytes" => s.overcommit.admin_reserve_kbytes as i64,
            "vm.user_reserve_kbytes" => s.overcommit.user_reserve_kbytes as i64,
            "vm.swappiness" => s.swappiness,
            "vm.panic_on_oom" => s.panic_on_oom,
            "vm.oom_kill_allocating_task" => s.oom_kill_allocating_task,
            "vm.oom_dump_tasks" => s.oom_dump_tasks,
            "vm.min_free_kbytes" => s.min_free_kbytes,
            "vm.watermark_scale_factor" => s.watermark_scale_factor,
            _ => return Err(unknown_sysctl(name)),
        })
    }

    /// Set a sysctl directly, as at boot (no handler side effects, no range check beyond the type's).
    pub fn sysctl_set_boot(&mut self, name: &str, value: i64) -> Result<(), ApiError> {
        let s = &mut self.sysctl;
        let bad = |what: &str| ApiError::errno("E_ARG", Errno::EINVAL, format!("machine.sysctl.{name}: {value} is not allowed; expected {what}"));
        match name {
            "vm.overcommit_memory" => s.overcommit.overcommit_memory = OvercommitPolicy::from_sysctl(value).ok_or_else(|| bad("0..=2"))?,
            "vm.overcommit_ratio" => s.overcommit.overcommit_ratio = value,
            "vm.overcommit_kbytes" => s.overcommit.overcommit_kbytes = u64::try_from(value).map_err(|_| bad(">= 0"))?,
            "vm.admin_reserve_kbytes" => s.overcommit.admin_reserve_kbytes = u64::try_from(value).map_err(|_| bad(">= 0"))?,
            "vm.user_reserve_kbytes" => s.overcommit.user_reserve_kbytes = u64::try_from(value).map_err(|_| bad(">= 0"))?,
            "vm.swappiness" => {
                s.swappiness = value;
                self.memcg.vm_swappiness = value.max(0) as u64;
            }
            "vm.panic_on_oom" => s.panic_on_oom = value,
            "vm.oom_kill_allocating_task" => s.oom_kill_allocating_task = value,
            "vm.oom_dump_tasks" => s.oom_dump_tasks = value,
            "vm.min_free_kbytes" => {
                if value < 0 {
                    return Err(bad(">= 0"));
                }
                s.min_free_kbytes = value;
            }
            "vm.watermark_scale_factor" => s.watermark_scale_factor = value,
            _ => return Err(unknown_sysctl(name)),
        }
        self.setup_per_zone_wmarks();
        Ok(())
    }

    /// Write a sysctl through its handler (kernel/sysctl.c `proc_dointvec*`, mm/util.c and mm/page_alloc.c
    /// handlers): range check (EINVAL) and side effects. Unknown names are an `ApiError` listing the known ones.
    pub fn sysctl_write(&mut self, name: &str, value: i64) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        let int_ok = |v: i64| (i32::MIN as i64..=i32::MAX as i64).contains(&v);
        let s = &mut self.sysctl;
        let r: SysResult<()> = match name {
            // proc_dointvec_minmax 0..2 (mm/util.c:overcommit_policy_handler)
            "vm.overcommit_memory" => match OvercommitPolicy::from_sysctl(value) {
                Some(p) => {
                    s.overcommit.overcommit_memory = p;
                    Ok(())
                }
                None => Err(Errno::EINVAL),
            },
            // proc_dointvec; a successful write zeroes overcommit_kbytes (overcommit_ratio_handler)
            "vm.overcommit_ratio" => {
                if int_ok(value) {
                    s.overcommit.overcommit_ratio = value;
                    s.overcommit.overcommit_kbytes = 0;
                    Ok(())
                } else {
                    Err(Errno::EINVAL)
                }
            }
            // proc_doulongvec_minmax; a successful write zeroes overcommit_ratio, even a write of 0
            "vm.overcommit_kbytes" => match u64::try_from(value) {
                Ok(v) => {
                    s.overcommit.overcommit_kbytes = v;
                    s.overcommit.overcommit_ratio = 0;
                    Ok(())
                }
                Err(_) => Err(Errno::EINVAL),
            },
            "vm.admin_reserve_kbytes" => u64::try_from(value).map(|v| s.overcommit.admin_reserve_kbytes = v).map_err(|_| Errno::EINVAL),
            "vm.user_reserve_kbytes" => u64::try_from(value).map(|v| s.overcommit.user_reserve_kbytes = v).map_err(|_| Errno::EINVAL),
            // proc_dointvec_minmax 0..MAX_SWAPPINESS (200)
            "vm.swappiness" => range_set(&mut s.swappiness, value, 0, 200),
            // proc_dointvec_minmax 0..2
            "vm.panic_on_oom" => range_set(&mut s.panic_on_oom, value, 0, 2),
            "vm.oom_kill_allocating_task" => range_set(&mut s.oom_kill_allocating_task, value, i32::MIN as i64, i32::MAX as i64),
            "vm.oom_dump_tasks" => range_set(&mut s.oom_dump_tasks, value, i32::MIN as i64, i32::MAX as i64),
            // min_free_kbytes_sysctl_handler: >= 0; remembered as the user's value; watermarks recomputed
            "vm.min_free_kbytes" => {
                let r = range_set(&mut s.min_free_kbytes, value, 0, i32::MAX as i64);
                if r.is_ok() {
                    s.user_min_free_kbytes = value;
                }
                r
            }
            // watermark_scale_factor_sysctl_handler: 1..3000
            "vm.watermark_scale_factor" => range_set(&mut s.watermark_scale_factor, value, 1, 3000),
            _ => return Err(unknown_sysctl(name)),
        };
        if r.is_ok() && name == "vm.swappiness" {
            self.memcg.vm_swappiness = self.sysctl.swappiness as u64;
        }
        if r.is_ok() && matches!(name, "vm.min_free_kbytes" | "vm.watermark_scale_factor") {
            self.setup_per_zone_wmarks();
        }
        Ok(r)
    }
}

fn range_set(slot: &mut i64, v: i64, lo: i64, hi: i64) -> SysResult<()> {
    if (lo..=hi).contains(&v) {
        *slot = v;
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

fn unknown_sysctl(name: &str) -> ApiError {
    ApiError::errno("E_ARG", Errno::ENOENT, format!("sysctl.name: {name:?} is not a modelled sysctl; expected one of {}", SYSCTL_NAMES.join(", ")))
}
