/**
 * systemd-oomd rules against systemd's own tests, restated: src/oom/test-oomd-util.c (oomd_system_context_acquire,
 * oomd_pressure_above, oomd_mem_and_swap_free_below, oomd_sort_cgroups, oomd_update_cgroup_contexts_between_hashmaps)
 * and src/test/test-percent-util.c (parse_permyriad), plus oomd-conf.c and oomd-manager.c rules.
 */
import { describe, expect, it } from 'vitest';
import {
  candidatePaths, comparePgscanRateAndMemoryUsage, compareSwapUsage, memAvailableBelow, oomdSystemContext, parseOomdDuration, parsePermyriad, pgscanRate,
  pickByPgscanRate, pickBySwapUsage, pressureAbove, sortCgroupContexts, swapFreeBelow, swapRuleHit, type OomdCGroupContext,
} from '../../bindings/src/policy/builtin/systemd-oomd.js';
import { createPolicy, parsePolicyParams } from '../../bindings/src/policy/index.js';
import { psi, task, view } from '../policy-helpers.js';

describe('parse_permyriad (test-percent-util.c TEST(parse_permyriad))', () => {
  it.each([
    ['0‱', 0], ['555‱', 555], ['1000‱', 1000], ['0‰', 0], ['555.5‰', 5555], ['1000.0‰', 10000],
    ['0%', 0], ['55%', 5500], ['55.5%', 5550], ['55.50%', 5550], ['55.53%', 5553], ['100%', 10000],
  ])('%s = %d‱', (s, v) => expect(parsePermyriad(s)).toBe(v));
  it.each(['', 'foo', '0', '50', '100', '-1', '‱', '‱‱', '‱1', '1‱‱', '3.2‱', '‰', '‰‰', '‰1', '1‰‰', '3.22‰', '%', '%%', '%1', '1%%', '3.212%'])(
    '%s is EINVAL', (s) => expect(() => parsePermyriad(s)).toThrow(/^EINVAL/));
  it.each(['-7‱', '10007‱', '-7‰', '1007‰', '-7%', '107%'])('%s is ERANGE', (s) => expect(() => parsePermyriad(s)).toThrow(/^ERANGE/));
});

describe('oomd.conf parsing (oomd-conf.c) and defaults (oomd-manager.h)', () => {
  it('DefaultMemoryPressureDurationSec=: empty and 0 mean 30 s; under 1 s or infinity is ignored with a warning', () => {
    expect(parseOomdDuration('').usec).toBe(30_000_000);
    expect(parseOomdDuration('0').usec).toBe(30_000_000);
    expect(parseOomdDuration('20s').usec).toBe(20_000_000);
    expect(parseOomdDuration('1min 30s').usec).toBe(90_000_000);
    expect(parseOomdDuration('500ms', 20_000_000)).toEqual({ usec: 20_000_000, warning: expect.stringContaining('must be at least 1s') });
    expect(parseOomdDuration('infinity').warning).toMatch(/less than infinity/);
  });
  it('defaults: SwapUsedLimit 90%, DefaultMemoryPressureLimit 60%, 30 s; unknown keys are refused', () => {
    const p = parsePolicyParams('systemd-oomd', {});
    expect([p.swapUsedLimit, p.defaultMemoryPressureLimit, p.defaultMemoryPressureDurationSec]).toEqual(['90%', '60%', '30s']);
    expect(() => parsePolicyParams('systemd-oomd', { swapUsedLimit: '101%' })).toThrow(/ERANGE/);
    expect(() => parsePolicyParams('systemd-oomd', { memoryPressureLimit: 50 })).toThrow(/unknown parameter memoryPressureLimit; systemd-oomd has: swapUsedLimit, defaultMemoryPressureLimit/);
  });
});

