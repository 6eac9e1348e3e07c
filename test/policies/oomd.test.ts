/**
 * oomd plugin math against facebookincubator/oomd's own tests (v0.5.0-118-g88c28fd), restated:
 * src/oomd/util/UtilTest.cpp (ParseSizeTest, ParseSizeOrPercentTest), src/oomd/plugins/CorePluginsTest.cpp
 * (SwapFreeTest, PressureAboveTest, PressureRisingBeyondTest, MemoryAboveTest, KillMemoryGrowthTest,
 * KillSwapUsageTest, KillPressureTest), src/oomd/CgroupContextTest.cpp (MemoryProtection, DataLifeCycle's memory
 * files) and the src/oomd/fixtures/cgroup/protection_overage.fakeroot tree, with the fixture numbers.
 */
import { describe, expect, it } from 'vitest';
import {
  averageUsage, killMemoryGrowthRank, killPressureRank, killSwapUsageRank, memoryAbove, parseSize, parseSizeOrPercent, pressureAbove, pressureRisingBeyond,
  risingStart, sortDescWithKillPrefs, swapFree, type OomdCgroup, memoryProtection, rawProtection, cgroupTreeOf, type MemFiles,
} from '../../bindings/src/policy/builtin/oomd.js';
import { createPolicy, parsePolicyParams } from '../../bindings/src/policy/index.js';
import { psi, task, view } from '../policy-helpers.js';

describe('sizes (UtilTest.cpp)', () => {
  it('ParseSizeTest', () => {
    expect(parseSize('8192')).toBe(8192);
    expect(parseSize('8K')).toBe(8192);
    expect(parseSize('1.5M 32K 512')).toBe(((1 << 20) * 3) / 2 + (1 << 10) * 32 + 512);
    expect(parseSize('1.5MK')).toBe(null);
    expect(parseSize('??')).toBe(null);
    expect(parseSize('+-123M')).toBe(null);
  });
  it('ParseSizeOrPercentTest (a bare number is MiB)', () => {
    expect(parseSizeOrPercent('1%', 100)).toBe(1);
    expect(parseSizeOrPercent('5M', 100)).toBe(5 << 20);
    expect(parseSizeOrPercent('5', 100)).toBe(5 << 20);
    expect(parseSizeOrPercent('5K', 100)).toBe(5 << 10);
    expect(parseSizeOrPercent('5%z', 100)).toBe(null);
    expect(parseSizeOrPercent('101%', 100)).toBe(null);
  });
});

