/**
 * `oomsim run`: run scenario files, print each summary, write the reports.
 *
 * Under `mainAsync` (the installed `oomsim` binary) a run goes in slices of about 100 ms of wall time
 * (RunStepper.stepFor, bindings/src/run/stepper.ts) with an event-loop turn between slices, so SIGINT and SIGTERM
 * handlers get to run: the first signal stops the run after the slice in progress, prints and writes the report
 * of what ran (marked interrupted, in the text and as `"interrupted": true` in the JSON), skips the files not yet
 * run, and exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM) as a shell reports a process killed by
 * it. A second signal exits at once (the reports are written atomically: no half file either way). Slicing does
 * not change results: the stepper is the loop runScenario runs. The synchronous `main` runs whole (no handlers).
 */
import cliProgress from 'cli-progress';
import { OomsimError } from '../errors.js';
import { RunStepper, type RunInterruption, type RunOptions, type RunResult } from '../run.js';
import { loadNormalizedFile, withFileName } from '../suite.js';
import { textSummary } from '../report/text.js';
import { formatLog } from '../report/log.js';
import { toJson } from '../report/json.js';
import { toHtml } from '../report/html.js';
import { writeFileAtomic } from './atomic.js';
import { policySpecs } from './policy-specs.js';
import { atTick, policiesOf, readResume, resumeStepper, snapshotFile } from './run-snapshot.js';
import type { PolicySpec } from '../policy/compare.js';

export interface RunCommandOptions {
  log?: boolean;
  json?: string;
  html?: string;
  explain?: boolean;
  allowLong?: boolean;
  /** With --snapshot: stop after this tick and save the run there. */
  at?: string;
  snapshot?: string;
  /** Continue the run a snapshot saved (the scenario file, if given, must be the snapshot's). */
  from?: string;
  set?: string[];
  policies?: string;
  /** Whether --tick was given (with --from the snapshot's tick is used). */
  tickGiven?: boolean;
}

/** The option combinations `run` refuses, as the message to print (null: fine). */
export function checkRunOptions(files: string[], o: RunCommandOptions): string | null {
  if (!o.from && files.length === 0) return 'give scenario files, or --from SNAPSHOT to continue a saved run';
  if ((o.at === undefined) !== (o.snapshot === undefined)) return o.at === undefined ? '--snapshot needs --at TIME (the tick to save the run after)' : '--at needs --snapshot FILE (oomsim explain --at prints the OOM ranking at a time)';
  if ((o.snapshot || o.from) && files.length > 1) return `--${o.from ? 'from' : 'snapshot'} takes one scenario (${files.length} given)`;
  if (o.from && o.policies !== undefined) return '--policies: a run from a snapshot keeps the snapshot\'s policies; change their parameters with --set POLICY.PARAM=VALUE';
  if (o.from && o.tickGiven) return '--tick: a run from a snapshot keeps the snapshot\'s tick';
  if (!o.from && o.set?.length && o.policies === undefined) return '--set without --from sets policy parameters: give --policies too';
  return null;
}

interface Started {
  s: RunStepper;
  specs: PolicySpec[];
  explain: boolean;
}

/** Wall time per slice: short enough that a signal is answered at once, long enough that yielding costs nothing. */
const SLICE_MS = 100;
const SIGNAL_EXIT: Record<RunInterruption['signal'], number> = { SIGINT: 128 + 2, SIGTERM: 128 + 15 };

/** The synchronous command: each file run whole. */
export function runCommand(files: string[], tickNs: bigint, o: RunCommandOptions): number {
  let code = 0;
  files.forEach((f, i) => {
    const s = start(f, tickNs, o);
    if (s === null) return void (code = 1);
    if (!finish(f, s, i === 0, files.length, o, () => s.s.step(Infinity), null)) code = 1;
  });
  return code;
}

