//! mm/swapfile.c and mm/swap_state.c: swap slots (`swap_map` reference counts) and the swap cache.
//!
//! One swap device of `total` slots. `count[slot]` is the number of swap PTEs referring to the slot
//! (`swap_duplicate` at fork, `swap_free` at unmap); a slot is free when its count is 0 and no swap-cache page holds
//! it. The swap cache maps a slot to the frame that holds its data while both exist.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct SwapInfo {
    pub total: u32,
    next_unused: u32,
    free_stack: Vec<u32>,
    pub nr_free: u32,
    pub count: Vec<u32>,
    /// slot -> frame of the swap-cache page.
    pub cache: BTreeMap<u32, u32>,
    /// frame -> slot for frames in the swap cache.
    pub cache_rev: BTreeMap<u32, u32>,
}

impl SwapInfo {
    pub fn new(total: u32) -> Self {
        SwapInfo { total, nr_free: total, count: vec![0; total as usize], ..Default::default() }
    }

    /// `folio_alloc_swap`: a free slot, or None when swap is full.
    pub fn alloc(&mut self) -> Option<u32> {
        let s = if let Some(s) = self.free_stack.pop() {
            s
        } else if self.next_unused < self.total {
            self.next_unused += 1;
            self.next_unused - 1
        } else {
            return None;
        };
        self.nr_free -= 1;
        Some(s)
    }

    /// Release a slot no PTE and no swap-cache page refers to.
    pub fn release(&mut self, slot: u32) {
        debug_assert_eq!(self.count[slot as usize], 0);
        debug_assert!(!self.cache.contains_key(&slot));
        self.free_stack.push(slot);
        self.nr_free += 1;
    }

    pub fn add_to_cache(&mut self, slot: u32, frame: u32) {
        self.cache.insert(slot, frame);
        self.cache_rev.insert(frame, slot);
    }

    pub fn delete_from_cache(&mut self, slot: u32) -> Option<u32> {
        let f = self.cache.remove(&slot)?;
        self.cache_rev.remove(&f);
        Some(f)
    }

    /// `vm_swap_full`: less than half of swap is free.
    pub fn vm_swap_full(&self) -> bool {
        (self.nr_free as u64) * 2 < self.total as u64
    }

    pub fn used(&self) -> u32 {
        self.total - self.nr_free
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn slots_and_fullness() {
        let mut s = SwapInfo::new(4);
        let a = s.alloc().unwrap();
        let _b = s.alloc().unwrap();
        assert!(!s.vm_swap_full(), "2 of 4 free is not less than half");
        let _c = s.alloc().unwrap();
        assert!(s.vm_swap_full());
        s.release(a);
        assert_eq!(s.nr_free, 2);
        assert_eq!(s.alloc(), Some(a));
        s.alloc().unwrap();
        assert_eq!(s.alloc(), None);
    }
}

// ---- swap-out on the engine ---------------------------------------------------------------------------------------

use crate::errno::ApiError;
use crate::kernel::Kernel;
use crate::mm_types::*;
use crate::page_alloc::frames::{F_SWAPCACHE, KIND_ANON, KIND_SHMEM};
use crate::vmstat::Vmstat;

/// What paging out one anon page did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SwapOut {
    Done,
    /// No free swap slot.
    NoSlot,
    /// The memcg swap charge failed (v2 memory.swap.max).
    ChargeFailed,
}

/// What a `swapout` call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwapoutResult {
    /// Pages written to swap and unmapped.
    pub swapped: u64,
    /// Pages that stayed because no swap slot was free.
    pub no_slot: u64,
}

impl Kernel {
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
            self.swap.cache_rev[&f]
        } else {
            let Some(slot) = self.swap.alloc() else {
                return SwapOut::NoSlot;
            };
            if !self.memcg_try_charge_swap(f, slot) {
                self.swap.release(slot);
                return SwapOut::ChargeFailed;
            }
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
    fn pageout_written(&mut self, f: u32, slot: u32, keep_swapcache: bool) {
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
        let Some(slot) = self.swap.alloc() else { return false };
        if !self.memcg_try_charge_swap(f, slot) {
            self.swap.release(slot);
            return false;
        }
        let (fid, idx) = (self.frames.owner[f as usize], self.frames.index[f as usize] as u64);
        self.try_to_unmap_file(f);
        let file = &mut self.files[fid as usize];
        file.cache[idx as usize] = 0;
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
        true
    }

    /// mm/rmap.c:`try_to_unmap` for an anon frame: every PTE mapping it, found through its anon_vma root and
    /// pgoff, becomes a swap entry for `slot`.
    fn try_to_unmap_anon(&mut self, f: u32, slot: u32) {
        let (root, index) = (self.frames.owner[f as usize], self.frames.index[f as usize] as u64);
        let mut hits = Vec::new();
        for (mm_id, mm) in self.mms.iter().enumerate() {
            let Some(mm) = mm else { continue };
            for (vi, v) in mm.vmas.iter().enumerate() {
                if v.anon_vma == root && v.pgoff <= index && index < v.pgoff + v.pages() {
                    let vpn = v.start + (index - v.pgoff);
                    let pte = v.pte(vpn);
                    if pte_present(pte) && pte_frame(pte) == f {
                        hits.push((mm_id as u32, vi, vpn));
                    }
                }
            }
        }
        for (mm_id, vi, vpn) in hits {
            self.set_pte(mm_id, vi, vpn, PTE_SWAP | slot);
            self.swap.count[slot as usize] += 1;
            self.rss_add(mm_id, MmCounter::MM_ANONPAGES, -1);
            self.rss_add(mm_id, MmCounter::MM_SWAPENTS, 1);
            self.rmap_remove(f);
        }
    }
}
