/** Running scenario files (Node): load, validate, normalize, run; and the seed-suite table of `npm start`. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssue, loadScenarioFile } from './scenario/load.js';
import { normalizeScenario, type NormalizedScenario } from './scenario/normalize.js';
import { OomsimError } from './errors.js';
import { runScenario, type RunOptions, type RunResult } from './run.js';
import { outcomeLine } from './report/text.js';

/**
 * Load, validate and normalize one scenario file; scenario errors throw an OomsimError('E_SCENARIO') listing every
 * issue. `allowLong` lifts the 30-day cap on `duration` (scenario/limits.ts).
 */
export function loadNormalizedFile(file: string, opts: { allowLong?: boolean } = {}): NormalizedScenario {
  const r = loadScenarioFile(file, { allowLong: opts.allowLong });
  if (!r.success) throw new OomsimError('E_SCENARIO', r.errors.map(formatIssue).join('\n'));
  return withFileName(file, () => normalizeScenario(r.data, { file }));
}

/** A scenario error raised while booting a file's scenario (a ScenarioRunError) gets the file name in front. */
export function withFileName<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OomsimError && e.code === 'E_SCENARIO') throw new OomsimError('E_SCENARIO', `${file} ${e.message.replace(/^E_SCENARIO: /, '')}`);
    throw e;
  }
}

/** Run one scenario file (see loadNormalizedFile). */
export function runScenarioFile(file: string, opts: RunOptions & { allowLong?: boolean } = {}): RunResult {
  const sc = loadNormalizedFile(file, opts);
  return withFileName(file, () => runScenario(sc, opts));
}

export interface SuiteRow {
  file: string;
  name: string;
  outcome: string;
  ok: boolean;
}

/** Every .yaml/.yml/.json scenario in `dir`, sorted by name, run with `opts`. */
export function runSuite(dir: string, opts: RunOptions = {}): SuiteRow[] {
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
    .sort();
  return files.map((f) => {
    const file = join(dir, f);
    try {
      const r = runScenarioFile(file, opts);
      return { file, name: r.name, outcome: outcomeLine(r), ok: true };
    } catch (e) {
      return { file, name: f, outcome: `error: ${(e as Error).message}`, ok: false };
    }
  });
}
