// Golden files of the text summary and the JSON report of every seed scenario (test/golden/). Regenerate with
// OOMSIM_UPDATE_GOLDEN=1 npx vitest run test/run-golden.test.ts, and review the diff: a change there is a change in
// what the simulator reports. The JSON keeps every 10th sample (1 s at the default tick) to keep the files small.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { load, runScenarioFile, textSummary, toJson, formatLog } from '../bindings/src/index.js';

const DIR = new URL('../scenarios/', import.meta.url).pathname;
const GOLDEN = new URL('./golden/', import.meta.url).pathname;
const UPDATE = process.env.OOMSIM_UPDATE_GOLDEN === '1';
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

beforeAll(async () => {
  await load();
  mkdirSync(GOLDEN, { recursive: true });
});

function check(path: string, actual: string) {
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) throw new Error(`${path} is missing: run with OOMSIM_UPDATE_GOLDEN=1 to create it`);
    writeFileSync(path, actual);
    return;
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('seed scenario goldens', () => {
  it('covers every seed scenario', () => {
    expect(files.length).toBeGreaterThanOrEqual(19);
  });
  // Timeouts are hang detectors, not speed checks: prevent-more-swap alone took 15 s of a 60 s default in one
  // loaded run, and the determinism check below runs it twice (28 s there).
  for (const f of files) {
    it(f, { timeout: 300_000 }, () => {
      const r = runScenarioFile(DIR + f);
      const base = GOLDEN + f.replace(/\.yaml$/, '');
      check(`${base}.txt`, [...textSummary(r, { explain: true }), 'kernel log:', ...formatLog(r)].join('\n') + '\n');
      check(`${base}.json`, toJson(r, { seriesStride: 10 }));
    });
  }
  it('is deterministic: a second run gives the same JSON', { timeout: 600_000 }, () => {
    const f = DIR + 'prevent-more-swap.yaml';
    expect(toJson(runScenarioFile(f))).toBe(toJson(runScenarioFile(f)));
  });
});
