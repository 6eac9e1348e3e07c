// `npm run test:diff -- --runs N [--seed S]`: the differential test (wasm engine vs TS reference) with more cases.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`test:diff: --runs ${values.runs} is not allowed; expected a positive integer`);
  process.exit(2);
}
const env = { ...process.env, OOMSIM_DIFF_RUNS: String(runs) };
if (values.seed !== undefined) env.OOMSIM_DIFF_SEED = values.seed;
const r = spawnSync('npx', ['vitest', 'run', 'test/differential.test.ts'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
