//! A file's page-cache index (the kernel's `address_space.i_pages`, an xarray: include/linux/fs.h,
//! lib/xarray.c). The xarray is sparse: a node exists only where an entry does, and an emptied node is freed
//! (`xas_delete_node`). This index keeps that property with one level of chunks of [`CHUNK`] slots under a
//! vector of chunk pointers, so a 256 GiB file with nothing cached costs 4 bytes (wasm) per 2 MiB of file instead
//! of 4 bytes per page, and a lookup stays two array reads. Slot values: 0 not cached, otherwise frame + 1.

/// Slots per chunk (the PTE chunks' size, [`crate::mm_types::Vma`]; the xarray's own nodes hold 64).
pub const CHUNK: usize = 512;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Chunk {
    /// Non-zero slots in this chunk: the chunk is freed when the last one is cleared.
    used: u32,
    #[serde(with = "crate::snapshot::serde_array::array")]
    slots: [u32; CHUNK],
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PageCache {
    /// Index capacity in pages (the vector covers `len.div_ceil(CHUNK)` chunks).
    len: u64,
    chunks: Vec<Option<Box<Chunk>>>,
}

impl PageCache {
    /// An index with room for `pages` pages and nothing cached (allocates only the chunk pointers).
    pub fn new(pages: u64) -> Self {
        PageCache { len: pages, chunks: (0..pages.div_ceil(CHUNK as u64)).map(|_| None).collect() }
    }

    /// Room for pages below `pages`.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Grow the index to `pages` (never shrinks).
    pub fn resize(&mut self, pages: u64) {
        if pages > self.len {
            self.len = pages;
            self.chunks.resize_with(pages.div_ceil(CHUNK as u64) as usize, || None);
        }
    }

    /// The slot at `idx`: 0 when nothing is cached there or `idx` is beyond the index.
    #[inline]
    pub fn get(&self, idx: u64) -> u32 {
        if idx >= self.len {
            return 0;
        }
        match &self.chunks[(idx / CHUNK as u64) as usize] {
            Some(c) => c.slots[(idx % CHUNK as u64) as usize],
            None => 0,
        }
    }

    /// Store `v` at `idx` (< `len()`): a chunk is allocated for the first non-zero slot and freed with its last.
    pub fn set(&mut self, idx: u64, v: u32) {
        assert!(idx < self.len, "page cache index {idx} beyond {}", self.len);
        let at = &mut self.chunks[(idx / CHUNK as u64) as usize];
        let s = (idx % CHUNK as u64) as usize;
        match at {
            None if v == 0 => {}
            None => {
                let mut c = Box::new(Chunk { used: 1, slots: [0; CHUNK] });
                c.slots[s] = v;
                *at = Some(c);
            }
            Some(c) => {
                match (c.slots[s] != 0, v != 0) {
                    (false, true) => c.used += 1,
                    (true, false) => c.used -= 1,
                    _ => {}
                }
                c.slots[s] = v;
                if c.used == 0 {
                    *at = None;
                }
            }
        }
    }

    /// The non-zero slots in index order.
    pub fn present(&self) -> impl Iterator<Item = u32> + '_ {
        self.chunks.iter().flatten().flat_map(|c| c.slots.iter().copied().filter(|&v| v != 0))
    }

    /// (index, slot) of the non-zero slots, in index order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.chunks.iter().enumerate().filter_map(|(c, ch)| ch.as_ref().map(|ch| (c, ch))).flat_map(|(c, ch)| {
            ch.slots.iter().enumerate().filter(|(_, &v)| v != 0).map(move |(s, &v)| ((c * CHUNK + s) as u64, v))
        })
    }

    /// The index is well formed (a restored snapshot, snapshot/check.rs): the chunk vector covers `len` exactly,
    /// each chunk's count is its non-zero slots and is not 0, and no slot at or beyond `len` is set.
    pub fn check(&self) -> Result<(), String> {
        if self.chunks.len() as u64 != self.len.div_ceil(CHUNK as u64) {
            return Err(format!("{} index chunks for {} pages", self.chunks.len(), self.len));
        }
        for (c, ch) in self.chunks.iter().enumerate() {
            let Some(ch) = ch else { continue };
            let n = ch.slots.iter().filter(|&&v| v != 0).count() as u32;
            if n == 0 || n != ch.used {
                return Err(format!("index chunk {c} counts {} entries and holds {n}", ch.used));
            }
        }
        match self.entries().last() {
            Some((idx, _)) if idx >= self.len => Err(format!("page {idx} cached beyond the index ({} pages)", self.len)),
            _ => Ok(()),
        }
    }

    /// Chunks allocated (for the memory bound's test).
    pub fn nr_chunks(&self) -> usize {
        self.chunks.iter().filter(|c| c.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::Rng;

    /// Seeded model test: random sets, clears and growth against a dense vector, every slot compared, chunks
    /// allocated exactly where a non-zero slot is.
    #[test]
    fn matches_a_dense_vector() {
        for seed in 0..200u64 {
            let mut r = Rng::new(seed);
            let mut below = |n: u64| r.below(n as u32) as u64;
            let mut len = below(3 * CHUNK as u64);
            let (mut pc, mut model) = (PageCache::new(len), vec![0u32; len as usize]);
            for _ in 0..400 {
                match below(10) {
                    0 => {
                        len += below(CHUNK as u64 + 3);
                        pc.resize(len);
                        model.resize(len as usize, 0);
                    }
                    _ if len > 0 => {
                        let idx = below(len);
                        let v = if below(3) == 0 { 0 } else { 1 + below(1000) as u32 };
                        pc.set(idx, v);
                        model[idx as usize] = v;
                    }
                    _ => {}
                }
            }
            assert_eq!(pc.len(), len);
            for (i, &v) in model.iter().enumerate() {
                assert_eq!(pc.get(i as u64), v, "seed {seed} slot {i}");
            }
            assert_eq!(pc.get(len), 0);
            assert_eq!(pc.present().collect::<Vec<_>>(), model.iter().copied().filter(|&v| v != 0).collect::<Vec<_>>());
            let want = model.chunks(CHUNK).filter(|c| c.iter().any(|&v| v != 0)).count();
            assert_eq!(pc.nr_chunks(), want, "seed {seed}: a chunk per non-empty stretch, none for empty ones");
            let want_entries: Vec<(u64, u32)> = model.iter().enumerate().filter(|(_, &v)| v != 0).map(|(i, &v)| (i as u64, v)).collect();
            assert_eq!(pc.entries().collect::<Vec<_>>(), want_entries);
            assert_eq!(pc.check(), Ok(()));
        }
    }

    #[test]
    fn a_huge_empty_index_allocates_no_chunks() {
        let mut pc = PageCache::new(1 << 26);
        assert_eq!((pc.nr_chunks(), pc.chunks.len()), (0, (1 << 26) / CHUNK));
        pc.set((1 << 26) - 1, 7);
        assert_eq!((pc.get((1 << 26) - 1), pc.nr_chunks()), (7, 1));
        pc.set((1 << 26) - 1, 0);
        assert_eq!(pc.nr_chunks(), 0, "the emptied chunk is freed");
    }

    #[test]
    fn check_refuses_a_malformed_index() {
        let mut pc = PageCache::new(1000);
        pc.set(3, 9);
        let mut bad = pc.clone();
        bad.chunks[0].as_mut().unwrap().used = 2;
        assert_eq!(bad.check(), Err("index chunk 0 counts 2 entries and holds 1".into()));
        let mut bad = pc.clone();
        bad.chunks.push(None);
        assert_eq!(bad.check(), Err("3 index chunks for 1000 pages".into()));
        let mut bad = pc.clone();
        bad.chunks[1] = Some(Box::new(Chunk { used: 1, slots: [0; CHUNK] }));
        bad.chunks[1].as_mut().unwrap().slots[CHUNK - 1] = 4;
        assert_eq!(bad.check(), Err("page 1023 cached beyond the index (1000 pages)".into()));
        assert_eq!(pc.check(), Ok(()));
    }
}
