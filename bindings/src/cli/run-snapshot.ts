/**
 * `oomsim run --at T --snapshot FILE` and `oomsim run --from FILE [--set K=V ...]`: where the run stops, what the
 * snapshot file holds (cli/snapshot-file.ts), and the what-ifs `--set` may ask of a run that is already going.
 *
 * What may change mid-run is what can change on a running machine: a sysctl (`vm.NAME=N`, written as `sysctl -w`
 * would be at the snapshot's time), a memcg file (`cgroup:/path/memory.FILE=V`, as `echo V >` would), a policy's
 * parameter (`POLICY.PARAM=V`: the daemon reloads its config and keeps its state) and when a timed action not yet
 * run happens (`actions[i].at=T`, i in time order, T after the snapshot). The machine, the processes, the cgroup
 * tree and the seed were fixed at boot and are refused, naming the key.
 */
import { readFileSync } from 'node:fs';
import { OomsimError } from '../errors.js';
import { parseDuration } from '../scenario/size.js';
import { SYSCTL_NAMES } from '../scenario/schema.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import { createPolicy, parsePolicyParams } from '../policy/index.js';
import type { PolicySpec } from '../policy/compare.js';
import { RunStepper, type RunOptions } from '../run.js';
import { fmtSec } from '../run/state.js';
import { decodeSnapshot, encodeSnapshot, scenarioDigest, type RunnerSection } from './snapshot-file.js';

const arg = (m: string) => new OomsimError('E_ARG', m);

/** The time of `--at`: a tick of the run before its end (the snapshot is taken after that tick). */
export function atTick(at: string, tickNs: bigint, sc: NormalizedScenario, afterNs: bigint | null = null): bigint {
  const r = parseDuration(at);
  if (!r.ok) throw arg(`--at ${at}: ${r.error}`);
  const t = r.value;
  const last = sc.durationNs - ((sc.durationNs % tickNs) || tickNs);
  const range = `ticks every ${fmtSec(tickNs)} from 0s; the last one before the end (${fmtSec(sc.durationNs)}) is ${fmtSec(last)}`;
  if (t % tickNs !== 0n) throw arg(`--at ${at}: not a tick of this run (${range})`);
  if (t >= sc.durationNs) throw arg(`--at ${at}: not inside the run (${range})`);
  if (afterNs !== null && t <= afterNs) throw arg(`--at ${at}: the snapshot given to --from is already at ${fmtSec(afterNs)}; give a later tick`);
  return t;
}

export const policiesOf = (specs: PolicySpec[]) => specs.map((s) => createPolicy(s.name, s.params ?? {}));

/** The snapshot file of a stepper stopped at its --at tick. */
export function snapshotFile(s: RunStepper, specs: PolicySpec[], explain: boolean): Uint8Array {
  if (s.reachedNs !== s.endNs || s.sc.durationNs === s.endNs) throw new OomsimError('E_SNAPSHOT', `the run ended at ${fmtSec(s.reachedNs)}${s.result().panic ? ' (kernel panic)' : ''}, before --at ${fmtSec(s.endNs)}: nothing to continue, no snapshot written`);
  const { engine, state } = s.snapshot();
  return encodeSnapshot(engine, { scenario: s.sc, run: { tickNs: s.tickNs, explain, policies: specs }, atNs: s.reachedNs, state });
}

export interface Resumed {
  sc: NormalizedScenario;
  section: RunnerSection;
  engine: Uint8Array;
  specs: PolicySpec[];
  /** What --set writes at the snapshot's time, in order. */
  writes: ({ kind: 'sysctl'; key: string; name: string; value: number } | { kind: 'cgroup'; key: string; path: string; file: string; value: string })[];
}

