/**
 * `oomsim replay --simulate`: a recording turned into a scenario and run through the full engine, so that machine
 * what-ifs (swap size, sysctls, memcg limits) can be asked of a real incident. Each recorded process becomes a
 * process whose anonymous memory follows its recorded RSS (`rss_curve` workload: linear between samples), started
 * when first seen and exiting when it vanishes, unless the recording's kernel killed it (then the engine decides).
 * What no process holds and the kernel cannot reclaim (MemTotal - MemAvailable - the RSS sum: kernel memory,
 * unreclaimable cache) is one more process, `(unaccounted)`, with oom_score_adj -1000, so the machine is as full as
 * it was. The machine: ram = MemTotal, swap = SwapTotal, the header's sysctls, the memcg tree with its recorded
 * limits (v2 memory.max/high/low/min/swap.max; v1 limit_in_bytes). Each policy then runs as in `oomsim compare`.
 *
 * Memory grows with the samples × processes (the curves are kept, one point per RSS change); the run is
 * deterministic (seed 1, the runner's tick).
 */
import { OomsimError } from '../errors.js';
import { ScenarioSchema, SYSCTLS } from '../scenario/schema.js';
import { formatPath } from '../scenario/load.js';
import { normalizeScenario, type NormalizedScenario } from '../scenario/normalize.js';
import { comparePolicies, type CompareResult, type PolicySpec } from '../policy/compare.js';
import { killedProcess, taskRows, type TraceHeader, type TraceSample } from './format.js';
import type { LocatedRecord } from './reader.js';

interface Proc {
  pid: number;
  comm: string;
  uid: number;
  cgroup: string;
  adj: number;
  firstMs: number;
  lastMs: number;
  points: { at: number; rss: number }[];
}

const CGROUP_PATH = /^\/([A-Za-z0-9_.:@-]+(\/[A-Za-z0-9_.:@-]+)*)?$/;
const V2_LIMITS = ['memory.max', 'memory.high', 'memory.low', 'memory.min', 'memory.swap.max'];
const V1_LIMITS = ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'];

/** The scenario as written (the schema parses it: sizes in bytes or with units, durations as text). */
export interface ScenarioInput {
  name: string;
  seed: number;
  duration: string;
  machine: { ram: number; swap: { size: number | string; type: 'disk' }[]; sysctl: Record<string, number> };
  cgroups: { version: 'v1' | 'v2'; groups: Record<string, Record<string, string>> };
  processes: { comm: string; pid?: number; uid: number; cgroup?: string; oom_score_adj: number; start: string; workload: { kind: 'rss_curve'; points: { at: string; rss: number }[] } }[];
  actions: { action: 'exit'; at: string; target: number }[];
}

export interface SimulateInput {
  scenario: ScenarioInput;
  /** Kernel kills in the recording (kernel log lines), victim pid -> time (ms). */
  recordedKills: Map<number, number>;
  samples: number;
}

/** Reads a trace into a scenario (machine, memcg tree, one rss_curve process per recorded pid). */
export async function traceScenario(file: string, h: TraceHeader, records: AsyncIterable<LocatedRecord>): Promise<SimulateInput> {
  const procs = new Map<number, Proc>();
  const kills = new Map<number, number>();
  const other: { at: number; rss: number }[] = [];
  let first: TraceSample | null = null;
  let lastMs = 0, n = 0;
  const memcg: Record<string, Record<string, string>> = {};
  for await (const { record: r } of records) {
    if (r.type === 'kmsg') {
      const k = killedProcess(r.text);
      if (k && !kills.has(k.pid)) kills.set(k.pid, r.t_ms);
      continue;
    }
    if (r.type !== 'sample') continue;
    first ??= r;
    n++;
    lastMs = r.t_ms;
    let sum = 0;
    for (const t of taskRows(h, r)) {
      if (t.pid <= 2 || t.ppid === 2) continue; // init and kernel threads stay out
      const rss = (t.rss_kb ?? (t.rss_pages ?? 0) * ((h.page_size ?? 4096) / 1024)) * 1024;
      sum += rss;
      let p = procs.get(t.pid);
      if (!p) {
        const cg = t.memcg && CGROUP_PATH.test(t.memcg) ? t.memcg : '/';
        p = { pid: t.pid, comm: (t.comm ?? 'task').slice(0, 15) || 'task', uid: t.uid ?? 0, cgroup: cg, adj: t.oom_score_adj ?? 0, firstMs: r.t_ms, lastMs: r.t_ms, points: [] };
        procs.set(t.pid, p);
      }
      p.lastMs = r.t_ms;
      if (p.points.at(-1)?.rss !== rss) p.points.push({ at: r.t_ms - p.firstMs, rss });
    }
    const mi = r.meminfo ?? {};
    if (mi.MemTotal !== undefined && mi.MemAvailable !== undefined) {
      const rest = Math.max(0, (mi.MemTotal - mi.MemAvailable) * 1024 - sum);
      if (other.at(-1)?.rss !== rest) other.push({ at: r.t_ms, rss: rest });
    }
    for (const [path, files] of Object.entries(r.memcg ?? {})) {
      if (path === '/' || !CGROUP_PATH.test(path)) continue;
      for (const f of h.memcg?.version === 'v1' ? V1_LIMITS : V2_LIMITS) {
        const v = files[f]?.trim();
        if (v === undefined || memcg[path]?.[f] !== undefined) continue;
        if (v === 'max' || (/^\d+$/.test(v) && BigInt(v) < 1n << 62n)) (memcg[path] ??= {})[f] = v; // the first sample's limits
      }
    }
  }
  if (!first) throw new OomsimError('E_TRACE', `${file}: the trace has a header but no samples`);
  const mi = first.meminfo ?? {};
  if (mi.MemTotal === undefined) throw new OomsimError('E_TRACE', `${file}: --simulate needs /proc/meminfo MemTotal (the machine's RAM), which this ${h.source} recording does not have`);
  if (first.tasks === undefined || h.lacks?.includes('processes')) throw new OomsimError('E_TRACE', `${file}: --simulate needs the process table with RSS, which this ${h.source} recording does not have`);
  for (const p of procs.values()) if (p.cgroup !== '/') memcg[p.cgroup] ??= {}; // every process's memcg is declared
  const sysctl: Record<string, number> = {};
  for (const [k, v] of Object.entries(h.sysctl ?? {})) if (k in SYSCTLS) sysctl[k] = v;
  const step = h.interval_ms ?? 1000;
  const processes: ScenarioInput['processes'] = [...procs.values()].map((p) => ({
    comm: p.comm,
    pid: p.pid,
    uid: p.uid,
    cgroup: p.cgroup,
    oom_score_adj: p.adj,
    start: `${p.firstMs - first!.t_ms}ms`,
    workload: { kind: 'rss_curve' as const, points: p.points.map((x) => ({ at: `${x.at}ms`, rss: x.rss })) },
  }));
  if (other.length) {
    processes.push({ comm: '(unaccounted)', uid: 0, oom_score_adj: -1000, start: '0', workload: { kind: 'rss_curve', points: other.map((x) => ({ at: `${x.at - first!.t_ms}ms`, rss: x.rss })) } });
  }
  // A process that vanished before the end exits then, unless the recorded kernel killed it.
  const actions: ScenarioInput['actions'] = [...procs.values()]
    .filter((p) => p.lastMs < lastMs && !kills.has(p.pid))
    .map((p) => ({ action: 'exit' as const, at: `${p.lastMs - first!.t_ms + step}ms`, target: p.pid }));
  const scenario: ScenarioInput = {
    name: `${file} (simulated)`,
    seed: 1,
    duration: `${Math.max(1000, lastMs - first.t_ms + step)}ms`,
    machine: { ram: mi.MemTotal * 1024, swap: (mi.SwapTotal ?? 0) > 0 ? [{ size: mi.SwapTotal! * 1024, type: 'disk' }] : [], sysctl },
    cgroups: { version: h.memcg?.version ?? 'v2', groups: memcg },
    processes,
    actions,
  };
  return { scenario, recordedKills: kills, samples: n };
}

