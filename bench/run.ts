/**
 * `npm run bench [-- --sizes 1M,4M,16M --runs 5 --reference-max 1M --only w1,w2]`: the benchmark suite.
 * For every workload and size: the native core (engine/core bench binary), the wasm engine in Node, and the TS
 * reference. Before any time is reported, the implementations must agree: wasm and native on a digest of every
 * counter, the reference on the counters both engines keep. Medians of several runs after a warm-up; ops/s, the
 * ratios wasm/native and wasm/TS, bytes per frame and peak memory. JSON in bench/results/ (gitignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { boundaryBench } from './boundary.js';
import { REFERENCE_SKIPS, WORKLOADS, ops, reference, wasm, type Workload } from './workloads.js';
import { Engine, load } from '../bindings/src/index.js';
import { wasmMemory } from '../bindings/src/wasm.js';

const NATIVE = new URL('../target/release/oomsim-bench', import.meta.url).pathname;
const sizeOf = (s: string) => {
  const m = /^(\d+)([MK]?)$/.exec(s);
  if (!m) throw new Error(`--sizes: ${s} is not allowed; expected frame counts like 1M, 4M, 16M or 65536`);
  return Number(m[1]) * (m[2] === 'M' ? 1 << 20 : m[2] === 'K' ? 1 << 10 : 1);
};
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1M,4M,16M' },
    runs: { type: 'string', default: '5' },
    'reference-max': { type: 'string', default: '1M' },
    only: { type: 'string' },
  },
});
const sizes = values.sizes!.split(',').map(sizeOf);
const runs = Math.max(1, Number(values.runs));
const refMax = sizeOf(values['reference-max']!);
const only = values.only ? values.only.split(',') : undefined;
for (const w of only ?? []) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--only: ${w} is not a workload; allowed: ${WORKLOADS.join(', ')}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmtRate = (x: number) => (x < 1e3 ? `${(1000 / x).toFixed(2)} ms/op` : x >= 1e9 ? `${(x / 1e9).toFixed(2)} G/s` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} M/s` : `${(x / 1e3).toFixed(1)} k/s`);
const nowS = () => Number(process.hrtime.bigint()) / 1e9;

function timeImpl<S>(impl: { setup(w: Workload, f: number): S; run(w: Workload, s: S): void; free?(s: S): void }, w: Workload, frames: number, n: number) {
  const times: number[] = [];
  for (let i = 0; i <= n; i++) {
    const s = impl.setup(w, frames);
    const t0 = nowS();
    impl.run(w, s);
    const dt = nowS() - t0;
    impl.free?.(s);
    if (i > 0) times.push(dt);
  }
  return median(times);
}

interface Row {
  workload: Workload;
  frames: number;
  ops: number;
  native_ops_s?: number;
  wasm_ops_s: number;
  ref_ops_s?: number;
  wasm_vs_native: number | null;
  wasm_vs_ref: number | null;
  digest: string;
  native_peak_rss_kb?: number;
}

async function main(): Promise<void> {
  await load();
  const machine = `${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  console.log(`oomsim bench on ${machine}; median of ${runs} runs after a warm-up; wasm and the TS reference on one core`);
  execFileSync('cargo', ['build', '--quiet', '--release', '-p', 'oomsim-core', '--bin', 'oomsim-bench'], { stdio: 'inherit' });

  // Machine initialisation and memory per frame.
  const inits: Record<string, unknown>[] = [];
  for (const frames of sizes) {
    const before = wasmMemory().buffer.byteLength;
    const t0 = nowS();
    const e = new Engine({ totalramPages: frames, cmdCapacity: 4096 });
    const initS = nowS() - t0;
    const grown = wasmMemory().buffer.byteLength - before;
    e.free();
    inits.push({ frames, init_ms: +(initS * 1000).toFixed(3), wasm_bytes_per_frame: +(grown / frames).toFixed(2) });
  }

  const rows: Row[] = [];
  for (const frames of sizes) {
    for (const w of WORKLOADS) {
      if (only && !only.includes(w)) continue;
      // 1. identical results before timing
      const ws = wasm.setup(w, frames);
      wasm.run(w, ws);
      const digest = wasm.digest(ws);
      const common = wasm.common(ws);
      wasm.free!(ws);
      const nat = JSON.parse(execFileSync(NATIVE, [w, String(frames), String(runs)], { encoding: 'utf8' }));
      if (nat.digest !== digest) throw new Error(`${w} @ ${frames}: native digest ${nat.digest} != wasm ${digest}; refusing to time`);
      let refRate: number | undefined;
      if (frames <= refMax && !REFERENCE_SKIPS.includes(w)) {
        const rs = reference.setup(w, frames);
        reference.run(w, rs);
        const rc = reference.common(rs);
        for (const k of Object.keys(common) as (keyof typeof common)[]) {
          if (rc[k] !== common[k]) throw new Error(`${w} @ ${frames}: reference ${k}=${rc[k]} != wasm ${common[k]}; refusing to time`);
        }
        refRate = ops(w, frames) / timeImpl(reference, w, frames, Math.min(runs, 3));
      }
      // 2. time
      const wasmRate = ops(w, frames) / timeImpl(wasm, w, frames, runs);
      const natRate = nat.ops / median(nat.times_s);
      rows.push({
        workload: w, frames, ops: ops(w, frames), native_ops_s: natRate, wasm_ops_s: wasmRate, ref_ops_s: refRate,
        wasm_vs_native: natRate / wasmRate, wasm_vs_ref: refRate ? wasmRate / refRate : null, digest, native_peak_rss_kb: nat.peak_rss_kb,
      });
      const r = rows.at(-1)!;
      console.log(`  ${w.padEnd(17)} ${String(frames).padStart(9)} frames: native ${fmtRate(natRate)}, wasm ${fmtRate(wasmRate)}, ref ${refRate ? fmtRate(refRate) : '—'}`);
    }
  }

  console.log('\n| workload | frames | native | wasm | TS reference | wasm time / native time | wasm speed / TS |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.workload} | ${r.frames} | ${fmtRate(r.native_ops_s!)} | ${fmtRate(r.wasm_ops_s)} | ${r.ref_ops_s ? fmtRate(r.ref_ops_s) : '—'} | ${r.wasm_vs_native!.toFixed(2)}× | ${r.wasm_vs_ref ? `${r.wasm_vs_ref.toFixed(0)}×` : '—'} |`);
  }
  console.log('\n| frames | wasm machine init | wasm bytes per frame |');
  console.log('|---|---|---|');
  for (const i of inits) console.log(`| ${i.frames} | ${i.init_ms} ms | ${i.wasm_bytes_per_frame} |`);

  const b = await boundaryBench();
  console.log(`\nboundary (${b.touches} touches of resident pages): per-call ${fmtRate(b.opsPerSec['per-call'])}, command buffer ${fmtRate(b.opsPerSec.cmdbuf)} (${b.ratios.cmdbufVsPerCall.toFixed(2)}× per-call), one range call ${fmtRate(b.opsPerSec.range)}`);

  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const out = { machine, date: new Date().toISOString(), runs, rows, inits, boundary: b };
  writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify(out, null, 2));
  console.log('\nresults: bench/results/latest.json');
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
