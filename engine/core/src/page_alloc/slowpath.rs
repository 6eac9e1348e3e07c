//! mm/page_alloc.c: the allocation slow path (`__alloc_pages_slowpath`, `should_reclaim_retry`,
//! `__alloc_pages_may_oom`) and the kswapd wake-up decision, as reusable decisions. The engine drives them: it
//! performs each direct-reclaim round itself and feeds back whether it made progress; these functions decide what
//! the kernel does next (retry, give up, or go to the OOM killer).

use crate::gfp_types;
use super::zone::{fast_path_watermark_ok, zone_watermark_ok, AllocFlags, ZoneType, MAX_PAGE_ORDER};

/// A gfp mask. The bits are owned by [`crate::gfp_types`] (include/linux/gfp_types.h); these associated
/// constants are the same values under the short names the slow-path code uses.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Gfp(pub u32);

impl Gfp {
    pub const DMA: u32 = gfp_types::__GFP_DMA;
    pub const HIGHMEM: u32 = gfp_types::__GFP_HIGHMEM;
    pub const DMA32: u32 = gfp_types::__GFP_DMA32;
    pub const MOVABLE: u32 = gfp_types::__GFP_MOVABLE;
    pub const RECLAIMABLE: u32 = gfp_types::__GFP_RECLAIMABLE;
    pub const HIGH: u32 = gfp_types::__GFP_HIGH;
    pub const IO: u32 = gfp_types::__GFP_IO;
    pub const FS: u32 = gfp_types::__GFP_FS;
    pub const ZERO: u32 = gfp_types::__GFP_ZERO;
    pub const DIRECT_RECLAIM: u32 = gfp_types::__GFP_DIRECT_RECLAIM;
    pub const KSWAPD_RECLAIM: u32 = gfp_types::__GFP_KSWAPD_RECLAIM;
    pub const WRITE: u32 = gfp_types::__GFP_WRITE;
    pub const NOWARN: u32 = gfp_types::__GFP_NOWARN;
    pub const RETRY_MAYFAIL: u32 = gfp_types::__GFP_RETRY_MAYFAIL;
    pub const NOFAIL: u32 = gfp_types::__GFP_NOFAIL;
    pub const NORETRY: u32 = gfp_types::__GFP_NORETRY;
    pub const MEMALLOC: u32 = gfp_types::__GFP_MEMALLOC;
    pub const COMP: u32 = gfp_types::__GFP_COMP;
    pub const NOMEMALLOC: u32 = gfp_types::__GFP_NOMEMALLOC;
    pub const HARDWALL: u32 = gfp_types::__GFP_HARDWALL;
    pub const THISNODE: u32 = gfp_types::__GFP_THISNODE;
    pub const ACCOUNT: u32 = gfp_types::__GFP_ACCOUNT;

    pub const RECLAIM: u32 = gfp_types::__GFP_RECLAIM;
    pub const GFP_KERNEL: u32 = gfp_types::GFP_KERNEL;
    pub const GFP_NOFS: u32 = gfp_types::GFP_NOFS;
    pub const GFP_NOIO: u32 = gfp_types::GFP_NOIO;
    pub const GFP_NOWAIT: u32 = gfp_types::GFP_NOWAIT;
    pub const GFP_ATOMIC: u32 = gfp_types::GFP_ATOMIC;
    pub const GFP_USER: u32 = gfp_types::GFP_USER;
    pub const GFP_HIGHUSER: u32 = gfp_types::GFP_HIGHUSER;
    pub const GFP_HIGHUSER_MOVABLE: u32 = gfp_types::GFP_HIGHUSER_MOVABLE;

    /// The bits of one gfp token of the vector format (vectors-format.md §4.1).
    pub fn token(name: &str) -> Option<u32> {
        Some(match name {
            "GFP_KERNEL" => Self::GFP_KERNEL,
            "GFP_HIGHUSER_MOVABLE" => Self::GFP_HIGHUSER_MOVABLE,
            "GFP_NOFS" => Self::GFP_NOFS,
            "GFP_NOIO" => Self::GFP_NOIO,
            "GFP_NOWAIT" => Self::GFP_NOWAIT,
            "GFP_ATOMIC" => Self::GFP_ATOMIC,
            "__GFP_NORETRY" => Self::NORETRY,
            "__GFP_RETRY_MAYFAIL" => Self::RETRY_MAYFAIL,
            "__GFP_NOFAIL" => Self::NOFAIL,
            "__GFP_THISNODE" => Self::THISNODE,
            "__GFP_NOWARN" => Self::NOWARN,
            "__GFP_DMA32" => Self::DMA32,
            _ => return None,
        })
    }

