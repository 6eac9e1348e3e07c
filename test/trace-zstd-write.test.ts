/**
 * zstd output (bindings/src/trace/writer.ts, libzstd as wasm through @hpcc-js/wasm-zstd): a trace written as .zst
 * reads back through our reader (fzstd) and through Debian's zstd tool (scripts/setup.sh --zstd) as exactly the
 * lines written; it is made of one frame per block, so a cut at a frame boundary is a shorter valid file and a cut
 * inside a frame is a located error; `oomsim record -o x.zst` records and is interrupted as .gz and .jsonl are.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decompress } from 'fzstd';
import { describe, expect, it } from 'vitest';
import { recordMachine } from '../bindings/src/trace/record.js';
import { openTrace } from '../bindings/src/trace/reader.js';
import { readLines } from '../bindings/src/trace/lines.js';
import { replayTrace } from '../bindings/src/trace/replay.js';
import { BLOCK_LINES, TraceWriter } from '../bindings/src/trace/writer.js';
import { failure, records, tempDir } from './trace-helpers.js';
import { until } from './poll.js';

const dir = tempDir('oomsim-zstw-');
const hasZstd = spawnSync('zstd', ['--version']).status === 0;
async function lines(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(file)) out.push(l.text);
  return out;
}
const header = { format: 'oomsim-trace', version: 1, source: 'record', interval_ms: 1000 };

/** Writes `values` as a .zst trace; returns the file size after each line (a change marks a frame written) and at the end. */
async function writeZst(file: string, values: unknown[]): Promise<number[]> {
  const w = await TraceWriter.open(file);
  const sizes: number[] = [];
  for (const v of values) {
    w.write(v);
    sizes.push(w.fileBytes);
  }
  await w.close();
  sizes.push(w.fileBytes);
  return sizes;
}
const sample = (k: number, pad: string) => ({ type: 'sample', t_ms: k * 1000, meminfo: { MemTotal: 1 << 20, MemAvailable: (1 << 19) + k }, tasks: [[100 + (k % 7), 1, `p${pad}`, 0, 'S', 10, 0, 300, 1200, 0, '/']] });