/** The command under mainAsync: sliced, stopped by SIGINT/SIGTERM with a partial report. */
export async function runCommandAsync(files: string[], tickNs: bigint, o: RunCommandOptions): Promise<number> {
  let stop: RunInterruption['signal'] | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (sig !== 'SIGINT' && sig !== 'SIGTERM') return;
    if (stop !== null) {
      // a second signal: stop now, without a report (nothing half-written: the reports are written atomically)
      endProgress();
      process.exit(SIGNAL_EXIT[sig]);
    }
    stop = sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let code = 0;
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      if (stop !== null) {
        console.error(`oomsim run: interrupted by ${stop}; not run: ${files.slice(i).join(', ')}`);
        break;
      }
      const s = start(f, tickNs, o);
      if (s === null) {
        code = 1;
        continue;
      }
      let failed: unknown = null;
      try {
        while (!s.s.done && stop === null) {
          s.s.stepFor(SLICE_MS);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } catch (e) {
        failed = e;
      }
      const ok = finish(f, s, i === 0, files.length, o, () => {
        if (failed !== null) throw failed;
      }, stop);
      if (!ok) code = 1;
    }
    return stop !== null ? SIGNAL_EXIT[stop] : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Load and boot one file, or restore the run of --from (then `f` is the scenario file given with it, or the
 * snapshot's name); null (after printing the error) when it cannot be run.
 */
function start(f: string, tickNs: bigint, o: RunCommandOptions): Started | null {
  try {
    if (o.from) {
      const file = f === o.from ? null : f;
      const sc = file === null ? null : loadNormalizedFile(file, { allowLong: o.allowLong });
      const r = readResume(o.from, sc, file, o.set ?? []);
      const untilNs = o.at === undefined ? undefined : atTick(o.at, r.section.run.tickNs, r.sc, r.section.atNs);
      const explain = r.section.run.explain;
      if (o.explain && !explain) throw new OomsimError('E_SNAPSHOT', `--explain: the snapshot's run was without --explain (the engine records OOM candidate tables only when asked from the start)`);
      o.explain = explain;
      return { s: resumeStepper(r, { untilNs, onTick: progress(f) }), specs: r.specs, explain };
    }
    const sc = loadNormalizedFile(f, { allowLong: o.allowLong });
    const specs = o.policies !== undefined ? policySpecs(o.policies, o.set ?? []) : [];
    const untilNs = o.at === undefined ? undefined : atTick(o.at, tickNs, sc);
    const policies = specs.length ? { policies: policiesOf(specs), onPolicyError: 'disable' as const } : {};
    return { s: withFileName(f, () => new RunStepper(sc, { tickNs, explain: o.explain, untilNs, onTick: progress(f), ...policies })), specs, explain: o.explain === true };
  } catch (e) {
    report(f, e);
    return null;
  }
}

/** Run (`go`), then print and write the result, partial when `stop` is set; false on an error (printed). */
function finish(f: string, started: Started, first: boolean, count: number, o: RunCommandOptions, go: () => void, stop: RunInterruption['signal'] | null): boolean {
  const { s } = started;
  try {
    withFileName(f, go);
    endProgress();
    // an interrupted run never reached --at: no snapshot
    const snapshot = o.snapshot && !(stop !== null && !s.done) ? snapshotFile(s, started.specs, started.explain) : null;
    const r: RunResult = s.result();
    if (stop !== null && !s.done) r.interrupted = { signal: stop, ticks: s.ticks, totalTicks: s.totalTicks };
    if (!first) console.log('');
    for (const l of textSummary(r, { explain: o.explain })) console.log(l);
    if (o.log) {
      console.log('kernel log:');
      const lines = formatLog(r);
      for (const l of lines) console.log(l);
      if (lines.length === 0) console.log('  (empty)');
    }
    if (o.json) writeFileAtomic(outName(o.json, r.name, count), toJson(r));
    if (o.html) writeFileAtomic(outName(o.html, r.name, count), toHtml(r));
    if (snapshot !== null) {
      writeFileAtomic(o.snapshot!, snapshot);
      console.log(`snapshot after the tick at ${(Number(s.reachedNs) / 1e9).toFixed(3).replace(/\.?0+$/, '')}s written to ${o.snapshot} (${snapshot.length} bytes); continue with: oomsim run --from ${o.snapshot}`);
    }
    return true;
  } catch (e) {
    endProgress();
    report(f, e);
    return false;
  } finally {
    s.free();
  }
}

function report(f: string, e: unknown): void {
  if (e instanceof OomsimError && (e.code === 'E_SNAPSHOT' || e.code === 'E_ARG')) return void console.error(`oomsim run: ${f}: ${e.message.replace(/^E_[A-Z]+: /, '')}`);
  console.error(e instanceof OomsimError ? e.message.replace(/^E_SCENARIO: /, '') : `oomsim run: ${f}: ${(e as Error).message}`);
}

let bar: cliProgress.SingleBar | null = null;
/**
 * A progress callback that shows a bar on stderr once a run has taken more than a second of wall time. Where
 * stderr is not a terminal (a log file, a pipe) the bar is a line every 10 s instead of a redrawn one.
 */
function progress(label: string): RunOptions['onTick'] {
  const t0 = Date.now();
  return (now, end) => {
    if (bar === null) {
      if (Date.now() - t0 < 1000) return;
      bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} s simulated | ETA {eta_formatted}`, etaBuffer: 50, hideCursor: true, clearOnComplete: true, noTTYOutput: true, notTTYSchedule: 10_000 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.round(Number(end) / 1e9), 0);
    }
    bar.update(Math.round(Number(now) / 1e9));
  };
}
function endProgress(): void {
  bar?.stop();
  bar = null;
}

/** With several scenarios, each report file gets the scenario name: out.json -> out.<name>.json. */
function outName(file: string, name: string, count: number): string {
  if (count <= 1) return file;
  const dot = file.lastIndexOf('.');
  return dot > 0 ? `${file.slice(0, dot)}.${name}${file.slice(dot)}` : `${file}.${name}`;
}
