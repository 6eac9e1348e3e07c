/**
 * Swap areas as swapon makes them: priorities, round robin, zram's RAM use, the swap header page, /proc/swaps.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, load } from '../bindings/src/index.js';
import { runScenario, type RunResult } from '../bindings/src/run.js';
import { normalizeScenario, parseScenarioOrThrow } from '../bindings/src/scenario/index.js';

beforeAll(async () => {
  await load();
});

describe('swap areas', () => {
  it('the seed zram scenario: zram (prio 100) fills first, then the SSD; zram holds its pages in RAM at 3:1', () => {
    const file = 'scenarios/swap-zram-priority.yaml';
    const r = runScenario(normalizeScenario(parseScenarioOrThrow(readFileSync(file, 'utf8')), { file }), { keepEngine: true }) as RunResult & { engine: Engine };
    try {
      const rows = r.procSwaps.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/));
      expect(rows.map((x) => [x[0], x[1], x[4]])).toEqual([
        ['/dev/zram0', 'partition', '100'],
        ['/dev/nvme0n1p1', 'partition', '-2'],
      ]);
      const [zram, ssd] = rows.map((x) => ({ size: Number(x[2]), used: Number(x[3]) }));
      expect(zram.size).toBe(512 * 1024 - 4); // the swap header page
      expect(ssd.size).toBe(2048 * 1024 - 4);
      expect(zram.used).toBe(zram.size); // full before the SSD was touched
      expect(ssd.used).toBeGreaterThan(0);
      const vm = r.engine.vmstat();
      expect(vm.nr_zspages).toBe(BigInt(Math.ceil(zram.used / 4 / 3)));
      expect(r.engine.meminfo().SwapTotal).toBe(zram.size + ssd.size);
      expect(r.oomKills).toEqual([]);
    } finally {
      r.engine.free();
    }
  });

  it('swapon through the API: bad arguments are errors, SwapTotal and CommitLimit grow', () => {
    const e = new Engine({ totalramPages: 4096 });
    try {
      const limit0 = e.meminfo().CommitLimit;
      expect(e.swapon(256, 5, 'ssd')).toBe(0);
      expect(e.swapon(256, 5, 'zram', 2)).toBe(1);
      expect(e.meminfo().SwapTotal).toBe(512 * 4);
      expect(e.meminfo().CommitLimit).toBe(limit0 + 512 * 4);
      expect(() => e.swapon(0, 1, 'ssd')).toThrow(/at least one page/);
      expect(() => e.swapon(1, 1, 'tape' as never)).toThrow(/swapon.kind: "tape" is not allowed; expected one of 'disk', 'ssd', 'zram'/);
      expect(() => e.swapon(1, 1, 'zram', 0.5)).toThrow(/swapon.compressionRatio: 0.5 is not allowed; expected a number 1..1000/);
      expect(e.procSwaps().split('\n')[2]).toBe('/dev/zram0                              partition\t1024\t\t0\t\t5');
    } finally {
      e.free();
    }
  });
});