describe('detectors (CorePluginsTest.cpp)', () => {
  const K = 1024;
  it('SwapFreeTest: LowSwap, EnoughSwap, SwapOff, SwapoutRate', () => {
    expect(swapFree({ swaptotal: 20971512 * K, swapused: 20971440 * K, swapoutBps: 0 }, 20)).toBe(true);
    expect(swapFree({ swaptotal: 20971512 * K, swapused: 3310136 * K, swapoutBps: 0 }, 20)).toBe(false);
    expect(swapFree({ swaptotal: 0, swapused: 0, swapoutBps: 0 }, 20)).toBe(false);
    expect(swapFree({ swaptotal: 20971512 * K, swapused: 20971440 * K, swapoutBps: 800000 }, 20, 1000000)).toBe(false);
    expect(swapFree({ swaptotal: 20971512 * K, swapused: 20971440 * K, swapoutBps: 1200000 }, 20, 1000000)).toBe(true);
  });
  const hi = { sec_10: 99.99, sec_60: 99.99, sec_300: 99.99 }, lo = { sec_10: 1.11, sec_60: 1.11, sec_300: 1.11 };
  it('PressureAboveTest: DetectsHighMemPressure / NoDetectLowMemPressure / MultiCgroup (threshold 80, duration 0)', () => {
    expect(pressureAbove({ hitAtNs: null }, [hi], 80, 0, 0n)).toBe(true);
    expect(pressureAbove({ hitAtNs: null }, [lo], 80, 0, 0n)).toBe(false);
    expect(pressureAbove({ hitAtNs: null }, [lo, hi], 80, 0, 0n)).toBe(true); // the worst cgroup decides
  });
  it('pressure_above holds for whole seconds of its duration and resets below', () => {
    const s = { hitAtNs: null as bigint | null };
    expect(pressureAbove(s, [hi], 80, 2, 0n)).toBe(false);
    expect(pressureAbove(s, [hi], 80, 2, 1_999_999_999n)).toBe(false); // duration_cast<seconds> truncates
    expect(pressureAbove(s, [hi], 80, 2, 2_000_000_000n)).toBe(true);
    expect(pressureAbove(s, [lo], 80, 2, 3_000_000_000n)).toBe(false);
    expect(s.hitAtNs).toBe(null);
  });
  it('PressureRisingBeyondTest: high fires; low does not; a fast fall (avg10 < 0.85 × last) holds it back', () => {
    expect(pressureRisingBeyond(risingStart(), [hi], 80, 0, 0n)).toBe(true);
    expect(pressureRisingBeyond(risingStart(), [lo], 80, 0, 0n)).toBe(false);
    const s = risingStart();
    expect(pressureRisingBeyond(s, [{ sec_10: 95, sec_60: 90, sec_300: 50 }], 80, 0, 0n)).toBe(true);
    expect(pressureRisingBeyond(s, [{ sec_10: 80.5, sec_60: 90, sec_300: 50 }], 80, 0, 1_000_000_000n)).toBe(false); // 80.5 < 95 * 0.85 = 80.75
  });
  it('MemoryAboveTest: size, bare-number MiB (compat), percent thresholds; the largest cgroup decides', () => {
    const Mi = 1 << 20;
    expect(memoryAbove({ hitAtNs: null }, [2048 * Mi], parseSizeOrPercent('1536M', 0)!, 0, 0n)).toBe(true);
    expect(memoryAbove({ hitAtNs: null }, [1024 * Mi], parseSizeOrPercent('1536M', 0)!, 0, 0n)).toBe(false);
    expect(memoryAbove({ hitAtNs: null }, [2048 * Mi], parseSizeOrPercent('1536', 0)!, 0, 0n)).toBe(true);
    expect(memoryAbove({ hitAtNs: null }, [2048 * Mi], parseSizeOrPercent('10%', 16384 * Mi)!, 0, 0n)).toBe(true);
    expect(memoryAbove({ hitAtNs: null }, [1024 * Mi, 2048 * Mi], parseSizeOrPercent('1536M', 0)!, 0, 0n)).toBe(true);
    expect(memoryAbove({ hitAtNs: null }, [1024 * Mi, 1025 * Mi], parseSizeOrPercent('1536M', 0)!, 0, 0n)).toBe(false);
  });
});

