/**
 * The sweep job model (docs/decisions/0014-sweeps.md).
 *
 * A sweep is a list of pure jobs. A job names a scenario record by its digest, a policy, the policy's parameters, a
 * scenario point (sysctls, swap size) and a seed; its result is a pure function of those and of the engine build.
 * The job id is a digest of the job itself, so enqueueing the same grid twice adds nothing new and a re-run resumes.
 *
 * A scenario record is what every job of one scenario file shares: the normalized scenario, the culprits and the
 * protected processes (resolved once, on the submitting side) and the tick. It travels once per worker thread,
 * tagged-BigInt JSON, and its digest is the digest of that text.
 */
import { readFileSync } from 'node:fs';
import { OomsimError } from '../errors.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import { resolveCulprits, resolveProtected, type PolicySpec } from '../policy/compare.js';
import { parsePolicyParams } from '../policy/index.js';
import { applyScenarioPoint, type Sweep } from '../policy/sweep.js';
import { canonicalJson, decodeTagged, encodeTagged, sha256Hex } from './canonical.js';

/** Bumped when the meaning of a job or of its result changes. */
export const JOB_FORMAT = 1;

export interface ScenarioRecord {
  /** The file the scenario came from (its base name: paths differ between machines). */
  file: string;
  scenario: NormalizedScenario;
  culprits: (string | number)[];
  protect: (string | number)[];
  tickNs: bigint;
}

export interface SweepJob {
  v: number;
  /** The engine build the result belongs to (`engineId()`). */
  engine: string;
  /** Digest of the scenario record. */
  scenario: string;
  policy: string;
  /** Policy parameters as given (--set and policy sweeps); the policy fills its defaults. */
  params: Record<string, number | string | boolean | null | unknown>;
  /** Scenario point: `vm.<sysctl>` and `machine.swap` values applied to the scenario. */
  point: Record<string, number | string>;
  seed: number;
}

export interface PlannedJob {
  id: string;
  job: SweepJob;
  /** Human label: scenario, policy, swept values, seed. */
  label: string;
  /** The scenario's name (for the results file). */
  name: string;
}

export interface SweepPlan {
  /** digest -> record text (tagged JSON) and the decoded record. */
  records: Map<string, { text: string; record: ScenarioRecord }>;
  jobs: PlannedJob[];
}

export function encodeRecord(r: ScenarioRecord): string {
  return encodeTagged(r);
}
export function decodeRecord(text: string): ScenarioRecord {
  return decodeTagged<ScenarioRecord>(text);
}

/** The id of a job: `j` and 40 hex digits of the SHA-256 of its canonical JSON (BullMQ ids must not be integers). */
export function jobId(j: SweepJob): string {
  return `j${sha256Hex(canonicalJson(j)).slice(0, 40)}`;
}

let cachedEngine: string | undefined;
/** The engine build: the package version and a digest of the wasm module every worker loads. */
export function engineId(): string {
  if (cachedEngine === undefined) {
    const wasm = readFileSync(new URL('../../../pkg/oomsim_wasm_bg.wasm', import.meta.url));
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    cachedEngine = `oomsim-${pkg.version}+wasm.${sha256Hex(wasm).slice(0, 16)}`;
  }
  return cachedEngine;
}

/** `1..100`, `1..100:3`, `1,5,9` or `7`: seeds 0..4294967295. */
export function parseSeeds(text: string): number[] {
  const bad = () => new OomsimError('E_ARG', `--seeds ${text}: expected a..b, a..b:step or a list like 1,2,3 of integers 0..4294967295`);
  const int = (s: string) => {
    if (!/^\d+$/.test(s)) throw bad();
    const n = Number(s);
    if (n > 4294967295) throw bad();
    return n;
  };
  const r = /^(\d+)\.\.(\d+)(?::(\d+))?$/.exec(text.trim());
  let out: number[];
  if (r) {
    const a = int(r[1]), b = int(r[2]), st = r[3] === undefined ? 1 : int(r[3]);
    if (b < a || st === 0) throw new OomsimError('E_ARG', `--seeds ${text}: expected a..b with a <= b and a step > 0`);
    if ((b - a) / st + 1 > 1_000_000) throw new OomsimError('E_ARG', `--seeds ${text}: more than 1000000 seeds`);
    out = [];
    for (let s = a; s <= b; s += st) out.push(s);
  } else out = text.split(',').map((s) => int(s.trim()));
  if (new Set(out).size !== out.length) throw new OomsimError('E_ARG', `--seeds ${text}: a seed is listed twice`);
  return out;
}

/** The point key of a scenario-level sweep: `vm.overcommit_memory`, `machine.swap`. */
const pointKey = (s: Sweep) => (s.target === 'sysctl' ? s.key : `${s.target}.${s.key}`);
const isScenarioSweep = (s: Sweep) => s.target === 'sysctl' || s.target === 'machine';

