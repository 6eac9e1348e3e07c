//! Physical frames (mm/page_alloc.c) and their per-frame metadata (the `struct page`/folio fields the simulator
//! needs), as struct-of-arrays so the cost per frame is fixed and visible.
//!
//! Layout, 16 bytes per frame today (budget 16):
//! * `meta: u32`  — bits 0..=27 mapcount (PTEs mapping the frame), bits 28..=29 kind (`KIND_*`), bit 30
//!   `F_SWAPCACHE`, bit 31 `F_DIRTY`.
//! * `owner: u32` — reverse-map owner: the anon_vma root id of an anon frame, the file id of a page-cache frame.
//! * `index: u32` — reverse-map index: the anon pgoff (page offset within its anon_vma lineage) or the file page
//!   index. A free frame uses `index` as its free-list link (intrusive list: no extra memory).
//! * `memcg: u32` — the memcg the page is charged to (`folio->memcg_data`; 0 = the root memcg).
//!
//! Plan for reclaim (vmscan): add one `u32 lru_next` array (16 bytes/frame) and keep the LRU lists as singly linked
//! FIFO queues with lazy deletion (a frame freed or moved is skipped when the scan reaches it, recognised by its
//! kind/flags), which is enough for the classic inactive/active scan order.
//!
//! The allocator is a bump pointer over never-used frames plus a LIFO free list threaded through `index`, so a
//! machine of 16 M frames initialises in O(1) (the arrays are zero-allocated, which the OS and wasm provide lazily)
//! and allocation/free are O(1) and deterministic.

pub const MAPCOUNT_MASK: u32 = (1 << 28) - 1;
pub const KIND_SHIFT: u32 = 28;
pub const KIND_MASK: u32 = 3 << KIND_SHIFT;
/// Kinds of in-use frames.
pub const KIND_FREE: u32 = 0;
pub const KIND_ANON: u32 = 1 << KIND_SHIFT;
pub const KIND_FILE: u32 = 2 << KIND_SHIFT;
pub const KIND_SHMEM: u32 = 3 << KIND_SHIFT;
pub const F_SWAPCACHE: u32 = 1 << 30;
pub const F_DIRTY: u32 = 1 << 31;

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct FrameAllocator {
    total: u32,
    /// Frames `next_unused..total` have never been handed out.
    next_unused: u32,
    /// Head of the LIFO list of freed frames (linked through `index`).
    free_head: u32,
    nr_free: u32,
    pub meta: Vec<u32>,
    pub owner: Vec<u32>,
    pub index: Vec<u32>,
    /// The memcg id each in-use user page is charged to (`folio_memcg`).
    pub memcg: Vec<u32>,
}

impl FrameAllocator {
    pub fn new(total: u32) -> Self {
        FrameAllocator {
            total,
            next_unused: 0,
            free_head: NIL,
            nr_free: total,
            meta: vec![0; total as usize],
            owner: vec![0; total as usize],
            index: vec![0; total as usize],
            memcg: vec![0; total as usize],
        }
    }

    #[inline]
    pub fn total(&self) -> u32 {
        self.total
    }

    #[inline]
    pub fn nr_free(&self) -> u32 {
        self.nr_free
    }

    /// Take `n` frames out of the allocator for good (e.g. the hugetlb pool reserved at boot).
    pub fn reserve_at_boot(&mut self, n: u32) {
        let n = n.min(self.total - self.next_unused);
        self.next_unused += n;
        self.nr_free -= n;
    }

    #[inline]
    pub fn alloc(&mut self) -> Option<u32> {
        let f = if self.free_head != NIL {
            let f = self.free_head;
            self.free_head = self.index[f as usize];
            f
        } else if self.next_unused < self.total {
            let f = self.next_unused;
            self.next_unused += 1;
            f
        } else {
            return None;
        };
        self.nr_free -= 1;
        Some(f)
    }

    #[inline]
    pub fn free(&mut self, frame: u32) {
        debug_assert!(frame < self.next_unused);
        let i = frame as usize;
        debug_assert!(self.meta[i] & KIND_MASK != KIND_FREE, "double free of frame {frame}");
        self.meta[i] = 0;
        self.owner[i] = 0;
        self.index[i] = self.free_head;
        self.free_head = frame;
        self.nr_free += 1;
    }

    #[inline]
    pub fn mapcount(&self, frame: u32) -> u32 {
        self.meta[frame as usize] & MAPCOUNT_MASK
    }

    #[inline]
    pub fn kind(&self, frame: u32) -> u32 {
        self.meta[frame as usize] & KIND_MASK
    }

    #[inline]
    pub fn has(&self, frame: u32, flag: u32) -> bool {
        self.meta[frame as usize] & flag != 0
    }

    /// Bytes of metadata per frame.
    pub const BYTES_PER_FRAME: usize = 12;

    /// Is this frame in use (for invariant checks)?
    pub fn in_use(&self, frame: u32) -> bool {
        frame < self.next_unused && self.meta[frame as usize] & KIND_MASK != KIND_FREE
    }

    /// Frames handed out at least once (the frames that can be in use).
    pub fn high_water(&self) -> u32 {
        self.next_unused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_free_counts() {
        let mut a = FrameAllocator::new(3);
        let f0 = a.alloc().unwrap();
        let f1 = a.alloc().unwrap();
        let f2 = a.alloc().unwrap();
        assert_eq!((f0, f1, f2), (0, 1, 2));
        assert_eq!(a.alloc(), None);
        assert_eq!(a.nr_free(), 0);
        a.meta[f1 as usize] = KIND_ANON | 1;
        a.free(f1);
        assert_eq!(a.nr_free(), 1);
        assert_eq!(a.meta[1], 0);
        assert_eq!(a.alloc(), Some(1));
    }

    #[test]
    fn free_list_is_lifo() {
        let mut a = FrameAllocator::new(8);
        let fs: Vec<u32> = (0..4).map(|_| a.alloc().unwrap()).collect();
        for &f in &fs {
            a.meta[f as usize] = KIND_ANON;
        }
        a.free(fs[0]);
        a.free(fs[2]);
        assert_eq!(a.alloc(), Some(fs[2]));
        assert_eq!(a.alloc(), Some(fs[0]));
        assert_eq!(a.alloc(), Some(4), "then the never-used frames");
    }

    #[test]
    fn boot_reservation_is_not_free() {
        let mut a = FrameAllocator::new(10);
        a.reserve_at_boot(4);
        assert_eq!(a.nr_free(), 6);
        assert_eq!(a.alloc(), Some(4));
    }
}
