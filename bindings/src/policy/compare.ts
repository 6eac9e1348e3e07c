/**
 * The bake-off: the same seeded scenario under each policy, side by side.
 *
 * Definitions (documented in docs/policies/README.md):
 * - culprit: the processes named in `culprits` (comm or pid); else the ones the leak detector (report/leaks.ts)
 *   flags in the baseline run without any daemon ('kernel').
 * - collateral kill: a kill (by a policy or the kernel OOM killer) of a process that is not a culprit.
 * - protected: the processes named in `protect`; else those the scenario declares with oom_score_adj < 0.
 * - time to first action: first kill/kill_cgroup by the policy (or the first kernel OOM kill for 'kernel').
 * - time under pressure: ticks with MemAvailable < 5% of MemTotal (LOW_MEMORY_FRACTION), times the tick.
 * - time stalled: the growth of PSI full total over the run, when the engine simulates PSI; otherwise null.
 * - work lost: for every killed process, RSS at death (MiB) times its uptime in that life (s): MiB*s of
 *   state the program had built and lost.
 */
import { LOW_MEMORY_FRACTION, runScenario, type RunOptions, type RunResult } from '../run.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import { detectLeaks } from '../report/leaks.js';
import { createPolicy } from './index.js';
import { parsePsi } from './psi.js';

export interface PolicySpec {
  name: string;
  params?: Record<string, unknown>;
  /** Column label (default: name, plus the swept values). */
  label?: string;
}
export interface CompareOptions {
  culprits?: (string | number)[];
  protect?: (string | number)[];
  tickNs?: bigint;
  /** Keep each run's full result (series for the HTML report). Default true. */
  keepRuns?: boolean;
}
export interface KillRow {
  tNs: bigint;
  pid: number;
  comm: string;
  by: string;
  collateral: boolean;
}
export interface CompareRow {
  label: string;
  policy: string;
  params: Record<string, unknown>;
  kills: KillRow[];
  collateralKills: number;
  firstActionNs: bigint | null;
  stalledNs: bigint | null;
  underPressureNs: bigint;
  workLostMiBs: number;
  protectedSurvived: boolean;
  kernelOomKills: number;
  policyErrors: string[];
  psiSimulated: boolean;
  panic: boolean;
}
export interface CompareResult {
  scenario: string;
  seed: number;
  culprits: string[];
  protected: string[];
  rows: CompareRow[];
  runs: RunResult[];
}

const matches = (list: (string | number)[], pid: number, comm: string) => list.some((x) => (typeof x === 'number' ? x === pid : x === comm));

/** One run under one policy, summarised. Pure function of (scenario, spec, culprits, protect). */
export function runOne(sc: NormalizedScenario, spec: PolicySpec, culprits: (string | number)[], protect: (string | number)[], opts: RunOptions = {}): { row: CompareRow; run: RunResult } {
  const policy = createPolicy(spec.name, spec.params ?? {});
  const run = runScenario(sc, { ...opts, policies: [policy], onPolicyError: 'disable', keepEngine: true });
  // Time stalled: /proc/pressure/memory `full` total at the end of the run (it counts from boot, i.e. t=0).
  let stalledNs: bigint | null = null;
  try {
    const psi = run.features.reclaim ? parsePsi(run.engine!.psiText()) : null;
    if (psi) stalledNs = psi.full.totalUs * 1000n;
  } finally {
    if (!opts.keepEngine) {
      run.engine!.free();
      delete run.engine;
    }
  }
  const info = run.policies!;
  const procByPid = new Map(run.processes.map((p) => [p.pid, p]));
  const kills: KillRow[] = [
    ...info.kills.map((k) => ({ tNs: k.tNs, pid: k.pid, comm: k.comm, by: `${k.policy} ${k.signal}` })),
    ...run.oomKills.map((k) => ({ tNs: k.tNs, pid: k.pid, comm: k.comm, by: 'kernel OOM' })),
  ]
    .map((k) => ({ ...k, collateral: !matches(culprits, k.pid, k.comm) }))
    .sort((a, b) => (a.tNs < b.tNs ? -1 : a.tNs > b.tNs ? 1 : a.pid - b.pid));
  const firstPolicy = info.actions.find((a) => a.action.type === 'kill' || a.action.type === 'kill_cgroup')?.tNs ?? null;
  const first = spec.name === 'kernel' ? (run.oomKills[0]?.tNs ?? null) : firstPolicy;
  const m = run.series.meminfo;
  let low = 0;
  for (let i = 0; i < run.series.tNs.length; i++) if (m.MemAvailable[i] < m.MemTotal[i] * LOW_MEMORY_FRACTION) low++;
  let work = 0;
  for (const k of kills) {
    const p = procByPid.get(k.pid);
    const col = run.series.rssKb[String(k.pid)];
    if (!p || !col) continue;
    // RSS at death: the last non-null sample before the kill; uptime: since the start of that life.
    let i = run.series.tNs.findIndex((t) => t >= k.tNs);
    if (i < 0) i = col.length;
    let j = i - 1;
    while (j >= 0 && col[j] === null) j--;
    if (j < 0) continue;
    let s = j;
    while (s > 0 && col[s - 1] !== null) s--;
    work += ((col[j] as number) / 1024) * (Number(k.tNs - run.series.tNs[s]) / 1e9);
  }
  const prot = run.processes.filter((p) => matches(protect, p.pid, p.comm));
  const survived = prot.every((p) => p.outcome.kind === 'running' || p.outcome.kind === 'blocked');
  const row: CompareRow = {
    label: spec.label ?? spec.name,
    policy: spec.name,
    params: spec.params ?? {},
    kills,
    collateralKills: kills.filter((k) => k.collateral).length,
    firstActionNs: first,
    stalledNs,
    underPressureNs: BigInt(low) * run.tickNs,
    workLostMiBs: Math.round(work * 10) / 10,
    protectedSurvived: survived,
    kernelOomKills: run.oomKills.length,
    policyErrors: info.errors.map((e) => e.message),
    psiSimulated: info.psiSimulated,
    panic: run.panic !== null,
  };
  return { row, run };
}

