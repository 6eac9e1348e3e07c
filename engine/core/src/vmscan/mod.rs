//! mm/vmscan.c, the pure decisions: LRU balance (inactive_is_low), the anon/file scan split of get_scan_count()
//! (swappiness, file_is_tiny against the high watermarks, cache trim mode), memcg proportional protection, the
//! simulated-time cost model, and the state reclaim keeps (`ReclaimState`, `ScanControl`). What drives them on
//! the engine (direct reclaim, the LRU lists, kswapd, PSI stalls) is [`engine`].

use crate::types::MemcgId;
use crate::util::int_sqrt;

mod engine;

/// SWAP_CLUSTER_MAX (include/linux/swap.h).
pub const SWAP_CLUSTER_MAX: u64 = 32;
/// MAX_SWAPPINESS (include/linux/swap.h): vm.swappiness ranges 0..=200 since v5.8.
pub const MAX_SWAPPINESS: u64 = 200;
/// DEF_PRIORITY (include/linux/mmzone.h): reclaim starts scanning lru_size >> 12.
pub const DEF_PRIORITY: u32 = 12;
/// Default vm.swappiness.
pub const DEFAULT_SWAPPINESS: u64 = 60;

/// mm/vmscan.c:inactive_is_low(): the target active:inactive ratio of an LRU pair is isqrt(10 * size in GiB)
/// (1 below 1 GiB); the inactive list is "low" when inactive * ratio < active (strict). Returns (ratio, low).
pub fn inactive_is_low(inactive: u64, active: u64) -> (u64, bool) {
    let gb = inactive.wrapping_add(active) >> (30 - crate::PAGE_SHIFT);
    let ratio = if gb != 0 { int_sqrt(gb.wrapping_mul(10)) } else { 1 };
    (ratio, inactive.wrapping_mul(ratio) < active)
}

/// mm/vmscan.c:calculate_pressure_balance(): the SCAN_FRACT weights. Each list's cost counts twice against itself
/// and once against the other (total + own cost); the anon weight is swappiness * (t + 1) / (anon + 1), the file
/// weight (200 - swappiness) * (t + 1) / (file + 1). Returns ([ap, fp], denominator ap + fp).
pub fn calculate_pressure_balance(swappiness: u64, anon_cost: u64, file_cost: u64) -> ([u64; 2], u64) {
    let total = anon_cost.wrapping_add(file_cost);
    let a = total.wrapping_add(anon_cost);
    let f = total.wrapping_add(file_cost);
    let t = a.wrapping_add(f);
    let ap = swappiness.wrapping_mul(t.wrapping_add(1)) / a.wrapping_add(1);
    let fp = MAX_SWAPPINESS.wrapping_sub(swappiness).wrapping_mul(t.wrapping_add(1)) / f.wrapping_add(1);
    ([ap, fp], ap.wrapping_add(fp))
}

/// mm/vmscan.c `enum scan_balance`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScanBalance {
    /// Scan both lists relative to their size (near OOM, priority 0).
    Equal,
    /// Scan both lists in proportion to the pressure-balance fraction.
    Fract,
    /// Scan anon only.
    Anon,
    /// Scan file only.
    File,
}

/// The facts get_scan_count() decides on (the caller computes them from its scan_control and lruvec).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ScanBalanceInput {
    /// Swap can be used: sc->may_swap and can_reclaim_anon_pages() (free swap, memcg swap limit).
    pub can_reclaim_anon: bool,
    /// Reclaim on behalf of a memcg limit (cgroup_reclaim()), not global reclaim.
    pub cgroup_reclaim: bool,
    /// swappiness in effect (vm.swappiness, or the memcg's v1 swappiness, or memory.reclaim's); 201 means "max"
    /// (SWAPPINESS_ANON_ONLY, proactive reclaim only).
    pub swappiness: u64,
    pub priority: u32,
    /// sc->file_is_tiny ([`file_is_tiny`]).
    pub file_is_tiny: bool,
    /// sc->cache_trim_mode ([`cache_trim_mode`]).
    pub cache_trim_mode: bool,
}