/** Read a snapshot for `--from`, check it against the scenario file given with it (if any), and apply `--set`. */
export function readResume(from: string, scenario: NormalizedScenario | null, scenarioFile: string | null, sets: string[]): Resumed {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(from);
  } catch (e) {
    throw arg(`--from ${from}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const { engine, section } = decodeSnapshot(bytes);
  if (scenario !== null) {
    const d = scenarioDigest(scenario);
    if (d !== section.scenarioDigest) {
      throw new OomsimError('E_SNAPSHOT', `${scenarioFile} is not the scenario this snapshot was taken of ("${section.scenario.name}", digest ${section.scenarioDigest.slice(0, 16)}…; this file's is ${d.slice(0, 16)}…): another or an edited scenario; run --from ${from} without a scenario file to continue the snapshot's own copy`);
    }
  }
  const r: Resumed = { sc: structuredClone(section.scenario), section, engine, specs: structuredClone(section.run.policies), writes: [] };
  for (const kv of sets) applySet(r, kv);
  return r;
}

function applySet(r: Resumed, kv: string): void {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw arg(`--set ${kv}: expected KEY=VALUE`);
  const key = kv.slice(0, eq), value = kv.slice(eq + 1);
  const at = r.section.atNs, ai = r.section.state.ai;
  const allowed = `from a snapshot, --set may change sysctls (vm.NAME=N), memcg files (cgroup:/path/memory.FILE=VALUE), policy parameters (POLICY.PARAM=VALUE; this snapshot's policies: ${r.specs.map((s) => s.name).join(', ') || 'none'}) and actions not yet run (actions[i].at=TIME, i >= ${ai} in time order, TIME after ${fmtSec(at)})`;
  let m: RegExpExecArray | null;
  if (/^(vm|kernel)\./.test(key)) {
    if (!(SYSCTL_NAMES as string[]).includes(key)) throw arg(`--set ${kv}: ${key} is not a sysctl the engine simulates (known: ${SYSCTL_NAMES.join(', ')})`);
    if (!/^-?\d+$/.test(value)) throw arg(`--set ${kv}: expected an integer value`);
    r.writes.push({ kind: 'sysctl', key, name: key, value: Number(value) });
  } else if ((m = /^cgroup:(\/[^=]*?)\/?(memory\.[\w.]+)$/.exec(key))) {
    const path = m[1] === '' ? '/' : m[1];
    r.writes.push({ kind: 'cgroup', key, path, file: m[2], value });
  } else if ((m = /^actions\[(\d+)\]\.(\w+)$/.exec(key))) {
    const i = Number(m[1]);
    const a = r.sc.actions[i];
    if (!a) throw arg(`--set ${kv}: the scenario has ${r.sc.actions.length} actions (actions[0] to actions[${r.sc.actions.length - 1}], in time order)`);
    if (i < ai) throw arg(`--set ${kv}: actions[${i}] (${a.action} at ${fmtSec(a.atNs)}) already ran before the snapshot (${fmtSec(at)}); ${allowed}`);
    if (m[2] !== 'at') throw arg(`--set ${kv}: only the time of an action not yet run may change (actions[${i}].at=TIME)`);
    const t = parseDuration(value);
    if (!t.ok) throw arg(`--set ${kv}: ${t.error}`);
    if (t.value <= at) throw arg(`--set ${kv}: ${value} is not after the snapshot (${fmtSec(at)})`);
    if (t.value > r.sc.durationNs) throw arg(`--set ${kv}: ${value} is after the end of the run (${fmtSec(r.sc.durationNs)})`);
    a.atNs = t.value;
    // the actions not yet run, in time order again (stable: same-time actions keep their order)
    const tail = r.sc.actions.splice(ai).map((x, j) => ({ x, j })).sort((p, q) => (p.x.atNs < q.x.atNs ? -1 : p.x.atNs > q.x.atNs ? 1 : p.j - q.j));
    r.sc.actions.push(...tail.map((p) => p.x));
  } else if ((m = /^([\w-]+)\.(\w+)$/.exec(key)) && r.specs.some((s) => s.name === m![1])) {
    const spec = r.specs.find((s) => s.name === m![1])!;
    let v: unknown = value;
    try {
      v = JSON.parse(value);
    } catch {
      /* a plain string */
    }
    spec.params = { ...spec.params, [m[2]]: v };
    parsePolicyParams(spec.name, spec.params);
  } else {
    throw arg(`--set ${kv}: ${refusedWhy(r.sc, key, at)}; ${allowed}`);
  }
}

/** Why a key cannot change mid-run. */
function refusedWhy(sc: NormalizedScenario, key: string, at: bigint): string {
  if (/^machine\b/.test(key)) return `${key} is fixed once the machine has booted (RAM, swap areas, oom_killer_disabled)`;
  const p = /^processes\[(\d+)\]/.exec(key);
  if (p) {
    const d = sc.processes[Number(p[1])];
    if (!d) return `the scenario has ${sc.processes.length} processes`;
    return d.startNs <= at ? `processes[${p[1]}] (pid ${d.pid}, ${d.comm}) started at ${fmtSec(d.startNs)}, before the snapshot` : `processes[${p[1]}] (pid ${d.pid}, ${d.comm}) is declared with the machine; a snapshot keeps the declared processes`;
  }
  if (/^processes\b/.test(key)) return 'the processes are fixed in a snapshot';
  if (/^cgroups\b/.test(key)) return 'the cgroup tree is fixed in a snapshot (write a memcg file with cgroup:/path/memory.FILE=VALUE)';
  if (/^(seed|duration|name|description)$/.test(key)) return `${key} is fixed in a snapshot`;
  if (/^[\w-]+\.\w+$/.test(key)) return `${key.split('.')[0]} is neither a sysctl prefix nor a policy of this snapshot`;
  return `${key} is not a key that may change mid-run`;
}

/** The stepper of a resumed run, with --set's writes done at the snapshot's time. */
export function resumeStepper(r: Resumed, opts: RunOptions): RunStepper {
  const s = RunStepper.restore(r.sc, r.engine, r.section.state, { ...opts, tickNs: r.section.run.tickNs, explain: r.section.run.explain, policies: policiesOf(r.specs), onPolicyError: 'disable' });
  try {
    for (const w of r.writes) {
      const res = w.kind === 'sysctl' ? s.adminWrite({ sysctl: w.name, value: w.value }) : s.adminWrite({ cgroup: w.path, file: w.file, value: w.value });
      if (res !== 'OK') throw arg(`--set ${w.key}=${w.value}: the kernel rejected it (${res})`);
    }
  } catch (e) {
    s.free();
    throw e;
  }
  return s;
}
