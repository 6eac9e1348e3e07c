/**
 * `npx tsx bench/sweep.ts [--seeds 1..8] [--redis /usr/bin/redis-server]`: sweep throughput (jobs/s) of the local
 * worker-thread backend with 1 and 2 threads and, when redis-server is installed, of the Redis backend with 1 and
 * 2 `oomsim worker` processes (one thread each, started and warm before the clock starts). Every backend's rows
 * must equal the first one's before any figure is printed. Same-run ratios; no figure is checked by a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadNodeSync } from '../bindings/src/loader-node.js';
import { planFromCli } from '../bindings/src/cli/sweep.js';
import { runLocal } from '../bindings/src/sweep/local.js';
import { ResultStore } from '../bindings/src/sweep/store.js';
import { parseBackend } from '../bindings/src/sweep/redis-connection.js';
import { submitRedis } from '../bindings/src/sweep/redis.js';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '1..8' }, redis: { type: 'string', default: process.env.OOMSIM_REDIS_SERVER ?? '/usr/bin/redis-server' } } });
const SCEN = new URL('../test/fixtures/sweep-small.yaml', import.meta.url).pathname;
const CLI = new URL('../bindings/src/cli/main.ts', import.meta.url).href;
loadNodeSync();
const plan = planFromCli([SCEN], { policies: 'kernel,earlyoom', sweep: ['earlyoom.m=4..10:2'], seeds: values.seeds, culprit: ['leaker'], backend: 'local', out: '', tick: '100ms' });
const dir = mkdtempSync(join(tmpdir(), 'oomsim-bench-sweep-'));
const procs: ChildProcess[] = [];
const results: { name: string; seconds: number; rows: string }[] = [];

async function measure(name: string, f: (store: ResultStore) => Promise<unknown>) {
  const store = await ResultStore.open(join(dir, `${results.length}.sqlite`));
  const t0 = performance.now();
  await f(store);
  const seconds = (performance.now() - t0) / 1000;
  results.push({ name, seconds, rows: JSON.stringify(store.rows()) });
  store.close();
}

const freePort = () => new Promise<number>((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
const waitLine = (p: ChildProcess, re: RegExp) => new Promise<void>((resolve, reject) => {
  let buf = '';
  const on = (d: Buffer) => { buf += d.toString(); if (re.test(buf)) resolve(); };
  p.stdout!.on('data', on);
  p.stderr!.on('data', on);
  p.once('exit', (c) => reject(new Error(`exited ${c} before ${re}: ${buf}`)));
});

try {
  for (const threads of [1, 2]) await measure(`local, ${threads} thread${threads > 1 ? 's' : ''}`, (s) => runLocal(plan, s, { threads }));
  if (existsSync(values.redis!)) {
    const port = await freePort();
    const r = spawn(values.redis!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(r);
    await waitLine(r, /Ready to accept connections/);
    const b = parseBackend(`redis://127.0.0.1:${port}`);
    if (b.kind !== 'redis') throw new Error('unreachable');
    for (const n of [1, 2]) {
      const queue = `bench${n}`;
      const ws = Array.from({ length: n }, () => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { mainAsync } from ${JSON.stringify(CLI)}; process.exitCode = await mainAsync(${JSON.stringify(['worker', '--backend', b.url, '--queue', queue, '--workers', '1'])});`], { stdio: ['ignore', 'pipe', 'pipe'] }));
      procs.push(...ws);
      await Promise.all(ws.map((w) => waitLine(w, /threads on/)));
      await measure(`redis, ${n} worker${n > 1 ? 's' : ''}`, (s) => submitRedis(plan, s, b, { queue, pollMs: 50 }));
      for (const w of ws) w.kill('SIGTERM');
    }
  } else console.log(`(no redis-server at ${values.redis}: Redis backend not measured)`);
  for (const x of results) if (x.rows !== results[0].rows) throw new Error(`bench sweep: ${x.name} rows differ from ${results[0].name}'s: not timing`);
  console.log(`sweep bench: ${plan.jobs.length} jobs of ${SCEN.replace(/^.*\//, '')}; rows byte-identical across all ${results.length} runs`);
  for (const x of results) console.log(`${x.name.padEnd(18)} ${(plan.jobs.length / x.seconds).toFixed(2).padStart(7)} jobs/s  ${x.seconds.toFixed(2)} s  x${(results[0].seconds / x.seconds).toFixed(2)} vs ${results[0].name}`);
} finally {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