/** Culprits from the options, or the leak detector on the daemon-less baseline run. */
export function resolveCulprits(sc: NormalizedScenario, o: CompareOptions): (string | number)[] {
  if (o.culprits?.length) return o.culprits;
  const base = runScenario(sc, { tickNs: o.tickNs });
  return [...new Set(detectLeaks(base).map((l) => l.pid))];
}
export function resolveProtected(sc: NormalizedScenario, o: CompareOptions): (string | number)[] {
  if (o.protect?.length) return o.protect;
  return sc.processes.filter((p) => p.oomScoreAdj < 0).map((p) => p.pid);
}

/** Run `sc` under each policy (in this thread, in order). Deterministic: same scenario and seed, same result. */
export function comparePolicies(sc: NormalizedScenario, specs: (PolicySpec | string)[], o: CompareOptions = {}): CompareResult {
  const list = specs.map((s) => (typeof s === 'string' ? { name: s } : s));
  for (const s of list) createPolicy(s.name, s.params ?? {}); // parameter errors before any run
  const culprits = resolveCulprits(sc, o);
  const protect = resolveProtected(sc, o);
  const rows: CompareRow[] = [];
  const runs: RunResult[] = [];
  for (const s of list) {
    const { row, run } = runOne(sc, s, culprits, protect, { tickNs: o.tickNs });
    rows.push(row);
    if (o.keepRuns !== false) runs.push(run);
  }
  return { scenario: sc.name, seed: sc.seed, culprits: names(sc, culprits), protected: names(sc, protect), rows, runs };
}
const names = (sc: NormalizedScenario, l: (string | number)[]) => l.map((x) => (typeof x === 'number' ? `${sc.processes.find((p) => p.pid === x)?.comm ?? '?'}(${x})` : x));

const sec = (ns: bigint | null) => (ns === null ? '-' : `${(Number(ns) / 1e9).toFixed(1)}s`);
/** The side-by-side text table. */
export function compareTable(r: CompareResult): string[] {
  const cols: [string, (x: CompareRow) => string][] = [
    ['kills', (x) => String(x.kills.length)],
    ['victims', (x) => [...new Set(x.kills.map((k) => k.comm))].join(',') || '-'],
    ['collateral', (x) => String(x.collateralKills)],
    ['first action', (x) => sec(x.firstActionNs)],
    ['stalled', (x) => (x.psiSimulated ? sec(x.stalledNs) : 'n/a (no PSI)')],
    ['under pressure', (x) => sec(x.underPressureNs)],
    ['work lost MiB*s', (x) => x.workLostMiBs.toFixed(1)],
    ['protected ok', (x) => (x.protectedSurvived ? 'yes' : 'NO')],
    ['kernel OOM kills', (x) => String(x.kernelOomKills)],
  ];
  const head = ['policy', ...cols.map((c) => c[0])];
  const body = r.rows.map((x) => [x.label, ...cols.map((c) => c[1](x))]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  const out = [
    `${r.scenario} (seed ${r.seed}); culprit: ${r.culprits.join(', ') || 'none found'}; protected: ${r.protected.join(', ') || 'none'}`,
    line(head),
    line(w.map((n) => '-'.repeat(n))),
    ...body.map(line),
  ];
  for (const x of r.rows) for (const e of x.policyErrors) out.push(`${x.label}: ${e}`);
  return out;
}
