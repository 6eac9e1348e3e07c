// A short seeded slice of the fuzz targets (test/fuzz/targets.ts); `npm run fuzz -- --inputs N` runs them long.
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { TARGETS } from './fuzz/targets.js';

beforeAll(async () => {
  await load();
});

describe('fuzzing (seeded slice)', () => {
  it('raw command words: typed errors only, a rejected batch changes nothing', () => {
    fc.assert(TARGETS.commandBuffer, { seed: 19, numRuns: 300 });
  });
  it('random API call sequences: typed errors only, E_ARG changes nothing', () => {
    fc.assert(TARGETS.apiSequence, { seed: 19, numRuns: 200 });
  });
  it('scenario loader: never throws, issues in its own words', () => {
    fc.assert(TARGETS.scenarioLoader, { seed: 19, numRuns: 300 });
  });
});
