/**
 * The Redis backend end to end: a real redis-server (Debian's, installed by scripts/setup.sh --redis) on a free
 * loopback port, two `oomsim worker` processes, a 40-job sweep submitted with `oomsim sweep --backend redis://`,
 * one worker SIGKILLed mid-run. Every job completes exactly once and the rows equal the local backend's.
 * Skipped, with the reason, when no redis-server is installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadNodeSync } from '../bindings/src/loader-node.js';
import { mainAsync } from '../bindings/src/cli/main.js';
import { planFromCli, type SweepCliOptions } from '../bindings/src/cli/sweep.js';
import { runLocal } from '../bindings/src/sweep/local.js';
import { ResultStore } from '../bindings/src/sweep/store.js';

const REDIS = process.env.OOMSIM_REDIS_SERVER ?? '/usr/bin/redis-server';
const haveRedis = existsSync(REDIS);
if (!haveRedis) console.warn(`sweep-redis: skipped: no redis-server at ${REDIS} (run scripts/setup.sh --redis or set OOMSIM_REDIS_SERVER)`);

const SCEN = 'test/fixtures/sweep-small.yaml';
// (kernel + earlyoom m=4,6,8,10) x 8 seeds = 40 jobs
const GRID = ['--policies', 'kernel,earlyoom', '--sweep', 'earlyoom.m=4..10:2', '--seeds', '1..8', '--culprit', 'leaker'];
const gridOpts: SweepCliOptions = { policies: 'kernel,earlyoom', sweep: ['earlyoom.m=4..10:2'], seeds: '1..8', culprit: ['leaker'], backend: 'local', out: '', tick: '100ms' };

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** A child process with its output collected; `waitFor` resolves when a line matches. */
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  const waiters: { re: RegExp; n: number; resolve: () => void }[] = [];
  let buf = '';
  const feed = (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const w of [...waiters]) if (lines.filter((l) => w.re.test(l)).length >= w.n) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  };
  p.stdout!.on('data', feed);
  p.stderr!.on('data', feed);
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  const waitFor = (re: RegExp, n = 1) =>
    new Promise<void>((resolve, reject) => {
      if (lines.filter((l) => re.test(l)).length >= n) return resolve();
      waiters.push({ re, n, resolve });
      void exited.then((c) => reject(new Error(`${cmd} exited (${c}) before printing ${re}:\n${lines.join('\n')}`)));
    });
  return { p, lines, waitFor, exited };
}

describe.skipIf(!haveRedis)('Redis backend (BullMQ)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oomsim-redis-'));
  const procs: ChildProcess[] = [];
  let url = '';
  beforeAll(async () => {
    // The free port is free when asked, not when redis binds it: another process on the shared machine may take
    // it between the two, so a bind failure picks another port (a few times) instead of failing the suite.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const r = start(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes']);
      procs.push(r.p);
      try {
        await r.waitFor(/Ready to accept connections/);
        url = `redis://127.0.0.1:${port}`;
        return;
      } catch (e) {
        if (attempt >= 5 || !r.lines.some((l) => /Address already in use/i.test(l))) throw e;
      }
    }
  }, 120_000);
  afterAll(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('40 jobs on two workers, one killed mid-run: each job completes once, rows equal the local backend', async () => {
    loadNodeSync();
    // The lock outlives a stall of the worker's event loop on a loaded machine (BullMQ renews it every lock/2): with
    // a 2 s lock, a 1 s stall could let the stalled-job check hand a running job to the other worker, which would run it
    // twice. The killed worker's job is still recovered, after at most lock + lock/2 (15 s).
    const worker = () => start(process.execPath, ['--import', 'tsx', 'test/fixtures/oomsim-cli.ts', 'worker', '--backend', url, '--queue', 'grid', '--workers', '1', '--lock-ms', '10000']);
    const w1 = worker(), w2 = worker();
    procs.push(w1.p, w2.p);
    await Promise.all([w1.waitFor(/^worker .* threads on/), w2.waitFor(/^worker .* threads on/)]);

    const out = join(dir, 'redis.sqlite');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    let code: number, printed: string[], errors: string[];
    try {
      const submitted = mainAsync(['sweep', SCEN, ...GRID, '--backend', url, '--queue', 'grid', '--out', out, '--no-progress']);
      await w1.waitFor(/^done /, 3);
      w1.p.kill('SIGKILL'); // mid-run: its current job is stalled and handed to w2
      code = await submitted;
      printed = log.mock.calls.map((c) => c.join(' '));
      errors = err.mock.calls.map((c) => c.join(' '));
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    expect(printed.join('\n')).toMatch(/sweep: 40 jobs: 40 done, 0 failed/);
    expect(await w1.exited).toBe(null);

    // Exactly once: no job id finished on both workers (w1's lines up to its death, w2's since).
    const ids = (w: { lines: string[] }) => w.lines.filter((l) => l.startsWith('done ')).map((l) => l.slice(5));
    const all = [...ids(w1), ...ids(w2)];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBeGreaterThanOrEqual(39); // w1 may be killed between completing a job and printing it
    expect(ids(w1).length).toBeGreaterThanOrEqual(3);

    w2.p.kill('SIGTERM');
    expect(await w2.exited).toBe(0);
    expect(w2.lines.join('\n')).toMatch(/worker: stopped after \d+ done, 0 failed/);

    const redisRows = (await ResultStore.open(out)).rows();
    expect(redisRows).toHaveLength(40);
    expect(redisRows.every((r) => r.status === 'done')).toBe(true);
    const local = await ResultStore.open(join(dir, 'local.sqlite'));
    await runLocal(planFromCli([SCEN], gridOpts), local, { threads: 2 });
    expect(JSON.stringify(redisRows)).toBe(JSON.stringify(local.rows()));
    local.close();

    // Resume from Redis: a new results file collects the 40 finished jobs without any worker running.
    const again = join(dir, 'again.sqlite');
    const log2 = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await mainAsync(['sweep', SCEN, ...GRID, '--backend', url, '--queue', 'grid', '--out', again, '--no-progress'])).toBe(0);
    } finally {
      log2.mockRestore();
    }
    expect(JSON.stringify((await ResultStore.open(again)).rows())).toBe(JSON.stringify(redisRows));
  }, 300_000);

  it('a poisoned job (an engine trap) fails once with its error, never retried', async () => {
    const w = start(process.execPath, ['--import', 'tsx', 'test/fixtures/oomsim-cli.ts', 'worker', '--backend', url, '--queue', 'poison', '--workers', '1'], { ...process.env, OOMSIM_SWEEP_TRAP_SEED: '2' });
    procs.push(w.p);
    await w.waitFor(/^worker .* threads on/);
    const out = join(dir, 'poison.sqlite');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    let code: number;
    try {
      code = await mainAsync(['sweep', SCEN, '--policies', 'kernel', '--seeds', '1..2', '--backend', url, '--queue', 'poison', '--out', out, '--no-progress']);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(1);
    w.p.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    const rows = (await ResultStore.open(out)).rows({ withMeta: true });
    expect(rows.map((r) => [r.seed, r.status]).sort()).toEqual([[1, 'done'], [2, 'failed']]);
    const bad = rows.find((r) => r.seed === 2)!;
    expect(String(bad.error)).toMatch(/trap|unreachable/i);
    expect(bad.attempts).toBe(1);
    expect(w.lines.filter((l) => l.startsWith('failed '))).toHaveLength(1);
  }, 120_000);
});
