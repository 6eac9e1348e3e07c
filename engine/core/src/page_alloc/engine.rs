//! The page allocator on the stateful engine (mm/page_alloc.c, mm/rmap.c): the one place where user pages are
//! allocated and charged (`alloc_user_page`), freed and uncharged (`free_user_page`) and mapped/unmapped in the
//! reverse-map counters (`rmap_add`/`rmap_remove`), and the allocation slow path (`__alloc_pages_slowpath`) that
//! drives the pure [`Slowpath`] decisions of [`super::slowpath`]: direct reclaim rounds, then the OOM killer
//! (oom_kill/ decides and applies the kill; this file only calls it).

use super::frames::{F_DIRTY, F_SWAPCACHE, KIND_ANON, KIND_FILE, KIND_MASK, MAPCOUNT_MASK};
use super::slowpath::{Gfp, Slowpath, SlowpathStep, ZoneRetryState};
use crate::gfp_types::{GfpMask, GFP_HIGHUSER_MOVABLE, __GFP_COMP};
use crate::kernel::Kernel;
use crate::types::AllocFail;
use crate::vmstat::Vmstat;

/// The gfp mask of a user page fault as the OOM report shows it (`GFP_HIGHUSER_MOVABLE | __GFP_COMP`, the folio
/// allocation of do_anonymous_page / filemap_fault): `0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)`.
pub const USER_FAULT_GFP: GfpMask = GFP_HIGHUSER_MOVABLE | __GFP_COMP;

/// An upper bound on out_of_memory() calls within one allocation. In the kernel an allocation whose OOM call made
/// "progress" without freeing anything (an earlier victim still exiting) loops until the victim is gone; in the
/// engine victims exit at once, so this only stops a loop the model cannot resolve.
pub(crate) const MAX_OOM_CALLS_PER_ALLOC: u32 = 4;

impl Kernel {
    /// Allocate one user data page (anon, page cache or shmem) for `pid` (None: kernel context without a task).
    ///
    /// This is the single entry for every user page, and where it is charged to a memcg (the task's; the root
    /// for kernel context). The fast test is the
    /// order-0 watermark test of the slow path (`__zone_watermark_ok`: fail when free <= min). On failure the
    /// allocation runs mm/page_alloc.c:`__alloc_pages_slowpath` through the [`Slowpath`] state machine with the
    /// user-fault mask `GFP_HIGHUSER_MOVABLE | __GFP_COMP`: direct reclaim rounds (`Kernel::try_to_free_pages`), then
    /// `__alloc_pages_may_oom` → the global OOM killer (`Kernel::out_of_memory_global`). A kernel-context
    /// allocation (no task) never runs the OOM killer here: it fails.
    ///
    /// [`Slowpath`]: crate::page_alloc::Slowpath
    pub(crate) fn alloc_user_page(&mut self, pid: Option<u32>, kind: u32) -> Result<u32, AllocFail> {
        let memcg = self.memcg_of_pid(pid);
        self.alloc_user_page_memcg(pid, kind, memcg)
    }

    /// [`Kernel::alloc_user_page`] charged to an explicit memcg (a swap-in charges the memcg recorded for the
    /// swap entry). The memcg charge (`mem_cgroup_charge` → `try_charge_memcg`, memcontrol/engine.rs) comes first,
    /// then the frame; a frame that cannot be had returns the charge.
    pub(crate) fn alloc_user_page_memcg(&mut self, pid: Option<u32>, kind: u32, memcg: crate::types::MemcgId) -> Result<u32, AllocFail> {
        self.mem_cgroup_charge(pid, memcg)?;
        let f = match self.alloc_frame(pid) {
            Ok(f) => f,
            Err(e) => {
                self.memcg_cancel_charge(memcg);
                return Err(e);
            }
        };
        let gen = self.frames.meta[f as usize] & crate::page_alloc::frames::LRU_GEN_MASK;
        self.frames.meta[f as usize] = gen | kind;
        self.frames.memcg[f as usize] = memcg;
        self.memcg.mod_stat(memcg, crate::memcontrol::Stat::Pgpgin, 1);
        self.memcg.memcg1_page_events(memcg, 1);
        Ok(f)
    }

