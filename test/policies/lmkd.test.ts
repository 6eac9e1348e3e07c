/**
 * lmkd rules against AOSP platform/system/memory/lmkd (main 767ae23). lmkd's own tests (tests/lmkd_tests.cpp,
 * lmkd_test.cpp) run on a device and check logcat, so the tables restate its decision code instead, each case naming
 * the lmkd.cpp function it follows (update_props, init_psi_monitors, __mp_event_psi, mp_event_common,
 * find_and_kill_process, proc_get_heaviest, get_lowest_watermark, ...) and README.md's documented defaults. The PSI
 * trigger cases follow kernel/sched/psi.c (update_triggers, window_update).
 */
import { describe, expect, it } from 'vitest';
import {
  AMS_MINFREE_LEVELS, calcSwapUtilization, calcZoneWatermarks, findAndKillProcess, getFreeSwap, getLowestWatermark, lmkdMeminfo, lmkdParams, lmkdProps, minfreeMinScoreAdj, mpEventPsi, mpEventPsiInit,
  parseMinfreeLevels, procGetHeaviest, psiThresholds, psiTriggerInit, psiTriggerUpdate, totalreservePages, vmpressureLevel, type LmkdMeminfo, type LmkdProc, type MpEventInput,
} from '../../bindings/src/policy/builtin/lmkd.js';
import { createPolicy, parsePolicyParams, type PolicyView } from '../../bindings/src/policy/index.js';
import { psi, task, view } from '../policy-helpers.js';

const props = (o: Record<string, unknown> = {}) => lmkdProps(lmkdParams.parse(o));

describe('properties (update_props, README.md)', () => {
  it('defaults: high-end vs low-RAM device', () => {
    expect(props()).toMatchObject({
      levelOomadj: [1001, 800, 0], killHeaviestTask: false, killTimeoutMs: 100, swapFreeLowPercentage: 10, psiPartialStallMs: 70, psiCompleteStallMs: 700,
      thrashingLimitPct: 100, thrashingLimitDecayPct: 10, thrashingCriticalPct: 300, swapUtilMax: 100, stallLimitCritical: 100, lowmemMinOomScore: 701,
      swapCompressionRatio: 1, directReclaimThresholdMs: 0, useMinfreeLevels: false, useNewStrategy: true,
    });
    expect(props({ lowRam: true })).toMatchObject({ psiPartialStallMs: 200, thrashingLimitPct: 30, thrashingLimitDecayPct: 50, thrashingCriticalPct: 90, useNewStrategy: true });
  });
  it('use_new_strategy defaults to low_ram || !use_minfree_levels', () => {
    expect(props({ useMinfreeLevels: true }).useNewStrategy).toBe(false);
    expect(props({ useMinfreeLevels: true, lowRam: true }).useNewStrategy).toBe(true);
    expect(props({ useMinfreeLevels: true, useNewStrategy: true }).useNewStrategy).toBe(true);
  });
  it.each([
    [{ swapFreeLowPercentage: 150 }, 'swapFreeLowPercentage', 100], [{ swapFreeLowPercentage: -5 }, 'swapFreeLowPercentage', 0],
    [{ thrashingLimit: -5 }, 'thrashingLimitPct', 0], [{ thrashingLimitDecay: 120 }, 'thrashingLimitDecayPct', 100], [{ thrashingLimit: 40 }, 'thrashingCriticalPct', 120],
    [{ thrashingLimitCritical: -1 }, 'thrashingCriticalPct', 0], [{ swapUtilMax: 101 }, 'swapUtilMax', 100], [{ lowmemMinOomScore: 100 }, 'lowmemMinOomScore', 201],
    [{ lowmemMinOomScore: 1001 }, 'lowmemMinOomScore', 1001],
  ])('%o -> %s %d (clamps)', (o, k, v) => expect((props(o) as unknown as Record<string, number>)[k]).toBe(v));
  it('PSI triggers: new strategy medium some / critical full from the properties, no low; old strategy its fixed table', () => {
    expect(psiThresholds(props())).toEqual([null, { stall: 'some', thresholdMs: 70 }, { stall: 'full', thresholdMs: 700 }]);
    expect(psiThresholds(props({ useMinfreeLevels: true }))).toEqual([{ stall: 'some', thresholdMs: 70 }, { stall: 'some', thresholdMs: 100 }, { stall: 'full', thresholdMs: 70 }]);
    expect(psiThresholds(props({ psiCompleteStallMs: 0 }))[2]).toBe(null);
  });
  it('minfree levels: "pages:adj" pairs, at most six (MAX_TARGETS); the ActivityManager default', () => {
    expect(parseMinfreeLevels(AMS_MINFREE_LEVELS)).toEqual([[18432, 0], [23040, 100], [27648, 200], [32256, 250], [36864, 900], [46080, 950]].map(([minfree, adj]) => ({ minfree, adj })));
    expect(() => parseMinfreeLevels('1:0,2:1,3:2,4:3,5:4,6:5,7:6')).toThrow(/1\.\.6/);
    expect(() => parsePolicyParams('lmkd', { minfreeLevels: '100=0' })).toThrow(/parameter minfreeLevels: "100=0" is not "minfree_pages:oom_adj"/);
    expect(() => parsePolicyParams('lmkd', { mediumMinAdj: 0 })).toThrow(/unknown parameter mediumMinAdj; lmkd has: lowRam, low, medium, critical/);
  });
});

