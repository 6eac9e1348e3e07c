/**
 * The Redis backend (docs/decisions/0014-sweeps.md): BullMQ queues on one Redis, drained by `oomsim worker` on any
 * number of machines.
 *
 * - `submitRedis` puts the scenario records into a Redis hash, adds every job the results file lacks with its
 *   digest as the BullMQ job id (adding an id that is already queued, running or finished is a no-op, so a re-run
 *   resumes), then collects finished jobs into the results file until none is left.
 * - `runWorker` takes jobs with `concurrency` = its thread count and runs each on a ThreadPool thread (the wasm
 *   compiled once per thread). A job's own error (a bad point, an engine trap) is deterministic: it fails the job at
 *   once (UnrecoverableError). A worker that dies mid-job loses its lock; BullMQ's stalled-job check hands the job to
 *   another worker, at most `maxStalledCount` times; thread deaths are retried with exponential backoff.
 */
import { hostname } from 'node:os';
import { Job, Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { OomsimError } from '../errors.js';
import { engineId, type PlannedJob, type SweepJob, type SweepPlan } from './jobs.js';
import { ThreadPool } from './pool.js';
import type { RunHooks, SweepSummary } from './progress.js';
import { checkQueueName, probeRedis, recordsKey, roleOptions, type Backend } from './redis-connection.js';
import type { ResultStore } from './store.js';

type RedisBackend = Extract<Backend, { kind: 'redis' }>;

/** What a BullMQ job carries. */
interface JobData {
  job: SweepJob;
}

export const JOB_ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SubmitOptions extends RunHooks {
  queue: string;
  retryFailed?: boolean;
  /** How often unfinished jobs are looked up (default 250 ms). */
  pollMs?: number;
}

export async function submitRedis(plan: SweepPlan, store: ResultStore, b: RedisBackend, o: SubmitOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const queueName = checkQueueName(o.queue);
  await probeRedis(b);
  for (const [digest, { text, record }] of plan.records) store.putScenario(digest, record.scenario.name, record.file, text);
  if (o.retryFailed) store.dropFailed();
  const have = store.statuses();
  const todo = plan.jobs.filter((j) => !have.has(j.id));
  const p = { total: todo.length, done: 0, failed: 0 };
  const workers = new Set<string>();
  const summary = (): SweepSummary => ({ ...p, backend: `${b.display} queue ${queueName}`, skipped: plan.jobs.length - todo.length, seconds: (performance.now() - t0) / 1000, workers: [...workers].sort() });
  if (!todo.length) return summary();

  const redis = new Redis(roleOptions(b, 'submit'));
  redis.on('error', () => {}); // surfaced by the failing command
  const queue = new Queue(queueName, { connection: roleOptions(b, 'submit') as ConnectionOptions });
  queue.on('error', () => {});
  const timer = setInterval(() => store.checkpoint(), o.checkpointMs ?? 2000);
  try {
    const used = new Set(todo.map((j) => j.job.scenario));
    for (const [digest, { text }] of plan.records) if (used.has(digest)) await redis.hset(recordsKey(queueName), digest, text);
    const opts = { attempts: JOB_ATTEMPTS, backoff: { type: 'exponential' as const, delay: 500 }, removeOnComplete: false, removeOnFail: false };
    for (let i = 0; i < todo.length; i += 500) {
      await queue.addBulk(todo.slice(i, i + 500).map((j) => ({ name: 'run', data: { job: j.job }, opts: { ...opts, jobId: j.id } })));
    }
    o.onProgress?.({ ...p });
    let pending = todo;
    const retried = new Set<string>();
    while (pending.length) {
      const next: PlannedJob[] = [];
      for (let i = 0; i < pending.length; i += 200) {
        const chunk = pending.slice(i, i + 200);
        const states = await Promise.all(chunk.map((j) => queue.getJobState(j.id)));
        for (let k = 0; k < chunk.length; k++) {
          const j = chunk[k], st = states[k];
          if (st !== 'completed' && st !== 'failed') {
            if (st === 'unknown') throw new OomsimError('E_BACKEND', `${b.display} queue ${queueName}: job ${j.id} (${j.label}) vanished from Redis (was the queue obliterated?); re-run to enqueue it again`);
            next.push(j);
            continue;
          }
          const bj = await Job.fromId<JobData, string>(queue, j.id);
          if (!bj) {
            next.push(j);
            continue;
          }
          if (st === 'failed' && o.retryFailed && !retried.has(j.id)) {
            // A failure recorded in Redis by an earlier run: run it again once.
            retried.add(j.id);
            await bj.retry('failed');
            next.push(j);
            continue;
          }
          const worker = bj.processedBy ?? null;
          if (worker) workers.add(worker.replace(/:\d+$/, ''));
          if (st === 'completed' && typeof bj.returnvalue === 'string') {
            store.put(j, { result: bj.returnvalue }, { backend: 'redis', worker, attempts: bj.attemptsMade });
            p.done++;
          } else {
            store.put(j, { error: bj.failedReason || 'failed without a reason' }, { backend: 'redis', worker, attempts: bj.attemptsMade });
            p.failed++;
          }
          o.onProgress?.({ ...p });
        }
      }
      pending = next;
      if (pending.length) await sleep(o.pollMs ?? 250);
    }
  } finally {
    clearInterval(timer);
    store.checkpoint();
    await queue.close().catch(() => {});
    redis.disconnect();
  }
  return summary();
}

export interface WorkerOptions {
  queue: string;
  threads: number;
  /** How long a job stays with a worker that stopped renewing its lock (default 10 s). */
  lockMs?: number;
  /** A line per finished job (`done <id>` / `failed <id>: why`). */
  log?: (line: string) => void;
  /** Stop after this many jobs (tests); default: run until signalled. */
  signal?: AbortSignal;
}

/** Run jobs from the queue until `signal` aborts (the CLI aborts on SIGINT/SIGTERM). */
export async function runWorker(b: RedisBackend, o: WorkerOptions): Promise<{ done: number; failed: number }> {
  const queueName = checkQueueName(o.queue);
  const { version } = await probeRedis(b);
  const engine = engineId();
  const redis = new Redis(roleOptions(b, 'worker'));
  redis.on('error', () => {});
  const pool = new ThreadPool(o.threads, { engine });
  const records = new Map<string, Promise<string>>();
  const record = (digest: string): Promise<string> => {
    let r = records.get(digest);
    if (!r) {
      r = redis.hget(recordsKey(queueName), digest).then((t) => {
        if (t === null) throw new UnrecoverableError(`E_BACKEND: scenario record ${digest} is not in ${recordsKey(queueName)}`);
        return t;
      });
      r.catch(() => records.delete(digest));
      records.set(digest, r);
    }
    return r;
  };
  const counts = { done: 0, failed: 0 };
  const lockDuration = o.lockMs ?? 10_000;
  const worker = new Worker<JobData, string>(
    queueName,
    async (bj) => {
      const text = await record(bj.data.job.scenario);
      const out = await pool.run(bj.data.job, text); // rejects only if the thread died: BullMQ retries with backoff
      if (!out.ok) throw new UnrecoverableError(`${out.code}: ${out.error}`);
      return out.result;
    },
    { connection: roleOptions(b, 'worker') as ConnectionOptions, concurrency: o.threads, lockDuration, stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)), maxStalledCount: JOB_ATTEMPTS, name: `${hostname()}:${process.pid}`, autorun: false },
  );
  worker.on('error', (e) => o.log?.(`worker: ${e.message}`));
  worker.on('completed', (j) => {
    counts.done++;
    o.log?.(`done ${j.id}`);
  });
  worker.on('failed', (j, e) => {
    if (j && j.finishedOn) {
      counts.failed++;
      o.log?.(`failed ${j.id}: ${e.message}`);
    }
  });
  o.log?.(`worker ${hostname()}:${process.pid}: ${o.threads} threads on ${b.display} (Redis ${version}) queue ${queueName}, engine ${engine}`);
  const stopped = new Promise<void>((resolve) => {
    if (o.signal?.aborted) resolve();
    o.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const running = worker.run();
  await Promise.race([stopped, running]);
  await worker.close();
  await running.catch(() => {});
  await pool.close();
  redis.disconnect();
  return counts;
}
