/**
 * zstd-compressed input (bindings/src/trace/lines.ts, fzstd): page-reference traces and recordings compressed by
 * the zstd tool (Debian's, installed by scripts/setup.sh) read exactly as their plain text, across frames and chunk
 * sizes; a truncated or corrupted file is a located error, never a hang or a partial success.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { pagetraceRun } from '../bindings/src/cli/trace.js';
import { importVmstat } from '../bindings/src/trace/import.js';
import { readLines } from '../bindings/src/trace/lines.js';
import { pageRefs, type PagerefFormat, type PageRef } from '../bindings/src/trace/pageref.js';
import { failure, samples, tempDir } from './trace-helpers.js';

const F = 'test/fixtures/trace';
const dir = tempDir('oomsim-zstd-');
const zstd = (file: string, level = 3) => execFileSync('zstd', ['-q', `-${level}`, '-c', file], { maxBuffer: 1 << 28, timeout: 60_000 });
async function refs(file: string, format: PagerefFormat, chunk?: number): Promise<PageRef[]> {
  const out: PageRef[] = [];
  for await (const b of pageRefs(file, format, { instr: true, chunk })) out.push(...b.toArray());
  return out;
}
async function lines(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(file)) out.push(l.text);
  return out;
}

beforeAll(async () => {
  await load();
});

describe('zstd input', () => {
  it('each page-reference fixture gives the same references as its plain text, at any chunk size', async () => {
    for (const [name, format] of [['lackey-true.txt', 'lackey'], ['loop.din', 'din'], ['cache.csv', 'csv']] as const) {
      const z = `${dir}/${name}.zst`;
      writeFileSync(z, zstd(`${F}/${name}`, 19));
      const plain = await refs(`${F}/${name}`, format);
      expect(plain.length, name).toBeGreaterThanOrEqual(5);
      for (const chunk of [7, 4096, undefined]) expect(await refs(z, format, chunk), `${name} chunk ${chunk}`).toEqual(plain);
    }
  });
  it('a trace through the engine (reclaim, swap-in) runs the same from .zst, and frames back to back are one stream', async () => {
    const text: string[] = [];
    for (let p = 0; p < 3; p++) for (let i = 0; i < 3000; i++) text.push(`1 ${(0x10000000 + i * 4096).toString(16)}`);
    const half = text.length / 2;
    writeFileSync(`${dir}/a.din`, text.slice(0, half).join('\n') + '\n');
    writeFileSync(`${dir}/b.din`, text.slice(half).join('\n') + '\n');
    writeFileSync(`${dir}/all.din`, text.join('\n') + '\n');
    // two frames, as `cat a.zst b.zst` (or zstd on a file appended to) makes
    writeFileSync(`${dir}/all.din.zst`, Buffer.concat([zstd(`${dir}/a.din`), zstd(`${dir}/b.din`)]));
    const o = { format: 'din', ram: '8M', swap: '32M', maxPages: '1048576' };
    const plain = await pagetraceRun(`${dir}/all.din`, o);
    expect(plain.counters.pgmajfault).toBe(6000n);
    expect(await pagetraceRun(`${dir}/all.din.zst`, o)).toEqual(plain);
  });
  it('an imported recording reads the same from .zst', async () => {
    writeFileSync(`${dir}/vm.txt.zst`, zstd(`${F}/vmstat-n-1.txt`));
    const plain = await samples(importVmstat(`${F}/vmstat-n-1.txt`));
    expect(plain.length).toBeGreaterThan(3);
    expect(await samples(importVmstat(`${dir}/vm.txt.zst`))).toEqual(plain);
  });
  it('a truncated or corrupted .zst is an error at the line reached', async () => {
    const z = zstd(`${F}/lackey-true.txt`);
    writeFileSync(`${dir}/cut.zst`, z.subarray(0, Math.floor(z.length / 2)));
    expect(await failure(lines(`${dir}/cut.zst`))).toMatch(/cut\.zst:\d+: cannot read: zstd: /);
    const bad = Buffer.from(z);
    for (let i = 20; i < bad.length; i += 97) bad[i] ^= 0x5a;
    writeFileSync(`${dir}/bad.zst`, bad);
    expect(await failure(refs(`${dir}/bad.zst`, 'lackey'))).toMatch(/bad\.zst:\d+: (cannot read: zstd: |.*not a lackey)/);
    const plainLines = readFileSync(`${F}/lackey-true.txt`, 'utf8').split('\n');
    writeFileSync(`${dir}/ok.zst`, z);
    expect((await lines(`${dir}/ok.zst`)).length).toBe(plainLines.at(-1) === '' ? plainLines.length - 1 : plainLines.length);
  });
});