describe('system context and the swap rule (test-oomd-util.c)', () => {
  it('oomd_system_context_acquire: bytes from kB; used = total - available / free', () => {
    const c = oomdSystemContext({ MemTotal: 32495256, MemFree: 9880512, MemAvailable: 21777088, Buffers: 5968, Cached: 14344796, SwapTotal: 8388604, SwapFree: 7604 });
    expect(c).toEqual({ memTotal: 33275142144n, memUsed: 10975404032n, swapTotal: 8589930496n, swapUsed: 8582144000n });
    expect(() => oomdSystemContext({ MemTotal: 32495256, MemFree: 9880512, SwapTotal: 8388604, SwapFree: 7604 })).toThrow(/EINVAL: .*missing expected fields/);
    expect(() => oomdSystemContext({ MemTotal: 1, MemAvailable: 2, SwapTotal: 0, SwapFree: 0 })).toThrow(/cannot be greater than MemTotal/);
  });
  it('oomd_mem_and_swap_free_below', () => {
    const K = 1024n;
    const a = { memTotal: 20971512n * K, memUsed: 3310136n * K, swapTotal: 20971512n * K, swapUsed: 20971440n * K };
    expect([memAvailableBelow(a, 2000), swapFreeBelow(a, 2000)]).toEqual([false, true]);
    const b = { memTotal: 20971512n * K, memUsed: 20971440n * K, swapTotal: 20971512n * K, swapUsed: 3310136n * K };
    expect([memAvailableBelow(b, 2000), swapFreeBelow(b, 2000)]).toEqual([true, false]);
    const z = { memTotal: 0n, memUsed: 0n, swapTotal: 0n, swapUsed: 0n };
    expect([memAvailableBelow(z, 2000), swapFreeBelow(z, 2000)]).toEqual([false, false]);
    // the swap rule needs both below 100 % - SwapUsedLimit
    expect(swapRuleHit({ memTotal: 1000n, memUsed: 950n, swapTotal: 1000n, swapUsed: 950n }, 9000)).toBe(true);
    expect(swapRuleHit({ memTotal: 1000n, memUsed: 950n, swapTotal: 1000n, swapUsed: 900n }, 9000)).toBe(false); // free 100 is not < 100
  });
});

const ctx = (path: string, o: Partial<OomdCGroupContext> = {}): OomdCGroupContext => ({ path, avg10: 0, currentMemoryUsage: 0n, swapUsage: 0n, pgscan: 0n, lastPgscan: 0n, preference: 'none', ...o });
describe('candidate ordering (test-oomd-util.c TEST(oomd_sort_cgroups))', () => {
  const U = 18446744073709551615n;
  const cs = [
    ctx('/herp.slice', { swapUsage: 20n, lastPgscan: 0n, pgscan: 33n, currentMemoryUsage: 10n }),
    ctx('/herp.slice/derp.scope', { swapUsage: 60n, lastPgscan: 33n, pgscan: 1n, currentMemoryUsage: 20n }),
    ctx('/herp.slice/derp.scope/sheep.service', { swapUsage: 40n, lastPgscan: 1n, pgscan: 33n, currentMemoryUsage: 40n }),
    ctx('/zupa.slice', { swapUsage: 10n, lastPgscan: 33n, pgscan: 2n, currentMemoryUsage: 10n }),
    ctx('/boop.slice', { swapUsage: 11n, lastPgscan: 33n, pgscan: 33n, currentMemoryUsage: 10n }),
    ctx('/omitted.slice', { swapUsage: 90n, pgscan: U, preference: 'omit' }),
    ctx('/avoid.slice', { swapUsage: 99n, pgscan: U, preference: 'avoid' }),
  ];
  const idx = (xs: OomdCGroupContext[]) => xs.map((x) => cs.indexOf(x));
  it('compare_swap_usage: most swap first, avoid last, omit left out', () => expect(idx(sortCgroupContexts(cs, compareSwapUsage, null))).toEqual([1, 2, 0, 4, 3, 6]));
  it('compare_pgscan_rate_and_memory_usage (a pgscan below the last one counts from 0)', () => expect(idx(sortCgroupContexts(cs, comparePgscanRateAndMemoryUsage, null))).toEqual([0, 2, 3, 1, 4, 6]));
  it('with a prefix only its subtree', () => expect(idx(sortCgroupContexts(cs, comparePgscanRateAndMemoryUsage, '/herp.slice/derp.scope'))).toEqual([2, 1]));
  it('oomd_pgscan_rate', () => {
    expect(pgscanRate({ pgscan: 101n, lastPgscan: 42n })).toBe(59n);
    expect(pgscanRate({ pgscan: 2n, lastPgscan: 33n })).toBe(2n);
  });
  it('kill_by_swap_usage takes the first above 5 % of swap; kill_by_pgscan_rate skips no-reclaim-no-memory cgroups', () => {
    const sorted = sortCgroupContexts(cs, compareSwapUsage, null);
    expect(pickBySwapUsage(sorted, 40n)?.path).toBe('/herp.slice/derp.scope');
    expect(pickBySwapUsage(sorted, 60n)?.path).toBe('/avoid.slice'); // "avoid" is still a candidate, last
    expect(pickBySwapUsage(sorted, 99n)).toBe(null); // strictly above the threshold
    expect(pickByPgscanRate([ctx('/a'), ctx('/b', { currentMemoryUsage: 1n })])?.path).toBe('/b');
  });
});