/// SWAPPINESS_ANON_ONLY (include/linux/swap.h): memory.reclaim "swappiness=max".
pub const SWAPPINESS_ANON_ONLY: u64 = MAX_SWAPPINESS + 1;

/// The special cases of mm/vmscan.c:get_scan_count(), in the kernel's order: no usable swap → file only; memcg
/// reclaim at swappiness 0 → file only; swappiness=max → anon only; priority 0 with swappiness > 0 → equal;
/// file tiny → anon only; cache trim mode → file only; otherwise SCAN_FRACT.
pub fn get_scan_balance(inp: &ScanBalanceInput) -> ScanBalance {
    // no usable swap, or memcg reclaim with swappiness 0: file only
    if !inp.can_reclaim_anon || (inp.cgroup_reclaim && inp.swappiness == 0) {
        ScanBalance::File
    } else if inp.swappiness == SWAPPINESS_ANON_ONLY {
        ScanBalance::Anon
    } else if inp.priority == 0 && inp.swappiness != 0 {
        ScanBalance::Equal
    } else if inp.file_is_tiny {
        ScanBalance::Anon
    } else if inp.cache_trim_mode {
        ScanBalance::File
    } else {
        ScanBalance::Fract
    }
}

/// mm/vmscan.c:prepare_scan_control() `file_is_tiny` (global reclaim only): file LRU + free pages at or below the
/// sum of the zones' high watermarks, anon not being deactivated, and inactive anon still scannable at this
/// priority. This is why swappiness 0 still swaps near OOM.
pub fn file_is_tiny(
    file_pages: u64,
    free_pages: u64,
    total_high_wmark: u64,
    deactivate_anon: bool,
    inactive_anon: u64,
    priority: u32,
) -> bool {
    file_pages + free_pages <= total_high_wmark && !deactivate_anon && (inactive_anon >> priority) != 0
}

/// mm/vmscan.c:prepare_scan_control() `cache_trim_mode`: enough inactive file to scan at this priority, file not
/// being deactivated (no refault-driven thrashing) and not disabled.
pub fn cache_trim_mode(inactive_file: u64, priority: u32, deactivate_file: bool, no_cache_trim_mode: bool) -> bool {
    (inactive_file >> priority) != 0 && !deactivate_file && !no_cache_trim_mode
}

/// Result of [`apply_proportional_protection`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ProtectedScan {
    /// The scan target before the `>> priority` shift.
    pub scan: u64,
    /// sc->memcg_low_skipped was set: memory.low was honoured, so a second pass may be needed.
    pub memcg_low_skipped: bool,
}

/// mm/vmscan.c:apply_proportional_protection(). A memcg above its protection is scanned in proportion to how far
/// above it is: with protection = elow on the first pass when elow > emin, else emin, and size = max(usage,
/// protection), scan loses scan * protection / (size + 1), and is then raised to at least SWAP_CLUSTER_MAX. No
/// protection leaves the scan untouched.
pub fn apply_proportional_protection(
    scan: u64,
    memcg_usage: u64,
    emin: u64,
    elow: u64,
    memcg_low_reclaim: bool,
) -> ProtectedScan {
    if emin == 0 && elow == 0 {
        return ProtectedScan { scan, memcg_low_skipped: false };
    }
    let (protection, skipped) = if !memcg_low_reclaim && elow > emin { (elow, true) } else { (emin, false) };
    let size = memcg_usage.max(protection);
    let cut = scan.wrapping_mul(protection) / size.wrapping_add(1);
    let scan = scan.wrapping_sub(cut).max(SWAP_CLUSTER_MAX);
    ProtectedScan { scan, memcg_low_skipped: skipped }
}

