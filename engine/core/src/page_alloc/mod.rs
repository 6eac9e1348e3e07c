//! mm/page_alloc.c: physical frames, zones, watermarks and the allocation slow path: the pure decisions in
//! frames.rs, zone.rs and slowpath.rs, and engine.rs, which drives them on the engine (alloc/free/rmap and
//! `alloc_slowpath`).

pub mod engine;
pub mod frames;
pub mod slowpath;
pub mod zone;

pub use frames::FrameAllocator;
pub use slowpath::{
    alloc_may_oom_gate, alloc_pages_slowpath_model, kswapd_wake_sleep_model, out_of_memory_nofs_bailout,
    should_reclaim_retry, wakeup_kswapd_skipped, zone_balanced, AllocFailReason, Gfp, KswapdTrace, OomGate, Slowpath,
    SlowpathReport, SlowpathStep, ZoneRetryState,
};
pub use zone::{
    calculate_min_free_kbytes, calculate_totalreserve_pages, fast_path_watermark_ok, mult_frac, nr_free_buffer_pages,
    setup_per_zone_lowmem_reserve, setup_per_zone_wmarks, watermark_effective_min, zone_watermark_ok, AllocFlags,
    ZoneSpec, ZoneType, ZoneWatermarks,
};