/** The scenario with a job's point applied (keys in sorted order) and its seed. */
export function applyPoint(sc: NormalizedScenario, point: Record<string, number | string>, seed: number): NormalizedScenario {
  let out = sc;
  for (const k of Object.keys(point).sort()) {
    const sweep: Sweep = k.startsWith('vm.') ? { target: 'sysctl', key: k, values: [] } : { target: k.slice(0, k.indexOf('.')), key: k.slice(k.indexOf('.') + 1), values: [] };
    out = applyScenarioPoint(out, sweep, point[k]);
  }
  return { ...out, seed };
}

/** Every combination of the sweeps' values, as {key: value} objects (one empty object without sweeps). */
function product(sweeps: { key: string; values: (number | string)[] }[]): Record<string, number | string>[] {
  let acc: Record<string, number | string>[] = [{}];
  for (const s of sweeps) acc = acc.flatMap((a) => s.values.map((v) => ({ ...a, [s.key]: v })));
  return acc;
}

const fmt = (o: Record<string, unknown>) => Object.keys(o).sort().map((k) => `${k}=${typeof o[k] === 'string' ? o[k] : JSON.stringify(o[k])}`).join(' ');
export function jobLabel(name: string, j: Pick<SweepJob, 'policy' | 'params' | 'point' | 'seed'>): string {
  return [name, j.policy, fmt(j.params), fmt(j.point), `seed=${j.seed}`].filter(Boolean).join(' ');
}

export interface GridSpec {
  scenarios: { file: string; scenario: NormalizedScenario }[];
  policies: PolicySpec[];
  sweeps: Sweep[];
  /** Seeds for every scenario; null: each scenario's own seed. */
  seeds: number[] | null;
  culprits?: (string | number)[];
  protect?: (string | number)[];
  tickNs: bigint;
  /** The engine id (default: this build's). */
  engine?: string;
}

/**
 * Expand scenarios x scenario points x policies x (that policy's parameter points) x seeds into jobs. A policy
 * without a parameter sweep runs once per scenario point and seed (the baseline next to the swept ones).
 * Every point and parameter set is checked here, before any job runs.
 */
export function planSweep(g: GridSpec): SweepPlan {
  if (!g.scenarios.length) throw new OomsimError('E_ARG', 'sweep: no scenario file given');
  if (!g.policies.length) throw new OomsimError('E_ARG', '--policies: no policy given');
  const names = g.policies.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new OomsimError('E_ARG', `--policies ${names.join(',')}: a policy is listed twice`);
  const seen = new Set<string>();
  for (const s of g.sweeps) {
    const k = `${s.target}.${s.key}`;
    if (seen.has(k)) throw new OomsimError('E_ARG', `--sweep ${pointKey(s)}: swept twice`);
    seen.add(k);
    if (!isScenarioSweep(s) && !names.includes(s.target)) throw new OomsimError('E_ARG', `--sweep ${s.target}.${s.key}: policy ${s.target} is not in --policies (${names.join(',')})`);
  }
  const scenarioPoints = product(g.sweeps.filter(isScenarioSweep).map((s) => ({ key: pointKey(s), values: s.values })));
  const paramPoints = new Map(g.policies.map((p) => [p.name, product(g.sweeps.filter((s) => s.target === p.name).map((s) => ({ key: s.key, values: s.values })))]));
  for (const p of g.policies) for (const pp of paramPoints.get(p.name)!) parsePolicyParams(p.name, { ...p.params, ...pp });

  const engine = g.engine ?? engineId();
  const records = new Map<string, { text: string; record: ScenarioRecord }>();
  const jobs: PlannedJob[] = [];
  const ids = new Set<string>();
  for (const { file, scenario } of g.scenarios) {
    for (const pt of scenarioPoints) applyPoint(scenario, pt, scenario.seed); // errors before any run
    const opts = { culprits: g.culprits, protect: g.protect, tickNs: g.tickNs };
    const record: ScenarioRecord = { file: file.replace(/^.*[\\/]/, ''), scenario, culprits: resolveCulprits(scenario, opts), protect: resolveProtected(scenario, opts), tickNs: g.tickNs };
    const text = encodeRecord(record);
    const digest = sha256Hex(text);
    records.set(digest, { text, record });
    for (const point of scenarioPoints) {
      for (const p of g.policies) {
        for (const pp of paramPoints.get(p.name)!) {
          for (const seed of g.seeds ?? [scenario.seed]) {
            const job: SweepJob = { v: JOB_FORMAT, engine, scenario: digest, policy: p.name, params: { ...p.params, ...pp }, point, seed };
            const id = jobId(job);
            if (ids.has(id)) continue; // the same scenario file given twice
            ids.add(id);
            jobs.push({ id, job, label: jobLabel(scenario.name, job), name: scenario.name });
          }
        }
      }
    }
  }
  return { records, jobs };
}