const cg = (path: string, o: Partial<OomdCgroup> = {}): OomdCgroup => ({ path, currentUsage: 0, averageUsage: 0, protection: 0, swapUsage: 0, memPressure: { sec_10: 0, sec_60: 0, sec_300: 0 }, preference: 'normal', ...o });
describe('kill_by_memory_size_or_growth (KillMemoryGrowthTest)', () => {
  it('KillsBigCgroup: 60 of 100 is above the 50 % size threshold', () => {
    const cs = [cg('cgroup1', { currentUsage: 60, averageUsage: 60 }), cg('cgroup2', { currentUsage: 20, averageUsage: 20 }), cg('cgroup3', { currentUsage: 20, averageUsage: 20 })];
    const r = killMemoryGrowthRank(cs);
    expect(r.ranked[0].path).toBe('cgroup1');
    expect(r.phase(r.ranked[0])).toBe('size_threshold');
  });
  it('PreferredOverridesSize / AvoidedOverridesSize: kill preferences come before the rank', () => {
    const cs = [cg('cgroup1', { currentUsage: 60, averageUsage: 60 }), cg('cgroup2', { currentUsage: 20, averageUsage: 20, preference: 'prefer' }), cg('cgroup3', { currentUsage: 20, averageUsage: 20 })];
    expect(killMemoryGrowthRank(cs).ranked[0].path).toBe('cgroup2');
    const av = [cg('cgroup1', { currentUsage: 60, averageUsage: 60, preference: 'avoid' }), cg('cgroup2', { currentUsage: 20, averageUsage: 20 }), cg('cgroup3', { currentUsage: 20, averageUsage: 20 })];
    expect(killMemoryGrowthRank(av).ranked.map((c) => c.path)).toEqual(['cgroup2', 'cgroup3', 'cgroup1']);
  });
  it('KillsBigCgroupGrowth, first step: no size or growth candidate, so the largest effective usage (30 of 71)', () => {
    const cs = [cg('cgroup1', { currentUsage: 21, averageUsage: 20 }), cg('cgroup2', { currentUsage: 20, averageUsage: 20 }), cg('cgroup3', { currentUsage: 30, averageUsage: 30 })];
    const r = killMemoryGrowthRank(cs);
    expect(r.ranked[0].path).toBe('cgroup3');
    expect(r.phase(r.ranked[0])).toBe('size_no_threshold');
  });
  it('growth phase: growth >= 1.25 among the P80 largest; below the percentile it does not count', () => {
    const cs = [cg('a', { currentUsage: 40, averageUsage: 10 }), cg('b', { currentUsage: 30, averageUsage: 30 }), cg('c', { currentUsage: 35, averageUsage: 35 }), cg('d', { currentUsage: 20, averageUsage: 2 }), cg('e', { currentUsage: 25, averageUsage: 25 })];
    // total 150, size threshold 75: none. P80 of 5: index ceil(5*20/100)-1 = 0, the largest effective usage (40): only a qualifies.
    const r = killMemoryGrowthRank(cs);
    expect(r.ranked[0].path).toBe('a');
    expect(r.phase(r.ranked[0])).toBe('growth');
    expect(r.phase(cs[3])).toBe('size_no_threshold'); // d grew 10x but is small
    const r2 = killMemoryGrowthRank(cs, 50, 0); // growing_size_percentile 0: no usage floor, so d's 10x wins
    expect(r2.ranked[0].path).toBe('d');
  });
  it('average usage decays by 1/4 per interval (CgroupContext::getAverageUsage)', () => {
    expect(averageUsage(0, 100)).toBe(25);
    expect(averageUsage(25, 100)).toBe(43);
  });
});

describe('kill_by_swap_usage and kill_by_pressure (KillSwapUsageTest, KillPressureTest)', () => {
  it('KillsBigSwapCgroup: most swap first; ThresholdTest: only above the threshold', () => {
    const cs = [cg('cgroup1', { swapUsage: 20 << 10 }), cg('cgroup2', { swapUsage: 60 << 10 }), cg('cgroup3', { swapUsage: 40 << 10 })];
    expect(killSwapUsageRank(cs, 1)[0].path).toBe('cgroup2');
    expect(killSwapUsageRank([cg('a', { swapUsage: 1 }), cg('b', { swapUsage: 2 }), cg('c', { swapUsage: 3 })], 3)).toEqual([]);
    expect(killSwapUsageRank(cs, 50 << 10).map((c) => c.path)).toEqual(['cgroup2']);
    expect(killSwapUsageRank([cg('a')], 1)).toEqual([]); // DoesntKillNoSwap
  });
  it('BiasedSwapKill: swap beyond swapRatio × protection decides', () => {
    const cs = [cg('a', { swapUsage: 100, protection: 200 }), cg('b', { swapUsage: 60, protection: 0 })];
    expect(killSwapUsageRank(cs, 1, true, 0.25)[0].path).toBe('b'); // a: 100 - 50 = 50 < 60
    expect(killSwapUsageRank(cs, 1, false, 0.25)[0].path).toBe('a');
  });
  it('KillsHighestPressure: int(avg10/2 + avg60/2)', () => {
    const cs = [cg('one', { memPressure: { sec_10: 60, sec_60: 60, sec_300: 60 } }), cg('two', { memPressure: { sec_10: 50, sec_60: 70, sec_300: 80 } }), cg('three', { memPressure: { sec_10: 80, sec_60: 80, sec_300: 80 } })];
    expect(killPressureRank(cs).map((c) => c.path)).toEqual(['three', 'one', 'two']);
  });
  it('sortDescWithKillPrefs keeps input order on ties', () => {
    expect(sortDescWithKillPrefs([cg('x'), cg('y')], () => [0]).map((c) => c.path)).toEqual(['x', 'y']);
  });
});

