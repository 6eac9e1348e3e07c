//! mm/swapfile.c and mm/swap_state.c: swap slots (`swap_map` reference counts) and the swap cache.
//!
//! One swap device of `total` slots. `count[slot]` is the number of swap PTEs referring to the slot
//! (`swap_duplicate` at fork, `swap_free` at unmap); a slot is free when its count is 0 and no swap-cache page holds
//! it. The swap cache maps a slot to the frame that holds its data while both exist.

use std::collections::BTreeMap;

use crate::vmscan::IoDevice;

/// One swap area (`struct swap_info_struct`): slots `base..base+pages` of the global slot space.
#[derive(Clone, Debug)]
pub struct SwapDevice {
    pub base: u32,
    pub pages: u32,
    /// swapon priority (higher first).
    pub prio: i32,
    pub io: IoDevice,
    /// zram: uncompressed/compressed ratio ×100 (300 = 3:1); 0 for a disk or SSD.
    pub ratio_x100: u32,
    next_unused: u32,
    free_stack: Vec<u32>,
    pub nr_free: u32,
    /// zram: RAM frames its zsmalloc pool holds (pages compressed into them: the device's used slots).
    pub pool: Vec<u32>,
}

impl SwapDevice {
    /// zram: frames the pool needs for `stored` pages, rounded up (zsmalloc packs compressed pages densely).
    pub fn zram_pool_frames(&self, stored: u64) -> u64 {
        if self.ratio_x100 == 0 {
            return 0;
        }
        (stored * 100).div_ceil(self.ratio_x100 as u64)
    }

    pub fn used(&self) -> u32 {
        self.pages - self.nr_free
    }
}

#[derive(Clone, Debug, Default)]
pub struct SwapInfo {
    pub total: u32,
    pub nr_free: u32,
    pub count: Vec<u32>,
    /// slot -> frame of the swap-cache page.
    pub cache: BTreeMap<u32, u32>,
    /// frame -> slot for frames in the swap cache.
    pub cache_rev: BTreeMap<u32, u32>,
    /// The swap areas in swapon order.
    pub devices: Vec<SwapDevice>,
    /// `swap_avail_heads`: device indices by priority, highest first; equal priorities rotate as they are used.
    avail: Vec<usize>,
}

impl SwapInfo {
    /// One area of `total` slots (priority -2, the SSD model), or none when `total` is 0.
    pub fn new(total: u32) -> Self {
        let mut s = SwapInfo::default();
        if total > 0 {
            s.swapon(total, -2, IoDevice::Ssd, 0);
        }
        s
    }

    /// mm/swapfile.c:`swapon` of an area of `pages` slots: it joins the allocation order after the areas of
    /// the same priority (`plist_add`). Returns its index.
    pub fn swapon(&mut self, pages: u32, prio: i32, io: IoDevice, ratio_x100: u32) -> usize {
        let i = self.devices.len();
        self.devices.push(SwapDevice { base: self.total, pages, prio, io, ratio_x100, next_unused: 0, free_stack: Vec::new(), nr_free: pages, pool: Vec::new() });
        self.total += pages;
        self.nr_free += pages;
        self.count.resize(self.total as usize, 0);
        let devs = &self.devices;
        let at = self.avail.partition_point(|&d| devs[d].prio >= prio);
        self.avail.insert(at, i);
        i
    }

    /// The area holding `slot`.
    pub fn device_of(&self, slot: u32) -> usize {
        self.devices.partition_point(|d| d.base + d.pages <= slot)
    }

    /// `folio_alloc_swap` (`get_swap_pages`): a free slot of the highest-priority area that has one; areas of
    /// equal priority take turns (each one tried is requeued after its same-priority siblings). None when swap is
    /// full. (The kernel rotates per 512-slot cluster and per CPU; here per page.)
    pub fn alloc(&mut self) -> Option<u32> {
        for i in 0..self.avail.len() {
            let d = self.avail[i];
            if self.devices[d].nr_free == 0 {
                continue;
            }
            // plist_requeue: after the last area of the same priority
            let prio = self.devices[d].prio;
            let mut j = i;
            while j + 1 < self.avail.len() && self.devices[self.avail[j + 1]].prio == prio {
                self.avail.swap(j, j + 1);
                j += 1;
            }
            let dev = &mut self.devices[d];
            let s = if let Some(s) = dev.free_stack.pop() {
                s
            } else {
                dev.next_unused += 1;
                dev.base + dev.next_unused - 1
            };
            dev.nr_free -= 1;
            self.nr_free -= 1;
            return Some(s);
        }
        None
    }