describe('PSI trigger (kernel/sched/psi.c update_triggers, window_update)', () => {
  const T = 70_000; // 70 ms
  it('an event when the growth inside the 1 s window reaches the threshold, at most one per window', () => {
    let s = psiTriggerInit(0, 0n);
    let r = psiTriggerUpdate(s, 100_000, 69_999n, T);
    expect(r.event).toBe(false);
    r = psiTriggerUpdate((s = r.state), 200_000, 70_000n, T);
    expect(r.event).toBe(true);
    r = psiTriggerUpdate((s = r.state), 300_000, 200_000n, T);
    expect(r.event).toBe(false); // within a window of the last event: pending
    r = psiTriggerUpdate((s = r.state), 1_300_000, 200_000n, T);
    expect(r.event).toBe(true); // no new stall, but the pending event fires once the window has passed
  });
  it('no new stall and nothing pending: no event; a new window interpolates the previous window\'s growth', () => {
    let s = psiTriggerInit(0, 0n);
    let r = psiTriggerUpdate(s, 1_100_000, 60_000n, T); // past a window: restart, prev_growth 60 ms
    expect(r.event).toBe(false);
    r = psiTriggerUpdate((s = r.state), 1_600_000, 80_000n, T); // 20 ms + 60 ms * 0.5 = 50 ms
    expect(r.event).toBe(false);
    r = psiTriggerUpdate((s = r.state), 1_700_000, 95_000n, T); // 35 ms + 60 ms * 0.4 = 59 ms
    expect(r.event).toBe(false);
    r = psiTriggerUpdate((s = r.state), 1_800_000, 112_000n, T); // 52 ms + 18 ms = 70 ms
    expect(r.event).toBe(true);
    expect(psiTriggerUpdate(r.state, 3_000_000, 112_000n, T).event).toBe(false);
  });
});

describe('what lmkd reads (meminfo_parse, get_free_swap, calc_swap_utilization, zoneinfo)', () => {
  const mi = lmkdMeminfo({ MemFree: 4000, Cached: 800, SwapCached: 40, Buffers: 80, Shmem: 120, 'Inactive(file)': 400, SwapTotal: 8000, SwapFree: 6000, 'Active(anon)': 2000, 'Inactive(anon)': 1880 });
  it('pages = kB / 4; nr_file_pages = Cached + SwapCached + Buffers; easy_available = MemFree + Inactive(file)', () => {
    expect([mi.nr_free_pages, mi.nr_file_pages, mi.easy_available, mi.free_swap]).toEqual([1000, 230, 1100, 1500]);
  });
  it('free swap is at most easily available memory times swap_compression_ratio (0: SwapFree as is)', () => {
    expect([getFreeSwap(mi, 1), getFreeSwap(mi, 2), getFreeSwap(mi, 0)]).toEqual([1100, 1500, 1500]);
  });
  it('swap utilization: used * 100 / (anon + shmem + used)', () => {
    expect(calcSwapUtilization(mi, 0)).toBe(Math.trunc((500 * 100) / (500 + 470 + 30 + 500)));
  });
  it('watermarks: per present zone plus its largest protection; totalreserve = protection + high', () => {
    const zones = [{ present: true, min: 100, low: 125, high: 150, protection: [0, 50, 30] }, { present: true, min: 10, low: 12, high: 15, protection: [0, 0, 0] }, { present: false, min: 1, low: 1, high: 1, protection: [9] }];
    expect(calcZoneWatermarks(zones)).toEqual({ min: 160, low: 187, high: 215 });
    expect(totalreservePages(zones.slice(0, 2))).toBe(215);
  });
  it.each([
    [159, 0, 'WMARK_MIN'], [160, 0, 'WMARK_LOW'], [200, 0, 'WMARK_HIGH'], [215, 0, 'WMARK_NONE'], [250, 50, 'WMARK_HIGH'],
  ])('get_lowest_watermark: free %d, CMA free %d -> %s', (free, cma, w) => expect(getLowestWatermark({ nr_free_pages: free, cma_free: cma }, { min: 160, low: 187, high: 215 })).toBe(w));
});

