// A run split at a tick and continued from its snapshot (issue #19 item 4, the runner's half; the engine's half is
// engine/core/src/snapshot/tests.rs and test/engine-snapshot.test.ts): for random scenarios, seeds, policies,
// timed actions after the split and split ticks, run to t, write the snapshot file (cli/snapshot-file.ts), read
// it back, restore into a new engine handle and a new RunStepper, continue, and compare the JSON report byte for
// byte with the unsplit run.
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { loadScenarioFileOrThrow } from '../bindings/src/scenario/load.js';
import { normalizeScenario, type NormalizedAction, type NormalizedScenario } from '../bindings/src/scenario/normalize.js';
import { RunStepper } from '../bindings/src/run/stepper.js';
import { toJson } from '../bindings/src/report/json.js';
import { createPolicy } from '../bindings/src/policy/index.js';
import type { PolicySpec } from '../bindings/src/policy/compare.js';
import { decodeSnapshot, encodePlain, encodeSnapshot } from '../bindings/src/cli/snapshot-file.js';

const DIR = new URL('../scenarios/', import.meta.url).pathname;
const NAMES = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const BASE = new Map<string, NormalizedScenario>();
const scenario = (f: string) => structuredClone(BASE.get(f)!);

beforeAll(async () => {
  await load();
  for (const f of NAMES) BASE.set(f, normalizeScenario(loadScenarioFileOrThrow(DIR + f), { file: DIR + f }));
});

const TICK = 100_000_000n;
/** Each built-in policy with parameters under which it acts on some shipped scenario (the second test names it). */
const VARIANTS: Record<string, { params: Record<string, unknown>; actsOn: string[] }> = {
  earlyoom: { params: {}, actsOn: ['global-oom-adj.yaml', 'prevent-adj-tuning.yaml'] },
  nohang: { params: {}, actsOn: ['global-oom-adj.yaml', 'oom-dump-tasks.yaml'] },
  lmkd: { params: { useMinfreeLevels: true }, actsOn: ['prevent-more-swap.yaml', 'swap-zram-priority.yaml'] },
  oomd: { params: { memory_above: { threshold: '60%', duration: 2 } }, actsOn: ['cgroup-v1-soft-limit.yaml'] },
  'systemd-oomd': { params: { swapUsedLimit: '20%' }, actsOn: ['cgroup-v2-memory-high.yaml'] },
  kubelet: { params: {}, actsOn: ['cgroup-v1-soft-limit.yaml', 'cgroup-v1-limit-in-bytes.yaml'] },
};
const POLICIES = Object.keys(VARIANTS);

/** Timed actions an admin might take, drawn for a scenario: sysctl writes, oom_score_adj, kills, memcg writes. */
function extraAction(sc: NormalizedScenario, r: { kind: number; pick: number; value: number; atNs: bigint }): NormalizedAction | null {
  const pids = sc.processes.map((p) => p.pid);
  const pid = pids[r.pick % pids.length]!;
  switch (r.kind % 5) {
    case 0:
      return { action: 'sysctl', atNs: r.atNs, writes: [{ name: 'vm.overcommit_memory', value: BigInt(r.value % 3) }] };
    case 1:
      return { action: 'set_adj', atNs: r.atNs, pid, oomScoreAdj: (r.value % 2001) - 1000 };
    case 2:
      return { action: 'kill', atNs: r.atNs, pid, signal: r.value % 2 ? 'SIGKILL' : 'SIGTERM' };
    case 3: {
      const g = sc.cgroups.groups.filter((x) => x.path !== '/');
      if (!g.length) return null;
      const file = sc.cgroups.version === 'v1' ? 'memory.limit_in_bytes' : 'memory.high';
      return { action: 'cgroup_write', atNs: r.atNs, cgroup: g[r.pick % g.length]!.path, writes: [{ file, value: BigInt(64 + (r.value % 2048)) << 20n, text: `${64 + (r.value % 2048)}M` }] };
    }
    default:
      return { action: 'sysctl', atNs: r.atNs, writes: [{ name: 'vm.panic_on_oom', value: BigInt(r.value % 2) }] };
  }
}