/// The per-list part of mm/vmscan.c:get_scan_count() for one evictable LRU of an online memcg: the (protected)
/// size shifted by the priority, then split by the balance: SCAN_FRACT takes `fraction[file] / denominator` of it
/// (multiplied first), SCAN_EQUAL keeps it, SCAN_ANON/SCAN_FILE keep it only for their own type.
pub fn scan_target(
    protected_size: u64,
    priority: u32,
    is_file: bool,
    balance: ScanBalance,
    fraction: [u64; 2],
    denominator: u64,
) -> u64 {
    let scan = protected_size >> priority.min(63);
    match balance {
        ScanBalance::Equal => scan,
        ScanBalance::Fract => {
            if denominator == 0 {
                0
            } else {
                ((u128::from(scan) * u128::from(fraction[usize::from(is_file)])) / u128::from(denominator)) as u64
            }
        }
        ScanBalance::File => {
            if is_file {
                scan
            } else {
                0
            }
        }
        ScanBalance::Anon => {
            if is_file {
                0
            } else {
                scan
            }
        }
    }
}

// ---- the simulated-time cost model ----------------------------------------------------------------------------------

/// A block device model for swap and file I/O: the latency of one 4 KiB random read, which a major fault waits on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IoDevice {
    /// A rotating disk: ~5 ms average seek + rotation for a random 4 KiB read.
    Disk,
    /// A SATA/NVMe SSD: ~100 µs for a random 4 KiB read at queue depth 1.
    Ssd,
    /// zram: LZ4 decompression of one page in RAM, ~5 µs (no I/O at all).
    Zram,
}

impl IoDevice {
    pub const fn read_ns(self) -> u64 {
        match self {
            IoDevice::Disk => 5_000_000,
            IoDevice::Ssd => 100_000,
            IoDevice::Zram => 5_000,
        }
    }

    pub fn from_name(s: &str) -> Option<IoDevice> {
        Some(match s {
            "disk" => IoDevice::Disk,
            "ssd" => IoDevice::Ssd,
            "zram" => IoDevice::Zram,
            _ => return None,
        })
    }
}

/// What simulated operations cost in ns. The defaults (justification beside each) are order-of-magnitude
/// figures of current x86-64 hardware; scenarios override them. With `timed` the running task's costs advance the
/// clock (one CPU: the simulated time is the sum of what the tasks did); without it the clock moves only through
/// `advance`/`run_until` (the `ops` check: no time passes, vectors-format §6.2 rule 1) while stall time is still
/// accounted.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CostModel {
    pub timed: bool,
    /// A minor fault: exception entry/exit, page-table walk and zeroing or mapping one page, ~0.5 µs.
    pub minor_fault_ns: u64,
    /// The swap device (swap-in of a page not in the swap cache waits one read).
    pub swap_device: IoDevice,
    /// The device file pages are read from (page-cache misses).
    pub file_device: IoDevice,
    /// Reclaim scanning, per page isolated from an LRU list (rmap walk, flag tests, list moves), ~0.2 µs.
    pub reclaim_scan_ns: u64,
    /// Writing back one dirty file page from reclaim (kswapd pageout), ~50 µs on an SSD.
    pub writeback_ns: u64,
    /// Submitting one page to swap (bio setup; zram compresses synchronously), ~2 µs.
    pub swapout_ns: u64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            timed: false,
            minor_fault_ns: 500,
            swap_device: IoDevice::Ssd,
            file_device: IoDevice::Ssd,
            reclaim_scan_ns: 200,
            writeback_ns: 50_000,
            swapout_ns: 2_000,
        }
    }
}

/// HZ of the simulated kernel (jiffies for memory.high delays and the PSI period).
pub const HZ: u64 = 1000;

/// Reclaim state of the node: kswapd, the cost model, PSI.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ReclaimState {
    pub cost: CostModel,
    /// pgdat->kswapd_failures: kswapd runs in a row that reclaimed nothing.
    pub kswapd_failures: u32,
    /// kswapd was woken and runs at this time (a timer on the clock).
    pub kswapd_due: Option<u64>,
    /// /proc/pressure/memory.
    pub psi: crate::psi::PsiGroup,
    /// memory.pressure of each memcg (by id; created on first use).
    pub memcg_psi: Vec<Option<crate::psi::PsiGroup>>,
    /// Stall time per pid, ns (memory stalls: direct reclaim, major faults, throttling).
    pub task_stall_ns: std::collections::BTreeMap<u32, u64>,
}