    pub const fn has(self, bits: u32) -> bool {
        self.0 & bits != 0
    }

    /// include/linux/gfp.h:gfp_zone() on x86-64 (no HIGHMEM zone, ZONE_MOVABLE configured): the highest zone the
    /// request may use. HIGHMEM|MOVABLE gives Movable, DMA32 gives DMA32, DMA gives DMA, anything else Normal.
    pub const fn highest_zone(self) -> ZoneType {
        if self.has(Self::DMA) {
            ZoneType::Dma
        } else if self.has(Self::DMA32) {
            ZoneType::Dma32
        } else if self.has(Self::MOVABLE) && self.has(Self::HIGHMEM) {
            ZoneType::Movable
        } else {
            ZoneType::Normal
        }
    }

    /// mm/page_alloc.c:gfp_to_alloc_flags() (the parts modelled): the slow path tests the **min** mark;
    /// __GFP_HIGH grants MIN_RESERVE; a request that cannot direct-reclaim is NON_BLOCK.
    pub const fn to_alloc_flags(self) -> AllocFlags {
        let mut f = AllocFlags::WMARK_MIN | AllocFlags::CPUSET;
        if self.has(Self::HIGH) {
            f |= AllocFlags::MIN_RESERVE;
        }
        if !self.has(Self::DIRECT_RECLAIM) {
            f |= AllocFlags::NON_BLOCK;
        }
        AllocFlags(f)
    }

    /// mm/compaction.c:gfp_compaction_allowed(): compaction (built in) needs __GFP_IO.
    pub const fn compaction_allowed(self) -> bool {
        self.has(Self::IO)
    }
}

/// PAGE_ALLOC_COSTLY_ORDER (include/linux/mmzone.h).
pub const PAGE_ALLOC_COSTLY_ORDER: u32 = 3;
/// MAX_RECLAIM_RETRIES (mm/internal.h).
pub const MAX_RECLAIM_RETRIES: u32 = 16;

/// What should_reclaim_retry() looks at in one eligible zone: its min watermark, free pages, pages reclaim could
/// still free (file LRU, plus anon LRU when swap is available), lowmem_reserve[highest_zoneidx], and (order > 0)
/// whether a free block of the order would exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZoneRetryState {
    pub min: u64,
    pub free: u64,
    pub reclaimable: u64,
    pub lowmem_reserve: u64,
    pub free_block_available: bool,
}

/// Why the slow path gives up without reaching the OOM killer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AllocFailReason {
    /// order above MAX_PAGE_ORDER: refused before anything is tried.
    OrderTooLarge,
    /// No __GFP_DIRECT_RECLAIM (GFP_ATOMIC, GFP_NOWAIT): nothing can be balanced.
    NoDirectReclaim,
    /// __GFP_NORETRY after the first reclaim round.
    NoRetry,
    /// order > PAGE_ALLOC_COSTLY_ORDER without __GFP_RETRY_MAYFAIL (or without compaction).
    CostlyOrder,
    /// __alloc_pages_may_oom() declined to call out_of_memory() (see [`OomGate`]) and made no progress.
    OomNotAllowed(OomGate),
    /// out_of_memory() made no progress (nothing killable, OOM killer disabled).
    OomNoProgress,
    /// An OOM victim failing even with its reserve access gives up instead of looping.
    OomVictimNoReserves,
}

/// mm/page_alloc.c:__alloc_pages_may_oom(): whether out_of_memory() is called for this request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OomGate {
    /// out_of_memory() is called.
    Call,
    /// order > PAGE_ALLOC_COSTLY_ORDER: the OOM killer would not help higher-order allocations.
    CostlyOrder,
    /// __GFP_RETRY_MAYFAIL: the caller prefers failure.
    RetryMayFail,
    /// __GFP_THISNODE: killing may not free memory on that node.
    ThisNode,
    /// highest zone below Normal: no killing for lowmem.
    Lowmem,
}

