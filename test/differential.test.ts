// Differential testing: random `ops` scenarios through the wasm engine and the TS reference engine (two
// independent readings of the semantics) must agree on every op's result and the whole final state. fast-check
// shrinks a failure to a minimal scenario, printed as a ready-to-run vector file.
// `npm run test:diff -- --runs N` runs more cases (OOMSIM_DIFF_RUNS).
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { asVector, scenarioFromSeeds } from '../bindings/src/diff/generate.js';
import { diffScenario } from '../bindings/src/diff/run.js';

const RUNS = Number(process.env.OOMSIM_DIFF_RUNS ?? 300);
const SEED = Number(process.env.OOMSIM_DIFF_SEED ?? 20261125);

beforeAll(async () => {
  await load();
});

const seeds = fc.array(fc.nat(1000), { minLength: 5, maxLength: 5 });
const scenarioArb = fc
  .tuple(fc.array(fc.nat(100), { minLength: 4, maxLength: 4 }), fc.array(seeds, { minLength: 1, maxLength: 40, size: 'max' }))
  .map(([m, o]) => scenarioFromSeeds(m, o));

describe('wasm engine vs TS reference engine', () => {
  it(`agree on ${RUNS} random scenarios (seed ${SEED})`, () => {
    let compared = 0;
    let reclaimed = 0;
    let unsupported = 0;
    const reasons = new Map<string, number>();
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const d = diffScenario(s);
        if (d.kind === 'unsupported') {
          unsupported++;
          const why = d.why.replace(/ops\[\d+\]: /, '');
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
          return true;
        }
        if (d.kind === 'differ') {
          const file = `test/.output/diff-minimal.json`;
          try {
            writeFileSync(file, asVector(s, d.refObs));
          } catch {
            /* the output folder may not exist outside npm test */
          }
          throw new Error(`engines differ at ${d.path}: wasm ${JSON.stringify(d.wasm)} vs reference ${JSON.stringify(d.reference)}\n` +
            `scenario (also in ${file}, expected = the reference's observations):\n${JSON.stringify(s)}`);
        }
        compared++;
        if (d.reclaimed) reclaimed++;
        return true;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    console.log(`differential: ${compared} compared (${reclaimed} entered direct reclaim), ${unsupported} unsupported by the wasm engine`, Object.fromEntries(reasons));
    // The generator must exercise the engines, not only produce unsupported cases.
    expect(compared).toBeGreaterThan(RUNS * 0.5);
    // long runs (OOMSIM_DIFF_RUNS=100000) outlast the default 60 s test timeout on a busy machine
  }, Math.max(60_000, RUNS * 10));
});
