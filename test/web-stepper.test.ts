// The playground's pausable run (bindings/web/src/stepper.ts) against runScenario: the same tick loop, so a stepped
// run gives every scenario's golden files (test/golden/, which run-golden.test.ts checks runScenario against: the
// text summary, the kernel log and the JSON report) and, with explain, runScenario's full JSON report byte for byte;
// a run paused and stepped in random slices, with the live reads the page makes while paused (task table, the OOM
// candidate ranking, PSI, cgroup files), ends with the same result as the uninterrupted one.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { loadScenarioFileOrThrow } from '../bindings/src/scenario/load.js';
import { normalizeScenario, type NormalizedScenario } from '../bindings/src/scenario/normalize.js';
import { runScenario } from '../bindings/src/run.js';
import { toJson } from '../bindings/src/report/json.js';
import { textSummary } from '../bindings/src/report/text.js';
import { formatLog } from '../bindings/src/report/log.js';
import { RunStepper } from '../bindings/web/src/stepper.js';

const DIR = new URL('../scenarios/', import.meta.url).pathname;
const GOLDEN = new URL('./golden/', import.meta.url).pathname;
const NAMES = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();
const scenario = (name: string): NormalizedScenario => {
  const file = `${DIR}${name}.yaml`;
  return normalizeScenario(loadScenarioFileOrThrow(file), { file });
};

function stepped(sc: NormalizedScenario, slices: number[], tickNs?: bigint, peek = false, explain = true): { json: string; golden: [string, string]; samples: number; extra: RunStepper['extra'] } {
  const s = new RunStepper(sc, { explain, tickNs });
  try {
    let i = 0;
    while (!s.done) {
      s.step(slices.length ? slices[i % slices.length]! : 1_000_000);
      if (peek && !s.done) {
        // what the page reads at a pause: the live task table, the ranking, PSI, the cgroups' files and (at some
        // pauses, it is the costly one) the report so far
        s.engine.tasks();
        s.engine.oomExplain();
        s.engine.psiText();
        for (const g of sc.cgroups.groups) s.engine.cgroupRead(g.path, sc.cgroups.version === 'v1' ? 'memory.usage_in_bytes' : 'memory.current');
        if (i % 8 === 0) toJson(s.result());
      }
      i++;
    }
    const r = s.result();
    const golden: [string, string] = [[...textSummary(r, { explain: true }), 'kernel log:', ...formatLog(r)].join('\n') + '\n', toJson(r, { seriesStride: 10 })];
    return { json: toJson(r), golden, samples: r.series.tNs.length, extra: s.extra };
  } finally {
    s.free();
  }
}

beforeAll(async () => {
  await load();
});

describe('RunStepper', () => {
  it('finds the scenarios', () => expect(NAMES.length).toBeGreaterThanOrEqual(20));

  for (const name of NAMES) {
    it(`${name}: stepped without pauses = runScenario's goldens`, () => {
      const sc = scenario(name);
      const { golden, samples, extra } = stepped(sc, [], undefined, false, false);
      expect(golden[0]).toBe(readFileSync(`${GOLDEN}${name}.txt`, 'utf8'));
      expect(golden[1]).toBe(readFileSync(`${GOLDEN}${name}.json`, 'utf8'));
      // one extra sample per tick
      expect(extra.psi.someAvg10.length).toBe(samples);
      for (const col of Object.values(extra.cgroupLimitKb)) expect(col.length).toBe(samples);
    });
  }

  for (const name of ['global-oom-adj', 'cgroup-v1-limit-in-bytes', 'oom-kill-allocating-task']) {
    it(`${name}: with explain, every sample: stepped = runScenario byte for byte`, () => {
      const sc = scenario(name);
      expect(stepped(sc, []).json).toBe(toJson(runScenario(sc, { explain: true })));
    });
  }

  it('a memcg with a limit shows it; PSI totals never fall', () => {
    const sc = scenario('cgroup-v1-limit-in-bytes');
    const { extra } = stepped(sc, []);
    // the scenario's 512M limit, in kB, at every sample
    expect(Object.values(extra.cgroupLimitKb).flat()).toContain(512 * 1024);
    const { extra: x2 } = stepped(scenario('cgroup-v2-memory-high'), []);
    const tot = x2.psi.someTotalUs;
    expect(tot.at(-1)!).toBeGreaterThan(0); // the throttled leak stalls in reclaim
    for (let i = 1; i < tot.length; i++) expect(tot[i]!).toBeGreaterThanOrEqual(tot[i - 1]!);
    expect(x2.psi.fullTotalUs.every((v, i) => v <= tot[i]!)).toBe(true); // full implies some
    expect(x2.psi.someAvg10.some((v) => v > 0)).toBe(true);
  });

  it('paused and stepped in random slices, with live reads at each pause: the same result', () => {
    const names = ['global-oom-adj', 'cgroup-v1-limit-in-bytes', 'fork-overcommit-mode2', 'cgroup-v1-oom-control', 'cgroup-v2-memory-high', 'panic-on-oom-global'];
    const whole = new Map(names.map((n) => [n, stepped(scenario(n), []).json]));
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 6 }), (name, slices) => {
        expect(stepped(scenario(name), slices, undefined, true).json).toBe(whole.get(name));
      }),
      { numRuns: 12, seed: 15 },
    );
  }, 600_000); // not a speed check: a dozen whole runs on a shared machine

  it('a non-default tick is kept; a partial result ends at the last tick run', () => {
    const sc = scenario('global-oom-adj');
    const tickNs = 50_000_000n;
    const s = new RunStepper(sc, { tickNs });
    try {
      expect(s.step(10)).toBe(10);
      const r = s.result();
      expect(r.series.tNs).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i) * tickNs));
      expect(r.endNs).toBe(9n * tickNs);
      expect(s.done).toBe(false);
      while (!s.done) s.step(1000);
      expect(toJson(s.result())).toBe(toJson(runScenario(sc, { tickNs })));
      expect(s.step(5)).toBe(0); // nothing after the end
    } finally {
      s.free();
    }
  });

  it('a bad tick is refused like runScenario refuses it', () => {
    expect(() => new RunStepper(scenario('global-oom-adj'), { tickNs: 0n })).toThrow('tick: 0 ns is not allowed; expected > 0');
  });
});