/// The gate of mm/page_alloc.c:__alloc_pages_may_oom(), in the kernel's order (after the last high-mark attempt,
/// which the caller has already made).
pub fn alloc_may_oom_gate(gfp: Gfp, order: u32) -> OomGate {
    if order > PAGE_ALLOC_COSTLY_ORDER {
        OomGate::CostlyOrder
    } else if gfp.has(Gfp::RETRY_MAYFAIL) {
        OomGate::RetryMayFail
    } else if gfp.has(Gfp::THISNODE) {
        OomGate::ThisNode
    } else if gfp.highest_zone() < ZoneType::Normal {
        OomGate::Lowmem
    } else {
        OomGate::Call
    }
}

/// mm/oom_kill.c:out_of_memory(): a global (non-memcg) request without __GFP_FS returns "progress" at once without
/// killing anything; the allocator then loops. True when that early return applies.
pub fn out_of_memory_nofs_bailout(gfp: Gfp, is_memcg_oom: bool) -> bool {
    !gfp.has(Gfp::FS) && !is_memcg_oom
}

/// mm/page_alloc.c:should_reclaim_retry(). Progress resets `no_progress_loops` only for orders up to
/// PAGE_ALLOC_COSTLY_ORDER; otherwise the counter grows. After more than MAX_RECLAIM_RETRIES (16) fruitless rounds
/// it gives up. Otherwise it retries when some eligible zone would pass the min watermark test (with the request's
/// alloc flags and lowmem_reserve) if all of its reclaimable pages were free. (Highatomic reserves, which the
/// kernel releases before giving up, are not modelled.)
pub fn should_reclaim_retry(
    gfp: Gfp,
    order: u32,
    did_some_progress: bool,
    no_progress_loops: &mut u32,
    zones: &[ZoneRetryState],
) -> bool {
    if did_some_progress && order <= PAGE_ALLOC_COSTLY_ORDER {
        *no_progress_loops = 0;
    } else {
        *no_progress_loops += 1;
    }
    if *no_progress_loops > MAX_RECLAIM_RETRIES {
        return false;
    }
    let flags = gfp.to_alloc_flags();
    zones.iter().any(|z| {
        let available = z.free.saturating_add(z.reclaimable);
        zone_watermark_ok(
            i64::try_from(available).unwrap_or(i64::MAX),
            order,
            z.min,
            i64::try_from(z.lowmem_reserve).unwrap_or(i64::MAX),
            flags,
            z.free_block_available,
        )
    })
}

/// What the slow path does next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SlowpathStep {
    /// Run one direct-reclaim round (then call [`Slowpath::after_direct_reclaim`]).
    DirectReclaim,
    /// Enter __alloc_pages_may_oom() and call out_of_memory() (then call [`Slowpath::after_out_of_memory`]).
    OutOfMemory,
    /// Give up: the allocation fails (unless __GFP_NOFAIL, see [`Slowpath::nofail_loops`]).
    Fail(AllocFailReason),
}

/// The state of one allocation in mm/page_alloc.c:__alloc_pages_slowpath() after the fast path and the first
/// min-mark attempt failed. Compaction is never modelled as helping. The engine alternates: `start()` →
/// DirectReclaim → `after_direct_reclaim(progress, zones)` → DirectReclaim again, OutOfMemory, or Fail;
/// OutOfMemory → `after_out_of_memory(progress, ...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slowpath {
    pub gfp: Gfp,
    pub order: u32,
    /// no_progress_loops of the kernel.
    pub no_progress_loops: u32,
    /// Direct-reclaim rounds completed.
    pub reclaim_rounds: u32,
    /// should_reclaim_retry() calls made.
    pub retry_checks: u32,
    /// The first should_reclaim_retry() result, if it was called.
    pub first_should_reclaim_retry: Option<bool>,
}

impl Slowpath {
    pub fn new(gfp: Gfp, order: u32) -> Self {
        Slowpath {
            gfp,
            order,
            no_progress_loops: 0,
            reclaim_rounds: 0,
            retry_checks: 0,
            first_should_reclaim_retry: None,
        }
    }

    /// The first decision: requests above MAX_PAGE_ORDER and requests that may not direct-reclaim fail here
    /// (kswapd has been woken by then if __GFP_KSWAPD_RECLAIM is set).
    pub fn start(&self) -> SlowpathStep {
        if self.order > MAX_PAGE_ORDER {
            SlowpathStep::Fail(AllocFailReason::OrderTooLarge)
        } else if !self.gfp.has(Gfp::DIRECT_RECLAIM) {
            SlowpathStep::Fail(AllocFailReason::NoDirectReclaim)
        } else {
            SlowpathStep::DirectReclaim
        }
    }

