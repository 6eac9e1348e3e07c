/**
 * The cases the real-kernel checks (test/capture-kernel.test.ts) measured, kept as scenarios and run through the
 * engine: where the kernel and oomsim disagree the kernel wins, so the engine must reproduce the kernel's kills.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mainAsync } from '../bindings/src/cli/main.js';
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

const live = existsSync('/proc/self/stat') && existsSync('/proc/meminfo');
if (!live) console.log('capture-engine: the live snapshot check is skipped: no Linux /proc here');
describe.skipIf(!live)('a snapshot of this machine runs unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oomsim-snap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('oomsim capture, then run, explain and compare take the file as it is', async () => {
    const f = join(dir, 'box.yaml');
    const quiet = [vi.spyOn(console, 'log').mockImplementation(() => {}), vi.spyOn(console, 'error').mockImplementation(() => {}), vi.spyOn(process.stdout, 'write').mockImplementation(() => true)];
    let codes: number[];
    try {
      codes = [await mainAsync(['capture', '-o', f])];
      expect(existsSync(f)).toBe(true);
      codes.push(await mainAsync(['validate', f]), await mainAsync(['run', f]), await mainAsync(['explain', f, '--at', '1s']));
      codes.push(await mainAsync(['compare', f, '--policies', 'kernel,earlyoom']));
    } finally {
      for (const q of quiet) q.mockRestore();
    }
    expect(codes).toEqual([0, 0, 0, 0, 0]);
    const sc = parseScenarioOrThrow(readFileSync(f, 'utf8'));
    const r = runScenario(normalizeScenario(sc, { file: f }));
    // Every captured task became a simulated process with its pid and ran for the whole duration. (Not asserted:
    // that nothing is OOM-killed; a memcg another test is driving to its limit may be captured mid-OOM.)
    expect(r.processes.map((p) => p.pid).sort((a, b) => a - b)).toEqual(sc.capture!.tasks.map((t) => t.pid));
    expect(r.endNs).toBe(10_000_000_000n);
  }, 120_000);
});
