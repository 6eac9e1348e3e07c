// `oomsim run` stopped by SIGINT/SIGTERM (bindings/src/cli/run.ts): the built CLI is spawned on a scenario that runs
// for far longer than the test (test/fixtures/long-run.yaml, a simulated week), the test waits for its progress line
// on stderr (the run has started its tick loop), signals it, and checks the exit code (128 + the signal number), the
// partial text summary, and the partial JSON report: marked interrupted, ending at the last tick run, and equal to an
// uninterrupted run to that time (slicing and stopping change nothing). No timing: the signal goes after an output
// line, whenever that comes; the timeouts are only there so that a hung child fails the test instead of stalling it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { runScenarioFile } from '../bindings/src/suite.js';
import { toJsonObject } from '../bindings/src/report/json.js';

const BIN = new URL('../bindings/bin/oomsim.js', import.meta.url).pathname;
const LONG = 'test/fixtures/long-run.yaml';

interface Child {
  p: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves once stderr matches `re` (rejects if the child exits first). */
  waitErr: (re: RegExp) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function cli(args: string[]): Child {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; ok: () => void; fail: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of waiters.splice(0)) (w.re.test(err) ? w.ok : () => waiters.push(w))();
  };
  p.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    check();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    p.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.fail(new Error(`exited (${code ?? signal}) before stderr matched ${w.re}; stderr:\n${err}`));
      resolve({ code, signal });
    });
  });
  return {
    p,
    out: () => out,
    err: () => err,
    waitErr: (re) =>
      new Promise<void>((ok, fail) => {
        waiters.push({ re, ok, fail });
        check();
      }),
    exited,
  };
}

/** The started run's progress line on stderr (the bar appears after a second of wall time, a line when not a TTY). */
const PROGRESS = /long-run\.yaml \[.*\] \d+% \| \d+\/604800 s simulated/;

async function interrupted(signal: 'SIGINT' | 'SIGTERM', extraFiles: string[] = []) {
  const d = mkdtempSync(join(tmpdir(), 'oomsim-signal-'));
  const json = join(d, 'r.json');
  const c = cli(['run', LONG, ...extraFiles, '--json', json]);
  try {
    await c.waitErr(PROGRESS);
    expect(c.p.kill(signal)).toBe(true);
    const { code, signal: killedBy } = await c.exited;
    const files = readdirSync(d);
    // with several files the report names get the scenario name (out.json -> out.<name>.json)
    const reportFile = extraFiles.length ? join(d, 'r.long-run.json') : json;
    return { code, killedBy, out: c.out(), err: c.err(), files, report: JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, unknown> };
  } finally {
    if (c.p.exitCode === null && c.p.signalCode === null) c.p.kill('SIGKILL');
    await c.exited;
    rmSync(d, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  await load();
});

describe('oomsim run interrupted by a signal', () => {
  it('SIGINT: exit 130, a partial summary and JSON report equal to a run to that time', async () => {
    const r = await interrupted('SIGINT');
    expect(r.killedBy).toBeNull(); // it exited itself, it was not killed by the signal
    expect(r.code).toBe(130);
    expect(r.files).toEqual(['r.json']); // the report, and no temporary file beside it
    const rep = r.report;
    expect(rep.interrupted).toBe(true);
    const i = rep.interruption as { signal: string; ticks: number; totalTicks: number };
    expect(i.signal).toBe('SIGINT');
    expect(i.totalTicks).toBe(6_048_001); // a week in 100 ms ticks, tick 0 included
    expect(i.ticks).toBeGreaterThan(0);
    expect(i.ticks).toBeLessThan(i.totalTicks);
    const endNs = BigInt(rep.endNs as string);
    expect(endNs).toBe(BigInt(i.ticks - 1) * 100_000_000n); // the last tick run
    const series = rep.series as { tNs: string[] };
    expect(series.tNs.length).toBe(i.ticks);
    const events = rep.events as { tNs: string }[];
    expect(events.length).toBeGreaterThan(0); // the two processes' starts at least
    expect(events.every((e) => BigInt(e.tNs) <= endNs)).toBe(true);
    // the text summary says where it stopped
    expect(r.out).toContain(`interrupted: by SIGINT after ${i.ticks} of 6048001 ticks, ${events.length} events so far`);
    expect(r.out).toMatch(new RegExp(`^run: ${Number(endNs) / 1e9}s of 604800s simulated`, 'm'));
    // stopping changed nothing before the stop: the same report as a run told to end there (--at), bar the marks
    const whole = JSON.parse(JSON.stringify(toJsonObject(runScenarioFile(LONG, { untilNs: endNs })), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
    delete rep.interrupted;
    delete rep.interruption;
    expect(rep).toEqual(whole);
  }, 600_000); // not a speed check: a spawned run and an in-process rerun on a shared 2-core machine

  it('SIGTERM: exit 143; the files not yet run are named and skipped', async () => {
    const r = await interrupted('SIGTERM', ['scenarios/global-oom-adj.yaml']);
    expect(r.killedBy).toBeNull();
    expect(r.code).toBe(143);
    expect((r.report.interruption as { signal: string }).signal).toBe('SIGTERM');
    expect(r.out).toContain('interrupted: by SIGTERM after');
    expect(r.out).not.toContain('== global-oom-adj');
    expect(r.err).toContain('oomsim run: interrupted by SIGTERM; not run: scenarios/global-oom-adj.yaml');
    expect(r.files).toEqual(['r.long-run.json']);
  }, 600_000);
});
