/**
 * Sweeps on the local backend (bindings/src/sweep/): the job model, the SQLite results file, determinism across
 * thread counts, resuming, a poisoned job, the report and the CLI's bad input.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadNodeSync } from '../bindings/src/loader-node.js';
import { mainAsync } from '../bindings/src/cli/main.js';
import { planFromCli, type SweepCliOptions } from '../bindings/src/cli/sweep.js';
import { jobId, parseSeeds } from '../bindings/src/sweep/jobs.js';
import { runLocal } from '../bindings/src/sweep/local.js';
import { ResultStore, RESULT_COLUMNS } from '../bindings/src/sweep/store.js';
import { summarize } from '../bindings/src/sweep/report.js';

loadNodeSync();
const dir = mkdtempSync(join(tmpdir(), 'oomsim-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SCEN = 'test/fixtures/sweep-small.yaml';
const base: SweepCliOptions = { policies: 'kernel,earlyoom', sweep: ['earlyoom.m=4..8:4'], seeds: '1..3', backend: 'local', out: '', tick: '100ms', culprit: ['leaker'] };

async function capture(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const l = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const e = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: await f(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    l.mockRestore();
    e.mockRestore();
  }
}

describe('sweep job model', () => {
  it('expands scenarios x points x policies x parameter points x seeds, ids from the job digest', () => {
    const plan = planFromCli([SCEN], { ...base, sweep: ['earlyoom.m=4..8:4', 'vm.overcommit_memory=0,1'] });
    // 2 overcommit points x (kernel 1 + earlyoom 2) x 3 seeds
    expect(plan.jobs).toHaveLength(2 * 3 * 3);
    expect(new Set(plan.jobs.map((j) => j.id)).size).toBe(plan.jobs.length);
    const again = planFromCli([SCEN], { ...base, sweep: ['earlyoom.m=4..8:4', 'vm.overcommit_memory=0,1'] });
    expect(again.jobs.map((j) => j.id)).toEqual(plan.jobs.map((j) => j.id));
    const j = plan.jobs[0].job;
    expect(jobId({ ...j, seed: j.seed + 1 })).not.toBe(plan.jobs[0].id);
    expect(plan.jobs.filter((x) => x.job.policy === 'kernel').every((x) => Object.keys(x.job.params).length === 0)).toBe(true);
  });
  it('parses seeds and rejects bad lists', () => {
    expect(parseSeeds('1..5:2')).toEqual([1, 3, 5]);
    expect(parseSeeds('7,3')).toEqual([7, 3]);
    for (const bad of ['5..1', '1..3:0', 'a', '1,1', '-1', '4294967296']) expect(() => parseSeeds(bad)).toThrow(/--seeds/);
  });
  it('rejects a swept policy that is not in --policies and an unknown sysctl before running', () => {
    expect(() => planFromCli([SCEN], { ...base, sweep: ['nohang.x=1,2'] })).toThrow(/nohang is not in --policies/);
    expect(() => planFromCli([SCEN], { ...base, sweep: ['vm.no_such=1'] })).toThrow(/unknown sysctl/);
  });
});

describe('local backend', () => {
  const plan = planFromCli([SCEN], base); // (kernel + earlyoom x2) x 3 seeds = 9 jobs
  it('gives byte-identical rows with 1 and 2 threads, and a re-run resumes', async () => {
    expect(plan.jobs).toHaveLength(9);
    const f1 = join(dir, 'one.sqlite'), f2 = join(dir, 'two.sqlite');
    const s1 = await ResultStore.open(f1);
    const r1 = await runLocal(plan, s1, { threads: 1 });
    s1.close();
    const s2 = await ResultStore.open(f2);
    const r2 = await runLocal(plan, s2, { threads: 2 });
    s2.close();
    expect([r1.done, r1.failed, r2.done, r2.failed]).toEqual([9, 0, 9, 0]);
    const a = await ResultStore.open(f1), b = await ResultStore.open(f2);
    const rowsA = a.rows(), rowsB = b.rows();
    expect(rowsA).toHaveLength(9);
    expect(JSON.stringify(rowsB)).toBe(JSON.stringify(rowsA));
    expect(Object.keys(rowsA[0])).toEqual([...RESULT_COLUMNS]);
    // Seeds and thresholds reach the results (the job's own label is part of the row).
    expect(new Set(rowsA.map((r) => r.result)).size).toBe(9);
    // Resume: nothing left to do on the same file.
    const again = await runLocal(plan, a, { threads: 2 });
    expect([again.total, again.skipped]).toEqual([0, 9]);
    a.close();
    b.close();
  });
  it('a poisoned job (an engine trap) fails once with its error; the others complete', async () => {
    const f = join(dir, 'trap.sqlite');
    process.env.OOMSIM_SWEEP_TRAP_SEED = '2';
    let r;
    const s = await ResultStore.open(f);
    try {
      r = await runLocal(plan, s, { threads: 2, backoffMs: 10 });
    } finally {
      delete process.env.OOMSIM_SWEEP_TRAP_SEED;
      s.close();
    }
    expect([r.done, r.failed]).toEqual([6, 3]);
    const rows = (await ResultStore.open(f)).rows({ withMeta: true });
    const failed = rows.filter((x) => x.status === 'failed');
    expect(failed.map((x) => x.seed)).toEqual([2, 2, 2]);
    for (const x of failed) {
      expect(String(x.error)).toMatch(/trap|unreachable/i);
      expect(x.attempts).toBe(1);
    }
  });
});

describe('oomsim sweep CLI', () => {
  it('writes the results file and the report; bad input is a clear error', async () => {
    const out = join(dir, 'cli.sqlite'), html = join(dir, 'cli.html');
    const r = await capture(() => mainAsync(['sweep', SCEN, '--policies', 'kernel', '--seeds', '1..2', '--out', out, '--workers', '1', '--no-progress']));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sweep: 2 jobs: 2 done, 0 failed/);
    const rep = await capture(() => mainAsync(['sweep', '--report', out, '--html', html]));
    expect(rep.code).toBe(0);
    expect(rep.out).toMatch(/sweep-small\s+kernel\s+2\s+0/);
    expect(readFileSync(html, 'utf8')).toContain('Pareto');
    const bad = await capture(() => mainAsync(['sweep', SCEN, '--seeds', '3..1', '--out', join(dir, 'x.sqlite')]));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^--seeds 3\.\.1: expected a\.\.b with a <= b/);
    expect(existsSync(join(dir, 'x.sqlite'))).toBe(false);
    const notDb = await capture(() => mainAsync(['sweep', '--report', SCEN]));
    expect(notDb.code).toBe(2);
    expect(notDb.err).toMatch(/not an oomsim sweep results file|file is not a database/);
  });
  it('an unreachable Redis is a clear error (one connection attempt), not a hang', async () => {
    const r = await capture(() => mainAsync(['sweep', SCEN, '--policies', 'kernel', '--backend', 'redis://127.0.0.1:1', '--out', join(dir, 'r.sqlite'), '--no-progress']));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/redis:\/\/127\.0\.0\.1:1: cannot reach Redis \(ECONNREFUSED\)/);
    const w = await capture(() => mainAsync(['worker', '--backend', 'redis://127.0.0.1:1']));
    expect(w.code).toBe(1);
    expect(w.err).toMatch(/cannot reach Redis/);
    const u = await capture(() => mainAsync(['worker', '--backend', 'http://x']));
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/scheme http is not supported/);
  });
});

describe('sweep report', () => {
  it('marks the Pareto front of mean stall vs mean collateral per scenario', () => {
    const row = (policy: string, collateral: number, stallS: number) => ({ scenario: 's', policy, params: '{}', point: '{}', status: 'done', kills: 1, collateral_kills: collateral, stalled_ns: stallS * 1e9, under_pressure_ns: 0, work_lost_mibs: 0, protected_ok: 1 });
    const cs = summarize([row('a', 0, 5), row('b', 1, 1), row('c', 1, 2), row('d', 2, 0), row('e', 2, 3)]);
    expect(cs.filter((c) => c.pareto).map((c) => c.policy)).toEqual(['a', 'b', 'd']);
  });
});
