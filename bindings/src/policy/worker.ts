/** A sweep worker: loads the wasm engine itself, runs jobs it receives, posts back the summary rows. */
import { parentPort } from 'node:worker_threads';
import { loadNodeSync } from '../loader-node.js';
import { runOne } from './compare.js';
import type { Job } from './sweep.js';

loadNodeSync();
parentPort!.on('message', (j: Job) => {
  try {
    const { row } = runOne(j.scenario, j.spec, j.culprits, j.protect, { tickNs: j.tickNs });
    parentPort!.postMessage({ index: j.index, row });
  } catch (e) {
    parentPort!.postMessage({ index: j.index, error: (e as Error).message });
  }
});
