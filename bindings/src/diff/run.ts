/**
 * One differential case: the same `ops` scenario through the wasm engine (Rust `ops` executor) and the TS reference
 * engine, compared on every op's result and the whole final state.
 */
import { ops_run } from '../../../pkg/oomsim_wasm.js';
import { runOps } from '../reference/ops.js';
import { observeRequest, project, type Scenario } from './generate.js';

export type DiffOutcome =
  /** `reclaimed`: the scenario entered direct reclaim (allocstall_normal grew) */
  | { kind: 'same'; reclaimed: boolean }
  | { kind: 'unsupported'; why: string }
  | { kind: 'differ'; path: string; wasm: unknown; reference: unknown; wasmObs: unknown; refObs: unknown };

function firstDifference(a: unknown, b: unknown, path = ''): { path: string; a: unknown; b: unknown } | undefined {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  const norm = (x: unknown) => (typeof x === 'bigint' ? Number(x) : x);
  return norm(a) === norm(b) ? undefined : { path, a, b };
}

export function diffScenario(s: Scenario): DiffOutcome {
  const observe = observeRequest(s);
  let wasmObs: { at: unknown[]; final: unknown };
  try {
    wasmObs = JSON.parse(ops_run(JSON.stringify({ machine: s.machine, ops: s.ops, observe })));
  } catch (e) {
    const msg = (e as Error).message;
    if (/unsupported/.test(msg)) return { kind: 'unsupported', why: msg };
    throw e;
  }
  // (no cgroup files are compared: asking for none spares the reference reading every file at every op)
  const ref = runOps({ machine: s.machine, ops: s.ops } as never, { at: observe.at.map((a) => ({ op: a.op as number, cgroup_files: {} })), final: { cgroup_files: {} } });
  // a pid that never had a process (the child of a failed fork) is observed like a dead task: not alive, nothing
  const dead = { alive: false, blocked: false, rss: 0, rss_anon: 0, rss_file: 0, rss_shmem: 0, swapents: 0, total_vm_pages: 0 };
  const full = (o: { tasks: Record<string, unknown> }) => ({ ...o, tasks: { ...Object.fromEntries(Object.keys(observe.final.tasks as object).map((p) => [p, dead])), ...o.tasks } });
  const refObs = { at: project(ref.at, observe.at), final: project(full(ref.final), observe.final) };
  const d = firstDifference(wasmObs, refObs);
  if (!d) {
    const stalls = (refObs.final as { vmstat_delta?: Record<string, number> }).vmstat_delta?.allocstall_normal ?? 0;
    return { kind: 'same', reclaimed: stalls > 0 };
  }
  return { kind: 'differ', path: d.path, wasm: d.a, reference: d.b, wasmObs, refObs };
}
