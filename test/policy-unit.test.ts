/** Each policy's thresholds and victim choice on synthetic views (no engine). */
import { describe, expect, it } from 'vitest';
import { createPolicy, parsePolicyParams, PolicyError, validateActions } from '../bindings/src/policy/index.js';
import { earlyoomMeminfo, earlyoomSignal, earlyoomSleepMs, earlyoomVictim, earlyoomParams } from '../bindings/src/policy/builtin/earlyoom.js';
import { qosOomScoreAdj, rankPods, kubeletParams } from '../bindings/src/policy/builtin/kubelet.js';
import { parsePsi } from '../bindings/src/policy/psi.js';
import { psi, task, view } from './policy-helpers.js';

const eo = (o = {}) => earlyoomParams.parse(o);

describe('earlyoom', () => {
  it('mem% is MemAvailable relative to MemAvailable + AnonPages (meminfo.c), not MemTotal', () => {
    const m = earlyoomMeminfo(view({ meminfo: { MemTotal: 16_000_000, MemAvailable: 1_000_000, AnonPages: 9_000_000 } }));
    expect(m.memAvailablePercent).toBe(10);
    expect(m.swapFreePercent).toBe(0); // no swap: 0 %, so the swap condition always holds
  });
  it('SIGTERM at <= 10 %, SIGKILL at <= 5 % (defaults; kill = term / 2), both mem and swap', () => {
    const at = (avail: number, anon: number, swapFree = 0, swapTotal = 0) => earlyoomSignal(eo(), earlyoomMeminfo(view({ meminfo: { MemAvailable: avail, AnonPages: anon, SwapFree: swapFree, SwapTotal: swapTotal } })));
    expect(at(101, 899)).toBe(null);
    expect(at(100, 900)).toBe('SIGTERM');
    expect(at(51, 949)).toBe('SIGTERM');
    expect(at(50, 950)).toBe('SIGKILL');
    expect(at(50, 950, 200, 1000)).toBe(null); // swap 20 % free: no action
    expect(earlyoomSignal(eo({ m: '20,1' }), earlyoomMeminfo(view({ meminfo: { MemAvailable: 50, AnonPages: 950 } })))).toBe('SIGTERM');
  });
  it('adaptive sleep: headroom / 6000 kiB/ms, clamped to 100..1000 ms', () => {
    const ms = (avail: number, anon: number) => earlyoomSleepMs(eo(), earlyoomMeminfo(view({ meminfo: { MemAvailable: avail, AnonPages: anon } })));
    expect(ms(8_000_000, 0)).toBe(1000);
    expect(ms(1_000_000, 9_000_000)).toBe(100);
    expect(ms(4_000_000, 6_000_000)).toBe(500); // (40-10)% of 10e6 = 3e6 kiB / 6000 = 500
  });
  it('victim: highest oom_score; ties by RSS; skips pid <= 2, kernel threads and adj -1000', () => {
    const ts = [task(1, { oomScore: 999 }), task(2, { oomScore: 999 }), task(10, { oomScore: 500, vmRssKb: 10 }), task(11, { oomScore: 500, vmRssKb: 20 }), task(12, { oomScore: 900, oomScoreAdj: -1000 }), task(13, { oomScore: 999, ppid: 2 })];
    expect(earlyoomVictim(eo(), ts)?.pid).toBe(11);
  });
  it('--prefer/--avoid move oom_score by +-300; --sort-by-rss ranks by RSS', () => {
    const ts = [task(10, { comm: 'big', oomScore: 600, vmRssKb: 600 }), task(11, { comm: 'chrome', oomScore: 400, vmRssKb: 400 })];
    expect(earlyoomVictim(eo(), ts)?.pid).toBe(10);
    expect(earlyoomVictim(eo({ prefer: '^chrome$' }), ts)?.pid).toBe(11);
    expect(earlyoomVictim(eo({ avoid: '^big$' }), ts)?.pid).toBe(11);
    expect(earlyoomVictim(eo({ sortByRss: true }), [task(10, { oomScore: 900, vmRssKb: 100 }), task(11, { oomScore: 100, vmRssKb: 200 })])?.pid).toBe(11);
  });
  it('parameter errors name the policy and the parameter', () => {
    expect(() => parsePolicyParams('earlyoom', { m: 120 })).toThrow(/policy earlyoom: parameter m:/);
    expect(() => parsePolicyParams('earlyoom', { prefer: '(' })).toThrow(/parameter prefer: could not compile regexp/);
    expect(() => parsePolicyParams('earlyoom', { bogus: 1 })).toThrow(/policy earlyoom/);
    expect(() => createPolicy('nope')).toThrow(/unknown policy; built-in: earlyoom/);
  });
});

// nohang and lmkd: test/policies/nohang.test.ts, test/policies/lmkd.test.ts.