describe('victims (find_and_kill_process, proc_get_heaviest, kill_one_process)', () => {
  // Each slot lists the most recently registered first; the tail is the least recently registered.
  const P = (pid: number, oomadj: number, rssKb: number, o: Partial<LmkdProc> = {}): LmkdProc => ({ pid, uid: 10000 + pid, comm: `app${pid}`, oomadj, rssPages: rssKb / 4, vmRssKb: rssKb, vmSwapKb: 0, ...o });
  const ids = (k: ReturnType<typeof findAndKillProcess>) => k.map((x) => x.proc.pid);
  it('highest adj first; inside a slot the tail (least recently registered), or the heaviest with kill_heaviest_task', () => {
    const ps = [P(1, 900, 400), P(2, 900, 800), P(3, 900, 100), P(4, 950, 40)];
    expect(ids(findAndKillProcess(ps, 800, false))).toEqual([4]);
    expect(ids(findAndKillProcess(ps.slice(0, 3), 800, false))).toEqual([3]);
    expect(ids(findAndKillProcess(ps.slice(0, 3), 800, true))).toEqual([2]);
    expect(findAndKillProcess(ps, 951, true)).toEqual([]);
  });
  it('at or below PERCEPTIBLE_APP_ADJ (200) the heaviest is taken even without kill_heaviest_task', () => {
    const ps = [P(1, 200, 400), P(2, 200, 800), P(3, 200, 100)];
    expect(ids(findAndKillProcess(ps, 0, false))).toEqual([2]);
  });
  it('equal sizes: the first (most recent) wins; all sizes 0: nobody in that slot; a single process is taken unread', () => {
    expect(procGetHeaviest([P(1, 900, 400), P(2, 900, 400)])?.pid).toBe(1);
    expect(procGetHeaviest([P(1, 900, 0), P(2, 900, 0)])).toBe(null);
    expect(procGetHeaviest([P(1, 900, 0)])?.pid).toBe(1);
  });
  it('a zombie is dropped and the slot tried again; a kill freeing 0 pages goes on to the next adj', () => {
    expect(ids(findAndKillProcess([P(1, 900, 400), P(2, 900, 800, { vmRssKb: null })], 0, false))).toEqual([1]);
    expect(ids(findAndKillProcess([P(1, 900, 0), P(2, 800, 800)], 0, false))).toEqual([1, 2]);
    expect(findAndKillProcess([P(2, 800, 800)], 0, false)[0].pagesFreed).toBe(200);
  });
});

