/**
 * Page-reference trace streaming (`oomsim pagetrace`, bindings/src/trace/pageref.ts): wasm end to end, wasm engine
 * alone and the native core on the same references.
 *
 *   npx tsx bench/pagetrace.ts [--refs 100000000] [--check 2000000] [--keep]
 *
 * Generates a seeded Dinero .din trace in the temp directory (streamed to disk, never held in memory, never
 * committed; deleted unless --keep): a mix of a hot set (4096 pages, 90 % of references) and a cold range (65536
 * pages), one write in four, on a 128 MiB machine with 512 MiB of swap, so the run has faults, reclaim and swap-in.
 * Before any time is reported it checks:
 * 1. the first `--check` references give byte-identical results (counters, /proc/meminfo, /proc/vmstat) through
 *    the engine's walk and through one `touch` command per reference (trace/pageref-commands.ts, the old path);
 * 2. the native core (target/release/oomsim-bench pageref, fed the same packed batches on stdin) ends with the
 *    same counters and the same digest (FNV-1a over vmstat and meminfo) as the wasm engine on all references;
 * 3. the file run (read, scan, engine) gives the same counters as the in-memory run.
 * Then it reports refs/s: wasm end to end, wasm engine only (time inside the batch calls), reading and scanning
 * alone, native (time inside the walk); the ratios are from the same run. Results: bench/results/pagetrace.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../bindings/src/index.js';
import { Engine } from '../bindings/src/engine.js';
import { pageRefs, runPageRefs, RefBatch, traceCounters, traceProcess } from '../bindings/src/trace/pageref.js';
import { runPageRefsByCommand } from '../bindings/src/trace/pageref-commands.js';
import { wasm } from './workloads.js';

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1] : d;
};
const N = Number(arg('--refs', '100000000'));
const CHECK = Math.min(N, Number(arg('--check', '2000000')));
const keep = process.argv.includes('--keep');
const HOT = 4096, COLD = 65536, BASE = 0x7f0000000000 / 4096;
const RAM = 32768, SWAP = 131072 - 1, MAX_PAGES = HOT + COLD;
const NATIVE = new URL('../target/release/oomsim-bench', import.meta.url).pathname;

/** The references in batches of 65536, xorshift32-seeded: the same on every run, generated as they are used. */
function* batches(n: number): Generator<RefBatch> {
  let x = 2463534242;
  for (let done = 0; done < n; ) {
    const b = new RefBatch();
    const m = Math.min(b.capacity, n - done);
    for (let i = 0; i < m; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const r = x >>> 0;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const page = BASE + (r % 10 === 0 ? HOT + ((x >>> 0) % COLD) : (x >>> 0) % HOT);
      b.push(page, (r & 0x30) === 0);
    }
    done += m;
    yield b;
  }
}

async function writeTrace(file: string): Promise<void> {
  const ws = createWriteStream(file);
  for (const b of batches(N)) {
    const lines: string[] = [];
    for (const r of b.toArray()) lines.push(`${r.write ? 1 : 0} ${(r.page * 4096).toString(16)}`);
    if (!ws.write(lines.join('\n') + '\n')) await new Promise<void>((res) => ws.once('drain', () => res()));
  }
  await new Promise<void>((res) => ws.end(res));
}

const machine = () => {
  const e = new Engine({ totalramPages: RAM });
  e.swapon(SWAP, -2, 'disk');
  e.setSysctl('vm.overcommit_memory', 1);
  return e;
};
const show = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));

/** A wasm run of `refs`, timed whole (for the file: read, scan and engine). */
async function run(refs: Iterable<RefBatch> | AsyncIterable<RefBatch>, how: 'walk' | 'commands' = 'walk') {
  const e = machine();
  try {
    const t0 = process.hrtime.bigint();
    const r = how === 'walk' ? await runPageRefs(e, refs, { maxPages: MAX_PAGES }) : await runPageRefsByCommand(e, refs, { maxPages: MAX_PAGES });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return { r, s, state: show({ r, meminfo: e.meminfoText(), vmstat: e.vmstat() }), digest: wasm.digest({ e } as Parameters<typeof wasm.digest>[0]) };
  } finally {
    e.free();
  }
}

/** runPageRefs with the clock around the engine's batch calls only (the batches are generated outside it). */
async function runEngineOnly(n: number) {
  const e = machine();
  try {
    const vpn = traceProcess(e, 1000, MAX_PAGES);
    const before = e.vmstat();
    e.pagerefStart(1000, vpn, MAX_PAGES);
    let inEngine = 0n;
    for (const b of batches(n)) {
      const t = process.hrtime.bigint();
      e.pagerefRun(b.view());
      inEngine += process.hrtime.bigint() - t;
    }
    return { s: Number(inEngine) / 1e9, counters: traceCounters(before, e.vmstat()), ...e.pagerefCounts(), digest: wasm.digest({ e } as Parameters<typeof wasm.digest>[0]) };
  } finally {
    e.free();
  }
}

