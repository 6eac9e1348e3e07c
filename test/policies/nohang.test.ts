/**
 * nohang rules against hakavlad/nohang v0.3.0-11-g1d49838. nohang has no unit tests of its own, so the tables restate
 * its decision code (src/nohang: calculate_percent, get_swap_threshold_tuple, check_mem_swap_ex, check_zram_ex,
 * check_psi_ex, sleep_after_check_mem, pid_to_badness, fast_find_victim, implement_corrective_action) and the
 * defaults and ranges of conf/nohang/nohang.conf.in; each case names the function it follows.
 */
import { describe, expect, it } from 'vitest';
import {
  PSI_TIMERS_INIT, calculatePercent, checkMemSwapEx, checkPsiEx, checkZramEx, findVictim, nohangConfig, nohangParams, pidToBadness, sleepAfterCheckMem, swapThreshold, swapThresholdKb, type BadnessRules,
} from '../../bindings/src/policy/builtin/nohang.js';
import { createPolicy, parsePolicyParams } from '../../bindings/src/policy/index.js';
import { psi, task, view } from '../policy-helpers.js';

const GiB = 1024 * 1024; // KiB
const defaults = nohangParams.parse({});
const cfg = (o: Record<string, unknown> = {}, memTotal = 8 * GiB) => nohangConfig(nohangParams.parse(o), memTotal);

describe('config values (calculate_percent, get_swap_threshold_tuple; nohang.conf.in ranges)', () => {
  it.each([
    ['soft_threshold_min_mem', '5 %', 8 * GiB, 0.05 * 8 * GiB],
    ['soft_threshold_min_mem', '5%', 8 * GiB, 0.05 * 8 * GiB],
    ['hard_threshold_min_mem', '300 M', 8 * GiB, 300 * 1024],
    ['hard_threshold_min_mem', '50 %', 1000, 500],
    ['soft_threshold_max_zram', '55 %', 1000, 550],
    ['warning_threshold_min_mem', '100 %', 1000, 1000],
  ] as const)('%s = %s of MemTotal %d KiB -> %d KiB', (key, v, total, kb) => expect(calculatePercent(key, v, total).kb).toBeCloseTo(kb, 6));
  it.each([
    ['soft_threshold_min_mem', '51 %'], ['hard_threshold_min_mem', '-1 %'], ['soft_threshold_min_mem', '5'], ['soft_threshold_min_mem', 'five %'],
    ['soft_threshold_max_zram', '9 %'], ['hard_threshold_max_zram', '91 %'], ['warning_threshold_min_mem', '101 %'], ['warning_threshold_max_zram', '1200 M'],
  ])('%s = %s is invalid', (key, v) => expect(() => calculatePercent(key, v, 1000 * 1024)).toThrow(`ERROR: invalid config: invalid "${key}" value`));
  it('swap thresholds: "N %" of SwapTotal (0..100) or "N M" (>= 0); anything else is invalid', () => {
    expect(swapThreshold('k', '10 %')).toEqual({ value: 10, isPercent: true });
    expect(swapThreshold('k', '200 M')).toEqual({ value: 200, isPercent: false });
    for (const bad of ['101 %', '-1 %', '-1 M', '10', 'x M']) expect(() => swapThreshold('k', bad), bad).toThrow('invalid "k" value');
  });
  it('code over docs: a swap threshold in M is compared with SwapFree in KiB without conversion', () => {
    expect(swapThresholdKb(swapThreshold('k', '200 M'), 4 * GiB)).toBe(200);
    expect(swapThresholdKb(swapThreshold('k', '10 %'), 4 * GiB)).toBe(0.1 * 4 * GiB);
  });
  it('defaults of nohang.conf.in', () => {
    expect(defaults).toMatchObject({
      softThresholdMinMem: '5 %', hardThresholdMinMem: '2 %', softThresholdMinSwap: '10 %', hardThresholdMinSwap: '4 %', softThresholdMaxZram: '55 %', hardThresholdMaxZram: '60 %',
      softThresholdMaxPsi: 40, hardThresholdMaxPsi: 90, psiMetrics: 'full_avg10', psiExcessDuration: 30, psiPostActionDelay: 15, fillRateMem: 6000, fillRateSwap: 2000, fillRateZram: 4000,
      maxSleep: 3, minSleep: 0.1, minBadness: 1, maxSoftExitTime: 10, victimCacheTime: 10, zramCheckingEnabled: false, psiCheckingEnabled: false, lowMemoryWarningsEnabled: false,
      warningThresholdMinMem: '20 %', warningThresholdMinSwap: '25 %', warningThresholdMaxZram: '45 %', warningThresholdMaxPsi: 10,
    });
  });
  it('parameter ranges as the code checks them (code over the conf comments: max_psi 1..100)', () => {
    expect(() => parsePolicyParams('nohang', { psiPostActionDelay: 9 })).toThrow(/parameter psiPostActionDelay/);
    expect(() => parsePolicyParams('nohang', { hardThresholdMaxPsi: 0.5 })).toThrow(/parameter hardThresholdMaxPsi/);
    expect(parsePolicyParams('nohang', { softThresholdMaxPsi: 2 }).softThresholdMaxPsi).toBe(2);
    expect(() => parsePolicyParams('nohang', { fillRateMem: 99 })).toThrow(/fillRateMem/);
    expect(() => parsePolicyParams('nohang', { minSleep: 4 })).toThrow(/invalid "min_sleep" value/);
    expect(() => parsePolicyParams('nohang', { minBadness: 0 })).toThrow(/minBadness/);
    expect(() => parsePolicyParams('nohang', { softThresholdMinSwap: '10' })).toThrow(/invalid "soft_threshold_min_swap" value/);
    expect(() => parsePolicyParams('nohang', { badnessAdjReName: ['200 /// ('] })).toThrow(/Invalid RE pattern/);
    expect(() => parsePolicyParams('nohang', { badnessAdjReName: ['x /// a'] })).toThrow(/BADNESS_ADJ \/\/\/ REGEX/);
    expect(() => parsePolicyParams('nohang', { soft_threshold_min_mem: '5 %' })).toThrow(/unknown parameter soft_threshold_min_mem; nohang has: .*softThresholdMinMem/);
  });
  it('min_mem thresholds are checked against MemTotal when nohang starts', () => {
    const pol = createPolicy('nohang', { softThresholdMinMem: '600 M' });
    expect(() => pol.tick(view({ meminfo: { MemTotal: 1024 * 1024 } }))).toThrow(/invalid "soft_threshold_min_mem" value/);
  });
});

