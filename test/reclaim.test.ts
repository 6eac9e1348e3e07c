/**
 * Reclaim and PSI through the built package: streaming a file larger than RAM reclaims page cache (vmstat
 * pgsteal/pgscan counters) without an OOM, and /proc/pressure/memory and memory.pressure have the kernel's format.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, load } from '../bindings/src/index.js';

beforeAll(async () => {
  await load();
});

const PSI_LINE = /^(some|full) avg10=\d+\.\d\d avg60=\d+\.\d\d avg300=\d+\.\d\d total=\d+$/;

describe('reclaim and PSI', () => {
  it('page cache is reclaimed instead of OOM; pressure files are well formed', () => {
    const e = new Engine({ totalramPages: 4096 });
    e.spawn(1, { comm: 'reader' });
    const f = Number(e.fileCreate('big', 'disk', 20000));
    for (let c = 0; c < 40; c++) e.fileRead(1, f, c * 500, 500);
    const vm = e.vmstat();
    expect(vm.pgsteal_direct + vm.pgsteal_kswapd).toBeGreaterThan(10000n);
    expect(vm.pgscan_file >= vm.pgsteal_file).toBe(true);
    expect(vm.oom_kill).toBe(0n);
    const psi = e.psiText().trimEnd().split('\n');
    expect(psi).toHaveLength(2);
    for (const l of psi) expect(l).toMatch(PSI_LINE);
    expect(e.cgroupCreate('/a')).toBe(0);
    expect(e.cgroupPressure('/a')).toBe('some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    expect(e.cgroupPressure('/missing')).toBeUndefined();
    expect(e.taskStallNs(1) > 0n).toBe(true);
    e.free();
  });
});