describe('zstd output', () => {
  it('round trip: random lines read back exactly, through our reader and through zstd -d', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 300 }), { maxLength: 300 }), fc.integer({ min: 0, max: 3000 }), async (texts, big) => {
        const file = join(dir, 'rt.jsonl.zst');
        const values = [header, ...texts.map((t, k) => ({ type: 'kmsg', t_ms: k, text: t })), { type: 'kmsg', t_ms: 0, text: 'x'.repeat(big * 512) }];
        await writeZst(file, values);
        const want = values.map((v) => JSON.stringify(v));
        expect(await lines(file)).toEqual(want);
        if (hasZstd) expect(execFileSync('zstd', ['-d', '-q', '-c', file], { maxBuffer: 1 << 28 }).toString()).toBe(want.join('\n') + '\n');
      }),
      { numRuns: 25, seed: 16 },
    );
  });

  it('is one frame per block of lines: a cut at a frame boundary is a shorter valid file, inside a frame a located error', async () => {
    const file = join(dir, 'cut.jsonl.zst');
    const values = [header, ...Array.from({ length: 3 * BLOCK_LINES }, (_, k) => sample(k, 'x'.repeat(k)))];
    const sizes = await writeZst(file, values);
    const bytes = readFileSync(file);
    const frameEnds = [...new Set(sizes)].filter((n) => n > 0);
    expect(frameEnds.length).toBeGreaterThanOrEqual(3);
    expect(statSync(file).size).toBe(frameEnds.at(-1));
    // A compressed block is much smaller than its text: the frames compress, they are not stored.
    expect(bytes.length * 4).toBeLessThan(values.reduce<number>((n, v) => n + JSON.stringify(v).length + 1, 0));
    const first = frameEnds[0];
    writeFileSync(join(dir, 'first.zst'), bytes.subarray(0, first));
    const firstLines = sizes.findIndex((n) => n === first) + 1;
    expect(firstLines).toBe(BLOCK_LINES);
    expect(await lines(join(dir, 'first.zst'))).toEqual(values.slice(0, firstLines).map((v) => JSON.stringify(v)));
    // The trace reader takes it as a recording without an end record (replay: "cut").
    const t = await openTrace(join(dir, 'first.zst'));
    const r = await replayTrace('first.zst', t.header, t.records, [{ name: 'earlyoom' }]);
    expect(r.samples).toBe(BLOCK_LINES - 1);
    // Inside a frame: the lines before it, then an error at the line reached, naming zstd.
    const mid = first + Math.floor((frameEnds[1] - first) / 2);
    writeFileSync(join(dir, 'mid.zst'), bytes.subarray(0, mid));
    expect(await failure(lines(join(dir, 'mid.zst')))).toMatch(/mid\.zst:\d+: cannot read: zstd: /);
    if (hasZstd) {
      expect(spawnSync('zstd', ['-d', '-q', '-c', join(dir, 'first.zst')]).status).toBe(0);
      expect(spawnSync('zstd', ['-d', '-q', '-c', join(dir, 'mid.zst')]).status).not.toBe(0);
    }
  });

  it('oomsim record -o x.jsonl.zst: a complete recording that replays', async () => {
    const file = join(dir, 'box.jsonl.zst');
    const r = await recordMachine({ output: file, intervalMs: 300, durationMs: 1500, kmsg: false });
    expect(r.samples).toBe(6);
    expect(r.fileBytes).toBe(statSync(file).size);
    expect(r.fileBytes).toBeLessThan(r.textBytes);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const recs = await records(await openTrace(file));
    expect(recs.filter((x) => x.type === 'sample')).toHaveLength(6);
    expect(recs.at(-1)).toMatchObject({ type: 'end', samples: 6, reason: 'duration' });
    if (hasZstd) {
      const plain = execFileSync('zstd', ['-d', '-q', '-c', file], { maxBuffer: 1 << 28 }).toString();
      expect(plain.split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual([(await openTrace(file)).header, ...recs]);
    }
  });

  it('SIGINT stops the CLI recorder with a complete .zst file', { timeout: 300_000 }, async () => {
    const out = join(dir, 'int.jsonl.zst');
    const cli = join(process.cwd(), 'bindings/bin/oomsim.js');
    if (!existsSync(join(process.cwd(), 'bindings/dist/cli/main.js'))) throw new Error('bindings/dist is not built (scripts/build.sh)');
    const child = spawn(process.execPath, [cli, 'record', '-i', '10ms', '--no-kmsg', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b) => (err += String(b)));
    let exited = false;
    const code = new Promise<number | null>((res) => child.on('exit', (c) => ((exited = true), res(c))));
    // The temporary file grows a frame at a time: wait for the first one (64 lines), then interrupt mid-block.
    const framed = () => {
      if (exited) throw new Error(`the recorder exited early: ${err}`);
      const tmp = readdirSync(dir).find((f) => f.startsWith('.int.jsonl.zst.') && f.endsWith('.tmp'));
      if (tmp === undefined) return false;
      try {
        return decompress(readFileSync(join(dir, tmp))).length > 0;
      } catch {
        return false; // a frame half written
      }
    };
    await until(framed, `a first frame in the recorder's temporary file (stderr: ${err})`);
    child.kill('SIGINT');
    expect(await code).toBe(0);
    expect(err).toMatch(/oomsim record: wrote .*int\.jsonl\.zst: \d+ samples .*\(interrupted\)/);
    const recs = await records(await openTrace(out));
    expect(recs.at(-1)).toMatchObject({ type: 'end', reason: 'interrupted' });
    expect(recs.filter((x) => x.type === 'sample').length).toBeGreaterThanOrEqual(BLOCK_LINES - 1);
    if (hasZstd) expect(spawnSync('zstd', ['-t', '-q', out]).status).toBe(0);
  });
});
if (!hasZstd) console.log('trace-zstd-write: the checks through the zstd tool are skipped: zstd is not installed (bash scripts/setup.sh --zstd)');