/**
 * The what-ifs of `--set` that change the machine rather than a policy: `machine.swap=2G`, `vm.<sysctl>=N`,
 * `cgroup:/path/memory.high=1G` (any memcg file the scenario accepts). Returns the sets left for the policies.
 */
export function applyWhatIfs(s: ScenarioInput, sets: string[]): string[] {
  const rest: string[] = [];
  for (const kv of sets) {
    let m: RegExpExecArray | null;
    if ((m = /^machine\.swap=(.+)$/.exec(kv))) s.machine.swap = m[1] === '0' ? [] : [{ size: m[1], type: 'disk' }];
    else if ((m = /^(vm\.\w+)=(-?\d+)$/.exec(kv))) s.machine.sysctl[m[1]] = Number(m[2]);
    else if ((m = /^cgroup:(\/[^=]*?)\/(memory\.[\w.]+)=(.+)$/.exec(kv))) (s.cgroups.groups[m[1]] ??= {})[m[2]] = m[3];
    else rest.push(kv);
  }
  return rest;
}

export function buildScenario(file: string, s: ScenarioInput): NormalizedScenario {
  const r = ScenarioSchema.safeParse(s);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new OomsimError('E_ARG', `--simulate: the scenario made from ${file} is not valid at ${formatPath(i.path as (string | number)[])}: ${i.message}`);
  }
  return normalizeScenario(r.data);
}

export interface SimulateResult {
  input: SimulateInput;
  compare: CompareResult;
}

/** The scenario of a recording under each policy (the kernel alone first), as `oomsim compare` runs it. */
export function simulate(sc: NormalizedScenario, input: SimulateInput, specs: PolicySpec[]): SimulateResult {
  const list = [{ name: 'kernel' }, ...specs.filter((x) => x.name !== 'kernel')];
  return { input, compare: comparePolicies(sc, list, { culprits: [], protect: [] }) };
}

export function simulateText(r: SimulateResult): string[] {
  const rec = [...r.input.recordedKills.entries()].map(([pid, t]) => {
    const p = r.input.scenario.processes.find((x) => x.pid === pid);
    return `${p?.comm ?? '?'}(${pid}) at ${(t / 1000).toFixed(1)}s`;
  });
  const out = [`recording: ${r.input.samples} samples; the kernel killed ${rec.length ? rec.join(', ') : 'nothing (no OOM kill in its log)'}`];
  const sec = (ns: bigint) => `${(Number(ns) / 1e9).toFixed(1)}s`;
  for (const row of r.compare.rows) {
    const ks = row.kills.map((k) => `${k.comm}(${k.pid}) at ${sec(k.tNs)} by ${k.by}`);
    out.push(`simulated, ${row.label}: ${ks.length ? `killed ${ks.join(', ')}` : 'no kill'}; kernel OOM kills ${row.kernelOomKills}${row.policyErrors.length ? `; errors: ${row.policyErrors.join('; ')}` : ''}`);
  }
  return out;
}
