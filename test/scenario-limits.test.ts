// Issue #19 item 2: bounded inputs with located errors, and the JSON fast path agreeing with the YAML path.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYamlText } from 'yaml';
import { describe, expect, it } from 'vitest';
import { formatIssue, parseScenario } from '../bindings/src/scenario/load.js';
import { MAX_NESTING, MAX_PROCESSES, formatInUnitOf, preScan } from '../bindings/src/scenario/limits.js';
import { editDistance, suggest } from '../bindings/src/scenario/suggest.js';

const base = 'machine: { ram: 4G }\n';
const errs = (text: string, opts = {}) => {
  const r = parseScenario(text, opts);
  return r.success ? [] : r.errors.map(formatIssue);
};

describe('scenario limits', () => {
  it('rejects a duration above 30 days at its line, and --allow-long lifts it', () => {
    expect(errs(base + 'duration: 31536000000s')).toEqual([
      '<input>:2 duration: duration 31536000000s is longer than 30 days (30d), the limit for a scenario; pass --allow-long (API: { allowLong: true }) to run it anyway',
    ]);
    expect(errs(base + 'duration: 30d')).toEqual([]);
    expect(errs(base + 'duration: 30d1ns')).toHaveLength(1);
    expect(errs(base + 'duration: 31536000000s', { allowLong: true })).toEqual([]);
    // Same for JSON (the fast path falls back to the YAML path to locate the error).
    expect(errs('{\n "machine": {"ram": "4G"},\n "duration": "31d"\n}')).toEqual([expect.stringMatching(/^<input>:3 duration: duration 31d is longer than 30 days/)]);
  });

  it('stops deep nesting before the parser overflows its stack', () => {
    const deep = 'machine: { ram: 4G }\nx: ' + '['.repeat(100_000) + ']'.repeat(100_000);
    expect(errs(deep)).toEqual([`<input>:2 nesting deeper than ${MAX_NESTING} levels of [ ] / { }`]);
    const json = '{"a":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_001);
    expect(errs(json)).toEqual([`<input>:1 nesting deeper than ${MAX_NESTING} levels of [ ] / { }`]);
    // Brackets inside strings and comments do not count.
    const quoted = base + `description: "${'['.repeat(200)}"\n# ${'{'.repeat(200)}\nname: '${'['.repeat(200)}'`;
    expect(preScan(quoted)).toBeUndefined();
    expect(errs(quoted)).toEqual([]);
  });

  it('says what an inexact number is instead of leaking zod bounds', () => {
    const e = errs('machine: { ram: 1e30 }');
    expect(e[0]).toBe('<input>:1 machine.ram: 1e+30 is not an exact byte count (plain numbers must be integers below 2^53); write a size like 4G, 512M, 100k, 0x1000 or a plain number of bytes');
    for (const m of e) expect(m).not.toMatch(/Too big|Invalid input|expected int/);
    expect(errs(base + 'processes: [{ comm: a, pid: 1e30, workload: { kind: steady, working_set: 1M } }]')).toEqual([
      '<input>:2 processes[0].pid: expected a pid 1..4194304 (PID_MAX_LIMIT)',
    ]);
  });

  it('bounds RAM and swap by what the engine models, in the units the user wrote', () => {
    expect(errs('machine: { ram: 1000P }')).toEqual(['<input>:1 machine.ram: 1000P is more RAM than the engine models: at most 512G (134217728 pages of 4K)']);
    expect(errs('machine: { ram: 2000000000K }')).toEqual(['<input>:1 machine.ram: 2000000000K is more RAM than the engine models: at most 536870912K (134217728 pages of 4K)']);
    expect(errs('machine: { ram: 512G }')).toEqual([]);
    expect(errs('machine: { ram: 513G }')).toEqual(['<input>:1 machine.ram: 513G is more RAM than the engine models: at most 512G (134217728 pages of 4K)']);
    expect(errs('machine: { ram: 100 }')).toEqual(['<input>:1 machine.ram: 100 is less than one 4K page; the engine needs at least 4K of RAM']);
    expect(errs('machine: { ram: 4G, swap: [{ size: 200G }, { size: 56G }] }')).toEqual([]);
    expect(errs('machine: { ram: 4G, swap: [{ size: 200G }, { size: 57G }] }')).toEqual([
      '<input>:1 machine.swap: total swap is more than the engine models: at most 256G (67108864 pages of 4K) over all devices',
    ]);
    expect(formatInUnitOf(1024n * 1024n - 1n, '1M')).toBe('1023K');
    expect(formatInUnitOf(5n, 7)).toBe('5');
  });

  it('counts processes and validates a large generated JSON file on the fast path', () => {
    const procs = (n: number) => Array.from({ length: n }, (_, i) => ({ comm: `p${i}`, pid: i + 10, workload: { kind: 'steady', working_set: '1M' } }));
    const ok = parseScenario(JSON.stringify({ machine: { ram: '64G' }, processes: procs(50_000) }));
    expect(ok.success && ok.data.processes.length).toBe(50_000);
    // Over the limit: one located error (stubs, not full processes, to keep the test small).
    const over = `{"machine": {"ram": "64G"}, "name": "processes",\n "processes": [${Array(MAX_PROCESSES + 1).fill(0).join(",")}]}`;
    const r = parseScenario(over);
    expect(r.success).toBe(false);
    expect(!r.success && r.errors.map(formatIssue)).toEqual([`<input>:2 processes: ${MAX_PROCESSES + 1} processes; the limit is ${MAX_PROCESSES}`]);
  });

  it('JSON duplicate keys are errors on the fast path too', () => {
    expect(errs('{"machine": {"ram": "4G"},\n "machine": {"ram": "8G"}}')).toEqual(['<input>:2 duplicate key: Map keys must be unique']);
    expect(errs('{"machine": {"ram": "4G", "swap": [{"size": "1G"}, {"size": "1G"}]}}')).toEqual([]);
    expect(errs('{"machine": {"ram": "4G"}, "name": "a\\"b", "description": "machine"}')).toEqual([]);
  });

  it('the JSON fast path gives exactly the YAML path result for every shipped scenario', () => {
    const dir = join(__dirname, '..', 'scenarios');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const yamlResult = parseScenario(text, { file: f });
      const asJson = JSON.stringify(parseYamlText(text, { intAsBigInt: false }));
      // Kernel number syntax (010, 0x10) is kept as text by the loader; those files are not plain JSON-equivalent.
      if (/:\s*0[0-9xX]/.test(text)) continue;
      const jsonResult = parseScenario(asJson, { file: f });
      expect(jsonResult, f).toEqual(yamlResult);
    }
  });
});

