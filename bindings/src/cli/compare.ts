/** `oomsim compare`: the policy bake-off on one scenario (bindings/src/policy/compare.ts). */
import { writeFileAtomic } from './atomic.js';
import cliProgress from 'cli-progress';
import { loadNodeSync } from '../loader-node.js';
import { OomsimError } from '../errors.js';
import { formatIssue, loadScenarioFile } from '../scenario/load.js';
import { normalizeScenario } from '../scenario/normalize.js';
import { parseDuration } from '../scenario/size.js';
import { compareHtml } from '../policy/compare-html.js';
import { compareTable, comparePolicies, resolveCulprits, resolveProtected, type CompareResult } from '../policy/compare.js';
import { parseSweep, runJobsOnWorkers, sweepJobs } from '../policy/sweep.js';
import { policySpecs } from './policy-specs.js';

export async function compareCommand(file: string, o: Record<string, unknown>): Promise<number> {
  try {
    loadNodeSync();
    const tick = parseDuration(String(o.tick ?? '100ms'));
    if (!tick.ok || tick.value <= 0n) throw new OomsimError('E_ARG', `--tick ${String(o.tick)}: ${tick.ok ? 'must be > 0' : tick.error}`);
    const loaded = loadScenarioFile(file);
    if (!loaded.success) throw new OomsimError('E_SCENARIO', loaded.errors.map(formatIssue).join('\n'));
    const sc = normalizeScenario(loaded.data, { file });
    const specs = policySpecs(String(o.policies), (o.set as string[] | undefined) ?? []);
    const copts = { culprits: o.culprit as string[] | undefined, protect: o.protect as string[] | undefined, tickNs: tick.value };
    let result: CompareResult;
    if (o.sweep) {
      const sweep = parseSweep(String(o.sweep));
      const culprits = resolveCulprits(sc, copts), protect = resolveProtected(sc, copts);
      const jobs = sweepJobs(sc, specs, sweep, culprits, protect, tick.value);
      if (!jobs.length) throw new OomsimError('E_ARG', `--sweep ${String(o.sweep)}: no job (is ${sweep.target} in --policies?)`);
      const bar = new cliProgress.SingleBar({ stream: process.stderr, format: `compare [{bar}] {value}/{total} runs`, clearOnComplete: true }, cliProgress.Presets.shades_classic);
      bar.start(jobs.length, 0);
      const rows = await runJobsOnWorkers(jobs, { workers: o.workers ? Number(o.workers) : undefined, onDone: (d) => bar.update(d) });
      bar.stop();
      result = { scenario: sc.name, seed: sc.seed, culprits: culprits.map(String), protected: protect.map(String), rows, runs: [] };
    } else {
      result = comparePolicies(sc, specs, copts);
    }
    for (const l of compareTable(result)) console.log(l);
    if (o.html) {
      if (!result.runs.length) console.error('oomsim compare: --html charts need full runs; with --sweep only the table is written');
      writeFileAtomic(String(o.html), compareHtml(result));
    }
    return 0;
  } catch (e) {
    console.error(e instanceof OomsimError ? e.message.replace(/^E_SCENARIO: /, '') : `oomsim compare: ${(e as Error).message}`);
    return 1;
  }
}