describe('kill decision, new strategy (__mp_event_psi)', () => {
  const pr = props();
  const mi = (o: Partial<LmkdMeminfo> = {}): LmkdMeminfo => ({
    nr_free_pages: 10_000, cached: 0, swap_cached: 0, buffers: 0, shmem: 0, unevictable: 0, total_swap: 0, free_swap: 0, active_anon: 0, inactive_anon: 0, active_file: 0, inactive_file: 0, cma_free: 0,
    nr_file_pages: 0, easy_available: 10_000, ...o,
  });
  const WM = { min: 1000, low: 1250, high: 1500 };
  const input = (o: Partial<MpEventInput> = {}): MpEventInput => ({
    nowMs: 10_000, level: 1, events: true, mi: mi(), wmarks: WM, psiFullAvg10: 0, killPending: false,
    vmstat: { workingset_refault_file: 5000, nr_inactive_file: 500, nr_active_file: 499, pgscan_kswapd: 0, pgscan_direct: 0, pgrefill: 0 }, ...o,
  });
  const run = (steps: Partial<MpEventInput>[], p = pr, pages = 100) => {
    const s = mpEventPsiInit(p);
    const mins: number[] = [];
    let r = mpEventPsi(p, s, input(steps[0]), (m) => (mins.push(m), pages));
    for (const st of steps.slice(1)) r = mpEventPsi(p, s, input(st), (m) => (mins.push(m), pages));
    return { r, s, mins };
  };
  const freeAt = (n: number) => ({ mi: mi({ nr_free_pages: n, easy_available: n }) });
  it.each([
    ['nothing breached', [{}], null, null, ''],
    ['below the high watermark only: no reason (wmark < WMARK_HIGH means below low)', [freeAt(1400)], null, null, ''],
    ['LOW_MEM: below the low watermark, cached apps (lowmem_min_oom_score 701)', [freeAt(1200)], 'LOW_MEM', 701, 'low watermark is breached'],
    ['LOW_MEM below min: "min"', [freeAt(900)], 'LOW_MEM', 701, 'min watermark is breached'],
    ['NOT_RESPONDING: a critical event', [{ level: 2 }], 'NOT_RESPONDING', 0, 'device is not responding'],
    ['critical polling (no event) is not NOT_RESPONDING', [{ level: 2, events: false }], null, null, ''],
    ['LOW_MEM_AND_SWAP, above min: perceptible spared', [{ mi: mi({ nr_free_pages: 1200, easy_available: 1200, total_swap: 1000, free_swap: 99 }) }], 'LOW_MEM_AND_SWAP', 201, 'low watermark is breached and swap is low (396kB < 400kB)'],
    ['LOW_MEM_AND_SWAP at min: adj 0', [{ mi: mi({ nr_free_pages: 900, easy_available: 900, total_swap: 1000, free_swap: 99 }) }], 'LOW_MEM_AND_SWAP', 0, 'min watermark is breached and swap is low'],
    ['free swap counts at most easy_available (zram): low', [{ mi: mi({ nr_free_pages: 50, easy_available: 50, total_swap: 1000, free_swap: 1000 }) }], 'LOW_MEM_AND_SWAP', 0, '(200kB < 400kB)'],
    ['LOW_MEM_AND_SWAP_UTIL with swap_util_max', [{ mi: mi({ nr_free_pages: 1200, easy_available: 1200, total_swap: 1000, free_swap: 500, active_anon: 200 }) }], 'LOW_MEM_AND_SWAP_UTIL', 0, 'swap utilization is high (71% > 50%)', props({ swapUtilMax: 50 })],
  ] as const)('%s', (_n, steps, reason, min, desc, p = pr) => {
    const { r, mins } = run(steps as unknown as Partial<MpEventInput>[], p);
    expect(r.kill?.reason ?? null).toBe(reason);
    if (reason) {
      expect(r.kill!.minScoreAdj).toBe(min);
      expect(mins).toEqual([min]);
      expect(r.kill!.desc).toContain(desc);
    }
  });
  const thrash = (refault: number, now: number, extra: Partial<MpEventInput> = {}) => ({ nowMs: now, vmstat: { workingset_refault_file: refault, nr_inactive_file: 500, nr_active_file: 499, pgscan_kswapd: 0, pgscan_direct: 0, pgrefill: 0 }, ...extra });
  it('thrashing: refaults since the reset window as % of the file LRU; LOW_MEM_AND_THRASHING spares perceptible below critical', () => {
    const { r, s } = run([thrash(5000, 10_000), thrash(6100, 10_500, freeAt(1200))]);
    expect(r.kill).toMatchObject({ reason: 'LOW_MEM_AND_THRASHING', thrashing: 110, minScoreAdj: 201, desc: 'low watermark is breached and thrashing (110%)' });
    expect(s.thrashingLimit).toBe(90); // cut by thrashing_limit_decay 10 % after a kill
  });
  it('thrashing at the critical level (3 x limit) reaches adj 0; 100 % exactly is not over the limit', () => {
    expect(run([thrash(5000, 10_000), thrash(8000, 10_500, freeAt(1200))]).r.kill).toMatchObject({ reason: 'LOW_MEM_AND_THRASHING', thrashing: 300, minScoreAdj: 0 });
    expect(run([thrash(5000, 10_000), thrash(6000, 10_500, freeAt(1200))]).r.kill).toMatchObject({ reason: 'LOW_MEM', thrashing: 100 });
  });
  it('LOW_SWAP_AND_THRASHING does not need a watermark; DIRECT_RECL_AND_THRASHING needs direct reclaim', () => {
    const lowSwap = { mi: mi({ total_swap: 1000, free_swap: 0 }) };
    expect(run([thrash(5000, 10_000), thrash(6100, 10_500, lowSwap)]).r.kill).toMatchObject({ reason: 'LOW_SWAP_AND_THRASHING', minScoreAdj: 201 });
    const direct = thrash(6100, 10_500);
    direct.vmstat.pgscan_direct = 7;
    expect(run([thrash(5000, 10_000), direct]).r).toMatchObject({ reclaim: 'DIRECT_RECLAIM', kill: { reason: 'DIRECT_RECL_AND_THRASHING', minScoreAdj: 201 } });
  });
  it('the reset window: after 1 s the growth carries over halved per window unless it stayed over the limit', () => {
    const { s } = run([thrash(5000, 10_000), thrash(5500, 11_100)]);
    expect(s.prevThrashGrowth).toBe(25); // 500 * 100 / 1000 = 50, under the limit: >> 1
    const over = run([thrash(5000, 10_000), thrash(6500, 11_100)]);
    expect(over.s.prevThrashGrowth).toBe(150); // over the limit in the last window: kept
  });
  it('PRESSURE_AFTER_KILL: the cycle after a kill still below the low watermark uses pressure_after_kill_min_score', () => {
    const { r } = run([freeAt(900), { ...freeAt(900), ...thrash(5001, 10_200) }], props({ pressureAfterKillMinScore: 300 }));
    expect(r.kill).toMatchObject({ reason: 'PRESSURE_AFTER_KILL', minScoreAdj: 300, desc: 'min watermark is breached even after kill' });
  });
  it('bails out without reclaim or refault activity; skips while a victim is dying within kill_timeout_ms', () => {
    const s = mpEventPsiInit(pr);
    mpEventPsi(pr, s, input(freeAt(1200)), () => 0);
    expect(mpEventPsi(pr, s, input({ ...freeAt(1200), nowMs: 10_050 }), () => 0)).toMatchObject({ kill: null, skipped: 'no reclaim or refault' });
    const k = mpEventPsiInit(pr);
    mpEventPsi(pr, k, input(freeAt(1200)), () => 10);
    expect(mpEventPsi(pr, k, input({ ...freeAt(1200), nowMs: 10_050, killPending: true }), () => 10).skipped).toBe('kill pending');
    expect(mpEventPsi(pr, k, input({ ...thrash(5001, 10_150), ...freeAt(1200), killPending: true }), () => 10).skipped).toBeUndefined();
  });
  it('a lower event within the first polling window is ignored; a full-stall avg10 above stall_limit_critical allows adj 0', () => {
    const s = mpEventPsiInit(pr);
    mpEventPsi(pr, s, input({ level: 2 }), () => 0);
    expect(mpEventPsi(pr, s, input({ level: 1, nowMs: 10_010 }), () => 0).skipped).toBe('lower event too soon');
    expect(run([{ ...freeAt(1200), psiFullAvg10: 60 }], props({ stallLimitCritical: 50 })).mins).toEqual([0]);
  });
});

