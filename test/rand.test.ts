// The TS PRNG mirrors the Rust one bit for bit: the golden values are the ones engine/core/src/rand.rs asserts.
import { describe, expect, it } from 'vitest';
import { Rng } from '../bindings/src/model/rand.js';

describe('Rng (xoshiro256** seeded by SplitMix64)', () => {
  it('matches the Rust golden sequence', () => {
    const r = new Rng(42);
    expect([r.nextU64(), r.nextU64(), r.nextU64(), r.nextU64()]).toEqual([
      1546998764402558742n, 6990951692964543102n, 12544586762248559009n, 17057574109182124193n,
    ]);
    const r0 = new Rng(0);
    expect([0, 1, 2, 3].map(() => r0.below(1000))).toEqual([601, 747, 103, 416]);
  });

  it('stays in range and depends on the seed', () => {
    const a = new Rng(7);
    for (let i = 0; i < 1000; i++) expect(a.below(3)).toBeLessThan(3);
    expect(new Rng(1).nextU64()).not.toBe(new Rng(2).nextU64());
  });
});