    /// After one direct-reclaim round (and compaction) that did not yield a page: __GFP_NORETRY gives up; costly
    /// orders give up unless __GFP_RETRY_MAYFAIL and compaction is possible; then should_reclaim_retry() decides
    /// between another round and the OOM path.
    pub fn after_direct_reclaim(&mut self, did_some_progress: bool, zones: &[ZoneRetryState]) -> SlowpathStep {
        self.reclaim_rounds += 1;
        if self.gfp.has(Gfp::NORETRY) {
            return SlowpathStep::Fail(AllocFailReason::NoRetry);
        }
        if self.order > PAGE_ALLOC_COSTLY_ORDER && !(self.gfp.compaction_allowed() && self.gfp.has(Gfp::RETRY_MAYFAIL))
        {
            return SlowpathStep::Fail(AllocFailReason::CostlyOrder);
        }
        let retry = should_reclaim_retry(self.gfp, self.order, did_some_progress, &mut self.no_progress_loops, zones);
        self.retry_checks += 1;
        if self.first_should_reclaim_retry.is_none() {
            self.first_should_reclaim_retry = Some(retry);
        }
        if retry {
            return SlowpathStep::DirectReclaim;
        }
        match alloc_may_oom_gate(self.gfp, self.order) {
            OomGate::Call => SlowpathStep::OutOfMemory,
            gate => SlowpathStep::Fail(AllocFailReason::OomNotAllowed(gate)),
        }
    }

    /// After out_of_memory() returned: progress (a kill, or the GFP_NOFS bail-out) restarts reclaim with
    /// no_progress_loops = 0, except that an OOM victim already allocating with ALLOC_OOM (or __GFP_NOMEMALLOC)
    /// gives up; no progress fails.
    pub fn after_out_of_memory(
        &mut self,
        oom_progress: bool,
        current_is_oom_victim_with_reserves: bool,
    ) -> SlowpathStep {
        if current_is_oom_victim_with_reserves {
            return SlowpathStep::Fail(AllocFailReason::OomVictimNoReserves);
        }
        if oom_progress {
            self.no_progress_loops = 0;
            SlowpathStep::DirectReclaim
        } else {
            SlowpathStep::Fail(AllocFailReason::OomNoProgress)
        }
    }

    /// __GFP_NOFAIL with direct reclaim never returns NULL: at `nopage` the kernel loops back to retry.
    pub fn nofail_loops(&self) -> bool {
        self.gfp.has(Gfp::NOFAIL) && self.gfp.has(Gfp::DIRECT_RECLAIM)
    }
}

/// The outcome of [`alloc_pages_slowpath_model`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowpathReport {
    /// out_of_memory() was reached and went on to victim selection.
    pub oom_killer_invoked: bool,
    /// The first should_reclaim_retry() result (None: never called).
    pub should_reclaim_retry: Option<bool>,
    /// no_progress_loops and direct-reclaim rounds when __alloc_pages_may_oom() was entered (None: never).
    pub oom_entry: Option<(u32, u32)>,
    /// The reason the allocation failed, when it failed before out_of_memory() killed.
    pub fail: Option<AllocFailReason>,
}

/// The model of vectors-format §5.2 `alloc_pages_slowpath`: one eligible zone whose free, reclaimable and min stay
/// constant; direct-reclaim round k made progress iff `reclaim_progress[k]` (false past the end). Runs the
/// [`Slowpath`] decisions until the allocation fails or __alloc_pages_may_oom() is entered; then decides whether
/// out_of_memory() proceeds to victim selection (a global GFP_NOFS request returns before).
pub fn alloc_pages_slowpath_model(
    gfp: Gfp,
    order: u32,
    zone: ZoneRetryState,
    reclaim_progress: &[bool],
) -> SlowpathReport {
    let mut sp = Slowpath::new(gfp, order);
    let mut report =
        SlowpathReport { oom_killer_invoked: false, should_reclaim_retry: None, oom_entry: None, fail: None };
    let mut step = sp.start();
    loop {
        match step {
            SlowpathStep::Fail(reason) => {
                report.fail = Some(reason);
                break;
            }
            SlowpathStep::DirectReclaim => {
                let progress = reclaim_progress.get(sp.reclaim_rounds as usize).copied().unwrap_or(false);
                step = sp.after_direct_reclaim(progress, std::slice::from_ref(&zone));
            }
            SlowpathStep::OutOfMemory => {
                report.oom_entry = Some((sp.no_progress_loops, sp.reclaim_rounds));
                report.oom_killer_invoked = !out_of_memory_nofs_bailout(gfp, false);
                break;
            }
        }
    }
    report.should_reclaim_retry = sp.first_should_reclaim_retry;
    // A should_reclaim_retry decision that leads to an OOM-gate refusal is also an OOM-path entry.
    if let Some(AllocFailReason::OomNotAllowed(_)) = report.fail {
        report.oom_entry = Some((sp.no_progress_loops, sp.reclaim_rounds));
    }
    report
}

