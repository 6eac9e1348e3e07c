// The scenario runner on small scenarios, with numbers the kernel's accounting implies.
import { beforeAll, describe, expect, it } from 'vitest';
import { load, runScenario, detectLeaks, textSummary } from '../bindings/src/index.js';
import { normalizeScenario, parseScenarioOrThrow } from '../bindings/src/scenario/index.js';
import { ScenarioRunError } from '../bindings/src/run.js';

beforeAll(async () => {
  await load();
});

const run = (s: object, tick?: bigint) => runScenario(normalizeScenario(parseScenarioOrThrow(JSON.stringify(s))), tick ? { tickNs: tick } : {});
const last = (a: number[]) => a[a.length - 1];

describe('runScenario', () => {
  it('a steady workload of N pages ends with AnonPages == N * 4 kB and RSS == N * 4 kB', () => {
    const r = run({ duration: '2s', machine: { ram: '256M' }, processes: [{ comm: 'app', pid: 10, workload: { kind: 'steady', working_set: '10M' } }] });
    expect(last(r.series.meminfo.AnonPages)).toBe(2560 * 4);
    expect(last(r.series.meminfo.Committed_AS)).toBe(2560 * 4);
    expect(last(r.series.rssKb['10'] as number[])).toBe(10240);
    expect(r.series.tNs.length).toBe(21); // 0, 0.1 s, ..., 2 s
    expect(r.processes[0].outcome).toEqual({ kind: 'running' });
  });

  it('a ramp writes the working set linearly', () => {
    const r = run({ duration: '1s', machine: { ram: '256M' }, processes: [{ comm: 'app', pid: 10, workload: { kind: 'steady', working_set: '40M', ramp: '1s' } }] });
    const rss = r.series.rssKb['10'] as number[];
    expect(rss[5]).toBe(20480); // half way at 0.5 s
    expect(last(rss)).toBe(40960);
  });

  it('a leak grows by its exact rate', () => {
    const r = run({ duration: '3s', machine: { ram: '1G' }, processes: [{ comm: 'leaky', pid: 7, workload: { kind: 'leak', initial: '4M', rate: '1M/s' } }] });
    expect(last(r.series.rssKb['7'] as number[])).toBe(4096 + 3 * 1024);
  });

  it('a fork with overcommit 2 that must fail shows ENOMEM, and the exec after it never happens', () => {
    const r = run({
      duration: '2s',
      machine: { ram: '1G', sysctl: { 'vm.overcommit_memory': 2, 'vm.overcommit_ratio': 100 } },
      processes: [{ comm: 'java', pid: 100, workload: { kind: 'steady', working_set: '600M' } }],
      actions: [
        { at: '1s', action: 'fork', target: 100, child: { pid: 101 } },
        { at: '1500ms', action: 'exec', target: 101, comm: 'sh' },
      ],
    });
    const child = r.processes.find((p) => p.pid === 101)!;
    expect(child.outcome).toMatchObject({ kind: 'fork_failed', errno: 'ENOMEM', atNs: 1_000_000_000n });
    expect(r.processes[0].errors).toEqual([{ syscall: 'fork', errno: 'ENOMEM', count: 1, firstNs: 1_000_000_000n, lastNs: 1_000_000_000n }]);
    expect(r.log.some((l) => l.line.includes('not enough memory'))).toBe(true);
    expect(textSummary(r).join('\n')).toMatch(/not created: fork\(\) failed with ENOMEM at 1s/);
  });

  it('the same fork in mode 1 succeeds and doubles Committed_AS; exec drops the copy', () => {
    const r = run({
      duration: '2s',
      machine: { ram: '1G', sysctl: { 'vm.overcommit_memory': 1 } },
      processes: [{ comm: 'java', pid: 100, workload: { kind: 'steady', working_set: '600M' } }],
      actions: [
        { at: '1s', action: 'fork', target: 100, child: { pid: 101 } },
        { at: '1500ms', action: 'exec', target: 101, comm: 'sh' },
      ],
    });
    const i1 = r.series.tNs.indexOf(1_000_000_000n);
    expect(r.series.meminfo.Committed_AS[i1]).toBe(2 * 600 * 1024);
    expect(r.series.meminfo.AnonPages[i1]).toBe(600 * 1024); // shared copy-on-write
    expect(last(r.series.meminfo.Committed_AS)).toBe(600 * 1024);
    expect(r.processes.find((p) => p.pid === 101)!.comm).toBe('sh');
  });

  it('a leak that runs the machine out of memory is OOM-killed by the kernel, with the kernel log line', () => {
    const r = run({
      duration: '3s',
      machine: { ram: '64M' },
      processes: [
        { comm: 'hog', pid: 5, workload: { kind: 'leak', initial: '32M', rate: '32M/s' } },
        { comm: 'idle', pid: 6, workload: { kind: 'steady', working_set: '4M' } },
      ],
    });
    expect(r.oomKills).toHaveLength(1);
    expect(r.oomKills[0]).toMatchObject({ pid: 5, comm: 'hog', constraint: 0 /* CONSTRAINT_NONE */ });
    expect(r.log.some((l) => l.line.startsWith('Out of memory: Killed process 5 (hog) total-vm:'))).toBe(true);
    expect(r.processes.find((p) => p.pid === 6)?.outcome.kind).toBe('running');
    expect(r.processes.find((p) => p.pid === 5)?.outcome.kind).toBe('oom_killed');
  });

  it('a sysctl the kernel rejects is a scenario error naming the field', () => {
    const n = normalizeScenario(parseScenarioOrThrow(JSON.stringify({ machine: { ram: '64M' } })));
    n.machine.sysctl['vm.overcommit_memory'] = 7n; // past validation: the engine's handler must refuse it
    expect(() => runScenario(n)).toThrow(ScenarioRunError);
    expect(() => runScenario(n)).toThrow(/machine\.sysctl\["vm\.overcommit_memory"\]: the kernel rejected 7 \(EINVAL\)/);
  });

  it('a spike is written and released; a file scan fills the page cache', () => {
    const r = run({
      duration: '3s',
      machine: { ram: '512M' },
      processes: [
        { comm: 'spiky', pid: 1, workload: { kind: 'spike', size: '20M', at: '1s', duration: '1s' } },
        { comm: 'scan', pid: 2, workload: { kind: 'file_scan', file_size: '30M', rate: '10M/s' } },
      ],
    });
    const rss = r.series.rssKb['1'] as number[];
    expect(rss[5]).toBe(0);
    expect(rss[15]).toBe(20480);
    expect(last(rss)).toBe(0);
    expect(last(r.series.meminfo.Cached)).toBe(30 * 1024);
  });

  it('a jvm reserve is not committed; commit follows growth', () => {
    const r = run({ duration: '2s', machine: { ram: '1G' }, processes: [{ comm: 'java', pid: 3, workload: { kind: 'jvm', reserve: '512M', initial: '64M', growth: '32M/s' } }] });
    expect(r.series.meminfo.Committed_AS[0]).toBe(64 * 1024);
    expect(last(r.series.meminfo.Committed_AS)).toBe(128 * 1024);
    expect(last(r.series.rssKb['3'] as number[])).toBe(128 * 1024);
  });

  it('is deterministic for a seed (zipf accesses drawn in the engine)', () => {
    const s = { duration: '2s', seed: 9, machine: { ram: '256M' }, processes: [{ comm: 'z', pid: 4, workload: { kind: 'zipf', working_set: '64M', touch_rate: 20000 } }] };
    const a = run(s);
    const b = run(s);
    expect(a.series.rssKb).toEqual(b.series.rssKb);
    expect(last(a.series.rssKb['4'] as number[])).toBeGreaterThan(0);
    expect(last(a.series.rssKb['4'] as number[])).toBeLessThan(64 * 1024);
  });

  it('flags a steady leak with its rate and projected time, not a ramp-up', () => {
    const r = run({
      duration: '20s',
      machine: { ram: '2G' },
      processes: [
        { comm: 'ramp', pid: 1, workload: { kind: 'steady', working_set: '500M', ramp: '2s' } },
        { comm: 'leaky', pid: 2, workload: { kind: 'leak', rate: '10M/s' } },
      ],
    });
    const leaks = detectLeaks(r);
    expect(leaks.map((l) => l.comm)).toEqual(['leaky']);
    expect(leaks[0].rateKbPerS).toBeCloseTo(10240, 0);
    expect(leaks[0].projectedOomS).toBeCloseTo(leaks[0].memAvailableKb / leaks[0].rateKbPerS, 6);
  });

  it('fork_exec children exec, write, exit; the tick is configurable', () => {
    const r = run({ duration: '1s', machine: { ram: '512M' }, processes: [{ comm: 'spawner', pid: 1, workload: { kind: 'fork_exec', interval: '100ms', child_size: '1M', child_lifetime: '300ms' } }] }, 50_000_000n);
    expect(r.series.tNs.length).toBe(21);
    expect(r.processes[0].workloadChildren).toBe(11);
    expect(Math.max(...r.series.tasks)).toBeGreaterThan(2);
    expect(r.processes[0].errors).toEqual([]);
  });
});