describe('kill decision, old strategy (mp_event_common)', () => {
  const levels = parseMinfreeLevels(AMS_MINFREE_LEVELS);
  const mi = (free: number, file: number, o: Partial<LmkdMeminfo> = {}) => ({ ...lmkdMeminfo({}), nr_free_pages: free, nr_file_pages: file, ...o });
  it.each([
    [50_000, 50_000, 0, null], [46_000, 46_000, 0, 950], [30_000, 100_000, 0, null], [30_000, 30_000, 0, 250], [10_000, 10_000, 0, 0], [40_000, 10_000, 4_000, 900],
  ])('minfree: free %d, file %d pages, totalreserve %d -> min adj %s', (free, file, reserve, adj) => expect(minfreeMinScoreAdj(levels, mi(free, file), reserve).minScoreAdj).toBe(adj));
  it('other_file leaves out shmem, unevictable and swap cache (0 when they exceed it)', () => {
    expect(minfreeMinScoreAdj(levels, mi(0, 30_000, { shmem: 10_000, unevictable: 1_000, swap_cached: 1_000 }), 0).otherFile).toBe(18_000);
    expect(minfreeMinScoreAdj(levels, mi(0, 3, { shmem: 10 }), 0).otherFile).toBe(0);
  });
  it('vmpressure: upgrade when swapping hard (critical_upgrade), ignore or downgrade while swap is plentiful', () => {
    const swap = mi(0, 0, { total_swap: 1000, free_swap: 900, easy_available: 10_000 });
    const up = props({ criticalUpgrade: true, upgradePressure: 50, downgradePressure: 90 });
    expect(vmpressureLevel(up, 1, 40, 100, mi(0, 0))).toBe(2);
    expect(vmpressureLevel(up, 1, 95, 100, swap)).toBe(null);
    expect(vmpressureLevel(up, 2, 60, 100, swap)).toBe(1);
    expect(vmpressureLevel(props(), 1, 95, 100, swap)).toBe(1); // defaults 100/100: neither
    expect(vmpressureLevel(props(), 1, null, null, swap)).toBe(1);
  });
});

