// Lossless JSON and the §3.2 matching rules of the TS evaluator.
import { describe, expect, it } from 'vitest';
import { matchValue, parseLossless } from '../bindings/src/reference/json.js';

describe('parseLossless', () => {
  it('keeps integers beyond 2^53 exact', () => {
    const v = parseLossless('{"a": 9223372036854771712, "b": 2251799813685247, "c": 1.5, "d": -3, "e": "x\\"y"}') as Record<string, unknown>;
    expect(v.a).toBe(9223372036854771712n);
    expect(v.b).toBe(2251799813685247);
    expect(v.c).toBe(1.5);
    expect(v.d).toBe(-3);
    expect(v.e).toBe('x"y');
  });
  it('rejects trailing garbage', () => {
    expect(() => parseLossless('[1] x')).toThrow();
  });
});

describe('matchValue', () => {
  it('objects partially, lists exactly', () => {
    expect(matchValue('', { a: 1 }, { a: 1, b: 2 })).toBeNull();
    expect(matchValue('', { c: 1 }, { a: 1 })).not.toBeNull();
    expect(matchValue('', [1, 2], [1, 2, 3])).not.toBeNull();
  });
  it('scalars: big ints exact, int never equals bool, 2.0 equals 2', () => {
    expect(matchValue('', 9223372036854771712n, 9223372036854771712n)).toBeNull();
    expect(matchValue('', 9223372036854771712n, 9223372036854771713n)).not.toBeNull();
    expect(matchValue('', 1, true)).not.toBeNull();
    expect(matchValue('', 2.0, 2)).toBeNull();
    expect(matchValue('', null, 0)).not.toBeNull();
  });
  it('matchers', () => {
    expect(matchValue('', { prefix: 'Out of' }, 'Out of memory')).toBeNull();
    expect(matchValue('', { prefix: 'Out of' }, 'Killed')).not.toBeNull();
    expect(matchValue('', { at_least: 3 }, 3)).toBeNull();
    expect(matchValue('', { at_least: 3 }, 2)).not.toBeNull();
  });
  it('log is an ordered subsequence', () => {
    const actual = { log: ['a1', 'x', 'b2', 'c3'] };
    expect(matchValue('', { log: ['a1', { prefix: 'c' }] }, actual)).toBeNull();
    expect(matchValue('', { log: [{ prefix: 'c' }, 'a1'] }, actual)).not.toBeNull();
  });
});
