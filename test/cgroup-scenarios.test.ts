/**
 * The seed cgroup scenarios that need reclaim: the v1 soft limit under global pressure and v2 memory.high
 * throttling. Each is run as shipped and, where it shows a contrast, with the knob turned off.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { runScenario, type RunResult } from '../bindings/src/run.js';
import { normalizeScenario, parseScenarioOrThrow } from '../bindings/src/scenario/index.js';
import type { Engine } from '../bindings/src/engine.js';

beforeAll(async () => {
  await load();
});

const MiB = 1024;
function run(file: string, edit: (text: string) => string = (t) => t): RunResult & { engine: Engine } {
  const text = edit(readFileSync(file, 'utf8'));
  return runScenario(normalizeScenario(parseScenarioOrThrow(text), { file }), { keepEngine: true }) as RunResult & { engine: Engine };
}
const last = (xs: number[]) => xs[xs.length - 1];
const peak = (xs: number[]) => Math.max(...xs);
const kv = (text: string, key: string) => Number(text.split('\n').find((l) => l.startsWith(`${key} `))!.split(' ')[1]);

describe('seed cgroup scenarios with reclaim', () => {
  it('v1 soft limit: global reclaim pushes the group above its soft limit back to it and spares the other', () => {
    const on = run('scenarios/cgroup-v1-soft-limit.yaml');
    const off = run('scenarios/cgroup-v1-soft-limit.yaml', (t) => t.replace('memory.soft_limit_in_bytes: 512M', 'memory.soft_limit_in_bytes: -1'));
    try {
      for (const r of [on, off]) {
        expect(r.oomKills).toEqual([]);
        expect(peak(r.series.cgroupKb['/batch'])).toBeGreaterThan(1500 * MiB); // /batch went far above 512M first
        expect(r.engine.vmstat().pgsteal_kswapd + r.engine.vmstat().pgsteal_direct).toBeGreaterThan(0n);
      }
      const batchOn = last(on.series.cgroupKb['/batch']);
      const batchOff = last(off.series.cgroupKb['/batch']);
      const webOn = last(on.series.cgroupKb['/web']);
      const webOff = last(off.series.cgroupKb['/web']);
      expect(batchOn).toBeLessThanOrEqual(512 * MiB + 32 * 4); // back at its soft limit (within one reclaim batch)
      expect(batchOn).toBeLessThan(batchOff);
      expect(webOn).toBeGreaterThan(webOff); // /web kept more of its cache
      // the soft limit tree is a v1 mechanism: memory.soft_limit_in_bytes reads back what was set
      expect(on.engine.cgroupRead('/batch', 'memory.soft_limit_in_bytes')).toBe(`${512 * 1024 * 1024}\n`);
    } finally {
      on.engine.free();
      off.engine.free();
    }
  });

  it('v2 memory.high: the leak is throttled (reclaim, then penalty sleeps seen by PSI), never OOM-killed', () => {
    const r = run('scenarios/cgroup-v2-memory-high.yaml');
    const free = run('scenarios/cgroup-v2-memory-high.yaml', (t) => t.replace('memory.high: 1G', 'memory.high: max'));
    try {
      expect(r.oomKills).toEqual([]);
      const events = r.engine.cgroupRead('/app', 'memory.events')!;
      expect(kv(events, 'high')).toBeGreaterThan(100);
      expect([kv(events, 'max'), kv(events, 'oom'), kv(events, 'oom_kill')]).toEqual([0, 0, 0]);
      // reclaim first: the excess goes to swap until swap is full
      const swapUsed = last(r.series.meminfo.SwapTotal) - last(r.series.meminfo.SwapFree);
      expect(swapUsed).toBeGreaterThan(500 * MiB);
      // then the penalty: over the last 20 s the group grew at a small fraction of the leak's 50 MiB/s
      const app = r.series.cgroupKb['/app'];
      const i40 = r.series.tNs.findIndex((t) => t >= 40_000_000_000n);
      const rate = (last(app) - app[i40]) / 20 / MiB;
      expect(rate).toBeLessThan(5);
      expect(r.engine.taskStallNs(100)).toBeGreaterThan(10_000_000_000n);
      expect(r.engine.cgroupRead('/app', 'memory.pressure')).toMatch(/^some avg10=\d+\.\d\d avg60=\d+\.\d\d avg300=\d+\.\d\d total=[1-9]\d*\n/);
      // without memory.high the same leak runs at full speed into memory.max (2G) and swap
      expect(peak(free.series.cgroupKb['/app'])).toBeGreaterThan(1900 * MiB);
      expect(kv(free.engine.cgroupRead('/app', 'memory.events')!, 'high')).toBe(0);
    } finally {
      r.engine.free();
      free.engine.free();
    }
  });
});
