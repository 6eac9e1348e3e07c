/**
 * Sweeps: `earlyoom.m=2..20:2` (a policy parameter), `vm.overcommit_memory=0,1,2` (a sysctl), `machine.swap=0,2G,8G`
 * (the swap size). Each point x each policy is one job; jobs run on worker threads (node:worker_threads, each worker
 * loads the wasm itself), results come back in job order.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { OomsimError } from '../errors.js';
import { bytesToPagesFloor, parseSize } from '../scenario/size.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import type { CompareRow, PolicySpec } from './compare.js';

export interface Sweep {
  target: string;
  key: string;
  values: (number | string)[];
}
export function parseSweep(text: string): Sweep {
  const m = /^([a-z_][\w-]*)\.([\w.]+)=(.+)$/i.exec(text);
  if (!m) throw new OomsimError('E_ARG', `--sweep ${text}: expected target.key=a..b:step or target.key=v1,v2 (e.g. earlyoom.m=2..20:2)`);
  const [, target, key, spec] = m;
  const r = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(spec);
  let values: (number | string)[];
  if (r) {
    const a = Number(r[1]), b = Number(r[2]), st = Number(r[3] ?? 1);
    if (st <= 0 || b < a) throw new OomsimError('E_ARG', `--sweep ${text}: expected a..b:step with a <= b and step > 0`);
    values = [];
    for (let i = 0; a + i * st <= b + 1e-9; i++) values.push(Math.round((a + i * st) * 1e9) / 1e9);
  } else values = spec.split(',').map((v) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v));
  return { target: target === 'vm' ? 'sysctl' : target, key: target === 'vm' ? `vm.${key}` : key, values };
}

/** The scenario with a scenario-level sweep point applied (sysctl or machine.swap). */
export function applyScenarioPoint(sc: NormalizedScenario, s: Sweep, v: number | string): NormalizedScenario {
  if (s.target === 'sysctl') {
    if (!(s.key in sc.machine.sysctl)) throw new OomsimError('E_ARG', `--sweep ${s.key}: unknown sysctl; known: ${Object.keys(sc.machine.sysctl).join(', ')}`);
    return { ...sc, machine: { ...sc.machine, sysctl: { ...sc.machine.sysctl, [s.key]: BigInt(v) } } };
  }
  if (s.target === 'machine' && s.key === 'swap') {
    const b = parseSize(String(v));
    if (!b.ok) throw new OomsimError('E_ARG', `--sweep machine.swap=${v}: ${b.error}`);
    const pages = bytesToPagesFloor(b.value);
    const swap = pages === 0n ? [] : [{ index: 0, pages, type: 'disk' as const, priority: -2, compressionRatio: null }];
    return { ...sc, machine: { ...sc.machine, swap, totalSwapPages: pages } };
  }
  throw new OomsimError('E_ARG', `--sweep ${s.target}.${s.key}: expected a policy parameter (policy.param), vm.<sysctl> or machine.swap`);
}

export interface Job {
  index: number;
  scenario: NormalizedScenario;
  spec: PolicySpec;
  culprits: (string | number)[];
  protect: (string | number)[];
  tickNs?: bigint;
}

/** Expand policies x sweep points into jobs. */
export function sweepJobs(sc: NormalizedScenario, specs: PolicySpec[], sweep: Sweep, culprits: (string | number)[], protect: (string | number)[], tickNs?: bigint): Job[] {
  const jobs: Job[] = [];
  for (const v of sweep.values) {
    for (const spec of specs) {
      const isPolicyParam = !['sysctl', 'machine'].includes(sweep.target);
      if (isPolicyParam && spec.name !== sweep.target) continue;
      const scenario = isPolicyParam ? sc : applyScenarioPoint(sc, sweep, v);
      const params = isPolicyParam ? { ...spec.params, [sweep.key]: v } : (spec.params ?? {});
      jobs.push({ index: jobs.length, scenario, spec: { name: spec.name, params, label: `${spec.label ?? spec.name} ${sweep.key}=${v}` }, culprits, protect, tickNs });
    }
  }
  return jobs;
}

/** Run jobs on `workers` threads (default: every core, at most the job count). Results in job order. */
export async function runJobsOnWorkers(jobs: Job[], o: { workers?: number; onDone?: (done: number, total: number) => void } = {}): Promise<CompareRow[]> {
  const n = Math.max(1, Math.min(o.workers ?? availableParallelism(), jobs.length));
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const url = new URL(ts ? './worker.ts' : './worker.js', here);
  const out: CompareRow[] = new Array(jobs.length);
  let next = 0, done = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<void>((resolve, reject) => {
        // From TypeScript sources (tsx, vitest) the worker registers tsx itself before importing worker.ts.
        const w = ts
          ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true })
          : new Worker(url);
        const feed = () => {
          if (next >= jobs.length) {
            void w.terminate().then(() => resolve());
            return;
          }
          w.postMessage(jobs[next++]);
        };
        w.on('message', (m: { index: number; row?: CompareRow; error?: string }) => {
          if (m.error) {
            void w.terminate();
            reject(new OomsimError('E_POLICY', m.error));
            return;
          }
          out[m.index] = m.row!;
          o.onDone?.(++done, jobs.length);
          feed();
        });
        w.on('error', reject);
        feed();
      }),
    ),
  );
  return out;
}
