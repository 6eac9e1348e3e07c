//! /proc/<pid>/oom_score, oom_score_adj and the legacy oom_adj (fs/proc/base.c).

use crate::errno::Errno;
use crate::oom_kill::{OOM_ADJUST_MAX, OOM_ADJUST_MIN, OOM_DISABLE, OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN};

/// fs/proc/base.c:`proc_oom_score` (v5.9+): 0 for an unkillable task (badness LONG_MIN), otherwise
/// `(1000 + badness*1000/totalpages) * 2/3` in signed C arithmetic (truncating toward zero), range 0..2000.
/// `totalpages` is always the global totalram + swap, even for a task in a limited memcg.
pub fn proc_oom_score(badness: i64, totalpages: u64) -> i64 {
    if badness == i64::MIN {
        return 0;
    }
    let tp = (totalpages as i64).max(1);
    (1000 + badness.wrapping_mul(1000) / tp) * 2 / 3
}

/// The `badness*1000/totalpages` term of [`proc_oom_score`] (None when unkillable).
pub fn oom_score_scaled(badness: i64, totalpages: u64) -> Option<i64> {
    if badness == i64::MIN {
        None
    } else {
        Some(badness.wrapping_mul(1000) / (totalpages as i64).max(1))
    }
}

/// v3.5..v5.8 (`unsigned long oom_badness`): unkillable -> 0, otherwise at least 1.
pub fn legacy_oom_badness(badness: i64) -> u64 {
    if badness == i64::MIN {
        0
    } else {
        badness.max(1) as u64
    }
}

/// v4.17..v5.8 `proc_oom_score`: `legacy_badness * 1000 / totalpages` (unsigned), range 0..1000.
pub fn legacy_proc_oom_score(badness: i64, totalpages: u64) -> u64 {
    legacy_oom_badness(badness).wrapping_mul(1000) / totalpages.max(1)
}

/// The result of a write to oom_score_adj or oom_adj.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OomAdjWrite {
    /// The new signal->oom_score_adj.
    pub oom_score_adj: i16,
    /// The new signal->oom_score_adj_min (a CAP_SYS_RESOURCE write to oom_score_adj sets it).
    pub oom_score_adj_min: i16,
    /// This was a legacy oom_adj write: the kernel prints its deprecation warning once per boot
    /// (see [`crate::oom_kill::log::oom_adj_deprecated_line`]).
    pub legacy_warning: bool,
}

/// fs/proc/base.c:`oom_score_adj_write` + `__set_oom_adj(legacy=false)`: outside -1000..=1000 -> EINVAL; below
/// `oom_score_adj_min` without CAP_SYS_RESOURCE -> EACCES; otherwise set, and a CAP_SYS_RESOURCE writer also sets
/// oom_score_adj_min to the value. (The engine applies the value to every other process sharing the mm, except
/// vfork children, kthreads and init.)
pub fn oom_score_adj_write(
    value: i64,
    oom_score_adj: i16,
    oom_score_adj_min: i16,
    cap_sys_resource: bool,
) -> Result<OomAdjWrite, Errno> {
    let _ = oom_score_adj;
    if value < OOM_SCORE_ADJ_MIN as i64 || value > OOM_SCORE_ADJ_MAX as i64 {
        return Err(Errno::EINVAL);
    }
    let v = value as i16;
    if v < oom_score_adj_min && !cap_sys_resource {
        return Err(Errno::EACCES);
    }
    Ok(OomAdjWrite {
        oom_score_adj: v,
        oom_score_adj_min: if cap_sys_resource { v } else { oom_score_adj_min },
        legacy_warning: false,
    })
}

/// The oom_adj -> oom_score_adj mapping of `oom_adj_write`: 15 -> 1000, otherwise `v*1000/17` truncated toward
/// zero (-17 -> -1000, -16 -> -941, 1 -> 58).
pub fn oom_adj_to_score_adj(oom_adj: i32) -> i16 {
    if oom_adj == OOM_ADJUST_MAX {
        OOM_SCORE_ADJ_MAX
    } else {
        ((oom_adj * OOM_SCORE_ADJ_MAX as i32) / -OOM_DISABLE) as i16
    }
}

