// The public `ops` vectors through the TS reference evaluator (vectors-format.md §6, matching rules §3.2).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evalVector, runVectorsText } from '../bindings/src/reference/conformance.js';
import { type Json, type JsonObject, parseLossless } from '../bindings/src/reference/json.js';

const text = readFileSync(new URL('./vectors/kernel-vectors.json', import.meta.url), 'utf8');
const vectors = parseLossless(text) as JsonObject[];
const AREAS = ['fault', 'overcommit', 'meminfo', 'memcg_v1', 'memcg_v2'];
const opsVectors = vectors.filter((v) => v.check === 'ops' && AREAS.includes(v.area as string));

describe('public ops vectors through the TS reference', () => {
  it('covers every public ops vector of the areas', () => {
    expect(opsVectors.length).toBe(vectors.filter((v) => v.check === 'ops').length);
    expect(opsVectors.length).toBeGreaterThanOrEqual(24);
  });
  for (const v of opsVectors) {
    it(`${v.id as string}`, () => {
      const r = evalVector(0, v);
      expect(r.message).toBe('');
      expect(r.outcome).toBe('pass');
    });
  }
  it('reports non-ops checks as unsupported, never as passed', () => {
    const all = runVectorsText(text);
    for (const r of all) {
      if (r.check !== 'ops') expect(r.outcome).toBe('unsupported');
    }
  });
});

// Regression vectors of divergences the differential test found (wasm engine vs this reference).
const regressions = parseLossless(readFileSync(new URL('./vectors/regressions.json', import.meta.url), 'utf8')) as JsonObject[];
describe('regression ops vectors through the TS reference', () => {
  it('has them', () => expect(regressions.length).toBeGreaterThanOrEqual(10));
  for (const v of regressions) {
    it(`${v.id as string}`, () => {
      const r = evalVector(0, v);
      expect(r.message).toBe('');
      expect(r.outcome).toBe('pass');
    });
  }
});

/** Deep-copy with one change, for mutation tests. */
const mutate = (v: JsonObject, f: (c: JsonObject) => void): JsonObject => {
  const c = parseLossless(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x))) as JsonObject;
  f(c);
  return c;
};
const byId = (id: string) => opsVectors.find((v) => v.id === id)!;

describe('the evaluator can fail', () => {
  it('a wrong rss value fails', () => {
    const v = mutate(byId('fault-cow-after-fork'), (c) => {
      ((c.expected as JsonObject).final as JsonObject).tasks = { '1': { rss_anon: 999 } };
    });
    expect(evalVector(0, v).outcome).toBe('fail');
  });
  it('a wrong fault kind fails', () => {
    const v = mutate(byId('fault-file'), (c) => {
      (((c.expected as JsonObject).at as Json[])[0] as JsonObject).fault = 'minor';
    });
    expect(evalVector(0, v).outcome).toBe('fail');
  });
  it('a wrong committed delta fails', () => {
    const v = mutate(byId('oc-fork-charges-child'), (c) => {
      (((c.expected as JsonObject).at as Json[])[0] as JsonObject).committed_as_delta_pages = 310000;
    });
    expect(evalVector(0, v).outcome).toBe('fail');
  });
  it('a wrong big cgroup file value fails (exact, beyond 2^53)', () => {
    const v = mutate(byId('v1-limit-rounding'), (c) => {
      const at = (c.expected as JsonObject).at as JsonObject[];
      ((at[2].cgroup_files as JsonObject)['/A'] as JsonObject)['memory.limit_in_bytes'] = '9223372036854771713';
    });
    expect(evalVector(0, v).outcome).toBe('fail');
  });
});
