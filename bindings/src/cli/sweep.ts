/**
 * `oomsim sweep`: a grid of pure jobs (bindings/src/sweep/jobs.ts) run on a backend, one row per job in a SQLite
 * results file; `oomsim sweep --report results.sqlite --html f` summarises a results file
 * (docs/decisions/0014-sweeps.md).
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { OomsimError } from '../errors.js';
import { loadNodeSync } from '../loader-node.js';
import { formatIssue, loadScenarioFile } from '../scenario/load.js';
import { normalizeScenario } from '../scenario/normalize.js';
import { parseDuration } from '../scenario/size.js';
import { parseSweep } from '../policy/sweep.js';
import { policySpecs } from './policy-specs.js';
import { parseSeeds, planSweep, type SweepPlan } from '../sweep/jobs.js';
import { runLocal } from '../sweep/local.js';
import { summaryLine, type SweepProgress } from '../sweep/progress.js';
import { ResultStore } from '../sweep/store.js';
import { parseBackend } from '../sweep/redis-connection.js';

export interface SweepCliOptions {
  policies: string;
  set?: string[];
  sweep?: string[];
  seeds?: string;
  backend: string;
  queue?: string;
  out: string;
  workers?: string;
  culprit?: string[];
  protect?: string[];
  tick: string;
  retryFailed?: boolean;
  report?: string;
  html?: string;
  progress?: boolean;
}


/** Scenario files, options -> the plan (every file, policy, parameter and point checked before any job runs). */
export function planFromCli(files: string[], o: SweepCliOptions): SweepPlan {
  const tick = parseDuration(o.tick);
  if (!tick.ok || tick.value <= 0n) throw new OomsimError('E_ARG', `--tick ${o.tick}: ${tick.ok ? 'must be > 0' : tick.error}`);
  const scenarios = files.map((file) => {
    const loaded = loadScenarioFile(file);
    if (!loaded.success) throw new OomsimError('E_SCENARIO', loaded.errors.map(formatIssue).join('\n'));
    return { file, scenario: normalizeScenario(loaded.data, { file }) };
  });
  return planSweep({
    scenarios,
    policies: policySpecs(o.policies, o.set),
    sweeps: (o.sweep ?? []).map(parseSweep),
    seeds: o.seeds === undefined ? null : parseSeeds(o.seeds),
    culprits: o.culprit,
    protect: o.protect,
    tickNs: tick.value,
  });
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1024) throw new OomsimError('E_ARG', `${name} ${v}: expected an integer 1..1024`);
  return Number(v);
}

/** A progress bar on stderr (done/failed/ETA), only on a terminal unless asked for. */
export function progressBar(label: string, on: boolean): { update: (p: SweepProgress) => void; stop: () => void } {
  if (!on) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {value}/{total} | {failed} failed | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (!started) {
        bar.start(p.total, 0, { failed: 0 });
        started = true;
      }
      bar.update(p.done + p.failed, { failed: p.failed });
    },
    stop: () => started && bar.stop(),
  };
}

export async function sweepCommand(files: string[], o: SweepCliOptions): Promise<number> {
  try {
    if (o.report !== undefined) {
      const { reportCommand } = await import('./sweep-report.js');
      return await reportCommand(o.report, o);
    }
    if (!files.length) throw new OomsimError('E_ARG', 'oomsim sweep: give scenario files, or --report results.sqlite');
    const backend = parseBackend(o.backend);
    const threads = positiveInt('--workers', o.workers);
    loadNodeSync();
    const plan = planFromCli(files, o);
    const store = await ResultStore.open(o.out);
    const bar = progressBar('sweep', o.progress ?? process.stderr.isTTY === true);
    try {
      let summary;
      if (backend.kind === 'local') {
        summary = await runLocal(plan, store, { threads, retryFailed: o.retryFailed, onProgress: bar.update });
      } else {
        const { submitRedis } = await import('../sweep/redis.js');
        summary = await submitRedis(plan, store, backend, { queue: o.queue ?? 'oomsim', retryFailed: o.retryFailed, onProgress: bar.update });
      }
      bar.stop();
      console.log(summaryLine(summary, o.out));
      return summary.failed ? 1 : 0;
    } finally {
      bar.stop();
      store.close();
    }
  } catch (e) {
    console.error(e instanceof OomsimError ? e.message.replace(/^E_[A-Z_]+: /, '') : `oomsim sweep: ${(e as Error).message}`);
    return e instanceof OomsimError && e.code === 'E_ARG' ? 2 : 1;
  }
}