describe('the ruleset loop', () => {
  it('memory_above on / with a percent threshold kills the size-phase cgroup; post_action_delay holds the next', () => {
    const pol = createPolicy('oomd', { pressure_above: null, memory_above: { threshold: '90%', duration: 0 }, post_action_delay: 10 });
    const files = { '/a:memory.current': String(900 << 20), '/b:memory.current': String(100 << 20) };
    const v = (t: number) => view({ nowNs: BigInt(t) * 1_000_000_000n, meminfo: { MemTotal: 1 << 20, MemFree: 50 << 10, MemAvailable: 50 << 10 }, files, cgroups: ['/', '/a', '/b'], tasks: [task(10, { cgroup: '/a' }), task(11, { cgroup: '/b' })] });
    expect(pol.tick(v(0))).toMatchObject([{ type: 'kill_cgroup', cgroup: '/a', reason: 'memory_above: kill_by_memory_size_or_growth (size_threshold)' }]);
    expect(pol.tick(v(5))).toEqual([]);
    expect(pol.tick(v(10))).toHaveLength(1);
  });
  it('pressure_above with injected PSI; parameters are the plugins\' argument names', () => {
    const pol = createPolicy('oomd', { pressure_above: { threshold: 60, duration: 2 } });
    const v = (t: number) => view({ nowNs: BigInt(t) * 1_000_000_000n, cgroupPsi: () => psi(70), cgroups: ['/', '/a'], tasks: [task(10, { cgroup: '/a' })], files: { '/a:memory.current': '10' } });
    expect(pol.tick(v(0))).toEqual([]);
    expect(pol.tick(v(2))).toMatchObject([{ cgroup: '/a' }]);
    expect(() => parsePolicyParams('oomd', { pressureThreshold: 60 })).toThrow(/unknown parameter pressureThreshold; oomd has: cgroup, pressure_above/);
    expect(() => parsePolicyParams('oomd', { memory_above: { threshold: '5%z', duration: 0 } })).toThrow(/Failed to parse threshold: 5%z/);
  });
});

