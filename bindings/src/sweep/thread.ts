/**
 * A sweep worker thread: compiles the wasm engine once, keeps the scenario records it was sent, runs jobs.
 * Messages in: `{ type: 'scenario', digest, text }`, `{ type: 'job', seq, job }`. Out: `{ seq, ok, result }` or
 * `{ seq, ok: false, error, code }`. A trap is reported like any job error; the pool then replaces this thread, so
 * no later job runs on a wasm instance that trapped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadNodeSync } from '../loader-node.js';
import { Engine } from '../engine.js';
import { OomsimError } from '../errors.js';
import { executeJob } from './execute.js';
import { decodeRecord, type ScenarioRecord, type SweepJob } from './jobs.js';

export type ThreadIn = { type: 'scenario'; digest: string; text: string } | { type: 'job'; seq: number; job: SweepJob };
export type ThreadOut = { seq: number; ok: true; result: string } | { seq: number; ok: false; error: string; code: string };

const { engine, trapSeed } = workerData as { engine: string; trapSeed?: string };
loadNodeSync();
const records = new Map<string, ScenarioRecord>();

parentPort!.on('message', (m: ThreadIn) => {
  if (m.type === 'scenario') {
    records.set(m.digest, decodeRecord(m.text));
    return;
  }
  let out: ThreadOut;
  try {
    const rec = records.get(m.job.scenario);
    if (!rec) throw new OomsimError('E_INTERNAL', `scenario record ${m.job.scenario} was not sent to this thread`);
    // Test seam for the poisoned-job path (OOMSIM_SWEEP_TRAP_SEED): a real trap inside the wasm engine.
    if (trapSeed !== undefined && String(m.job.seed) === trapSeed) new Engine({ totalramPages: 1024 }).debugTrap();
    out = { seq: m.seq, ok: true, result: executeJob(m.job, rec, engine) };
  } catch (e) {
    const err = e as Error;
    out = { seq: m.seq, ok: false, error: err.message, code: e instanceof OomsimError ? e.code : 'E_INTERNAL' };
  }
  parentPort!.postMessage(out);
});
