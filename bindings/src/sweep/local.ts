/**
 * The local backend (the default): the plan's jobs on worker threads of this process, rows into the results file.
 * Jobs already in the file are skipped. A job's own error (a bad point, a trap) fails it at once; a thread that died
 * under a job is replaced and the job retried, with backoff, up to `attempts` times.
 */
import { availableParallelism, hostname } from 'node:os';
import type { SweepPlan } from './jobs.js';
import { ThreadPool } from './pool.js';
import type { RunHooks, SweepSummary } from './progress.js';
import type { ResultStore } from './store.js';

export interface LocalOptions extends RunHooks {
  threads?: number;
  attempts?: number;
  /** First retry delay (doubles each time). Default 500 ms. */
  backoffMs?: number;
  retryFailed?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLocal(plan: SweepPlan, store: ResultStore, o: LocalOptions = {}): Promise<SweepSummary> {
  const t0 = performance.now();
  for (const [digest, { text, record }] of plan.records) store.putScenario(digest, record.scenario.name, record.file, text);
  if (o.retryFailed) store.dropFailed();
  const have = store.statuses();
  const todo = plan.jobs.filter((j) => !have.has(j.id));
  const p = { total: todo.length, done: 0, failed: 0 };
  const summary = (): SweepSummary => ({ ...p, backend: 'local', skipped: plan.jobs.length - todo.length, seconds: (performance.now() - t0) / 1000, workers: todo.length ? [`${hostname()}:${process.pid}`] : [] });
  if (!todo.length) {
    store.checkpoint();
    return summary();
  }
  const attempts = Math.max(1, o.attempts ?? 3);
  const pool = new ThreadPool(Math.max(1, Math.min(o.threads ?? availableParallelism(), todo.length)));
  const timer = setInterval(() => store.checkpoint(), o.checkpointMs ?? 2000);
  const worker = `${hostname()}:${process.pid}`;
  try {
    o.onProgress?.({ ...p });
    await Promise.all(
      todo.map(async (j) => {
        const text = plan.records.get(j.job.scenario)!.text;
        for (let attempt = 1; ; attempt++) {
          try {
            const out = await pool.run(j.job, text);
            store.put(j, out.ok ? { result: out.result } : { error: out.error }, { backend: 'local', worker, attempts: attempt });
            if (out.ok) p.done++;
            else p.failed++;
            break;
          } catch (e) {
            if (attempt >= attempts) {
              store.put(j, { error: (e as Error).message }, { backend: 'local', worker, attempts: attempt });
              p.failed++;
              break;
            }
            await sleep((o.backoffMs ?? 500) * 2 ** (attempt - 1));
          }
        }
        o.onProgress?.({ ...p });
      }),
    );
  } finally {
    clearInterval(timer);
    await pool.close();
    store.checkpoint();
  }
  return summary();
}
