//! Validation of the OOM sysctls (mm/oom_kill.c:`vm_oom_kill_table`). There is no `vm.oom_kill` sysctl: the
//! "OOM killer disabled" state is `oom_killer_disable()` (suspend), an input of `out_of_memory`.

use crate::errno::{ApiError, Errno};

fn int_range(name: &str, v: i64, min: i64, max: i64) -> Result<i32, ApiError> {
    if v < min || v > max {
        return Err(ApiError::errno(
            "E_SYSCTL",
            Errno::EINVAL,
            format!("{name}: {v} is out of range; expected {min}..={max}"),
        ));
    }
    Ok(v as i32)
}

/// vm.panic_on_oom: `proc_dointvec_minmax` with 0..=2, otherwise EINVAL. Default 0.
pub fn validate_panic_on_oom(v: i64) -> Result<i32, ApiError> {
    int_range("vm.panic_on_oom", v, 0, 2)
}

/// vm.oom_kill_allocating_task: `proc_dointvec`, any int (non-zero enables); beyond int range EINVAL. Default 0.
pub fn validate_oom_kill_allocating_task(v: i64) -> Result<i32, ApiError> {
    int_range("vm.oom_kill_allocating_task", v, i32::MIN as i64, i32::MAX as i64)
}

/// vm.oom_dump_tasks: `proc_dointvec`, any int (non-zero enables the task table). Default 1.
pub fn validate_oom_dump_tasks(v: i64) -> Result<i32, ApiError> {
    int_range("vm.oom_dump_tasks", v, i32::MIN as i64, i32::MAX as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(validate_panic_on_oom(2), Ok(2));
        assert_eq!(validate_panic_on_oom(0), Ok(0));
        assert_eq!(validate_panic_on_oom(3).unwrap_err().errno, Some(Errno::EINVAL));
        assert_eq!(validate_panic_on_oom(-1).unwrap_err().errno, Some(Errno::EINVAL));
        assert_eq!(validate_oom_kill_allocating_task(-5), Ok(-5));
        assert!(validate_oom_dump_tasks(1 << 31).is_err());
    }
}