/** `oomsim worker --backend redis://...`: run queued sweep jobs on every core until SIGINT/SIGTERM. */
export async function workerCommand(o: { backend: string; queue: string; workers?: string; lockMs?: string; quiet?: boolean }): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const backend = parseBackend(o.backend);
    if (backend.kind !== 'redis') throw new OomsimError('E_ARG', `--backend ${o.backend}: oomsim worker needs a redis:// URL (the local backend runs inside oomsim sweep)`);
    const threads = positiveInt('--workers', o.workers) ?? availableParallelism();
    let lockMs: number | undefined;
    if (o.lockMs !== undefined) {
      if (!/^\d+$/.test(o.lockMs) || Number(o.lockMs) < 1000 || Number(o.lockMs) > 3_600_000) throw new OomsimError('E_ARG', `--lock-ms ${o.lockMs}: expected an integer 1000..3600000`);
      lockMs = Number(o.lockMs);
    }
    const { runWorker } = await import('../sweep/redis.js');
    const r = await runWorker(backend, { queue: o.queue, threads, lockMs, signal: ac.signal, log: o.quiet ? undefined : (l) => console.log(l) });
    console.log(`worker: stopped after ${r.done} done, ${r.failed} failed`);
    return 0;
  } catch (e) {
    console.error(e instanceof OomsimError ? e.message.replace(/^E_[A-Z_]+: /, '') : `oomsim worker: ${(e as Error).message}`);
    return e instanceof OomsimError && e.code === 'E_ARG' ? 2 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Register `sweep` and `worker` on the program; `setCode` receives each command's exit code. */
export function registerSweepCommands(program: Command, setCode: (c: number) => void): void {
  program
    .command('sweep')
    .description('run a grid of scenario x policy x parameter x seed jobs; one row per job in a SQLite results file')
    .argument('[scenarios...]', 'scenario files (YAML or JSON)')
    .option('--policies <list>', 'comma-separated: earlyoom,nohang,systemd-oomd,oomd,lmkd,kubelet,kernel', 'kernel,earlyoom,nohang,systemd-oomd,oomd,lmkd,kubelet')
    .option('--set <policy.param=value>', 'set a policy parameter (JSON value or string); repeatable', collect)
    .option('--sweep <spec>', 'sweep a policy parameter, vm.<sysctl> or machine.swap: earlyoom.m=2..20:2, vm.overcommit_memory=0,1,2, machine.swap=0,2G; repeatable (grid)', collect)
    .option('--seeds <list>', 'seeds: 1..100, 1..100:3 or 1,5,9 (default: each scenario\'s own seed)')
    .option('--backend <url>', 'local (worker threads here) or redis://host:port[/db] (jobs for oomsim worker)', 'local')
    .option('--queue <name>', 'queue name on the Redis backend', 'oomsim')
    .option('--out <file>', 'results file (SQLite); jobs already in it are skipped, so a re-run resumes', 'results.sqlite')
    .option('--workers <n>', 'worker threads of the local backend (default: all cores)')
    .option('--culprit <comm...>', 'the process(es) causing the pressure (default: the leak detector on the kernel-only run)')
    .option('--protect <comm...>', 'services that must survive (default: processes with oom_score_adj < 0)')
    .option('--tick <duration>', 'simulated time per tick', '100ms')
    .option('--retry-failed', 'run the jobs recorded as failed again')
    .option('--no-progress', 'no progress bar (default: a bar when stderr is a terminal)')
    .option('--report <file>', 'summarise a results file instead of running (with --html: the HTML report)')
    .option('--html <file>', 'with --report: write the HTML report (table, Pareto chart of stall time vs collateral kills)')
    .action(async (files: string[], o: SweepCliOptions & { progress: boolean }) => {
      setCode(await sweepCommand(files, { ...o, progress: o.progress === false ? false : undefined }));
    });
  program
    .command('worker')
    .description('run sweep jobs from a Redis queue on every core of this machine, until SIGINT/SIGTERM')
    .requiredOption('--backend <url>', 'redis://host:port[/db]')
    .option('--queue <name>', 'queue name', 'oomsim')
    .option('--workers <n>', 'worker threads (default: all cores)')
    .option('--lock-ms <ms>', 'how long a job stays with a worker that went silent before another takes it', '10000')
    .option('--quiet', 'no line per finished job')
    .action(async (o: { backend: string; queue: string; workers?: string; lockMs?: string; quiet?: boolean }) => {
      setCode(await workerCommand(o));
    });
}