    fn alloc_frame(&mut self, pid: Option<u32>) -> Result<u32, AllocFail> {
        if self.nr_free_pages() <= self.wmark.min {
            // mm/page_alloc.c:__alloc_pages_slowpath() retries an OOM victim's allocation with the reserve flags of
            // __gfp_pfmemalloc_flags() (ALLOC_OOM: half the min mark): a task the OOM killer just chose (maybe in
            // this very allocation) completes it from the reserve, and dies when its kernel entry returns. (When
            // even the reserve is short the kernel reclaims once more before giving up; not modelled.)
            let victim = |k: &Kernel| pid.is_some_and(|p| k.oom.current_killed.contains(&p));
            let reserve_ok = |k: &Kernel| {
                use crate::page_alloc::zone::{zone_watermark_ok, AllocFlags};
                zone_watermark_ok(k.nr_free_pages() as i64, 0, k.wmark.min, 0, AllocFlags(AllocFlags::OOM), true)
            };
            if victim(self) {
                if !reserve_ok(self) {
                    return Err(AllocFail::Killed);
                }
            } else {
                match self.alloc_slowpath(pid, USER_FAULT_GFP, 0) {
                    Ok(()) => {}
                    Err(AllocFail::Killed) if victim(self) && reserve_ok(self) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let f = self.frames.alloc().ok_or(AllocFail::OutOfMemory)?;
        if self.frames.nr_free() as u64 <= self.wmark.low {
            // the fast path's low-mark test failed: the slow path wakes kswapd (wake_all_kswapds)
            self.wakeup_kswapd();
        }
        self.vmstat.sub(Vmstat::nr_free_pages, 1);
        self.vmstat.inc(Vmstat::pgalloc_normal);
        self.stats.pages_allocated += 1;
        Ok(f)
    }

    /// Free a user page that nothing maps or caches any more (the memcg uncharge belongs here). Removes it from
    /// the LRU list its kind lives on.
    pub(crate) fn free_user_page(&mut self, f: u32) {
        self.free_user_page_uncharge(f, true);
    }

    /// Free a user page; `uncharge` false when its memory charge already went away (a v1/v2 swap-out moved it).
    /// The uncharge (`mem_cgroup_uncharge` → `uncharge_batch`) wakes v1 memcg OOM waiters (`memcg1_oom_recover`).
    pub(crate) fn free_user_page_uncharge(&mut self, f: u32, uncharge: bool) {
        use crate::memcontrol::Stat;
        let meta = self.frames.meta[f as usize];
        let memcg = self.frames.memcg[f as usize];
        debug_assert_eq!(meta & MAPCOUNT_MASK, 0, "freeing a mapped frame");
        self.lru_del(f);
        if meta & F_DIRTY != 0 && meta & KIND_MASK == KIND_FILE {
            self.vmstat.sub(Vmstat::nr_dirty, 1);
            self.memcg.mod_stat(memcg, Stat::FileDirty, -1);
        }
        if meta & F_SWAPCACHE != 0 {
            self.vmstat.sub(Vmstat::nr_swapcached, 1);
            self.vmstat.sub(Vmstat::nr_file_pages, 1);
            self.memcg.mod_stat(memcg, Stat::Swapcached, -1);
            self.memcg.mod_stat(memcg, Stat::File, -1);
        }
        self.frames.free(f);
        self.frames.memcg[f as usize] = crate::memcontrol::ROOT_MEMCG;
        self.vmstat.add(Vmstat::nr_free_pages, 1);
        self.vmstat.inc(Vmstat::pgfree);
        self.memcg.mod_stat(memcg, Stat::Pgpgout, 1);
        self.memcg.memcg1_page_events(memcg, 1);
        if uncharge {
            self.memcg_uncharge_folio(memcg);
        }
    }

    /// Map a frame once more (`folio_add_*_rmap_pte`): the first mapping of an anon page counts in NR_ANON_MAPPED,
    /// of a file/shmem page in NR_FILE_MAPPED.
    #[inline]
    pub(crate) fn rmap_add(&mut self, f: u32) {
        let m = &mut self.frames.meta[f as usize];
        let first = *m & MAPCOUNT_MASK == 0;
        *m += 1;
        if first {
            let memcg = self.frames.memcg[f as usize];
            if *m & KIND_MASK == KIND_ANON {
                self.vmstat.inc(Vmstat::nr_anon_pages);
                self.memcg.mod_stat(memcg, crate::memcontrol::Stat::Anon, 1);
            } else {
                self.vmstat.inc(Vmstat::nr_mapped);
                self.memcg.mod_stat(memcg, crate::memcontrol::Stat::FileMapped, 1);
            }
        }
    }

    /// Drop one mapping (`folio_remove_rmap_pte`). Returns the new mapcount.
    #[inline]
    pub(crate) fn rmap_remove(&mut self, f: u32) -> u32 {
        let m = &mut self.frames.meta[f as usize];
        debug_assert!(*m & MAPCOUNT_MASK > 0);
        *m -= 1;
        let left = *m & MAPCOUNT_MASK;
        if left == 0 {
            let memcg = self.frames.memcg[f as usize];
            if *m & KIND_MASK == KIND_ANON {
                self.vmstat.sub(Vmstat::nr_anon_pages, 1);
                self.memcg.mod_stat(memcg, crate::memcontrol::Stat::Anon, -1);
            } else {
                self.vmstat.sub(Vmstat::nr_mapped, 1);
                self.memcg.mod_stat(memcg, crate::memcontrol::Stat::FileMapped, -1);
            }
        }
        left
    }

    // ---- the allocation slow path ----------------------------------------------------------------------------------

    /// mm/page_alloc.c:`__alloc_pages_slowpath` for one page after the min-watermark test failed, driving the
    /// [`Slowpath`] decisions: direct reclaim rounds, then the global OOM killer. Ok(()) when a page can now be
    /// taken (free > min).
    pub(crate) fn alloc_slowpath(&mut self, pid: Option<u32>, gfp: GfpMask, order: u32) -> Result<(), AllocFail> {
        let mut sp = Slowpath::new(Gfp(gfp), order);
        let mut step = sp.start();
        let mut oom_calls = 0;
        loop {
            if self.nr_free_pages() > self.wmark.min {
                return Ok(());
            }
            step = match step {
                SlowpathStep::Fail(_) => return Err(AllocFail::OutOfMemory),
                SlowpathStep::DirectReclaim => {
                    let progress = self.try_to_free_pages_for(pid, crate::vmscan::SWAP_CLUSTER_MAX) > 0;
                    if self.nr_free_pages() > self.wmark.min {
                        return Ok(());
                    }
                    let zone = ZoneRetryState {
                        min: self.wmark.min,
                        free: self.nr_free_pages(),
                        reclaimable: self.reclaimable_pages(),
                        lowmem_reserve: 0,
                        free_block_available: true,
                    };
                    sp.after_direct_reclaim(progress, std::slice::from_ref(&zone))
                }
                SlowpathStep::OutOfMemory => {
                    // __alloc_pages_may_oom: a kernel-context allocation (no task) is not modelled as invoking it.
                    let Some(cur) = pid else { return Err(AllocFail::OutOfMemory) };
                    if oom_calls == MAX_OOM_CALLS_PER_ALLOC {
                        return Err(AllocFail::OutOfMemory);
                    }
                    oom_calls += 1;
                    let r = self.out_of_memory_global(cur, gfp, order as i32);
                    if r.panic.is_some() {
                        return Err(AllocFail::Panic);
                    }
                    if self.oom.current_killed.contains(&cur) {
                        return Err(AllocFail::Killed);
                    }
                    sp.after_out_of_memory(r.returns, false)
                }
            };
        }
    }
}