// CgroupContextTest.cpp MemoryProtection (its materialized tree) and fixtures/cgroup/protection_overage.fakeroot
describe('memory protection (CgroupContext::getMemoryProtection)', () => {
  const tree = (rows: [string, number, number, number][], rootUsage = 1 << 30) =>
    new Map<string, MemFiles | null>([['/', { current: rootUsage, min: 0, low: 0 }], ...rows.map(([p, current, low, min]) => [p, { current, low, min }] as [string, MemFiles])]);
  // path, memory.current, memory.low, memory.min
  const mp = tree([
    ['/A', 10000, 2000, 2500], ['/A/B', 1000, 250, 200], ['/A/B/C', 0, 250, 200], ['/A/B/D', 1000, 0, 0],
    ['/A/E', 250, 1000, 200], ['/A/E/F', 2000, 2000, 2000], ['/A/E/G', 3000, 3000, 3000],
  ]);
  it.each([
    ['/A', 2500, 'top level: whatever it claims'],
    ['/A/B', 250, 'siblings within the parent\'s protection: what they claim'], ['/A/E', 250, 'claims are capped by memory.current'],
    ['/A/B/C', 0, 'siblings claiming nothing (C uses 0, D claims 0): all 0'], ['/A/B/D', 0, ''],
    ['/A/E/F', 100, 'siblings over the parent\'s protection: split in proportion (2000 * 250 / 5000)'], ['/A/E/G', 150, ''],
  ])('MemoryProtection %s -> %d (%s)', (path, want) => expect(memoryProtection(mp, path)).toBe(want));
  const GiB = 1024 ** 3;
  const po = tree([
    ['/A', 4 * GiB, 2 * GiB, 0], ['/A/A1', 2 * GiB, 1 * GiB, 0], ['/A/A2', 2 * GiB, 4 * GiB, 0],
    ['/B', 4 * GiB, 1 * GiB, 0], ['/B/B1', 2 * GiB, 1 * GiB, 0], ['/B/B2', 2 * GiB, 4 * GiB, 0],
    ['/C', 6 * GiB, 5 * GiB, 0], ['/C/C1', 6 * GiB, 5 * GiB, 0],
  ]);
  it.each([
    ['/A', 2 * GiB], ['/A/A1', 715827882], ['/A/A2', 1431655765], ['/B', 1 * GiB], ['/B/B1', 357913941], ['/B/B2', 715827882], ['/C', 5 * GiB], ['/C/C1', 5 * GiB],
  ])('protection_overage.fakeroot %s -> %d (int64 truncation of the proportional share)', (path, want) => expect(memoryProtection(po, path)).toBe(want));
  it('raw protection = min(current, max(min, low)); a cgroup whose files cannot be read has none (null), siblings count it 0', () => {
    expect(rawProtection({ current: 100, min: 30, low: 60 })).toBe(60);
    expect(rawProtection({ current: 10, min: 30, low: 60 })).toBe(10);
    const t = tree([['/A', 100, 100, 0], ['/A/x', 50, 50, 0]]);
    t.set('/A/y', null);
    expect(memoryProtection(t, '/A/y')).toBe(null);
    expect(memoryProtection(t, '/A/x')).toBe(50);
    expect(memoryProtection(tree([]), '/')).toBe(1 << 30);
  });
  it('DataLifeCycle memory files: protection of a top-level cgroup is max(min, low) under its usage', () => {
    expect(memoryProtection(tree([['/slice', 987654321, 11223344, 112233]]), '/slice')).toBe(11223344);
  });
  it('read from cgroupfs, and used by kill_by_memory_size_or_growth as effective usage = current - protection', () => {
    const files = {
      '/A:memory.current': String(4 * GiB), '/A:memory.low': String(2 * GiB), '/A:memory.min': '0',
      '/A/A1:memory.current': String(2 * GiB), '/A/A1:memory.low': String(4 * GiB), '/A/A1:memory.min': '0',
      '/A/A2:memory.current': String(2 * GiB), '/A/A2:memory.low': String(1 * GiB), '/A/A2:memory.min': '0',
    };
    const v = view({ files, cgroups: ['/', '/A', '/A/A1', '/A/A2'], tasks: [task(10, { cgroup: '/A/A1' }), task(11, { cgroup: '/A/A2' })], psi: psi(0) });
    const t = cgroupTreeOf(v, GiB);
    expect([memoryProtection(t, '/A/A1'), memoryProtection(t, '/A/A2')]).toEqual([1431655765, 715827882]);
    // Equal usage; without protection the tie goes to the first (A1); A1 is better protected, so A2 has the larger
    // effective usage and is killed.
    const bare = [cg('/A/A1', { currentUsage: 2 * GiB, averageUsage: 2 * GiB }), cg('/A/A2', { currentUsage: 2 * GiB, averageUsage: 2 * GiB })];
    expect(killMemoryGrowthRank(bare).ranked[0].path).toBe('/A/A1');
    const pol = createPolicy('oomd', { cgroup: '/A', pressure_above: null, memory_above: { threshold: '1G', duration: 0 } });
    expect(pol.tick({ ...v, cgroupPsi: () => psi(0) })).toMatchObject([{ type: 'kill_cgroup', cgroup: '/A/A2' }]);
  });
});