    /// Release a slot no PTE and no swap-cache page refers to.
    pub fn release(&mut self, slot: u32) {
        debug_assert_eq!(self.count[slot as usize], 0);
        debug_assert!(!self.cache.contains_key(&slot));
        let d = self.device_of(slot);
        let dev = &mut self.devices[d];
        dev.free_stack.push(slot);
        dev.nr_free += 1;
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

    /// RAM frames held by zram pools.
    pub fn zram_pool_pages(&self) -> u64 {
        self.devices.iter().map(|d| d.pool.len() as u64).sum()
    }

    /// mm/swapfile.c:`swap_show`: the text of /proc/swaps (areas in swapon order; sizes in kB). Device names
    /// are the simulator's: /dev/zramN for zram, /dev/sdbN for a disk, /dev/nvme0n1pN for an SSD.
    pub fn proc_swaps(&self) -> String {
        let mut out = String::from("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        let (mut zram, mut part) = (0, 0);
        for d in &self.devices {
            let name = match d.io {
                IoDevice::Zram => {
                    zram += 1;
                    format!("/dev/zram{}", zram - 1)
                }
                IoDevice::Disk => {
                    part += 1;
                    format!("/dev/sdb{part}")
                }
                IoDevice::Ssd => {
                    part += 1;
                    format!("/dev/nvme0n1p{part}")
                }
            };
            // swap_show: the name padded to 40 columns, then type, size and used in kB, priority; an extra tab
            // after size and used while they have fewer than 8 digits
            let (size, used) = (d.pages as u64 * 4, d.used() as u64 * 4);
            let pad = if name.len() < 40 { 40 - name.len() } else { 1 };
            let tab = |v: u64| if v < 10_000_000 { "\t" } else { "" };
            out.push_str(&format!("{name}{:pad$}partition\t{size}\t{}{used}\t{}{}\n", "", tab(size), tab(used), d.prio, pad = pad));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Highest priority first; equal priorities take turns; a full area is skipped; slots return to their area.
    #[test]
    fn areas_by_priority_then_round_robin() {
        let mut s = SwapInfo::default();
        let low = s.swapon(4, -2, IoDevice::Ssd, 0);
        let a = s.swapon(2, 5, IoDevice::Ssd, 0);
        let b = s.swapon(2, 5, IoDevice::Disk, 0);
        assert_eq!((s.total, s.nr_free), (8, 8));
        let got: Vec<usize> = (0..4).map(|_| { let slot = s.alloc().unwrap(); s.device_of(slot) }).collect();
        assert_eq!(got, vec![a, b, a, b], "equal priorities alternate, in swapon order");
        let slot = s.alloc().unwrap();
        assert_eq!(s.device_of(slot), low, "then the lower priority");
        assert_eq!([s.device_of(3), s.device_of(4), s.device_of(6)], [low, a, b], "slots 0-3 low, 4-5 a, 6-7 b");
        s.release(4);
        assert_eq!((s.devices[a].nr_free, s.devices[b].nr_free, s.nr_free), (1, 0, 4));
        assert_eq!(s.alloc(), Some(4), "a has room again and comes before low");
        let text = s.proc_swaps();
        assert_eq!(text.lines().next(), Some("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority"));
        assert_eq!(text.lines().nth(1), Some("/dev/nvme0n1p1                          partition\t16\t\t4\t\t-2"));
        assert_eq!(text.lines().nth(3), Some("/dev/sdb3                               partition\t8\t\t8\t\t5"));
        assert_eq!(text.lines().count(), 4);
    }

    /// On the engine: pages swapped to zram cost RAM (nr_zspages), the SSD behind it takes over when zram is full,
    /// swap-ins wait the area's latency, and freed slots shrink the pool.
    #[test]
    fn zram_in_front_of_ssd_on_the_engine() {
        use crate::kernel::{Kernel, MachineConfig};
        use crate::memory::Access;
        use crate::mmap::{MapFlags, PROT_RW};
        use crate::vmstat::Vmstat;
        let mut k = Kernel::new(MachineConfig { totalram_pages: 4096, ..Default::default() }).unwrap();
        k.swapon(10, -2, IoDevice::Ssd, 0).unwrap();
        k.swapon(30, 100, IoDevice::Zram, 300).unwrap();
        assert!(k.swapon(5, 0, IoDevice::Zram, 0).is_err() && k.swapon(5, 0, IoDevice::Ssd, 300).is_err());
        assert!(k.meminfo_text().contains("SwapTotal:           160 kB"), "{}", k.meminfo_text());
        k.spawn(1, "p").unwrap();
        let v = k.mmap(1, 36, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        k.touch(1, v, 36, Access::Write).unwrap();
        let free0 = k.nr_free_pages();
        let r = k.swapout(1, v, 36, false).unwrap();
        assert_eq!(r.swapped, 36);
        assert_eq!((k.swap.devices[1].used(), k.swap.devices[0].used()), (30, 6), "zram first, then the SSD");
        assert_eq!(k.vmstat.get(Vmstat::nr_zspages), 10, "30 pages at 3:1");
        assert_eq!(k.nr_free_pages(), free0 + 36 - 10);
        crate::kernel::prop_tests::check_invariants(&k);
        // a swap-in from zram waits 5 µs, from the SSD 100 µs
        k.touch(1, v, 1, Access::Read).unwrap();
        assert_eq!(k.task_stall_ns(1), 5_000);
        k.touch(1, v + 35, 1, Access::Read).unwrap();
        assert_eq!(k.task_stall_ns(1), 105_000);
        k.exit(1).unwrap();
        assert_eq!((k.swap.used(), k.vmstat.get(Vmstat::nr_zspages)), (0, 0));
        assert_eq!(k.nr_free_pages(), 4096);
        crate::kernel::prop_tests::check_invariants(&k);
    }

    /// LRU reclaim of tmpfs pages (shmem_writeout) and of anon pages takes its slots the same way: the zram pool
    /// holds ceil(used / ratio) frames whichever path swapped.
    #[test]
    fn reclaim_to_zram_fills_the_pool() {
        use crate::filemap::FileKind;
        use crate::kernel::{Kernel, MachineConfig};
        use crate::memory::Access;
        use crate::mmap::{MapFlags, PROT_RW};
        use crate::vmstat::Vmstat;
        let mut k = Kernel::new(MachineConfig { totalram_pages: 2048, model_page_tables: false, ..Default::default() }).unwrap();
        k.swapon(3000, 100, IoDevice::Zram, 300).unwrap();
        k.spawn(1, "p").unwrap();
        let t = k.file_create("t", FileKind::Tmpfs, 0, false).unwrap().unwrap();
        assert_eq!(k.file_write(1, t, 0, 1200).unwrap(), Ok(1200));
        let v = k.mmap(1, 1200, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        k.touch(1, v, 1200, Access::Write).unwrap();
        let used = k.swap.devices[0].used() as u64;
        assert!(used > 300, "reclaim swapped {used} pages");
        assert!(k.files[t as usize].swapped.len() > 0, "tmpfs pages went to swap through reclaim");
        assert_eq!(k.vmstat.get(Vmstat::nr_zspages), used.div_ceil(3));
        assert_eq!(k.swap.zram_pool_pages(), used.div_ceil(3));
        crate::kernel::prop_tests::check_invariants(&k);
    }

    /// zram keeps stored pages in RAM, ceil(stored / ratio) frames.
    #[test]
    fn zram_pool_frames_round_up() {
        let mut s = SwapInfo::default();
        let z = s.swapon(100, 100, IoDevice::Zram, 250);
        let d = &s.devices[z];
        assert_eq!([0, 1, 2, 3, 5, 6].map(|n| d.zram_pool_frames(n)), [0, 1, 1, 2, 2, 3]);
        let ssd = s.swapon(10, 0, IoDevice::Ssd, 0);
        assert_eq!(s.devices[ssd].zram_pool_frames(10), 0);
    }
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
        if total >= 1 << 30 {
            return Err(ApiError::new("E_ARG", "swapon: more than 2^30-1 pages of swap in all"));
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
            self.swap.cache_rev[&f]
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
    }

    /// mm/rmap.c:`try_to_unmap` for an anon frame: every PTE mapping it, found through its anon_vma root and
    /// pgoff, becomes a swap entry for `slot`.
    pub(crate) fn try_to_unmap_anon(&mut self, f: u32, slot: u32) {
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