describe('scenario loader properties (fast-check)', () => {
  const valid = [base + 'duration: 10s\nprocesses:\n  - { comm: a, pid: 10, workload: { kind: steady, working_set: 100M } }\n'];
  it('never throws; every error is located text in our words', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.nat(200), fc.string({ maxLength: 8 }), fc.nat(3), (text, at, junk, mode) => {
        const i = at % (text.length + 1);
        const mutated = mode === 0 ? text.slice(0, i) + junk + text.slice(i) : mode === 1 ? text.slice(0, i) : mode === 2 ? text.slice(0, i) + text.slice(i + junk.length) : junk + text;
        const r = parseScenario(mutated);
        if (r.success) return;
        expect(r.errors.length).toBeGreaterThan(0);
        for (const e of r.errors) {
          expect(e.line).toBeGreaterThanOrEqual(0);
          expect(e.message).not.toMatch(/^Invalid input|Too big|Too small|expected int to be/);
          expect(formatIssue(e).startsWith('<input>')).toBe(true);
        }
      }),
      { seed: 19, numRuns: 500 },
    );
  });
  it('random JSON values never crash the loader', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const r = parseScenario(JSON.stringify(v));
        if (!r.success) for (const e of r.errors) expect(typeof e.message).toBe('string');
      }),
      { seed: 19, numRuns: 500 },
    );
  });
});

// suggest.ts keeps three rows of the distance table and skips candidates whose length alone puts them over the
// limit (the scenario fuzzer spends its time there); both must give what the full table and the full scan give.
describe('suggestions: the bounded scan equals the full one', () => {
  const fullDistance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
        d[i]![j] = v;
      }
    }
    return d[a.length]![b.length]!;
  };
  const fullSuggest = (word: string, cands: string[]): string | undefined => {
    let best: string | undefined;
    let bestD = Infinity;
    for (const c of cands) {
      const dd = fullDistance(word.toLowerCase(), c.toLowerCase());
      if (dd < bestD) [bestD, best] = [dd, c];
    }
    if (best !== undefined && bestD > 0 && bestD <= Math.max(1, Math.floor(word.length / 3))) return best;
    const tail = cands.filter((c) => c.endsWith('.' + word) || c.endsWith('/' + word));
    return tail.length === 1 ? tail[0] : undefined;
  };
  const str = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'm', 'e', 'o', '.', '_'), maxLength: 14 });
  it('editDistance', () => {
    fc.assert(fc.property(str, str, (a, b) => editDistance(a, b) === fullDistance(a, b)), { seed: 19, numRuns: 2000 });
  });
  it('suggest', () => {
    fc.assert(fc.property(str, fc.array(str, { maxLength: 8 }), (w, cands) => suggest(w, cands) === fullSuggest(w, cands)), { seed: 19, numRuns: 2000 });
  });
});