interface Native {
  references: number;
  touches: number;
  distinct_pages: number;
  counters: Record<string, number>;
  digest: string;
  walk_s: number;
  walk_cpu_s: number;
  peak_rss_kb: number;
}
/** The native core on the same batches, piped to its stdin. */
async function runNative(n: number): Promise<Native> {
  const child = spawn(NATIVE, ['pageref', String(RAM), String(SWAP), String(MAX_PAGES)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<number>((res) => child.on('close', (code) => res(code ?? 1)));
  for (const b of batches(n)) {
    const v = b.view();
    if (!child.stdin.write(Buffer.from(v.buffer, v.byteOffset, v.byteLength))) await new Promise<void>((res) => child.stdin.once('drain', () => res()));
  }
  child.stdin.end();
  if ((await done) !== 0) throw new Error('the native bench binary failed');
  return JSON.parse(out) as Native;
}

function refuse(what: string, a: unknown, b: unknown): never {
  console.error(`MISMATCH (${what}): ${show(a)}\n  vs ${show(b)}; refusing to time`);
  process.exit(1);
}

await load();
execFileSync('cargo', ['build', '--quiet', '--release', '-p', 'oomsim-core', '--bin', 'oomsim-bench'], { stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'oomsim-bench-pagetrace-'));
const file = join(dir, 'trace.din');
try {
  // 1. the walk against one touch command per reference, on the first CHECK references
  const walk = await run(batches(CHECK));
  const commands = await run(batches(CHECK), 'commands');
  if (walk.state !== commands.state) refuse(`walk vs commands, ${CHECK} references`, walk.state, commands.state);
  console.log(`identical (first ${CHECK} references): engine walk and one touch command per reference: ${show(walk.r.counters)}`);
  console.log(`  one touch command per reference (the old path, in memory): ${(CHECK / commands.s / 1e6).toFixed(2)} M refs/s`);

  // 2. native against wasm on all references
  const native = await runNative(N);
  const mem = await runEngineOnly(N);
  const all = mem;
  if (native.digest !== mem.digest || show(native.counters) !== show(all.counters) || native.touches !== all.touches) refuse('native vs wasm', native, all);
  console.log(`identical (${N} references): native and wasm, digest ${native.digest}: ${show(all.counters)}; ${all.touches} touches, ${all.distinctPages} distinct pages`);

  // 3. the file end to end
  const g0 = process.hrtime.bigint();
  await writeTrace(file);
  const genS = Number(process.hrtime.bigint() - g0) / 1e9;
  console.log(`generated ${N} references, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB of .din, in ${genS.toFixed(1)} s`);
  const s0 = process.hrtime.bigint();
  let scanned = 0;
  for await (const b of pageRefs(file, 'din')) scanned += b.length;
  const scanS = Number(process.hrtime.bigint() - s0) / 1e9;
  if (scanned !== N) refuse('references scanned', scanned, N);
  const rss0 = process.memoryUsage().rss;
  const fromFile = await run(pageRefs(file, 'din'));
  const rss1 = process.memoryUsage().rss;
  if (show(fromFile.r.counters) !== show(all.counters) || fromFile.digest !== mem.digest) refuse('file vs memory', fromFile.r, all);

  const out = {
    refs: N,
    end_to_end_refs_per_s: Math.round(N / fromFile.s),
    wasm_engine_refs_per_s: Math.round(N / mem.s),
    read_scan_refs_per_s: Math.round(N / scanS),
    native_refs_per_s: Math.round(N / native.walk_s),
    native_cpu_refs_per_s: Math.round(N / native.walk_cpu_s),
    old_path_refs_per_s: Math.round(CHECK / commands.s),
    wasm_engine_vs_native: N / native.walk_s / (N / mem.s),
    end_to_end_s: fromFile.s,
    wasm_engine_s: mem.s,
    native_walk_s: native.walk_s,
    native_walk_cpu_s: native.walk_cpu_s,
    rss_growth_during_file_run_mib: Math.round((rss1 - rss0) / 2 ** 20),
    counters: JSON.parse(show(all.counters)),
    digest: native.digest,
    node: process.version,
  };
  console.log(`wasm end to end (read + scan + engine): ${(out.end_to_end_refs_per_s / 1e6).toFixed(2)} M refs/s (${fromFile.s.toFixed(1)} s)`);
  console.log(`wasm engine only (time in the batch calls): ${(out.wasm_engine_refs_per_s / 1e6).toFixed(2)} M refs/s (${mem.s.toFixed(1)} s)`);
  console.log(`read + scan alone (no engine): ${(out.read_scan_refs_per_s / 1e6).toFixed(2)} M refs/s (${scanS.toFixed(1)} s)`);
  console.log(`native core (time in the walk): ${(out.native_refs_per_s / 1e6).toFixed(2)} M refs/s (${native.walk_s.toFixed(1)} s wall, ${native.walk_cpu_s.toFixed(1)} s CPU)`);
  console.log(`same run: native / wasm engine ${out.wasm_engine_vs_native.toFixed(2)}x; wasm engine / end to end ${(fromFile.s / mem.s).toFixed(2)}x; walk / old command path ${(CHECK / walk.s / (CHECK / commands.s)).toFixed(1)}x`);
  console.log(`RSS growth during the file run: ${out.rss_growth_during_file_run_mib} MiB`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/pagetrace.json', JSON.stringify(out, null, 2) + '\n');
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
