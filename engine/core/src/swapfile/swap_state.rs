//! mm/swap_state.c: the swap cache, as two dense tables.
//!
//! The kernel finds a swap-cache folio from its slot through the swap table of the slot's cluster (one entry per
//! slot, mm/swap_table.h since 6.18; an xarray before) and the slot from the folio through `folio->swap`. Here the
//! same two directions are two arrays: `by_slot[slot]` (one word per swap slot, sized with the areas as
//! `swap_map` is) and `by_frame[frame]` (one word per frame, grown on demand up to the highest frame that has
//! been in the swap cache, so a machine that never swaps pays nothing). Each holds the other side plus one, 0 for
//! none, so fresh entries are zeroed memory. Lookups, insertions and removals are O(1) with no allocation after
//! the tables have grown; nothing iterates the cache, so it has no order to keep. It replaced a pair of
//! `BTreeMap`s (docs/decisions/0017-perf.md §11).

/// The swap cache: slot ↔ frame for the pages that are in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwapCache {
    /// slot → frame + 1 (0: the slot has no swap-cache page).
    by_slot: Vec<u32>,
    /// frame → slot + 1 (0: the frame is not in the swap cache).
    by_frame: Vec<u32>,
    /// Pages in the swap cache (NR_SWAPCACHE).
    len: u32,
}

impl SwapCache {
    /// Room for slots `0..total` (swapon adds areas; slots are never taken away).
    pub fn resize_slots(&mut self, total: u32) {
        if (total as usize) > self.by_slot.len() {
            self.by_slot.resize(total as usize, 0);
        }
    }

    /// The frame holding `slot`'s data, if it is in the swap cache.
    #[inline]
    pub fn get(&self, slot: u32) -> Option<u32> {
        match self.by_slot.get(slot as usize) {
            Some(&v) if v != 0 => Some(v - 1),
            _ => None,
        }
    }

    /// The slot of swap-cache frame `frame`.
    #[inline]
    pub fn slot_of(&self, frame: u32) -> Option<u32> {
        match self.by_frame.get(frame as usize) {
            Some(&v) if v != 0 => Some(v - 1),
            _ => None,
        }
    }

    /// Whether `slot` has a swap-cache page.
    #[inline]
    pub fn contains_slot(&self, slot: u32) -> bool {
        self.get(slot).is_some()
    }

    /// `add_to_swap_cache`: `frame` holds `slot`'s data. Neither may be in the cache already; `slot` must be
    /// below the size given to [`SwapCache::resize_slots`].
    #[inline]
    pub fn insert(&mut self, slot: u32, frame: u32) {
        debug_assert!(self.get(slot).is_none() && self.slot_of(frame).is_none(), "slot {slot} or frame {frame} already in the swap cache");
        self.by_slot[slot as usize] = frame + 1;
        let f = frame as usize;
        if f >= self.by_frame.len() {
            // grown in steps of at least a quarter, so the growth is amortised O(1)
            let want = (f + 1).max(self.by_frame.len() + self.by_frame.len() / 4).max(1024);
            self.by_frame.resize(want, 0);
        }
        self.by_frame[f] = slot + 1;
        self.len += 1;
    }

    /// `__delete_from_swap_cache` by slot: the frame that held it, if any.
    #[inline]
    pub fn remove(&mut self, slot: u32) -> Option<u32> {
        let frame = self.get(slot)?;
        self.by_slot[slot as usize] = 0;
        self.by_frame[frame as usize] = 0;
        self.len -= 1;
        Some(frame)
    }

    /// Pages in the swap cache.
    #[inline]
    pub fn len(&self) -> u64 {
        self.len as u64
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries as (slot, frame), by slot.
    pub fn entries(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.by_slot.iter().enumerate().filter(|&(_, &v)| v != 0).map(|(s, &v)| (s as u32, v - 1))
    }

    /// A restored swap cache is well formed for `total` slots and `nr_frames` frames: every slot in range, every
    /// frame in range and held by one slot only; the frame table and the count are rebuilt from the slots (they
    /// are not in a snapshot). Called by `SwapInfo::check_and_reindex` (snapshot/check.rs).
    pub(crate) fn check_and_reindex(&mut self, total: u32, nr_frames: u32) -> Result<(), String> {
        if self.by_slot.len() > total as usize {
            let slot = self.by_slot.len() - 1;
            return Err(format!("swap cache entry slot {slot} is past the {total} swap slots"));
        }
        self.by_slot.resize(total as usize, 0);
        self.by_frame.clear();
        self.len = 0;
        for slot in 0..total {
            let Some(frame) = self.get(slot) else { continue };
            if frame >= nr_frames || self.slot_of(frame).is_some() {
                return Err(format!("swap cache entry slot {slot} -> frame {frame} is inconsistent"));
            }
            let f = frame as usize;
            if f >= self.by_frame.len() {
                self.by_frame.resize((f + 1).max(self.by_frame.len() + self.by_frame.len() / 4).max(1024), 0);
            }
            self.by_frame[f] = slot + 1;
            self.len += 1;
        }
        Ok(())
    }
}

/// In a snapshot the swap cache is its entries as (slot, frame) pairs by slot: sparse (a machine with 256 GiB of
/// swap and an empty cache stores nothing per slot) and in a fixed order. The frame table and the count are
/// derived and rebuilt by [`SwapCache::check_and_reindex`].
impl serde::Serialize for SwapCache {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        // the length first (postcard needs it): the count is kept with the entries
        let mut seq = s.serialize_seq(Some(self.len as usize))?;
        for e in self.entries() {
            seq.serialize_element(&e)?;
        }
        seq.end()
    }
}

