// `npm run fuzz -- [--inputs N] [--seed S] [--target commandBuffer|apiSequence|scenarioLoader]`: runs the fuzz
// targets for N inputs each (default 100,000) in chunks, printing inputs/s; exits 1 with the counterexample on a
// failure. fast-check, not cargo-fuzz: see docs/decisions/0015-robustness.md.
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
const only = opt('target', '');
if (!Number.isInteger(inputs) || inputs < 1) {
  console.error(`fuzz: --inputs ${opt('inputs', '')} is not allowed; expected a positive integer`);
  process.exit(2);
}
if (only && !(only in TARGETS)) {
  console.error(`fuzz: --target ${only} is not allowed; expected one of ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
await load();
for (const [name, prop] of Object.entries(TARGETS)) {
  if (only && name !== only) continue;
  const t0 = performance.now();
  const chunk = 10_000;
  for (let done = 0, k = 0; done < inputs; done += chunk, k++) {
    // The targets are synchronous properties of different argument tuples; check each as a plain IProperty.
    const r = fc.check(prop as fc.IProperty<unknown[]>, { seed: seed + k, numRuns: Math.min(chunk, inputs - done) });
    if (r.failed) {
      console.error(`fuzz ${name}: FAILED (seed ${seed + k}, path ${r.counterexamplePath}): ${r.errorInstance ?? ''}\n${JSON.stringify(r.counterexample)}`);
      process.exit(1);
    }
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`fuzz ${name}: ${inputs} inputs in ${s.toFixed(1)} s (${Math.round(inputs / s)}/s), seed ${seed}, no failure`);
}