const caseArb = fc.record({
  file: fc.constantFrom(...NAMES),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  policies: fc.subarray(POLICIES, { maxLength: 2 }),
  /** The split, as a fraction of the run's ticks. */
  split: fc.double({ min: 0, max: 0.999, noNaN: true }),
  actions: fc.array(fc.record({ kind: fc.nat(), pick: fc.nat(), value: fc.nat(), frac: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 4 }),
  explain: fc.boolean(),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function build(c: Case): { sc: NormalizedScenario; t: bigint; specs: PolicySpec[] } {
  const sc = scenario(c.file);
  sc.seed = c.seed;
  const ticks = sc.durationNs / TICK;
  const t = BigInt(Math.floor(c.split * Number(ticks))) * TICK;
  for (const a of c.actions) {
    // half of them after the split (so they run in the continued part), the rest anywhere
    const atNs = (BigInt(Math.floor(a.frac * Number(ticks))) * TICK) as bigint;
    const x = extraAction(sc, { ...a, atNs: a.kind % 2 ? atNs : t + TICK + ((atNs / 2n / TICK) * TICK) });
    if (x && x.atNs <= sc.durationNs) sc.actions.push(x);
  }
  sc.actions = sc.actions.map((a, i) => ({ a, i })).sort((p, q) => (p.a.atNs < q.a.atNs ? -1 : p.a.atNs > q.a.atNs ? 1 : p.i - q.i)).map((p) => p.a);
  return { sc, t, specs: c.policies.map((name) => ({ name, params: VARIANTS[name]!.params })) };
}

const optsOf = (specs: PolicySpec[], explain: boolean) => ({ explain, policies: specs.map((s) => createPolicy(s.name, s.params)), onPolicyError: 'disable' as const });

/** The JSON report and what the policies did (which the report leaves out), as one text. */
function report(s: RunStepper): { text: string; policyActions: number } {
  const r = s.result();
  return { text: toJson(r) + encodePlain(r.policies ?? null), policyActions: r.policies?.actions.filter((a) => a.action.type !== 'none').length ?? 0 };
}

function whole(sc: NormalizedScenario, specs: PolicySpec[], explain: boolean): { text: string; policyActions: number } {
  const s = new RunStepper(sc, optsOf(specs, explain));
  try {
    s.step(Infinity);
    return report(s);
  } finally {
    s.free();
  }
}

/** Run to the tick at t, save the snapshot file, drop the run, read the file back and continue in new objects. */
function split(sc: NormalizedScenario, specs: PolicySpec[], explain: boolean, t: bigint): { json: string; bytes: number } {
  const a = new RunStepper(sc, { ...optsOf(specs, explain), untilNs: t });
  let file: Uint8Array;
  try {
    a.step(Infinity);
    const { engine, state } = a.snapshot();
    file = encodeSnapshot(engine, { scenario: sc, run: { tickNs: a.tickNs, explain, policies: specs }, atNs: a.reachedNs, state });
  } finally {
    a.free();
  }
  const { engine, section } = decodeSnapshot(file);
  const b = RunStepper.restore(section.scenario, engine, section.state, optsOf(section.run.policies, section.run.explain));
  try {
    b.step(Infinity);
    return { json: report(b).text, bytes: file.length };
  } finally {
    b.free();
  }
}

describe('a run split at a tick and continued from its snapshot file', () => {
  it('gives the unsplit run\'s JSON report, byte for byte (random scenarios, seeds, policies, actions, splits)', () => {
    let policyActions = 0, oomKills = 0, withActionsAfter = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const { sc, t, specs } = build(c);
        const w = whole(sc, specs, c.explain);
        policyActions += w.policyActions;
        oomKills += (JSON.parse(w.text.slice(0, w.text.lastIndexOf('\n') + 1)) as { oomKills: unknown[] }).oomKills.length;
        if (sc.actions.some((a) => a.atNs > t)) withActionsAfter++;
        expect(split(sc, specs, c.explain, t).json).toBe(w.text);
      }),
      { numRuns: 24, seed: 1907 },
    );
    // the cases must exercise what the state carries: policy actions, kernel OOM kills, actions after the split
    expect(policyActions).toBeGreaterThan(0);
    expect(oomKills).toBeGreaterThan(0);
    expect(withActionsAfter).toBeGreaterThan(5);
  }, 900_000); // not a speed check: some fifty runs on a shared machine

  it('every policy carries its state across the split (each alone, on a scenario where it acts)', () => {
    for (const [name, v] of Object.entries(VARIANTS)) {
      for (const f of v.actsOn) {
        const sc = scenario(f);
        const specs = [{ name, params: v.params }];
        const w = whole(sc, specs, false);
        expect(w.policyActions, `${name} acts on ${f}`).toBeGreaterThan(0);
        for (const frac of [0.1, 0.3, 0.5, 0.7]) {
          const t = BigInt(Math.floor(frac * Number(sc.durationNs / TICK))) * TICK;
          expect(split(sc, specs, false, t).json, `${name} on ${f} split at ${t} ns`).toBe(w.text);
        }
      }
    }
  }, 900_000);
});