describe('oomd_pressure_above (test-oomd-util.c TEST(oomd_pressure_above))', () => {
  it('high pressure: 99.99 > 80 is a target (duration 0) and sets the hit start; low 1.11 is not and clears it', () => {
    expect(pressureAbove(99.99, 8000, null, 0, 1000)).toEqual({ target: true, hitStartUs: 1000 });
    expect(pressureAbove(1.11, 8000, 500, 0, 1000)).toEqual({ target: false, hitStartUs: null });
  });
  it('the duration runs from the first poll above the limit; at the limit is not above', () => {
    expect(pressureAbove(70, 6000, null, 30_000_000, 0)).toEqual({ target: false, hitStartUs: 0 });
    expect(pressureAbove(70, 6000, 0, 30_000_000, 29_000_000).target).toBe(false);
    expect(pressureAbove(70, 6000, 0, 30_000_000, 30_000_000).target).toBe(true);
    expect(pressureAbove(60, 6000, 0, 30_000_000, 40_000_000)).toEqual({ target: false, hitStartUs: null });
  });
});

describe('candidates (oomd-manager.c recursively_get_cgroup_context)', () => {
  const cgs = ['/', '/user.slice', '/user.slice/a.scope', '/user.slice/b.service', '/user.slice/b.service/x', '/user.slice/b.service/y', '/system.slice'];
  it('leaves under the monitored cgroup; memory.oom.group cgroups whole', () => {
    expect(candidatePaths(cgs, '/user.slice', () => false)).toEqual(['/user.slice/a.scope', '/user.slice/b.service/x', '/user.slice/b.service/y']);
    expect(candidatePaths(cgs, '/user.slice', (p) => p === '/user.slice/b.service')).toEqual(['/user.slice/a.scope', '/user.slice/b.service']);
  });
});

describe('the daemon loop', () => {
  const mi = { MemTotal: 1000, MemAvailable: 50, SwapTotal: 1000, SwapFree: 50 };
  const files = { '/a:memory.swap.current': String(200 * 1024), '/b:memory.swap.current': String(40 * 1024), '/a:memory.current': '1', '/b:memory.current': '1' };
  const tasks = [task(10, { cgroup: '/a' }), task(11, { cgroup: '/b' })];
  it('swap: kills the cgroup with the most swap above 5 %, every 150 ms, with no post-action delay', () => {
    const pol = createPolicy('systemd-oomd');
    const v = view({ meminfo: mi, files, cgroups: ['/', '/a', '/b'], tasks });
    expect(pol.tick(v)).toMatchObject([{ type: 'kill_cgroup', cgroup: '/a', signal: 'SIGKILL', reason: expect.stringContaining('being more than 90.00%') }]);
    expect(pol.tick({ ...v, nowNs: 150_000_000n })).toMatchObject([{ cgroup: '/a' }]);
    expect(createPolicy('systemd-oomd', { swapUsedLimit: '96%' }).tick(v)).toEqual([]); // 5 % free is not below 4 %
    expect(createPolicy('systemd-oomd', { dryRun: true }).tick(v)).toMatchObject([{ type: 'none', reason: expect.stringContaining('dry-run') }]);
    expect(createPolicy('systemd-oomd', { preferences: { '/a': 'omit' } }).tick(v)).toEqual([]); // /b's 40 KiB is under 5 % of swap
  });
  it('pressure: needs reclaim in the monitored cgroup within 30 s; 15 s post-action delay; the root reads no pgscan', () => {
    let scan = 0;
    const pv = (t: number, withScan: boolean) =>
      view({
        nowNs: BigInt(t) * 1_000_000_000n, meminfo: { MemTotal: 1000, MemAvailable: 900, SwapTotal: 0, SwapFree: 0 }, cgroups: ['/', '/u', '/u/a'], tasks: [task(10, { cgroup: '/u/a' })],
        cgroupPsi: () => psi(80), files: { '/u:memory.stat': `pgscan ${withScan ? (scan += 5) : scan}\n`, '/u/a:memory.current': '100' },
      });
    const pol = createPolicy('systemd-oomd', { managedSwap: [], managedMemoryPressure: [{ cgroup: '/u', limit: '50%', durationSec: 10 }] });
    const out: string[] = [];
    for (let t = 0; t <= 40; t++) if (pol.tick(pv(t, true)).length) out.push(`${t}`);
    expect(out).toEqual(['10', '25', '40']); // first at the duration, then each post-action delay
    scan = 0; // a first context counts its whole pgscan as reclaim (last_pgscan 0), as oomd_insert_cgroup_context does
    const noScan = createPolicy('systemd-oomd', { managedSwap: [], managedMemoryPressure: [{ cgroup: '/u', durationSec: 10 }] });
    for (let t = 0; t <= 20; t++) expect(noScan.tick(pv(t, false)), `t=${t}`).toEqual([]);
    const root = createPolicy('systemd-oomd', { managedSwap: [], managedMemoryPressure: [{ cgroup: '/', durationSec: 1 }] });
    for (let t = 0; t <= 5; t++) expect(root.tick(pv(t, true))).toEqual([]);
  });
});