describe('check_mem_swap_ex', () => {
  const c = cfg({}, 1000);
  const at = (avail: number, swapFree = 0, swapTotal = 0) => checkMemSwapEx(c, { memAvailableKiB: avail, swapTotalKiB: swapTotal, swapFreeKiB: swapFree });
  it.each([
    // MemAvailable, SwapFree, SwapTotal -> signal (thresholds 5 % / 2 % of MemTotal 1000, 10 % / 4 % of swap)
    [51, 0, 0, null], [50, 0, 0, 'SIGTERM'], [21, 0, 0, 'SIGTERM'], [20, 0, 0, 'SIGKILL'],
    [50, 101, 1000, null], [50, 100, 1000, 'SIGTERM'], [20, 41, 1000, 'SIGTERM'], [20, 40, 1000, 'SIGKILL'], [1, 500, 1000, null],
  ])('MemAvailable %d, SwapFree %d of %d -> %s', (a, sf, st, sig) => expect(at(a, sf, st)).toBe(sig));
  it('warnings (low_memory_warnings_enabled): warning pair, SwapFree against the value + 0.1', () => {
    const w = cfg({ lowMemoryWarningsEnabled: true }, 1000);
    expect(checkMemSwapEx(w, { memAvailableKiB: 200, swapTotalKiB: 1000, swapFreeKiB: 250 })).toBe('WARN');
    expect(checkMemSwapEx(w, { memAvailableKiB: 201, swapTotalKiB: 1000, swapFreeKiB: 0 })).toBe(null);
    expect(checkMemSwapEx(c, { memAvailableKiB: 200, swapTotalKiB: 0, swapFreeKiB: 0 })).toBe(null); // off by default
  });
});

