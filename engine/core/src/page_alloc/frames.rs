//! Physical frames (mm/page_alloc.c) and their per-frame metadata (the `struct page`/folio fields the simulator
//! needs), as struct-of-arrays so the cost per frame is fixed and visible.
//!
//! Layout, 16 bytes per frame today (budget 16):
//! * `meta: u32`  — bits 0..=19 mapcount (PTEs mapping the frame), bits 20..=23 the LRU generation tag
//!   (`LRU_GEN_*`, bumped each time the frame is queued on an LRU ring; kept across free so a stale ring entry
//!   never matches a later queueing), bit 24 `F_ACTIVE` (PG_active), bit 25 `F_REFERENCED` (PG_referenced),
//!   bit 26 unused (the accessed bit lives in each PTE: `PTE_YOUNG`), bit 27 `F_WORKINGSET`,
//!   bits 28..=29 kind (`KIND_*`), bit 30 `F_SWAPCACHE`, bit 31 `F_DIRTY`.
//! * `owner: u32` — reverse-map owner: the anon_vma root id of an anon frame, the file id of a page-cache frame.
//! * `index: u32` — reverse-map index: the anon pgoff (page offset within its anon_vma lineage) or the file page
//!   index. A free frame uses `index` as its free-list link (intrusive list: no extra memory).
//! * `memcg: u32` — the memcg the page is charged to (`folio->memcg_data`; 0 = the root memcg).
//!
//! The LRU lists (mm/swap.c, swap.rs) add no per-frame array: each memcg's lruvec keeps one FIFO ring of
//! `(frame, generation)` entries per list with lazy deletion; see docs/decisions/0005-lru-layout.md.
//!
//! The allocator is a bump pointer over never-used frames plus a LIFO free list threaded through `index`, so a
//! machine of 16 M frames initialises in O(1) (the arrays are zero-allocated, which the OS and wasm provide lazily)
//! and allocation/free are O(1) and deterministic.

pub const MAPCOUNT_MASK: u32 = (1 << 20) - 1;
pub const LRU_GEN_SHIFT: u32 = 20;
pub const LRU_GEN_MASK: u32 = 0xf << LRU_GEN_SHIFT;
/// PG_active: the frame is on an active LRU list.
pub const F_ACTIVE: u32 = 1 << 24;
/// PG_referenced: the first of the two references that activate a page (`folio_mark_accessed`).
pub const F_REFERENCED: u32 = 1 << 25;
/// PG_workingset.
pub const F_WORKINGSET: u32 = 1 << 27;
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

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
        self.meta[i] &= LRU_GEN_MASK;
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
    pub const BYTES_PER_FRAME: usize = 16;

    /// Is this frame in use (for invariant checks)?
    pub fn in_use(&self, frame: u32) -> bool {
        frame < self.next_unused && self.meta[frame as usize] & KIND_MASK != KIND_FREE
    }

    /// Frames handed out at least once (the frames that can be in use).
    pub fn high_water(&self) -> u32 {
        self.next_unused
    }

    /// A restored allocator is well formed: array lengths, the bump pointer, and a free list of distinct free
    /// frames below it whose length matches `nr_free` (snapshot/check.rs).
    pub(crate) fn check_lists(&self) -> Result<(), String> {
        let n = self.total as usize;
        if self.meta.len() != n || self.owner.len() != n || self.index.len() != n || self.memcg.len() != n {
            return Err(format!("frame arrays are not {} entries long", self.total));
        }
        if self.next_unused > self.total || self.nr_free > self.total {
            return Err(format!("frame allocator counts out of range (next_unused {}, nr_free {}, total {})", self.next_unused, self.nr_free, self.total));
        }
        let listed = self.nr_free.checked_sub(self.total - self.next_unused).ok_or("fewer free frames than never-used ones")?;
        let mut seen = vec![false; self.next_unused as usize];
        let (mut f, mut count) = (self.free_head, 0u32);
        while f != NIL {
            if f >= self.next_unused || seen[f as usize] || self.meta[f as usize] & KIND_MASK != KIND_FREE || count == listed {
                return Err(format!("free list is broken at frame {f}"));
            }
            seen[f as usize] = true;
            count += 1;
            f = self.index[f as usize];
        }
        if count != listed {
            return Err(format!("free list holds {count} frames; nr_free says {listed}"));
        }
        Ok(())
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
        assert_eq!(a.meta[1] & !LRU_GEN_MASK, 0);
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