describe('systemd-oomd', () => {
  const cg = ['/', '/user.slice', '/user.slice/user-1000.slice', '/user.slice/user-1000.slice/session-2.scope', '/user.slice/user-1000.slice/app.scope'];
  const ts = [task(10, { cgroup: cg[3] }), task(11, { cgroup: cg[3] }), task(12, { cgroup: cg[4] })];
  const files = { [`${cg[3]}:memory.current`]: '900000000', [`${cg[4]}:memory.current`]: '100000000' };
  it('kills the whole cgroup with the most reclaim/usage after full avg10 > 60 % for 30 s, then waits 15 s', () => {
    // The monitored unit is user.slice (ManagedOOMMemoryPressure=kill); its memory.stat pgscan grows (reclaim).
    const pol = createPolicy('systemd-oomd', { managedMemoryPressure: [{ cgroup: '/user.slice' }] });
    let scan = 0;
    const at = (s: number, full: number) =>
      pol.tick(view({ nowNs: BigInt(s) * 1_000_000_000n, cgroups: cg, tasks: ts, files: { ...files, '/user.slice:memory.stat': `pgscan ${(scan += 100)}` }, cgroupPsi: () => psi(full) }));
    expect(at(0, 70)).toEqual([]);
    expect(at(29, 70)).toEqual([]);
    expect(at(30, 70)).toMatchObject([{ type: 'kill_cgroup', cgroup: cg[3], signal: 'SIGKILL' }]);
    expect(at(31, 70)).toEqual([]); // post-action delay
  });
  it('pressure at exactly the limit, or without reclaim activity, does nothing', () => {
    const pol = createPolicy('systemd-oomd', { managedMemoryPressure: [{ cgroup: '/user.slice' }] });
    for (let s = 0; s <= 40; s++) expect(pol.tick(view({ nowNs: BigInt(s) * 1_000_000_000n, cgroups: cg, tasks: ts, files, cgroupPsi: () => psi(60) }))).toEqual([]);
    const pol2 = createPolicy('systemd-oomd', { managedMemoryPressure: [{ cgroup: '/user.slice' }] });
    for (let s = 0; s <= 40; s++) expect(pol2.tick(view({ nowNs: BigInt(s) * 1_000_000_000n, cgroups: cg, tasks: ts, files, cgroupPsi: () => psi(90) }))).toEqual([]);
  });
});

describe('kubelet', () => {
  it('QoS oom_score_adj: Guaranteed -997, BestEffort 1000, Burstable 1000 - 1000*req/cap (int64) clamped to [3, 999]', () => {
    const cap = 8n * 1024n ** 3n;
    expect(qosOomScoreAdj('Guaranteed', 1n, cap)).toBe(-997);
    expect(qosOomScoreAdj('BestEffort', 0n, cap)).toBe(1000);
    expect(qosOomScoreAdj('Burstable', cap / 10n, cap)).toBe(901); // cap/10 is floored, so 1000*req/cap truncates to 99
    expect(qosOomScoreAdj('Burstable', 1024n ** 3n, 10n * 1024n ** 3n)).toBe(900);
    expect(qosOomScoreAdj('Burstable', 1n, cap)).toBe(999);
    expect(qosOomScoreAdj('Burstable', cap, cap)).toBe(3);
    expect(qosOomScoreAdj('Burstable', 3n * 1024n ** 3n, cap)).toBe(1000 - 375);
    expect(qosOomScoreAdj('Burstable', 1000n, 3001n)).toBe(1000 - 333); // truncation: 1000000/3001 = 333.2
  });
  it('ranks pods: over request first, then lower priority, then usage - request', () => {
    const p = kubeletParams.parse({ pods: [{ cgroup: '/a', requestBytes: 100 }, { cgroup: '/b', requestBytes: 1000 }, { cgroup: '/c', requestBytes: 0, priority: 10 }, { cgroup: '/d', requestBytes: 0 }] });
    const files = { '/a:memory.current': '300', '/b:memory.current': '900', '/c:memory.current': '5000', '/d:memory.current': '150' };
    expect(rankPods(view({ files }), p.pods).map((r) => r.pod.cgroup)).toEqual(['/a', '/d', '/c', '/b']);
  });
});

describe('policy errors and PSI parsing', () => {
  it('bad actions are named: policy, index, field', () => {
    expect(() => validateActions('mine', [{ type: 'kill', pid: 5, signal: 'SIGHUP' }])).toThrow(/policy mine: action\[0\]\.signal/);
    expect(() => validateActions('mine', [{ type: 'none' }, { type: 'set_oom_score_adj', pid: 5, value: 5000 }])).toThrow(/action\[1\]\.value/);
    expect(() => validateActions('mine', 'x')).toThrow(PolicyError);
    expect(validateActions('mine', [{ type: 'kill_cgroup', cgroup: '/a', signal: 'SIGKILL' }])).toHaveLength(1);
  });
  it('parses psi_show text', () => {
    const r = parsePsi('some avg10=1.50 avg60=0.00 avg300=0.00 total=123\nfull avg10=0.75 avg60=0.10 avg300=0.00 total=45\n');
    expect(r).toMatchObject({ simulated: true, some: { avg10: 1.5, totalUs: 123n }, full: { avg10: 0.75, avg60: 0.1, totalUs: 45n } });
    expect(parsePsi('garbage')).toBe(null);
  });
});