impl<'de> serde::Deserialize<'de> for SwapCache {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = <Vec<(u32, u32)> as serde::Deserialize>::deserialize(d)?;
        let mut c = SwapCache::default();
        let mut last: Option<u32> = None;
        for (slot, frame) in pairs {
            if last.is_some_and(|l| slot <= l) {
                return Err(serde::de::Error::custom(format!("swap cache entries out of order at slot {slot}")));
            }
            // the slot bound is checked against the areas afterwards; frame + 1 must not wrap to "none"
            if slot >= crate::types::MAX_SWAP_PAGES || frame == u32::MAX {
                return Err(serde::de::Error::custom(format!("swap cache entry slot {slot} -> frame {frame} is out of range")));
            }
            last = Some(slot);
            if slot as usize >= c.by_slot.len() {
                c.by_slot.resize(slot as usize + 1, 0);
            }
            c.by_slot[slot as usize] = frame + 1;
            c.len += 1;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::Rng;
    use std::collections::BTreeMap;

    /// Seeded random insert/remove/lookup sequences against the pair of BTreeMaps the swap cache replaced (the
    /// model: slot → frame and frame → slot); every lookup of every slot and frame in range agrees after every
    /// operation, and so does the size (and the whole range every 50 operations).
    #[test]
    fn swap_cache_matches_a_btreemap_model() {
        for seed in 0..200u64 {
            let mut rng = Rng::new(seed);
            let slots = 1 + rng.below(300);
            let frames = 1 + rng.below(3000);
            let mut c = SwapCache::default();
            c.resize_slots(slots);
            let (mut by_slot, mut by_frame) = (BTreeMap::<u32, u32>::new(), BTreeMap::<u32, u32>::new());
            for step in 0..400 {
                let slot = rng.below(slots);
                let frame = rng.below(frames);
                match rng.below(3) {
                    0 | 1 if !by_slot.contains_key(&slot) && !by_frame.contains_key(&frame) => {
                        c.insert(slot, frame);
                        by_slot.insert(slot, frame);
                        by_frame.insert(frame, slot);
                    }
                    _ => {
                        let m = by_slot.remove(&slot);
                        if let Some(f) = m {
                            by_frame.remove(&f);
                        }
                        assert_eq!(c.remove(slot), m, "seed {seed} step {step}: remove({slot})");
                    }
                }
                assert_eq!(c.len(), by_slot.len() as u64, "seed {seed} step {step}");
                assert_eq!(c.is_empty(), by_slot.is_empty());
                // the slot and frame just used every step, every slot and frame in range every 50 steps
                assert_eq!((c.get(slot), c.slot_of(frame)), (by_slot.get(&slot).copied(), by_frame.get(&frame).copied()));
                if step % 50 != 49 {
                    continue;
                }
                for s in 0..slots + 2 {
                    assert_eq!(c.get(s), by_slot.get(&s).copied(), "seed {seed} step {step}: get({s})");
                    assert_eq!(c.contains_slot(s), by_slot.contains_key(&s));
                }
                for f in 0..frames + 2 {
                    assert_eq!(c.slot_of(f), by_frame.get(&f).copied(), "seed {seed} step {step}: slot_of({f})");
                }
            }
        }
    }

    #[test]
    fn slot_and_frame_zero_are_ordinary_entries() {
        let mut c = SwapCache::default();
        c.resize_slots(1);
        assert_eq!((c.get(0), c.slot_of(0), c.len()), (None, None, 0));
        c.insert(0, 0);
        assert_eq!((c.get(0), c.slot_of(0), c.len()), (Some(0), Some(0), 1));
        assert_eq!(c.remove(0), Some(0));
        assert_eq!((c.remove(0), c.get(0), c.slot_of(0), c.len()), (None, None, None, 0));
    }
}
