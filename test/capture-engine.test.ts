/**
 * The cases the real-kernel checks (test/capture-kernel.test.ts) measured, kept as scenarios and run through the
 * engine: where the kernel and oomsim disagree the kernel wins, so the engine must reproduce the kernel's kills.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { runScenario } from '../bindings/src/run.js';
import { normalizeScenario, parseScenarioOrThrow } from '../bindings/src/scenario/index.js';

beforeAll(async () => {
  await load();
});

describe('kernel-measured memcg OOMs, in the engine', () => {
  it('memcg-victim-v1: the 72 MiB adj-0 task dies first, then the grower; the adj-300 task survives', () => {
    const file = 'test/scenarios-kernel/memcg-victim-v1.yaml';
    const r = runScenario(normalizeScenario(parseScenarioOrThrow(readFileSync(file, 'utf8')), { file }));
    expect(r.oomKills.map((k) => k.comm)).toEqual(['hog', 'driver']);
    expect(r.oomKills.map((k) => k.constraint)).toEqual([3, 3]); // CONSTRAINT_MEMCG (report/text.ts order)
  });
});
