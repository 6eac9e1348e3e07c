//! The simulator's PRNG: SplitMix64 seeding xoshiro256**. Chosen because it is tiny, fast, has no dependency, and is
//! trivially reproduced bit for bit in TypeScript with BigInt (bindings/src/model/rand.ts), so the wasm engine and
//! the TS reference engine draw identical sequences from one seed.

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

#[inline]
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut st = seed;
        let s = [splitmix64(&mut st), splitmix64(&mut st), splitmix64(&mut st), splitmix64(&mut st)];
        Rng { s }
    }

    /// xoshiro256** next output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform integer in `0..n` (n > 0) by Lemire's multiply-shift on the high 32 bits... kept exact and simple:
    /// `(next_u64() >> 32) * n >> 32` for n < 2^32. Slight bias is irrelevant here; identical in TS matters.
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_sequence_is_stable() {
        // Golden values: if these change, every recorded scenario digest changes too.
        let mut r = Rng::new(42);
        let v: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r2 = Rng::new(42);
        assert_eq!(v, (0..3).map(|_| r2.next_u64()).collect::<Vec<_>>());
        assert_ne!(v[0], v[1]);
        let mut r3 = Rng::new(43);
        assert_ne!(r3.next_u64(), v[0]);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(7);
        for n in [1u32, 2, 3, 1000, u32::MAX] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
    }
}

#[cfg(test)]
mod golden {
    use super::*;

    /// Printed once to fix the golden values below; test/rand.test.ts asserts the same numbers against the TS
    /// mirror (bindings/src/model/rand.ts), so both engines draw identical sequences.
    #[test]
    fn golden_values_shared_with_ts() {
        let mut r = Rng::new(42);
        let got: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        let mut r0 = Rng::new(0);
        let below: Vec<u32> = (0..4).map(|_| r0.below(1000)).collect();
        assert_eq!(got, GOLDEN_SEED42);
        assert_eq!(below, GOLDEN_SEED0_BELOW1000);
    }

    const GOLDEN_SEED42: [u64; 4] = [1546998764402558742, 6990951692964543102, 12544586762248559009, 17057574109182124193];
    const GOLDEN_SEED0_BELOW1000: [u32; 4] = [601, 747, 103, 416];
}
