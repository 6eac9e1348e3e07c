/**
 * The worker-thread pool both backends run jobs on: `size` threads (node:worker_threads), each compiling the wasm
 * engine once and receiving each scenario record once. `run` resolves with the job's outcome (a result or the
 * job's own error); it rejects only when the thread running it died, which a caller may retry.
 */
import { Worker } from 'node:worker_threads';
import { engineId, type SweepJob } from './jobs.js';
import type { ThreadIn, ThreadOut } from './thread.js';

export type JobOutcome = { ok: true; result: string } | { ok: false; error: string; code: string };

interface Task {
  seq: number;
  job: SweepJob;
  recordText: string;
  resolve: (o: JobOutcome) => void;
  reject: (e: Error) => void;
}
interface Slot {
  w: Worker;
  task: Task | null;
  has: Set<string>;
}

/** tsx's ESM API as a file URL (an eval'd worker resolves bare names from the working directory, not from here). */
const tsxApi = () => import.meta.resolve('tsx/esm/api');

/** Error codes after which a thread's wasm instance is not reused. */
const POISONING = new Set(['E_TRAP', 'E_POISONED', 'E_INTERNAL']);

export class ThreadPool {
  private slots: Slot[] = [];
  private queue: Task[] = [];
  private seq = 0;
  private closed = false;
  /** Threads started, including replacements (for tests and logs). */
  started = 0;

  constructor(readonly size: number, private readonly o: { engine?: string; trapSeed?: string } = {}) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`thread pool size ${size}: expected an integer >= 1`);
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Run one job with its scenario record (sent to a thread the first time it needs it). */
  run(job: SweepJob, recordText: string): Promise<JobOutcome> {
    if (this.closed) return Promise.reject(new Error('thread pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ seq: ++this.seq, job, recordText, resolve, reject });
      this.dispatch();
    });
  }

  /** Jobs queued or running. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.task).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('thread pool closed'));
    await Promise.all(this.slots.map((s) => s.w.terminate()));
  }

  private spawn(): Slot {
    const here = import.meta.url;
    const ts = here.endsWith('.ts');
    const url = new URL(ts ? './thread.ts' : './thread.js', here);
    const workerData = { engine: this.o.engine ?? engineId(), trapSeed: this.o.trapSeed ?? process.env.OOMSIM_SWEEP_TRAP_SEED };
    // From TypeScript sources (tsx, vitest) the thread registers tsx itself before importing thread.ts.
    const w = ts
      ? new Worker(`import(${JSON.stringify(tsxApi())}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData })
      : new Worker(url, { workerData });
    const slot: Slot = { w, task: null, has: new Set() };
    this.started++;
    w.on('message', (m: ThreadOut) => {
      const t = slot.task;
      if (!t || t.seq !== m.seq) return;
      slot.task = null;
      t.resolve(m.ok ? { ok: true, result: m.result } : { ok: false, error: m.error, code: m.code });
      if (!m.ok && POISONING.has(m.code)) this.replace(slot);
      this.dispatch();
    });
    const died = (why: string) => {
      const t = slot.task;
      slot.task = null;
      if (this.closed) return;
      t?.reject(new Error(`sweep thread died (${why})`));
      this.replace(slot);
      this.dispatch();
    };
    w.on('error', (e) => died(e.message));
    w.on('exit', (code) => died(`exit code ${code}`));
    return slot;
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    slot.w.removeAllListeners();
    void slot.w.terminate();
    this.slots[i] = this.spawn();
  }

  private dispatch(): void {
    for (const s of this.slots) {
      if (s.task || !this.queue.length) continue;
      const t = this.queue.shift()!;
      s.task = t;
      if (!s.has.has(t.job.scenario)) {
        s.w.postMessage({ type: 'scenario', digest: t.job.scenario, text: t.recordText } satisfies ThreadIn);
        s.has.add(t.job.scenario);
      }
      s.w.postMessage({ type: 'job', seq: t.seq, job: t.job } satisfies ThreadIn);
    }
  }
}
