// `npm run fuzz -- [--inputs N] [--seed S] [--target commandBuffer|apiSequence|scenarioLoader] [--seconds T]`: runs
// the fuzz targets for N inputs each (default 100,000) in chunks of 10,000, the targets taking turns chunk by chunk,
// with a progress line per round (so a long run stopped early says how far each target got); `--seconds` stops after
// the round in which that much wall time has passed. Exits 1 with the counterexample on a failure. fast-check, not
// cargo-fuzz: see docs/decisions/0015-robustness.md.
import fc from 'fast-check';
import { load } from '../../bindings/src/index.js';
import { TARGETS } from './targets.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const inputs = Number(opt('inputs', '100000'));
const seed = Number(opt('seed', String(Date.now() % 2 ** 31)));
// --first-round K starts at round K (seed S + K - 1), to reproduce a round of a long run
const firstRound = Number(opt('first-round', '1'));
const only = opt('target', '');
const seconds = Number(opt('seconds', 'Infinity'));
if (!Number.isInteger(inputs) || inputs < 1) {
  console.error(`fuzz: --inputs ${opt('inputs', '')} is not allowed; expected a positive integer`);
  process.exit(2);
}
if (!(seconds > 0)) {
  console.error(`fuzz: --seconds ${opt('seconds', '')} is not allowed; expected a positive number`);
  process.exit(2);
}
if (only && !(only in TARGETS)) {
  console.error(`fuzz: --target ${only} is not allowed; expected one of ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
await load();
// Rejections are what most inputs produce, and each builds an Error: its stack trace (captured at construction,
// never read here: a failure prints the message and the counterexample) was a tenth of the API fuzzer's time.
Error.stackTraceLimit = 0;

const CHUNK = 10_000;
const runs = Object.entries(TARGETS)
  .filter(([name]) => !only || name === only)
  .map(([name, prop]) => ({ name, prop: prop as fc.IProperty<unknown[]>, done: 0, s: 0 }));
const t0 = performance.now();
const rate = (r: { done: number; s: number }) => Math.round(r.done / r.s);
for (let k = firstRound - 1; runs.some((r) => r.done < inputs); k++) {
  for (const r of runs) {
    if (r.done >= inputs) continue;
    const n = Math.min(CHUNK, inputs - r.done);
    const t = performance.now();
    // The targets are synchronous properties of different argument tuples; check each as a plain IProperty.
    const res = fc.check(r.prop, { seed: seed + k, numRuns: n });
    r.s += (performance.now() - t) / 1000;
    if (res.failed) {
      console.error(`fuzz ${r.name}: FAILED (seed ${seed + k}, path ${res.counterexamplePath}): ${res.errorInstance ?? ''}\n${JSON.stringify(res.counterexample, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
      process.exit(1);
    }
    r.done += n;
  }
  const wall = (performance.now() - t0) / 1000;
  console.log(`fuzz round ${k + 1} (${wall.toFixed(0)} s): ${runs.map((r) => `${r.name} ${r.done} (${rate(r)}/s)`).join(', ')}`);
  if (wall >= seconds) {
    console.log(`fuzz: stopped after --seconds ${seconds}`);
    break;
  }
}
for (const r of runs) console.log(`fuzz ${r.name}: ${r.done} inputs in ${r.s.toFixed(1)} s (${rate(r)}/s), seed ${seed}, no failure`);
