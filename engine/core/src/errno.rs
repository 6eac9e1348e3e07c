//! Error values. Simulation outcomes (ENOMEM from mmap, an OOM kill) are *results and events*, never Rust errors;
//! `ApiError` is for invalid input to the API (unknown pid, bad sysctl value, malformed command), and carries a
//! stable code, the path of the bad field and what is allowed.

use std::fmt;

/// Kernel errno values the simulator returns, by their kernel names (include/uapi/asm-generic/errno-base.h).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Errno {
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    ENOMEM = 12,
    EACCES = 13,
    EBUSY = 16,
    EINVAL = 22,
    ENOSPC = 28,
    EAGAIN = 11,
    EOPNOTSUPP = 95,
}

impl Errno {
    /// Every errno the simulator returns (bindings/src/generated/codes.ts is generated from this list).
    pub const ALL: &'static [Errno] = &[
        Errno::EPERM,
        Errno::ENOENT,
        Errno::ESRCH,
        Errno::EAGAIN,
        Errno::ENOMEM,
        Errno::EACCES,
        Errno::EBUSY,
        Errno::EINVAL,
        Errno::ENOSPC,
        Errno::EOPNOTSUPP,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Errno::EPERM => "EPERM",
            Errno::ENOENT => "ENOENT",
            Errno::ESRCH => "ESRCH",
            Errno::ENOMEM => "ENOMEM",
            Errno::EACCES => "EACCES",
            Errno::EBUSY => "EBUSY",
            Errno::EINVAL => "EINVAL",
            Errno::ENOSPC => "ENOSPC",
            Errno::EAGAIN => "EAGAIN",
            Errno::EOPNOTSUPP => "EOPNOTSUPP",
        }
    }

    pub fn from_code(code: u32) -> Option<Errno> {
        Some(match code {
            1 => Errno::EPERM,
            2 => Errno::ENOENT,
            3 => Errno::ESRCH,
            11 => Errno::EAGAIN,
            12 => Errno::ENOMEM,
            13 => Errno::EACCES,
            16 => Errno::EBUSY,
            22 => Errno::EINVAL,
            28 => Errno::ENOSPC,
            95 => Errno::EOPNOTSUPP,
            _ => return None,
        })
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Invalid input at the API boundary. `code` is stable (`E_ARG`, `E_NOPID`, `E_CMD`, ...); `errno` is set where the
/// kernel itself would return one (a sysctl write out of range is EINVAL, as `proc_dointvec_minmax` says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub errno: Option<Errno>,
    /// What was wrong and where: `"touch.count: 0 is not allowed; expected 1..=2^32-1 pages"`.
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, errno: None, message: message.into() }
    }
    pub fn errno(code: &'static str, errno: Errno, message: impl Into<String>) -> Self {
        ApiError { code, errno: Some(errno), message: message.into() }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(e) => write!(f, "{} ({}): {}", self.code, e, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for ApiError {}
