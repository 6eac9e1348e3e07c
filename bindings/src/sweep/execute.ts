/**
 * One sweep job, run: the only code that produces a job's result, whichever backend runs it (local threads or
 * `oomsim worker` over Redis both call it inside a worker thread). The result is the canonical JSON of the
 * bake-off row (policy/compare.ts: kills, collateral, first action, stall, time under pressure, work lost).
 */
import { OomsimError } from '../errors.js';
import { runOne } from '../policy/compare.js';
import { canonicalJson } from './canonical.js';
import { applyPoint, jobLabel, JOB_FORMAT, type ScenarioRecord, type SweepJob } from './jobs.js';

/**
 * Run `job` on `rec` (the record its `scenario` digest names). Throws for a bad job (another engine build, a bad
 * point or parameter) and for an engine trap: both are deterministic, so a caller never retries them.
 */
export function executeJob(job: SweepJob, rec: ScenarioRecord, engine: string): string {
  if (job.v !== JOB_FORMAT) throw new OomsimError('E_ARG', `job format ${job.v}; this worker runs format ${JOB_FORMAT}: run the same oomsim version on every machine`);
  if (job.engine !== engine) throw new OomsimError('E_ARG', `job built for engine ${job.engine}; this worker runs ${engine}: run the same oomsim build on every machine`);
  const sc = applyPoint(rec.scenario, job.point, job.seed);
  const label = jobLabel(rec.scenario.name, job);
  const { row } = runOne(sc, { name: job.policy, params: job.params as Record<string, unknown>, label }, rec.culprits, rec.protect, { tickNs: rec.tickNs });
  return canonicalJson(row);
}
