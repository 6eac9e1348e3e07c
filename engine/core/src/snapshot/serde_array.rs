//! serde for the fixed-size arrays serde does not cover (it derives arrays of at most 32 elements): as tuples, so
//! postcard writes the N elements and no length. Used as `#[serde(with = "...")]` on the fields that need it, so
//! the state types keep their plain derives.

use serde::de::{Error, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::marker::PhantomData;

/// `[T; N]` as an N-tuple.
pub mod array {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize, const N: usize>(a: &[T; N], s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(N)?;
        for x in a {
            t.serialize_element(x)?;
        }
        t.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de> + Copy + Default, const N: usize>(d: D) -> Result<[T; N], D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Copy + Default, const N: usize> Visitor<'de> for V<T, N> {
            type Value = [T; N];
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an array of {N} elements")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[T; N], A::Error> {
                let mut out = [T::default(); N];
                for (i, x) in out.iter_mut().enumerate() {
                    *x = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(i, &self))?;
                }
                Ok(out)
            }
        }
        d.deserialize_tuple(N, V::<T, N>(PhantomData))
    }
}

/// A VMA's PTE chunks, `Vec<Option<Box<[u32; 512]>>>` (mm_types.rs `PteChunk`).
pub mod pte_chunks {
    use super::*;

    struct Chunk<'a>(&'a [u32; 512]);
    impl Serialize for Chunk<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            array::serialize(self.0, s)
        }
    }
    type Chunks = Vec<Option<Box<[u32; 512]>>>;
    struct Owned(Box<[u32; 512]>);
    impl<'de> Deserialize<'de> for Owned {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            array::deserialize(d).map(|a: [u32; 512]| Owned(Box::new(a)))
        }
    }

    pub fn serialize<S: Serializer>(v: &[Option<Box<[u32; 512]>>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|c| c.as_deref().map(Chunk)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Chunks, D::Error> {
        let v: Vec<Option<Owned>> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(|c| c.map(|o| o.0)).collect())
    }
}