/// mm/vmscan.c:wakeup_kswapd(): kswapd of a node is **not** woken when it has failed MAX_RECLAIM_RETRIES times in a
/// row (hopeless node) or when the node is already balanced at the high mark.
pub fn wakeup_kswapd_skipped(kswapd_failures: u32, node_balanced: bool) -> bool {
    kswapd_failures >= MAX_RECLAIM_RETRIES || node_balanced
}

/// mm/vmscan.c:pgdat_balanced() for one zone: free pages above high + lowmem_reserve at the given order.
pub fn zone_balanced(free: i64, order: u32, high: u64, lowmem_reserve: i64) -> bool {
    zone_watermark_ok(free, order, high, lowmem_reserve, AllocFlags(AllocFlags::WMARK_HIGH), true)
}

/// Per-allocation trace of [`kswapd_wake_sleep_model`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KswapdTrace {
    pub fast_path_ok: Vec<bool>,
    pub kswapd_woken_at_index: Option<usize>,
    pub kswapd_can_sleep: Vec<bool>,
}

/// vectors-format §5.2 `kswapd_wake_sleep`: a single zone (lowmem_reserve 0) with watermarks `low`/`high` seen at
/// successive order-0 allocations. Each allocation takes the low-mark fast path; when that fails, the slow path
/// wakes kswapd (it starts asleep) unless the node is balanced at high. kswapd may sleep whenever the node is
/// balanced at high (prepare_kswapd_sleep).
pub fn kswapd_wake_sleep_model(low: u64, high: u64, free_sequence: &[i64]) -> KswapdTrace {
    let mut t = KswapdTrace { fast_path_ok: Vec::new(), kswapd_woken_at_index: None, kswapd_can_sleep: Vec::new() };
    for (k, &free) in free_sequence.iter().enumerate() {
        let fast = fast_path_watermark_ok(free, low, 0);
        let balanced = zone_balanced(free, 0, high, 0);
        if !fast && t.kswapd_woken_at_index.is_none() && !wakeup_kswapd_skipped(0, balanced) {
            t.kswapd_woken_at_index = Some(k);
        }
        t.fast_path_ok.push(fast);
        t.kswapd_can_sleep.push(balanced);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gfp(tokens: &[&str]) -> Gfp {
        Gfp(tokens.iter().map(|t| Gfp::token(t).unwrap()).fold(0, |a, b| a | b))
    }
    fn zone(min: u64, free: u64, reclaimable: u64) -> ZoneRetryState {
        ZoneRetryState { min, free, reclaimable, lowmem_reserve: 0, free_block_available: true }
    }

    #[test]
    fn gfp_masks() {
        assert_eq!(Gfp::GFP_KERNEL, 0xcc0);
        assert_eq!(Gfp(Gfp::GFP_HIGHUSER_MOVABLE | Gfp::COMP).0, 0x140cca);
        assert_eq!(gfp(&["GFP_HIGHUSER_MOVABLE"]).highest_zone(), ZoneType::Movable);
        assert_eq!(gfp(&["GFP_KERNEL", "__GFP_DMA32"]).highest_zone(), ZoneType::Dma32);
        assert_eq!(gfp(&["GFP_KERNEL"]).highest_zone(), ZoneType::Normal);
        assert!(gfp(&["GFP_ATOMIC"]).to_alloc_flags().has(AllocFlags::MIN_RESERVE | AllocFlags::NON_BLOCK));
        assert_eq!(Gfp::token("GFP_BOGUS"), None);
    }

    #[test]
    fn no_oom_cases() {
        let z = zone(1000, 500, 0);
        for t in [
            &["GFP_KERNEL", "__GFP_NORETRY"][..],
            &["GFP_KERNEL", "__GFP_RETRY_MAYFAIL"],
            &["GFP_KERNEL", "__GFP_THISNODE"],
            &["GFP_KERNEL", "__GFP_DMA32"],
            &["GFP_NOFS"],
            &["GFP_NOWAIT"],
            &["GFP_ATOMIC"],
        ] {
            assert!(!alloc_pages_slowpath_model(gfp(t), 0, z, &[]).oom_killer_invoked, "{t:?}");
        }
        let r = alloc_pages_slowpath_model(gfp(&["GFP_KERNEL"]), 4, z, &[]);
        assert_eq!(
            (r.oom_killer_invoked, r.should_reclaim_retry, r.fail),
            (false, None, Some(AllocFailReason::CostlyOrder))
        );
        let r = alloc_pages_slowpath_model(gfp(&["GFP_NOWAIT"]), 0, z, &[]);
        assert_eq!((r.should_reclaim_retry, r.oom_entry), (None, None));
        // NOFS reaches __alloc_pages_may_oom but out_of_memory bails out
        let r = alloc_pages_slowpath_model(gfp(&["GFP_NOFS"]), 0, z, &[]);
        assert_eq!((r.oom_killer_invoked, r.oom_entry), (false, Some((1, 1))));
    }

    #[test]
    fn hopeless_zone_ooms_after_first_round() {
        let r = alloc_pages_slowpath_model(gfp(&["GFP_KERNEL"]), 0, zone(1000, 500, 500), &[true]);
        // 500 + 500 == 1000 is not above min: no retry even though progress was made
        assert_eq!(r.should_reclaim_retry, Some(false));
        assert_eq!(r.oom_entry, Some((0, 1)));
        assert!(r.oom_killer_invoked);
    }

    #[test]
    fn retries_until_17_fruitless_rounds() {
        let r = alloc_pages_slowpath_model(gfp(&["GFP_KERNEL"]), 0, zone(1000, 500, 501), &[]);
        assert_eq!(r.should_reclaim_retry, Some(true));
        assert_eq!(r.oom_entry, Some((17, 17)));
        // progress resets the counter
        let r = alloc_pages_slowpath_model(gfp(&["GFP_KERNEL"]), 0, zone(1000, 500, 501), &[false, false, true]);
        assert_eq!(r.oom_entry, Some((17, 20)));
        // costly order with RETRY_MAYFAIL: progress does not reset, never OOMs
        let r = alloc_pages_slowpath_model(
            gfp(&["GFP_KERNEL", "__GFP_RETRY_MAYFAIL"]),
            4,
            zone(1000, 500, 5000),
            &[true; 40],
        );
        assert_eq!((r.oom_killer_invoked, r.oom_entry), (false, Some((17, 17))));
        // order 3: the retry test subtracts 7 pages
        let r = alloc_pages_slowpath_model(gfp(&["GFP_KERNEL"]), 3, zone(1000, 500, 507), &[]);
        assert_eq!(r.should_reclaim_retry, Some(false));
        let r = alloc_pages_slowpath_model(gfp(&["GFP_KERNEL"]), 3, zone(1000, 500, 508), &[]);
        assert_eq!(r.should_reclaim_retry, Some(true));
    }

    #[test]
    fn after_oom_progress_resets() {
        let mut sp = Slowpath::new(gfp(&["GFP_KERNEL"]), 0);
        sp.no_progress_loops = 17;
        assert_eq!(sp.after_out_of_memory(true, false), SlowpathStep::DirectReclaim);
        assert_eq!(sp.no_progress_loops, 0);
        assert_eq!(sp.after_out_of_memory(false, false), SlowpathStep::Fail(AllocFailReason::OomNoProgress));
        assert_eq!(Slowpath::new(Gfp(Gfp::GFP_KERNEL), 11).start(), SlowpathStep::Fail(AllocFailReason::OrderTooLarge));
    }

    #[test]
    fn kswapd() {
        let t = kswapd_wake_sleep_model(21120, 25344, &[30000, 21000, 21500, 25344, 25345]);
        assert_eq!(t.fast_path_ok, vec![true, false, true, true, true]);
        assert_eq!(t.kswapd_woken_at_index, Some(1));
        assert_eq!(t.kswapd_can_sleep, vec![true, false, false, false, true]);
        // fast path failing while balanced at high (low > high is odd but possible) does not wake
        let t = kswapd_wake_sleep_model(100, 50, &[80]);
        assert_eq!(t.kswapd_woken_at_index, None);
        assert!(wakeup_kswapd_skipped(16, false));
    }
}