describe('check_zram_ex (zram_checking_enabled)', () => {
  const c = cfg({}, 1000); // soft 55 % / hard 60 % of MemTotal used by zram, with MemAvailable at the min_mem thresholds
  it.each([
    [50, 550, 'SIGTERM'], [51, 900, null], [50, 549, null], [20, 600, 'SIGKILL'], [20, 599, 'SIGTERM'], [21, 600, 'SIGTERM'],
  ])('MemAvailable %d, MemUsedZram %d -> %s', (a, z, sig) => expect(checkZramEx(c, a, z)).toBe(sig));
  it('zram counts through the daemon loop: swap free but zram full still acts', () => {
    const pol = createPolicy('nohang', { zramCheckingEnabled: true });
    const v = view({ meminfo: { MemTotal: 1000, MemAvailable: 40, SwapTotal: 1000, SwapFree: 1000 }, vmstat: { nr_zspages: 150n }, tasks: [task(10, { oomScore: 5 })] });
    expect(pol.tick(v)).toMatchObject([{ type: 'kill', pid: 10, signal: 'SIGTERM' }]); // 600 KiB of zram >= 55 %
    expect(createPolicy('nohang').tick(v)).toEqual([]); // zram checks off: swap is 100 % free
  });
});

describe('check_psi_ex (psi_checking_enabled)', () => {
  const c = cfg({}, 1000);
  const step = (t: ReturnType<typeof PSI_TIMERS_INIT>, nowS: number, v: number, avail = 20, swapTotal = 1000, lastActionS = -100) =>
    checkPsiEx(defaults, c, t, { nowS, memAvailableKiB: avail, swapTotalKiB: swapTotal, psiValue: v, lastActionS });
  it('the hard timer starts at 0 and adds the time between checks; SIGKILL once it reaches psi_excess_duration', () => {
    let t = PSI_TIMERS_INIT(0);
    let r = step(t, 0, 95);
    expect([r.threshold, r.timers.kill, r.timers.term]).toEqual([null, 0, 0]); // both timers start; 0 s < psi_excess_duration
    t = r.timers;
    r = step(t, 29, 95);
    expect([r.threshold, r.timers.kill]).toEqual([null, 29]);
    r = step(r.timers, 30, 95);
    expect([r.threshold, r.timers.kill]).toEqual(['SIGKILL', 30]);
  });
  it('a dip below the metric threshold resets the timer; so does MemAvailable above the level\'s min_mem', () => {
    let r = step(PSI_TIMERS_INIT(0), 0, 95);
    r = step(r.timers, 20, 10);
    expect(r.timers.kill).toBeLessThan(0);
    r = step(r.timers, 25, 95, 40); // above the hard min_mem (20), below the soft one (50)
    expect(r.timers.kill).toBeLessThan(0);
    expect(r.timers.term).toBe(0);
  });
  it('not looked at without swap or while MemAvailable is above every min_mem threshold; waits psi_post_action_delay', () => {
    expect(step(PSI_TIMERS_INIT(0), 100, 99, 20, 0).threshold).toBe(null);
    expect(step(PSI_TIMERS_INIT(0), 100, 99, 900).threshold).toBe(null);
    let r = step(PSI_TIMERS_INIT(0), 0, 99, 20, 1000, 0);
    r = step(r.timers, 30, 99, 20, 1000, 20); // the last action was 10 s ago (< 15 s)
    expect([r.threshold, r.timers.kill]).toEqual([null, 30]);
  });
  it('psi_excess_duration 0 acts at the first check', () => {
    expect(checkPsiEx({ ...defaults, psiExcessDuration: 0 }, c, PSI_TIMERS_INIT(0), { nowS: 50, memAvailableKiB: 20, swapTotalKiB: 1000, psiValue: 90, lastActionS: 0 }).threshold).toBe('SIGKILL');
  });
});

