/**
 * The scenario runner: a NormalizedScenario (bindings/src/scenario/normalize.ts) driven through the wasm engine in
 * ticks of simulated time, with a time series sampled every tick.
 *
 * The runner owns what user space and the admin do (start programs, their syscalls, timed actions, supervisors
 * restarting services) and records what the engine answers. Kernel outcomes (refusals, OOM kills, panics, log
 * lines) come only from the engine: what a scenario uses that the engine does not simulate (signal delivery, a
 * fork child's own comm, pid limits) the result says in `notSimulated` instead of inventing an outcome.
 *
 * The parts live in run/: types.ts (options and results), state.ts (the one state object of a run), boot.ts (the
 * machine), processes.ts (programs, supervisors, engine events), actions.ts (timed admin actions), sampling.ts
 * (the series), stepper.ts (the tick loop that ties them together, in slices). This file runs it in one.
 *
 * Boundary crossings per tick: one batch of queued touches/reads per running program (so an OOM kill caused by one
 * program is seen before the next program's commands), plus the rare direct calls (mmap, fork, exec, munmap) and
 * three reads for the sample (meminfo, the task table, vmstat).
 */
import type { NormalizedScenario } from './scenario/normalize.js';
import { RunStepper } from './run/stepper.js';
import type { RunOptions, RunResult } from './run/types.js';

export * from './run/types.js';
export { RunStepper } from './run/stepper.js';

/** A whole run: the stepper (run/stepper.ts) stepped to the end in one slice. */
export function runScenario(sc: NormalizedScenario, opts: RunOptions = {}): RunResult {
  const s = new RunStepper(sc, opts);
  try {
    s.step(Infinity);
    return s.result();
  } finally {
    if (!opts.keepEngine) s.free();
  }
}
