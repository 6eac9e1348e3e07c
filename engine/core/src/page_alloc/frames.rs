//! Physical frames (mm/page_alloc.c). The allocator is a bump pointer over never-used frames plus a LIFO stack of
//! freed frames, so a machine of 16 M frames initialises in O(1) and allocation/free are O(1) and deterministic.
//! Per-frame metadata lives in `Kernel` (struct-of-arrays) so its size per frame is visible and budgeted.

#[derive(Clone, Debug)]
pub struct FrameAllocator {
    total: u32,
    /// Frames `next_unused..total` have never been handed out.
    next_unused: u32,
    /// Frames freed since boot, reused LIFO.
    free_stack: Vec<u32>,
    nr_free: u32,
}

impl FrameAllocator {
    pub fn new(total: u32) -> Self {
        FrameAllocator { total, next_unused: 0, free_stack: Vec::new(), nr_free: total }
    }

    #[inline]
    pub fn total(&self) -> u32 {
        self.total
    }

    #[inline]
    pub fn nr_free(&self) -> u32 {
        self.nr_free
    }

    #[inline]
    pub fn alloc(&mut self) -> Option<u32> {
        if let Some(f) = self.free_stack.pop() {
            self.nr_free -= 1;
            return Some(f);
        }
        if self.next_unused < self.total {
            let f = self.next_unused;
            self.next_unused += 1;
            self.nr_free -= 1;
            return Some(f);
        }
        None
    }

    #[inline]
    pub fn free(&mut self, frame: u32) {
        debug_assert!(frame < self.next_unused);
        self.free_stack.push(frame);
        self.nr_free += 1;
    }

    /// Bytes of allocator state per frame at its high-water mark (for the memory-per-frame report).
    pub fn heap_bytes(&self) -> usize {
        self.free_stack.capacity() * 4
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
        a.free(f1);
        assert_eq!(a.nr_free(), 1);
        assert_eq!(a.alloc(), Some(1));
    }
}