describe('sleep_after_check_mem', () => {
  const c = cfg({}, 10 * GiB);
  const m = (avail: number, swapFree = 0, swapTotal = 0, zram = 0) => ({ memTotalKiB: 10 * GiB, memAvailableKiB: avail, swapTotalKiB: swapTotal, swapFreeKiB: swapFree, memUsedZramKiB: zram });
  it('headroom over the larger threshold / fill rate (MiB/s), clamped to [min_sleep, max_sleep]', () => {
    expect(sleepAfterCheckMem(defaults, c, m(0.05 * 10 * GiB + 6000 * 1024))).toBeCloseTo(1, 9); // 6000 MiB above soft 5 %
    expect(sleepAfterCheckMem(defaults, c, m(9 * GiB))).toBeCloseTo((9 * 1024 - 512) / 6000, 9);
    expect(sleepAfterCheckMem(defaults, c, m(9 * GiB, 16 * GiB, 16 * GiB))).toBe(3);
    expect(sleepAfterCheckMem(defaults, c, m(100))).toBe(0.1);
    expect(sleepAfterCheckMem(defaults, c, m(0.05 * 10 * GiB + 3000 * 1024, 0.1 * 4 * GiB + 2000 * 1024, 4 * GiB))).toBeCloseTo(1.5, 9);
  });
  it('zram: the smaller of t_mem + t_swap and t_mem + (80 % of MemTotal - zram) / fill_rate_zram; min == max sleeps min', () => {
    const z = { ...defaults, zramCheckingEnabled: true };
    expect(sleepAfterCheckMem(z, c, m(0.05 * 10 * GiB, 4 * GiB, 4 * GiB, 0.8 * 10 * GiB - 2000 * 1024))).toBeCloseTo(0.5, 9);
    expect(sleepAfterCheckMem({ ...defaults, minSleep: 0.5, maxSleep: 0.5 }, c, m(9 * GiB))).toBe(0.5);
  });
});

describe('badness (pid_to_badness) and the victim (badness_pid_list, fast_find_victim)', () => {
  const rules = (o: Partial<BadnessRules> = {}): BadnessRules => ({ ignorePositiveOomScoreAdj: false, name: [], cmdline: [], uid: [], cgroupV1: [], cgroupV2: [], ...o });
  it.each([
    ['oom_score alone', rules(), { oomScore: 300 }, 300],
    ['oom_score 0 stays 0 whatever the rules', rules({ name: [[500, 'p5']] }), { oomScore: 0 }, 0],
    ['positive regex adj with adj >= 0', rules({ name: [[200, '^firefox$']] }), { comm: 'firefox', oomScore: 300 }, 500],
    ['positive regex adj ignored for adj < 0', rules({ name: [[200, '^firefox$']] }), { comm: 'firefox', oomScore: 300, oomScoreAdj: -1 }, 300],
    ['negative regex adj always', rules({ name: [[-100, 'sshd']] }), { comm: 'sshd', oomScore: 300, oomScoreAdj: -5 }, 200],
    ['re.search: unanchored', rules({ name: [[50, 'fox']] }), { comm: 'firefox', oomScore: 1 }, 51],
    ['every matching rule adds', rules({ name: [[50, 'fire'], [25, 'fox']] }), { comm: 'firefox', oomScore: 1 }, 76],
    ['never below 0', rules({ name: [[-1000, '.']] }), { oomScore: 300 }, 0],
    ['ignore_positive_oom_score_adj: minus adj*2//3', rules({ ignorePositiveOomScoreAdj: true }), { oomScore: 1100, oomScoreAdj: 1000 }, 1100 - 666],
    ['ignore_positive_oom_score_adj: negative adj untouched', rules({ ignorePositiveOomScoreAdj: true }), { oomScore: 100, oomScoreAdj: -100 }, 100],
    ['the name is the 15-byte comm', rules({ name: [[100, 'content-process']] }), { comm: 'web-content-process', oomScore: 1 }, 1],
    ['cgroup lines', rules({ cgroupV2: [[100, '^/workload']], cgroupV1: [[-50, '^/user\\.slice/']] }), { cgroup: '/workload/a', oomScore: 10 }, 110],
    ['uid as text', rules({ uid: [[-100, '^0$']] }), { uid: 0, oomScore: 300 }, 200],
    ['cmdline (= comm in the engine)', rules({ cmdline: [[200, 'renderer']] }), { comm: 'renderer', cmdline: 'renderer', oomScore: 1 }, 201],
  ] as const)('%s', (_n, r, t, b) => expect(pidToBadness(r, task(5, t))).toBe(b));
  it('victim: highest badness among oom_score >= 1, not pid 1; equal badness -> the lowest pid', () => {
    const ts = [task(1, { oomScore: 900 }), task(12, { oomScore: 300 }), task(11, { oomScore: 300 }), task(13, { oomScore: 0 })];
    expect(findVictim(rules(), ts)).toMatchObject({ task: { pid: 11 }, badness: 300 });
    expect(findVictim(rules(), [task(1, { oomScore: 900 }), task(13, { oomScore: 0 })])).toBe(null);
    expect(findVictim(rules({ name: [[1, '^p12$']] }), ts)?.task.pid).toBe(12);
  });
  it('config-line syntax "ADJ /// REGEX" as parameters', () => {
    expect(nohangParams.parse({ badnessAdjReName: ['200 /// ^Web Content$', [-50, 'x']] }).badnessAdjReName).toEqual([[200, '^Web Content$'], [-50, 'x']]);
  });
});

