/**
 * The simulator's PRNG, bit for bit the same as engine/core/src/rand.rs: SplitMix64 seeding xoshiro256**.
 * Used by the TS reference engine and workload generators so that, for one seed, TS and wasm draw identical
 * sequences (test/rand.test.ts checks golden values shared with the Rust tests).
 */
const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (64n - k))) & MASK;

export class Rng {
  private s: [bigint, bigint, bigint, bigint];

  constructor(seed: bigint | number) {
    let st = BigInt(seed) & MASK;
    const next = () => {
      st = (st + 0x9e3779b97f4a7c15n) & MASK;
      let z = st;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
      return z ^ (z >> 31n);
    };
    this.s = [next(), next(), next(), next()];
  }

  nextU64(): bigint {
    const s = this.s;
    const result = (rotl((s[1] * 5n) & MASK, 7n) * 9n) & MASK;
    const t = (s[1] << 17n) & MASK;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45n);
    return result;
  }

  /** Uniform in 0..n-1 for 0 < n < 2^32: `((next >> 32) * n) >> 32`, as in Rust. */
  below(n: number): number {
    return Number((((this.nextU64() >> 32n) * BigInt(n)) >> 32n) & 0xffffffffn);
  }
}