impl ReclaimState {
    pub fn new(cost: CostModel) -> Self {
        ReclaimState {
            cost,
            kswapd_failures: 0,
            kswapd_due: None,
            psi: crate::psi::PsiGroup::new(0, crate::psi::psi_period_ns(HZ)),
            memcg_psi: Vec::new(),
            task_stall_ns: Default::default(),
        }
    }
}

// ---- scan_control ---------------------------------------------------------------------------------------------

/// `struct scan_control` (the parts modelled).
#[derive(Clone, Debug)]
pub struct ScanControl {
    pub nr_to_reclaim: u64,
    pub priority: u32,
    pub may_swap: bool,
    /// The memcg whose limit is reclaimed (None: global reclaim).
    pub target_memcg: Option<MemcgId>,
    pub kswapd: bool,
    pub memcg_low_reclaim: bool,
    pub memcg_low_skipped: bool,
    /// The whole memcg tree is walked (no early stop once enough was reclaimed): kswapd, and the second pass of
    /// a direct reclaim that reclaimed nothing.
    pub memcg_full_walk: bool,
    /// Deactivate both active lists whatever their inactive lists look like (the retry after an active list
    /// was skipped).
    pub force_deactivate: bool,
    /// An active list was not aged because it was not to be deactivated.
    pub skipped_deactivate: bool,
    pub nr_scanned: u64,
    pub nr_reclaimed: u64,
    /// Pages written (swap-out or writeback) and their ns, for the stall.
    pub cost_ns: u64,
    may_deactivate_anon: bool,
    may_deactivate_file: bool,
    file_is_tiny: bool,
    cache_trim_mode: bool,
    /// The target lruvec's anon and file reclaim costs, read once per shrink_node (`prepare_scan_control`);
    /// 0 for a soft limit reclaim, which skips that step.
    anon_cost: u64,
    file_cost: u64,
}

