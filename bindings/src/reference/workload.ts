/**
 * Seeded touch patterns (the `touch_pattern` op). The exact algorithm is specified in docs/workload-patterns.md so
 * that the Rust engine can draw the identical sequence; it uses only the shared PRNG (model/rand.ts ≡ rand.rs) and
 * integer arithmetic.
 *
 * A pattern yields `n` page indices in 0..count-1 (the caller adds `first`):
 * - `sequential`: i mod count
 * - `strided`:    (i * stride) mod count
 * - `uniform`:    rng.below(count)                                      (one nextU64 per draw)
 * - `zipf`:       rank k drawn with weight floor(2^40 / (k+1)^s) (integer s ≥ 1); with C_k the inclusive prefix
 *                 sums and T = C_{count-1}: u = (nextU64 * T) >> 64, k = the smallest index with C_k > u.
 * The generator is `new Rng(seed)` (SplitMix64-seeded xoshiro256**), fresh for every op.
 */
import { Rng } from '../model/rand.js';

export type PatternKind = 'sequential' | 'strided' | 'uniform' | 'zipf';

export interface PatternSpec {
  pattern: PatternKind;
  /** size of the page range */
  count: number;
  /** number of accesses */
  n: number;
  seed?: number | bigint;
  stride?: number;
  /** zipf exponent, integer ≥ 1 */
  s?: number;
}

export const ZIPF_SCALE = 1n << 40n;

/** Inclusive prefix sums of the zipf weights floor(2^40 / (k+1)^s), k = 0..count-1. */
export function zipfTable(count: number, s: number): bigint[] {
  const out: bigint[] = new Array(count);
  let acc = 0n;
  for (let k = 0; k < count; k++) {
    acc += ZIPF_SCALE / BigInt(k + 1) ** BigInt(s);
    out[k] = acc;
  }
  return out;
}

/** Inverse CDF: the smallest k with table[k] > u (binary search). */
export function zipfRank(table: bigint[], u: bigint): number {
  let lo = 0;
  let hi = table.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The page indices (0..count-1) of a pattern, in access order. */
export function patternPages(p: PatternSpec): number[] {
  if (!(p.count > 0) || !(p.n >= 0)) throw new RangeError('pattern needs count > 0 and n >= 0');
  if (p.count >= 2 ** 32) throw new RangeError('pattern count must be below 2^32');
  const out: number[] = new Array(p.n);
  switch (p.pattern) {
    case 'sequential':
      for (let i = 0; i < p.n; i++) out[i] = i % p.count;
      return out;
    case 'strided': {
      const stride = BigInt(p.stride ?? 1);
      const c = BigInt(p.count);
      for (let i = 0; i < p.n; i++) out[i] = Number((BigInt(i) * stride) % c);
      return out;
    }
    case 'uniform': {
      const rng = new Rng(p.seed ?? 0);
      for (let i = 0; i < p.n; i++) out[i] = rng.below(p.count);
      return out;
    }
    case 'zipf': {
      const s = p.s ?? 1;
      if (!Number.isInteger(s) || s < 1) throw new RangeError('zipf exponent must be an integer >= 1');
      const table = zipfTable(p.count, s);
      const total = table[table.length - 1];
      const rng = new Rng(p.seed ?? 0);
      for (let i = 0; i < p.n; i++) out[i] = zipfRank(table, (rng.nextU64() * total) >> 64n);
      return out;
    }
  }
  throw new RangeError(`unknown pattern ${String(p.pattern)}`);
}