describe('the daemon loop (main loop, implement_corrective_action)', () => {
  const ts = [task(10, { oomScore: 500, vmRssKb: 100 }), task(11, { oomScore: 100, vmRssKb: 100 })];
  const at = (s: number, avail: number, tasks = ts) => view({ nowNs: BigInt(Math.round(s * 1e9)), meminfo: { MemTotal: 1000, MemAvailable: avail }, tasks });
  it('SIGTERM; the same victim is not signalled again for max_soft_exit_time, then SIGKILL', () => {
    const pol = createPolicy('nohang');
    expect(pol.tick(at(0, 50))).toMatchObject([{ type: 'kill', pid: 10, signal: 'SIGTERM' }]);
    expect(pol.intervalNs(at(0, 50))).toBe(100_000_000n); // min_sleep after an action
    expect(pol.tick(at(5, 50))).toEqual([]);
    expect(pol.tick(at(10, 50))).toEqual([]);
    expect(pol.tick(at(10.1, 50))).toMatchObject([{ pid: 10, signal: 'SIGKILL' }]);
  });
  it('the hard threshold during the wait sends SIGKILL to the cached victim at once', () => {
    const pol = createPolicy('nohang');
    pol.tick(at(0, 50));
    const higher = [task(10, { oomScore: 100, vmRssKb: 100 }), task(11, { oomScore: 900, vmRssKb: 100 })];
    expect(pol.tick(at(1, 20, higher))).toMatchObject([{ pid: 10, signal: 'SIGKILL' }]); // cached within victim_cache_time
  });
  it('a victim that exited leaves the cache; the next one is chosen by badness', () => {
    const pol = createPolicy('nohang');
    pol.tick(at(0, 50));
    expect(pol.tick(at(1, 50, [ts[1]]))).toMatchObject([{ pid: 11, signal: 'SIGTERM' }]);
  });
  it('badness < min_badness: nothing is sent', () => {
    expect(createPolicy('nohang', { minBadness: 600 }).tick(at(0, 50))).toMatchObject([{ type: 'none', reason: expect.stringContaining('badness (500) < min_badness (600)') }]);
  });
  it('adaptive sleep when nothing is exceeded', () => {
    const pol = createPolicy('nohang');
    expect(pol.tick(at(0, 900))).toEqual([]);
    expect(pol.intervalNs(at(0, 900))).toBe(100_000_000n); // 850 KiB of headroom is far below a second of fill
  });
  it('PSI waits psi_post_action_delay after nohang starts', () => {
    const pol = createPolicy('nohang', { psiCheckingEnabled: true, psiExcessDuration: 0 });
    const v = (s: number, swap = 1000) => view({ nowNs: BigInt(s) * 1_000_000_000n, meminfo: { MemTotal: 1000, MemAvailable: 60, SwapTotal: swap, SwapFree: swap }, psi: psi(95), tasks: ts });
    expect(pol.tick(v(0))).toEqual([]);
    expect(pol.tick(v(14))).toEqual([]);
    // MemAvailable 60 is above soft (50), so only the warning level lets PSI be read; no min_mem level -> no action.
    expect(pol.tick(v(15))).toEqual([]);
    const pol2 = createPolicy('nohang', { psiCheckingEnabled: true, psiExcessDuration: 0 });
    const w = (s: number, swap = 1000) => view({ nowNs: BigInt(s) * 1_000_000_000n, meminfo: { MemTotal: 1000, MemAvailable: 20, SwapTotal: swap, SwapFree: swap }, psi: psi(95), tasks: ts });
    expect(pol2.tick(w(0))).toEqual([]);
    expect(pol2.tick(w(15))).toMatchObject([{ pid: 10, signal: 'SIGKILL' }]);
  });
});
