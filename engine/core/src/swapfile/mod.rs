//! mm/swapfile.c and mm/swap_state.c: swap slots (`swap_map` reference counts) and the swap cache.
//!
//! One swap device of `total` slots. `count[slot]` is the number of swap PTEs referring to the slot
//! (`swap_duplicate` at fork, `swap_free` at unmap); a slot is free when its count is 0 and no swap-cache page holds
//! it. The swap cache maps a slot to the frame that holds its data while both exist.

use crate::vmscan::IoDevice;

mod engine;
mod swap_state;

pub use swap_state::SwapCache;

/// One swap area (`struct swap_info_struct`): slots `base..base+pages` of the global slot space.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct SwapInfo {
    pub total: u32,
    pub nr_free: u32,
    pub count: Vec<u32>,
    /// The swap cache: slot <-> frame of the swap-cache pages (swap_state.rs).
    pub cache: SwapCache,
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
        self.cache.resize_slots(self.total);
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
        debug_assert!(!self.cache.contains_slot(slot));
        let d = self.device_of(slot);
        let dev = &mut self.devices[d];
        dev.free_stack.push(slot);
        dev.nr_free += 1;
        self.nr_free += 1;
    }

    /// A restored swap space is well formed: areas back to back, per-area counts and free stacks in range, the
    /// allocation order a permutation of the areas, and the swap cache's frame table rebuilt from its slots
    /// (snapshot/check.rs).
    pub(crate) fn check_and_reindex(&mut self, nr_frames: u32) -> Result<(), String> {
        if self.count.len() != self.total as usize {
            return Err(format!("swap: {} slot counts for {} slots", self.count.len(), self.total));
        }
        let (mut base, mut free) = (0u32, 0u64);
        for (i, d) in self.devices.iter().enumerate() {
            let end = d.base.checked_add(d.pages).ok_or("swap: area out of range")?;
            if d.base != base || d.next_unused > d.pages || d.nr_free as u64 != (d.pages - d.next_unused) as u64 + d.free_stack.len() as u64 {
                return Err(format!("swap: area {i} counts are inconsistent"));
            }
            let mut seen = std::collections::BTreeSet::new();
            if d.free_stack.iter().any(|&s| s < d.base || s >= d.base + d.next_unused || !seen.insert(s)) {
                return Err(format!("swap: area {i} free stack is inconsistent"));
            }
            base = end;
            free += d.nr_free as u64;
        }
        if base != self.total || free != self.nr_free as u64 {
            return Err("swap: areas do not add up to the totals".into());
        }
        let mut order = self.avail.clone();
        order.sort_unstable();
        if order != (0..self.devices.len()).collect::<Vec<_>>() {
            return Err("swap: the allocation order is not one entry per area".into());
        }
        self.cache.check_and_reindex(self.total, nr_frames)
    }

    pub fn add_to_cache(&mut self, slot: u32, frame: u32) {
        self.cache.insert(slot, frame);
    }

    pub fn delete_from_cache(&mut self, slot: u32) -> Option<u32> {
        self.cache.remove(slot)
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
