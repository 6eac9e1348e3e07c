/**
 * Page-reference trace streaming (`oomsim pagetrace`, bindings/src/trace/pageref.ts), wasm engine.
 *
 *   npx tsx bench/pagetrace.ts [--refs 100000000] [--keep]
 *
 * Generates a Dinero .din trace in the temp directory (never committed; deleted unless --keep): a seeded mix of a
 * hot set (4096 pages, 90 % of references) and a cold range (65536 pages), reads and writes, on a 128 MiB machine
 * with 512 MiB of swap, so the run has faults, reclaim and swap-in. Then:
 * 1. checks before timing: the same references run from memory (no file, no parsing) give the same counters as
 *    the file run;
 * 2. times the file run end to end (read, parse, map, batch, engine) and the engine alone (pre-parsed batches).
 * The native engine is not measured here: the command buffer has no native trace driver (see docs/trace-format.md).
 * Results: bench/results/pagetrace.json.
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../bindings/src/index.js';
import { Engine } from '../bindings/src/engine.js';
import { pageRefs, runPageRefs, RefBatch, type PageRef } from '../bindings/src/trace/pageref.js';

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1] : d;
};
const N = Number(arg('--refs', '100000000'));
const keep = process.argv.includes('--keep');
const HOT = 4096, COLD = 65536, BASE = 0x7f0000000000 / 4096;

/** xorshift32: the trace is the same on every run. */
function* gen(n: number): Generator<PageRef> {
  let x = 2463534242;
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  for (let i = 0; i < n; i++) {
    const r = next();
    const page = r % 10 === 0 ? HOT + (next() % COLD) : next() % HOT;
    yield { page: BASE + page, write: (r & 0x30) === 0 };
  }
}

async function writeTrace(file: string): Promise<void> {
  const ws = createWriteStream(file);
  let chunk: string[] = [];
  for (const r of gen(N)) {
    chunk.push(`${r.write ? 1 : 0} ${(r.page * 4096).toString(16)}`);
    if (chunk.length === 65536) {
      if (!ws.write(chunk.join('\n') + '\n')) await new Promise<void>((res) => ws.once('drain', () => res()));
      chunk = [];
    }
  }
  ws.write(chunk.join('\n') + (chunk.length ? '\n' : ''));
  await new Promise<void>((res) => ws.end(res));
}

async function* fromMemory(n: number): AsyncGenerator<RefBatch> {
  let b = new RefBatch();
  for (const r of gen(n)) {
    b.push(r.page, r.write);
    if (b.full) {
      yield b;
      b = new RefBatch();
    }
  }
  if (b.length) yield b;
}

const machine = () => {
  const e = new Engine({ totalramPages: 32768 });
  e.swapon(131072 - 1, -2, 'disk');
  e.setSysctl('vm.overcommit_memory', 1);
  return e;
};
async function run(refs: AsyncIterable<RefBatch>) {
  const e = machine();
  try {
    const t0 = process.hrtime.bigint();
    const r = await runPageRefs(e, refs, { maxPages: HOT + COLD });
    return { r, s: Number(process.hrtime.bigint() - t0) / 1e9 };
  } finally {
    e.free();
  }
}
const show = (c: Record<string, bigint>) => JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));

await load();
const dir = mkdtempSync(join(tmpdir(), 'oomsim-bench-pagetrace-'));
const file = join(dir, 'trace.din');
try {
  const g0 = process.hrtime.bigint();
  await writeTrace(file);
  const genS = Number(process.hrtime.bigint() - g0) / 1e9;
  console.log(`generated ${N} references, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB of .din, in ${genS.toFixed(1)} s`);
  const mem = await run(fromMemory(N));
  const fromFile = await run(pageRefs(file, 'din'));
  if (show(mem.r.counters) !== show(fromFile.r.counters) || mem.r.touches !== fromFile.r.touches) {
    console.error(`MISMATCH: from memory ${show(mem.r.counters)} vs from the file ${show(fromFile.r.counters)}`);
    process.exit(1);
  }
  console.log(`identical: ${show(fromFile.r.counters)}; ${fromFile.r.touches} touches, ${fromFile.r.distinctPages} distinct pages`);
  const out = {
    refs: N,
    end_to_end_refs_per_s: Math.round(N / fromFile.s),
    engine_only_refs_per_s: Math.round(N / mem.s),
    end_to_end_s: fromFile.s,
    engine_only_s: mem.s,
    counters: JSON.parse(show(fromFile.r.counters)),
    node: process.version,
  };
  console.log(`wasm end to end (read + parse + engine): ${(out.end_to_end_refs_per_s / 1e6).toFixed(2)} M refs/s (${fromFile.s.toFixed(1)} s)`);
  console.log(`wasm engine only (generated in memory): ${(out.engine_only_refs_per_s / 1e6).toFixed(2)} M refs/s (${mem.s.toFixed(1)} s)`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/pagetrace.json', JSON.stringify(out, null, 2) + '\n');
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