impl ScanControl {
    pub fn new(nr_to_reclaim: u64, target_memcg: Option<MemcgId>, may_swap: bool, kswapd: bool) -> Self {
        ScanControl {
            nr_to_reclaim,
            priority: DEF_PRIORITY,
            may_swap,
            target_memcg,
            kswapd,
            memcg_low_reclaim: false,
            memcg_low_skipped: false,
            memcg_full_walk: kswapd,
            force_deactivate: false,
            skipped_deactivate: false,
            nr_scanned: 0,
            nr_reclaimed: 0,
            cost_ns: 0,
            may_deactivate_anon: false,
            may_deactivate_file: false,
            file_is_tiny: false,
            cache_trim_mode: false,
            anon_cost: 0,
            file_cost: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inactive_ratio() {
        assert_eq!(inactive_is_low(100000, 400000), (3, true));
        assert_eq!(inactive_is_low(1000, 2000), (1, true));
        assert_eq!(inactive_is_low(300000, 1000000), (6, false));
        // strict: equality is not low
        assert_eq!(inactive_is_low(1000, 1000), (1, false));
        // exactly 1 GiB gives isqrt(10) = 3
        assert_eq!(inactive_is_low(1 << 17, 1 << 17).0, 3);
        assert_eq!(inactive_is_low((1 << 18) - 1, 0).0, 1);
    }

    #[test]
    fn pressure_balance() {
        assert_eq!(calculate_pressure_balance(100, 50, 120), ([231, 175], 406));
        // no costs, swappiness 60: 60 : 140 -> 30 % anon
        assert_eq!(calculate_pressure_balance(60, 0, 0), ([60, 140], 200));
        assert_eq!(calculate_pressure_balance(200, 7, 9).0[1], 0);
        assert_eq!(calculate_pressure_balance(0, 7, 9).0[0], 0);
    }

    #[test]
    fn scan_balance_order() {
        let base = ScanBalanceInput {
            can_reclaim_anon: true,
            cgroup_reclaim: false,
            swappiness: 60,
            priority: 12,
            file_is_tiny: false,
            cache_trim_mode: false,
        };
        assert_eq!(get_scan_balance(&base), ScanBalance::Fract);
        assert_eq!(
            get_scan_balance(&ScanBalanceInput { can_reclaim_anon: false, file_is_tiny: true, ..base }),
            ScanBalance::File
        );
        assert_eq!(
            get_scan_balance(&ScanBalanceInput { cgroup_reclaim: true, swappiness: 0, ..base }),
            ScanBalance::File
        );
        // global reclaim at swappiness 0 with tiny file still scans anon
        assert_eq!(
            get_scan_balance(&ScanBalanceInput { swappiness: 0, file_is_tiny: true, ..base }),
            ScanBalance::Anon
        );
        assert_eq!(get_scan_balance(&ScanBalanceInput { priority: 0, ..base }), ScanBalance::Equal);
        assert_eq!(get_scan_balance(&ScanBalanceInput { priority: 0, swappiness: 0, ..base }), ScanBalance::Fract);
        assert_eq!(get_scan_balance(&ScanBalanceInput { cache_trim_mode: true, ..base }), ScanBalance::File);
        assert_eq!(get_scan_balance(&ScanBalanceInput { swappiness: SWAPPINESS_ANON_ONLY, ..base }), ScanBalance::Anon);
        assert!(file_is_tiny(10, 10, 20, false, 4096, 12));
        assert!(!file_is_tiny(10, 11, 20, false, 4096, 12));
        assert!(!file_is_tiny(10, 10, 20, false, 4095, 12));
        assert!(cache_trim_mode(4096, 12, false, false));
        assert!(!cache_trim_mode(4095, 12, false, false));
    }

    #[test]
    fn proportional_protection() {
        assert_eq!(
            apply_proportional_protection(10000, 40000, 0, 30000, false),
            ProtectedScan { scan: 2501, memcg_low_skipped: true }
        );
        assert_eq!(apply_proportional_protection(10000, 40000, 0, 30000, true).scan, 10000);
        // floor at SWAP_CLUSTER_MAX, even above the list size
        assert_eq!(apply_proportional_protection(10, 100, 100, 0, false).scan, 32);
        // usage below protection: size = protection
        assert_eq!(apply_proportional_protection(1000, 10, 500, 0, false).scan, 32);
        // no protection: untouched (even below 32)
        assert_eq!(apply_proportional_protection(10, 100, 0, 0, false).scan, 10);
        // emin wins when elow is not larger
        assert_eq!(
            apply_proportional_protection(10000, 40000, 20000, 10000, false).scan,
            10000 - 10000 * 20000 / 40001
        );
    }

    #[test]
    fn scan_targets() {
        let (f, d) = calculate_pressure_balance(60, 0, 0);
        assert_eq!(scan_target(1 << 20, 12, false, ScanBalance::Fract, f, d), 256 * 60 / 200);
        assert_eq!(scan_target(1 << 20, 12, true, ScanBalance::Fract, f, d), 256 * 140 / 200);
        assert_eq!(scan_target(1 << 20, 12, false, ScanBalance::File, f, d), 0);
        assert_eq!(scan_target(1 << 20, 0, true, ScanBalance::Equal, f, d), 1 << 20);
    }

    #[test]
    fn cost_model_defaults() {
        let c = CostModel::default();
        assert!(!c.timed);
        assert_eq!(IoDevice::Disk.read_ns(), 5_000_000);
        assert_eq!(IoDevice::from_name("zram"), Some(IoDevice::Zram));
        assert_eq!(IoDevice::from_name("tape"), None);
    }
}