/// fs/proc/base.c:`oom_adj_write` + `__set_oom_adj(legacy=true)`: accepts -16..=15 or -17 (else EINVAL), maps
/// with [`oom_adj_to_score_adj`]; a new value below the CURRENT oom_score_adj without CAP_SYS_RESOURCE -> EACCES.
/// oom_score_adj_min is not changed by legacy writes.
pub fn oom_adj_write(
    value: i64,
    oom_score_adj: i16,
    oom_score_adj_min: i16,
    cap_sys_resource: bool,
) -> Result<OomAdjWrite, Errno> {
    if (value < OOM_ADJUST_MIN as i64 || value > OOM_ADJUST_MAX as i64) && value != OOM_DISABLE as i64 {
        return Err(Errno::EINVAL);
    }
    let new = oom_adj_to_score_adj(value as i32);
    if new < oom_score_adj && !cap_sys_resource {
        return Err(Errno::EACCES);
    }
    Ok(OomAdjWrite { oom_score_adj: new, oom_score_adj_min, legacy_warning: true })
}

/// fs/proc/base.c:`oom_adj_read`: 1000 -> 15, otherwise `adj*17/1000` truncated toward zero, capped at 15
/// (so 942..999 read 15, not 16).
pub fn oom_adj_read(oom_score_adj: i16) -> i32 {
    let v = if oom_score_adj == OOM_SCORE_ADJ_MAX {
        OOM_ADJUST_MAX
    } else {
        (oom_score_adj as i32 * -OOM_DISABLE) / OOM_SCORE_ADJ_MAX as i32
    };
    v.min(OOM_ADJUST_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_score_values() {
        assert_eq!(proc_oom_score(1049088, 4718592), 814);
        assert_eq!(proc_oom_score(-3664194, 4718592), 149); // -776.5 truncates to -776
        assert_eq!(proc_oom_score(0, 4718592), 666);
        assert_eq!(proc_oom_score(4718100, 4718592), 1332);
        assert_eq!(proc_oom_score(i64::MIN, 4718592), 0);
        // a very negative badness: (1000 - 1000) * 2/3 = 0; below that negative values appear
        assert_eq!(proc_oom_score(-4718592, 4718592), 0);
        assert_eq!(proc_oom_score(-4718592 * 2, 4718592), -666);
        assert_eq!(legacy_proc_oom_score(1049088, 4718592), 222);
        assert_eq!(legacy_proc_oom_score(-5, 4718592), 0);
        assert_eq!(legacy_oom_badness(-5), 1);
        assert_eq!(legacy_oom_badness(i64::MIN), 0);
    }

    #[test]
    fn score_adj_write_rules() {
        assert_eq!(oom_score_adj_write(-1001, 0, 0, true), Err(Errno::EINVAL));
        assert_eq!(oom_score_adj_write(1001, 0, 0, true), Err(Errno::EINVAL));
        assert_eq!(oom_score_adj_write(-500, 0, 0, false), Err(Errno::EACCES));
        assert_eq!(oom_score_adj_write(-500, 0, -600, false).unwrap().oom_score_adj, -500);
        let w = oom_score_adj_write(-300, 0, 0, true).unwrap();
        assert_eq!((w.oom_score_adj, w.oom_score_adj_min), (-300, -300));
        // without the capability a raise is fine and the min stays
        let w = oom_score_adj_write(200, 0, -100, false).unwrap();
        assert_eq!((w.oom_score_adj, w.oom_score_adj_min), (200, -100));
    }

    #[test]
    fn legacy_adj() {
        assert_eq!(oom_adj_write(15, 0, 0, true).unwrap().oom_score_adj, 1000);
        assert_eq!(oom_adj_write(-17, 0, 0, true).unwrap().oom_score_adj, -1000);
        assert_eq!(oom_adj_write(-16, 0, 0, true).unwrap().oom_score_adj, -941);
        assert_eq!(oom_adj_write(-8, 0, 0, true).unwrap().oom_score_adj, -470);
        assert_eq!(oom_adj_write(16, 0, 0, true), Err(Errno::EINVAL));
        assert_eq!(oom_adj_write(-18, 0, 0, true), Err(Errno::EINVAL));
        // legacy EACCES compares with the current adj, not the min
        assert_eq!(oom_adj_write(1, 100, -1000, false), Err(Errno::EACCES));
        assert_eq!(oom_adj_write(2, 100, 500, false).unwrap().oom_score_adj, 117);
        assert_eq!(oom_adj_read(1000), 15);
        assert_eq!(oom_adj_read(999), 15);
        assert_eq!(oom_adj_read(941), 15);
        assert_eq!(oom_adj_read(58), 0);
        assert_eq!(oom_adj_read(500), 8);
        assert_eq!(oom_adj_read(-1000), -17);
        assert_eq!(oom_adj_read(-941), -15);
        assert_eq!(oom_adj_read(-59), -1);
    }
}
