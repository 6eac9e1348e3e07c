// The reference engine's reclaim (bindings/src/reference/vmscan.ts): its pure rules against the public `reclaim`
// vectors and the dossier's example, and the reclaim passes through small `ops` scenarios.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOps } from '../bindings/src/reference/index.js';
import { inactiveIsLow, pressureBalance } from '../bindings/src/reference/vmscan.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/kernel-vectors.json', import.meta.url), 'utf8')) as {
  id: string;
  inputs: { cases: { inactive: number; active: number }[] };
  expected: { cases: { inactive_ratio: number; inactive_is_low: boolean }[] };
}[];

describe('vmscan.ts rules', () => {
  it('inactive_is_low matches reclaim-inactive-is-low', () => {
    const v = vectors.find((x) => x.id === 'reclaim-inactive-is-low')!;
    v.inputs.cases.forEach((c, i) => {
      const r = inactiveIsLow(c.inactive, c.active);
      expect({ inactive_ratio: r.ratio, inactive_is_low: r.low }).toEqual(v.expected.cases[i]);
    });
    // strict: equal sizes are not low; exactly 1 GiB gives isqrt(10) = 3
    expect(inactiveIsLow(1000, 1000).low).toBe(false);
    expect(inactiveIsLow(131072, 131072).ratio).toBe(3);
    expect(inactiveIsLow(262143, 0).ratio).toBe(1);
  });

  it('the SCAN_FRACT weights (calculate_pressure_balance)', () => {
    expect(pressureBalance(100, 50, 120)).toEqual({ ap: 231, fp: 175 });
    // no cost yet, swappiness 60: 30 % anon (dossier §5.4)
    expect(pressureBalance(60, 0, 0)).toEqual({ ap: 60, fp: 140 });
    expect(pressureBalance(200, 7, 9).fp).toBe(0);
    expect(pressureBalance(0, 7, 9).ap).toBe(0);
  });
});

const machine = { totalram_pages: 256, sysctl: { 'vm.min_free_kbytes': 512 } };
const vm = (r: ReturnType<typeof runOps>) => r.final.vmstat_delta as Record<string, number>;

describe('reference reclaim passes', () => {
  it('one direct-reclaim call scans list >> priority per priority until 32 are reclaimed (issue #8)', () => {
    // min 128 of 256 pages: the 129th page-cache page stalls with 128 clean cached pages on the list
    const r = runOps({ machine, ops: [{ op: 'file_create', file: 'f', fs: 'disk', pages: 129, cached: true }] });
    // priorities 7..3 scan 1 + 1 + 3 + 7 + 14 = 26, priority 2 scans 102 >> 2 = 25: 51 reclaimed in one call
    expect(vm(r).allocstall_normal).toBe(1);
    expect(vm(r).pgsteal_direct).toBe(51);
    expect(r.final.meminfo_kb.Cached).toBe((129 - 51) * 4);
  });

  it('a young mapped page is kept (rotated), not reclaimed and not activated, on its first look', () => {
    const ops = [
      { op: 'spawn', task: 1 },
      { op: 'file_create', file: 'f', fs: 'disk', pages: 4 },
      { op: 'mmap', task: 1, region: 'm', pages: 4, prot: 'r', flags: ['shared'], file: 'f' },
      { op: 'touch', task: 1, region: 'm', first: 0, count: 4, access: 'read' },
      // pressure: clean cache of another file forces reclaim past the mapped pages
      { op: 'file_create', file: 'g', fs: 'disk', pages: 200, cached: true },
    ];
    const r = runOps({ machine: { totalram_pages: 256, sysctl: { 'vm.min_free_kbytes': 128 } }, ops });
    // the mapped pages were young: kept (rotated) on the first look, never reclaimed before the unmapped cache
    expect(r.final.tasks['1'].rss_file).toBe(4);
    expect(vm(r).pgactivate).toBe(0);
  });

  it('without swap and page cache nothing is reclaimable: 17 fruitless rounds, each retried once, then the OOM killer', () => {
    const r = runOps({ machine: { totalram_pages: 256 }, ops: [
      { op: 'spawn', task: 2 }, { op: 'mmap', task: 2, region: 'a', pages: 250, prot: 'rw', flags: ['private', 'anon'] },
      { op: 'touch', task: 2, region: 'a', first: 0, count: 250, access: 'write' },
    ] });
    expect(vm(r).allocstall_normal).toBe(34);
    expect(vm(r).oom_kill).toBe(1);
  });
});
