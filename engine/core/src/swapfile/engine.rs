//! mm/swapfile.c and mm/swap_state.c on the engine: swap-out of anon and shmem pages (slot, memcg swap charge, swap
//! cache), swapon/swapoff, /proc/swaps; the swap areas themselves are [`crate::swapfile::SwapInfo`].

use super::*;
use crate::errno::ApiError;
use crate::kernel::Kernel;
use crate::mm_types::*;
use crate::page_alloc::frames::{F_SWAPCACHE, KIND_ANON, KIND_SHMEM};
use crate::vmstat::Vmstat;

impl Kernel {
    /// mm/swapfile.c:`swapon` of one more area of `pages` slots at priority `prio` (higher is used first; equal
    /// priorities take turns), read with the latency of `io`. A zram area (`ratio_x100` > 0: uncompressed/compressed
    /// ×100) keeps what is written to it in RAM: its pool holds ceil(used × 100 / ratio_x100) frames. SwapTotal
    /// and CommitLimit grow (total_swap_pages).
    pub fn swapon(&mut self, pages: u32, prio: i32, io: crate::vmscan::IoDevice, ratio_x100: u32) -> Result<usize, ApiError> {
        if pages == 0 {
            return Err(ApiError::new("E_ARG", "swapon: an area needs at least one page"));
        }
        if (io == crate::vmscan::IoDevice::Zram) != (ratio_x100 > 0) {
            return Err(ApiError::new("E_ARG", "swapon: a compression ratio (>= 100, i.e. 1:1) is given for zram and only for zram"));
        }
        if io == crate::vmscan::IoDevice::Zram && ratio_x100 < 100 {
            return Err(ApiError::new("E_ARG", format!("swapon: zram compression ratio x100 {ratio_x100}: expected >= 100")));
        }
        let total = self.swap.total as u64 + pages as u64;
        if total > crate::types::MAX_SWAP_PAGES as u64 {
            return Err(ApiError::new("E_ARG", format!("swapon.pages: {pages} is not allowed: {} pages of swap in all; expected at most {} (256 GiB) over all areas", total, crate::types::MAX_SWAP_PAGES)));
        }
        let i = self.swap.swapon(pages, prio, io, ratio_x100);
        self.config.total_swap_pages = self.swap.total;
        self.swap_memcg.resize(self.swap.total as usize, crate::memcontrol::engine::NO_MEMCG);
        Ok(i)
    }

    /// `folio_alloc_swap` for one page: a slot, and on a zram area the pool frame its compressed copy needs
    /// (taken from the free frames without watermarks: reclaim runs with PF_MEMALLOC). No frame left: the write
    /// would fail, so the slot goes back and the page stays.
    pub(crate) fn get_swap_page(&mut self) -> Option<u32> {
        let slot = self.swap.alloc()?;
        let d = self.swap.device_of(slot);
        let dev = &self.swap.devices[d];
        if dev.zram_pool_frames(dev.used() as u64) > dev.pool.len() as u64 {
            let Some(f) = self.frames.alloc() else {
                self.swap.release(slot);
                return None;
            };
            // a zsmalloc page: allocated, off every LRU, charged to no memcg
            self.frames.meta[f as usize] = (self.frames.meta[f as usize] & crate::page_alloc::frames::LRU_GEN_MASK) | KIND_ANON;
            self.vmstat.sub(Vmstat::nr_free_pages, 1);
            self.vmstat.inc(Vmstat::pgalloc_normal);
            self.vmstat.inc(Vmstat::nr_zspages);
            self.swap.devices[d].pool.push(f);
        }
        Some(slot)
    }

    /// Return a slot to its area; a zram pool that needs a frame less frees one.
    pub(crate) fn swap_release(&mut self, slot: u32) {
        self.swap.release(slot);
        let d = self.swap.device_of(slot);
        let dev = &self.swap.devices[d];
        if (dev.pool.len() as u64) > dev.zram_pool_frames(dev.used() as u64) {
            let f = self.swap.devices[d].pool.pop().expect("pool frame");
            self.frames.free(f);
            self.vmstat.add(Vmstat::nr_free_pages, 1);
            self.vmstat.inc(Vmstat::pgfree);
            self.vmstat.sub(Vmstat::nr_zspages, 1);
        }
    }