describe('the daemon loop', () => {
  const apps = [task(10, { comm: 'cached1', oomScoreAdj: 900, vmRssKb: 40_000 }), task(11, { comm: 'cached2', oomScoreAdj: 950, vmRssKb: 20_000 }), task(12, { comm: 'fg', oomScoreAdj: 0, vmRssKb: 400_000 })];
  const at = (ms: number, o: { someUs?: bigint; fullUs?: bigint; freeKb?: number; refault?: bigint; tasks?: typeof apps } = {}): PolicyView => ({
    ...view({
      nowNs: BigInt(ms) * 1_000_000n, tasks: o.tasks ?? apps, psi: psi(0, o.someUs ?? 0n, o.fullUs ?? 0n),
      meminfo: { MemFree: o.freeKb ?? 400_000 }, vmstat: { workingset_refault_file: o.refault ?? 1n, pgscan_kswapd: 0n, pgscan_direct: 0n, pgrefill: 0n },
    }),
    zoneinfo: { min: 4000, low: 5000, high: 6000 },
  });
  it('a medium PSI event below the high watermark kills a cached app (LOW_MEM) with lmkd\'s log line', () => {
    const pol = createPolicy('lmkd');
    expect(pol.tick(at(0))).toEqual([]);
    expect(pol.tick(at(100, { someUs: 80_000n }))).toEqual([]); // plenty of free memory: no kill reason
    const pol2 = createPolicy('lmkd');
    pol2.tick(at(0));
    expect(pol2.tick(at(100, { someUs: 80_000n, freeKb: 18_000 }))).toMatchObject([
      { type: 'kill', pid: 11, signal: 'SIGKILL', reason: "Kill 'cached2' (11), uid 1000, oom_score_adj 950 to free 20000kB rss, 0kB swap; reason: low watermark is breached" },
    ]);
  });
  it('no PSI event, no decision: lmkd only wakes on its triggers and polls for a window after one', () => {
    const pol = createPolicy('lmkd');
    pol.tick(at(0, { freeKb: 1000 }));
    expect(pol.tick(at(100, { freeKb: 1000 }))).toEqual([]);
    expect(pol.intervalNs(at(100))).toBe(100_000_000n);
  });
  it('a critical (full stall) event reaches the foreground app once the cached ones are gone', () => {
    const pol = createPolicy('lmkd');
    pol.tick(at(0, { tasks: [apps[2]] }));
    expect(pol.tick(at(100, { fullUs: 700_000n, tasks: [apps[2]] }))).toMatchObject([{ pid: 12, reason: expect.stringContaining('reason: device is not responding') }]);
  });
  it('minfree mode (old strategy): levels from free and file pages', () => {
    const pol = createPolicy('lmkd', { useMinfreeLevels: true });
    pol.tick(at(0));
    // some 70 ms -> the low trigger; free 100000 kB = 25000 pages - reserve 6000 = 19000 < 23040 -> min adj 100
    expect(pol.tick(at(100, { someUs: 70_000n, freeKb: 100_000 }))).toMatchObject([{ type: 'kill', pid: 11 }, { type: 'none', reason: 'Reclaimed 20000kB at oom_score_adj 100 (low pressure)' }]);
  });
});
