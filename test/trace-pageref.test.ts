/**
 * Page-reference traces through the engine (bindings/src/trace/pageref.ts): a real lackey trace (valgrind
 * --tool=lackey --trace-mem=yes /bin/true on this project's machine, first 3000 lines, pid renamed), Dinero .din
 * and libCacheSim-style csv made by the project, gzip input, and malformed lines with file:line errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { pagetraceRun } from '../bindings/src/cli/trace.js';
import { pageRefs, type PageRef } from '../bindings/src/trace/pageref.js';
import { failure, tempDir } from './trace-helpers.js';

const F = 'test/fixtures/trace';
const opts = (format: string, more: Partial<{ ram: string; swap: string; maxPages: string; instr: boolean }> = {}) => ({ format, ram: '64M', swap: '0', maxPages: '1048576', ...more });
async function all(file: string, format: 'lackey' | 'din' | 'csv', instr = true): Promise<PageRef[]> {
  const out: PageRef[] = [];
  for await (const b of pageRefs(file, format, { instr })) out.push(...b.toArray());
  return out;
}
const dir = tempDir('oomsim-pageref-');

beforeAll(async () => {
  await load();
  // A loop over 3000 pages, three passes (used by two tests below, so each also runs alone).
  const lines: string[] = [];
  for (let p = 0; p < 3; p++) for (let i = 0; i < 3000; i++) lines.push(`1 ${(0x10000000 + i * 4096).toString(16)}`);
  writeFileSync(`${dir}/big.din`, lines.join('\n') + '\n');
  writeFileSync(`${dir}/big.din.gz`, gzipSync(lines.join('\n') + '\n'));
});

describe('parsers', () => {
  it('lackey: one reference per I/L/S line and two per M (load, then store), one more where an access crosses a page', async () => {
    const lines = readFileSync(`${F}/lackey-true.txt`, 'utf8').split('\n');
    let want = 0;
    for (const l of lines) {
      const m = /^\s*([ILSM])\s+([0-9a-f]+),(\d+)$/.exec(l);
      if (!m) continue;
      const a = Number.parseInt(m[2], 16), n = Number(m[3]);
      const pages = Math.floor((a + n - 1) / 4096) - Math.floor(a / 4096) + 1;
      want += pages * (m[1] === 'M' ? 2 : 1);
    }
    const refs = await all(`${F}/lackey-true.txt`, 'lackey');
    expect(refs.length).toBe(want);
    expect(refs[2]).toEqual({ page: Math.floor(0x1fff000768 / 4096), write: true }); // " S 1fff000768,8"
    const data = await all(`${F}/lackey-true.txt`, 'lackey', false);
    expect(data.length).toBeLessThan(refs.length);
  });
  it('din: labels 0/1/2, escape and flush records skipped', async () => {
    const refs = await all(`${F}/loop.din`, 'din');
    expect(refs.length).toBe(241);
    expect(refs.slice(0, 2)).toEqual([{ page: 0x10000, write: false }, { page: 0x10000, write: true }]);
    expect((await all(`${F}/loop.din`, 'din', false)).length).toBe(240);
  });
  it('csv: the header names the columns; an object spans ceil(size / 4096) pages', async () => {
    const refs = await all(`${F}/cache.csv`, 'csv');
    expect(refs).toEqual([
      { page: 7 * 1024, write: false },
      { page: 8 * 1024, write: true },
      { page: 8 * 1024 + 1, write: true },
      { page: 7 * 1024, write: false },
      { page: 9 * 1024, write: false },
    ]);
  });
  it('malformed lines are errors at their line', async () => {
    writeFileSync(`${dir}/bad.lackey`, 'I  0401ab70,3\n L zz,8\n');
    expect(await failure(all(`${dir}/bad.lackey`, 'lackey'))).toMatch(/bad\.lackey:2: not a lackey line/);
    writeFileSync(`${dir}/bad.din`, '0 1000\n7 2000\n');
    expect(await failure(all(`${dir}/bad.din`, 'din'))).toMatch(/bad\.din:2: not a Dinero \.din line.*label 0 \(read\)/);
    writeFileSync(`${dir}/bad.csv`, 'time,obj_id,obj_size,op\n1,5,10,delete\n');
    expect(await failure(all(`${dir}/bad.csv`, 'csv'))).toMatch(/bad\.csv:2: column 4 \(op\): "delete"; expected read, get, write or set/);
    writeFileSync(`${dir}/nohead.csv`, '1,5,10,get\n');
    expect(await failure(all(`${dir}/nohead.csv`, 'csv'))).toMatch(/nohead\.csv:1: the csv header names no object column/);
  });
});

describe('through the engine', () => {
  it('a loop over 40 pages: a read fault (zero page) and a write fault (COW) per page, then hits', async () => {
    const r = await pagetraceRun(`${F}/loop.din`, opts('din', { instr: false }));
    expect(r.distinctPages).toBe(40);
    expect(r.counters.pgfault).toBe(80n);
    expect(r.counters.pgmajfault).toBe(0n);
  });
  it('a loop larger than RAM with swap: every later pass faults every page in from swap (LRU order), deterministic, gzip the same', async () => {
    const a = await pagetraceRun(`${dir}/big.din`, opts('din', { ram: '8M', swap: '32M' }));
    expect(a.references).toBe(9000);
    expect(a.counters.pgmajfault).toBe(6000n);
    expect(a.counters.pswpin).toBe(6000n);
    expect(a.counters.pgsteal).toBeGreaterThanOrEqual(6000n);
    expect(a.oomKilled).toBe(false);
    const b = await pagetraceRun(`${dir}/big.din.gz`, opts('din', { ram: '8M', swap: '32M' }));
    expect(b).toEqual(a);
  });
  it('without swap the process is OOM-killed and the rest of the trace is not run', async () => {
    const r = await pagetraceRun(`${dir}/big.din`, opts('din', { ram: '8M' }));
    expect(r.oomKilled).toBe(true);
    expect(r.counters.pgmajfault).toBe(0n);
  });
  it('the real lackey trace: faults on the pages it touches', async () => {
    const r = await pagetraceRun(`${F}/lackey-true.txt`, opts('lackey'));
    expect(r.distinctPages).toBeGreaterThan(5);
    expect(r.counters.pgfault).toBeGreaterThanOrEqual(BigInt(r.distinctPages));
  });
});