    /// Reclaim targets the anon pages `vpn..vpn+pages` of `pid` as mm/vmscan.c:`shrink_folio_list` would (like
    /// MADV_PAGEOUT): each present anon page gets a swap slot (`folio_alloc_swap`, added to the swap cache), is
    /// unmapped from every process mapping it (`try_to_unmap` via the anon reverse map), written (`pswpout`) and
    /// freed — unless `keep_swapcache`, when it stays in the swap cache (SwapCached) after being unmapped. Shmem
    /// pages (MAP_SHARED|MAP_ANONYMOUS, tmpfs) are swap-backed and go to swap too (`shmem_writeout`). Zero-page and
    /// disk-file pages are left alone.
    pub fn swapout(&mut self, pid: u32, vpn: u64, pages: u64, keep_swapcache: bool) -> Result<SwapoutResult, ApiError> {
        let r = self.swapout_inner(pid, vpn, pages, keep_swapcache);
        self.end_entry();
        r
    }

    fn swapout_inner(&mut self, pid: u32, vpn: u64, pages: u64, keep_swapcache: bool) -> Result<SwapoutResult, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        let mm_id = self.tasks[ti].mm;
        let end = vpn.checked_add(pages).ok_or_else(|| ApiError::new("E_ARG", "swapout: range overflows"))?;
        let mut res = SwapoutResult::default();
        let mut v = vpn;
        while v < end {
            let Some((vi, start, piece_end)) = self.mm(mm_id).vma_piece(v, end) else { break };
            v = start;
            for p in v..piece_end {
                let pte = self.mm(mm_id).vmas[vi].pte(p);
                if !pte_present(pte) {
                    continue;
                }
                let f = pte_frame(pte);
                if self.frames.kind(f) == KIND_SHMEM {
                    if self.shmem_writeout(f, keep_swapcache) {
                        res.swapped += 1;
                    } else {
                        res.no_slot += 1;
                    }
                    continue;
                }
                if self.frames.kind(f) != KIND_ANON {
                    continue;
                }
                match self.swap_out_anon_page(f, keep_swapcache) {
                    SwapOut::Done => res.swapped += 1,
                    SwapOut::NoSlot => res.no_slot += 1,
                    SwapOut::ChargeFailed => {}
                }
            }
            v = piece_end;
        }
        Ok(res)
    }

    /// Page out one mapped anon frame (`shrink_folio_list`): a swap slot (`folio_alloc_swap`, with the memcg swap
    /// charge: a v2 swap.max failure leaves the page where it is), the swap cache, every mapping turned into a swap
    /// entry, written (`pswpout`), and freed with its memory charge moved to the entry (`mem_cgroup_swapout`) —
    /// unless `keep_swapcache`, when it stays charged in the swap cache.
    pub(crate) fn swap_out_anon_page(&mut self, f: u32, keep_swapcache: bool) -> SwapOut {
        let slot = if self.frames.has(f, F_SWAPCACHE) {
            self.swap.cache.slot_of(f).expect("swap-cache frame has a slot")
        } else {
            let slot = match self.folio_alloc_swap(f) {
                Ok(slot) => slot,
                Err(e) => return e,
            };
            self.add_to_swap_cache(slot, f);
            slot
        };
        self.try_to_unmap_anon(f, slot);
        self.pageout_written(f, slot, keep_swapcache);
        SwapOut::Done
    }

    /// The end of a pageout once the folio is in the swap cache and unmapped (mm/vmscan.c:`shrink_folio_list`):
    /// it is written (`pswpout`, `pgpgout` in kB), and unless `keep_swapcache` the clean swap-cache folio is freed
    /// (`__remove_mapping`) with its memory charge moved to the swap entry (`mem_cgroup_swapout`).
    pub(crate) fn pageout_written(&mut self, f: u32, slot: u32, keep_swapcache: bool) {
        self.vmstat.inc(Vmstat::pswpout);
        self.vmstat.add(Vmstat::pgpgout, 4);
        if !keep_swapcache {
            self.delete_from_swap_cache(slot, f);
            self.mem_cgroup_swapout(f, slot);
            self.free_user_page_uncharge(f, false);
        }
    }

    /// mm/vmscan.c:`shrink_folio_list` on a shmem folio: `try_to_unmap` clears every PTE mapping it (file pages
    /// leave no swap entry in the page table, so RssShmem drops and swapents does not grow), then
    /// mm/shmem.c:`shmem_writeout` moves it from the page cache to the swap cache: a slot (`folio_alloc_swap`, with
    /// the memcg swap charge), the mapping's reference to it (`swap_shmem_alloc`), the swap entry stored in the
    /// mapping in place of the folio (`shmem_delete_from_page_cache`: NR_SHMEM and the page-cache share of
    /// NR_FILE_PAGES drop; `add_to_swap_cache`: NR_SWAPCACHE and NR_FILE_PAGES rise), written (`pswpout`). Unless
    /// `keep_swapcache`, reclaim then frees the clean swap-cache folio (`__remove_mapping`) with its memory charge
    /// moved to the swap entry (`mem_cgroup_swapout`). False when no slot was free or the swap charge failed.
    fn shmem_writeout(&mut self, f: u32, keep_swapcache: bool) -> bool {
        let Ok(slot) = self.folio_alloc_swap(f) else { return false };
        self.try_to_unmap_file(f);
        self.shmem_move_to_swap(f, slot, keep_swapcache);
        true
    }

    /// `folio_alloc_swap` for page `f`: a slot ([`Kernel::get_swap_page`]: by area priority, with zram's pool
    /// frame) and the memcg swap charge (`mem_cgroup_try_charge_swap`); a refused charge gives the slot back.
    pub(crate) fn folio_alloc_swap(&mut self, f: u32) -> Result<u32, SwapOut> {
        let Some(slot) = self.get_swap_page() else { return Err(SwapOut::NoSlot) };
        if !self.memcg_try_charge_swap(f, slot) {
            self.swap_release(slot);
            return Err(SwapOut::ChargeFailed);
        }
        Ok(slot)
    }

    /// mm/shmem.c:`shmem_writeout` once the unmapped shmem page `f` has slot `slot`: the mapping's reference to the
    /// slot (`swap_shmem_alloc`), the swap entry stored in the mapping in place of the folio
    /// (`shmem_delete_from_page_cache`: NR_SHMEM and the page-cache share of NR_FILE_PAGES drop;
    /// `add_to_swap_cache`: NR_SWAPCACHE and NR_FILE_PAGES rise), then written ([`Kernel::pageout_written`]).
    pub(crate) fn shmem_move_to_swap(&mut self, f: u32, slot: u32, keep_swapcache: bool) {
        let (fid, idx) = (self.frames.owner[f as usize], self.frames.index[f as usize] as u64);
        let file = &mut self.files[fid as usize];
        file.cache.set(idx, 0);
        file.nr_cached -= 1;
        file.swapped.insert(idx, slot);
        self.swap.count[slot as usize] += 1;
        self.vmstat.sub(Vmstat::nr_shmem, 1);
        self.vmstat.sub(Vmstat::nr_file_pages, 1);
        let m = self.frames.memcg[f as usize];
        self.memcg.mod_stat(m, crate::memcontrol::Stat::Shmem, -1);
        self.memcg.mod_stat(m, crate::memcontrol::Stat::File, -1);
        self.add_to_swap_cache(slot, f);
        self.pageout_written(f, slot, keep_swapcache);
    }

    /// mm/rmap.c:`try_to_unmap` for an anon frame: every PTE mapping it, found through its anon_vma root and
    /// pgoff, becomes a swap entry for `slot`.
    pub(crate) fn try_to_unmap_anon(&mut self, f: u32, slot: u32) {
        let (root, index) = (self.frames.owner[f as usize], self.frames.index[f as usize] as u64);
        // the walk stops once it has unmapped the frame's mapcount of PTEs: no other PTE maps it
        let mapcount = self.frames.mapcount(f);
        let mut seen = 0;
        for mm_id in 0..self.mms.len() as u32 {
            let nvmas = self.mms[mm_id as usize].as_ref().map_or(0, |mm| mm.vmas.len());
            for vi in 0..nvmas {
                if seen == mapcount {
                    return;
                }
                let v = &self.mm(mm_id).vmas[vi];
                if !(v.anon_vma == root && v.pgoff <= index && index < v.pgoff + v.pages()) {
                    continue;
                }
                let vpn = v.start + (index - v.pgoff);
                let pte = v.pte(vpn);
                if pte_present(pte) && pte_frame(pte) == f {
                    // unmapping one PTE changes no other, so doing it as the walk finds it is the same as after it
                    seen += 1;
                    self.set_pte(mm_id, vi, vpn, PTE_SWAP | slot);
                    self.swap.count[slot as usize] += 1;
                    self.rss_add(mm_id, MmCounter::MM_ANONPAGES, -1);
                    self.rss_add(mm_id, MmCounter::MM_SWAPENTS, 1);
                    self.rmap_remove(f);
                }
            }
        }
    }
}
