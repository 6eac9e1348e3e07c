/**
 * `npm run bench`: the benchmark suite. Each benchmark checks that its implementations end in identical states
 * before timing; results go to bench/results/<name>.json (gitignored) and a summary table to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { boundaryBench } from './boundary.js';

const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(1)} M/s` : `${(x / 1e3).toFixed(1)} k/s`);

async function main(): Promise<void> {
  const machine = `${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  console.log(`oomsim bench on ${machine}`);
  const b = await boundaryBench();
  console.log(`\nboundary: ${b.touches} touches of resident pages (wasm, one core)`);
  console.log('| path | touches/s |');
  console.log('|---|---|');
  for (const [k, v] of Object.entries(b.opsPerSec)) console.log(`| ${k} | ${fmt(v)} |`);
  console.log(`batched command buffer vs per-call: ${b.ratios.cmdbufVsPerCall.toFixed(2)}x; range call vs per-call: ${b.ratios.rangeVsPerCall.toFixed(1)}x`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/boundary.json', import.meta.url), JSON.stringify({ machine, date: new Date().toISOString(), ...b }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
