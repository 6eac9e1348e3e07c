/**
 * `oomsim replay --simulate`: the rss_curve workload follows its points; a recording becomes a scenario (machine from
 * meminfo, memcgs declared, one process per pid, the unaccounted rest) and runs through the engine, deterministically,
 * with machine what-ifs from --set.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadNodeSync } from '../bindings/src/loader-node.js';
import { parseScenarioOrThrow } from '../bindings/src/scenario/load.js';
import { normalizeScenario } from '../bindings/src/scenario/normalize.js';
import { runScenario } from '../bindings/src/run.js';
import { openTrace } from '../bindings/src/trace/reader.js';
import { applyWhatIfs, buildScenario, simulate, traceScenario } from '../bindings/src/trace/simulate.js';
import { mainAsync } from '../bindings/src/cli/main.js';
import { tempDir } from './trace-helpers.js';

loadNodeSync();
const d = tempDir('oomsim-trace-simulate-');
const MiB = 1024;

/** A 1 GiB machine without swap: db holds 200 MiB in /db, leaky grows 150 -> 900 MiB in /app and the kernel kills it. */
function writeTrace(path: string): void {
  const cols = ['pid', 'ppid', 'comm', 'uid', 'state', 'oom_score', 'oom_score_adj', 'rss_pages', 'rss_kb', 'swap_kb', 'memcg'];
  const lines: unknown[] = [{ format: 'oomsim-trace', version: 1, source: 'record', interval_ms: 1000, page_size: 4096, task_columns: cols, memcg: { version: 'v2', mount: '/sys/fs/cgroup' }, sysctl: { 'vm.overcommit_memory': 0, 'vm.not_a_sysctl': 3 } }];
  for (let i = 0; i <= 4; i++) {
    const leak = (150 + 250 * i) * MiB;
    const tasks = [[100, 1, 'db', 0, 'S', 200, 0, 0, 200 * MiB, 0, '/db'], ...(i < 4 ? [[200, 1, 'leaky', 0, 'R', 600, 0, 0, leak, 0, '/app']] : []), ...(i < 2 ? [[300, 1, 'cron', 0, 'S', 1, 0, 0, 10 * MiB, 0, '/']] : [])];
    const avail = Math.max(0, 1024 * MiB - 250 * MiB - (i < 4 ? leak : 0));
    lines.push({ type: 'sample', t_ms: i * 1000, meminfo: { MemTotal: 1024 * MiB, MemAvailable: avail, MemFree: avail, SwapTotal: 0, SwapFree: 0 }, vmstat: { oom_kill: i < 4 ? 0 : 1 }, tasks, memcg: { '/app': { 'memory.max': 'max', 'memory.high': 'max' } } });
    if (i === 3) lines.push({ type: 'kmsg', t_ms: 3500, text: 'Out of memory: Killed process 200 (leaky) total-vm:1000kB, anon-rss:900000kB' });
  }
  lines.push({ type: 'end', t_ms: 4000, samples: 5, reason: 'duration' });
  writeFileSync(path, lines.map((x) => JSON.stringify(x)).join('\n') + '\n');
}

describe('rss_curve workload', () => {
  it('follows its points: linear between them, held after the last, given back when it falls', () => {
    const sc = normalizeScenario(parseScenarioOrThrow(`
machine: { ram: 1G }
duration: 5s
processes:
  - comm: curve
    workload: { kind: rss_curve, points: [{ at: 0, rss: 100M }, { at: 2s, rss: 300M }, { at: 3s, rss: 50M }] }
`));
    const r = runScenario(sc);
    const col = Object.values(r.series.rssKb)[0];
    const at = (s: number) => col[r.series.tNs.findIndex((t) => t >= BigInt(s * 1e9))]!;
    expect(at(0.1) / 1024).toBeCloseTo(110, 0);
    expect(at(1) / 1024).toBeCloseTo(200, 0);
    expect(at(2.5) / 1024).toBeCloseTo(175, 0);
    expect(at(4) / 1024).toBeCloseTo(50, 0);
  });
});

describe('oomsim replay --simulate', () => {
  const file = `${d}/t.jsonl`;
  writeTrace(file);
  const build = async (sets: string[] = []) => {
    const t = await openTrace(file);
    const input = await traceScenario(file, t.header, t.records);
    const rest = applyWhatIfs(input.scenario, sets);
    return { input, rest, sc: buildScenario(file, input.scenario) };
  };

  it('makes the scenario: RAM from MemTotal, known sysctls, memcgs declared, exits for vanished processes, the rest unkillable', async () => {
    const { input } = await build();
    const s = input.scenario;
    expect(s.machine).toEqual({ ram: 1024 * 1024 * 1024, swap: [], sysctl: { 'vm.overcommit_memory': 0 } });
    expect(Object.keys(s.cgroups.groups).sort()).toEqual(['/app', '/db']);
    expect(s.cgroups.groups['/app']).toEqual({ 'memory.max': 'max', 'memory.high': 'max' });
    expect(s.processes.map((p) => [p.comm, p.pid, p.workload.points.length])).toEqual([['db', 100, 1], ['leaky', 200, 4], ['cron', 300, 1], ['(unaccounted)', undefined, 4]]);
    // MemTotal - MemAvailable - the RSS sum, per sample (a point only where it changes; never below 0).
    expect(s.processes[3].oom_score_adj).toBe(-1000);
    expect(s.processes[3].workload.points).toEqual([40, 50, 0, 50].map((m, i) => ({ at: `${[0, 2000, 3000, 4000][i]}ms`, rss: m * MiB * 1024 })));
    // cron vanished after 1 s: it exits; leaky was killed by the recorded kernel: the engine decides its fate.
    expect(s.actions).toEqual([{ action: 'exit', at: '2000ms', target: 300 }]);
    expect(input.recordedKills).toEqual(new Map([[200, 3500]]));
  });

  it('the simulated kernel OOM-kills leaky as the recorded one did; with 2G of swap it does not; runs are deterministic', async () => {
    const { input, sc } = await build();
    const a = simulate(sc, input, [{ name: 'earlyoom' }]);
    const kernel = a.compare.rows[0];
    expect(kernel.label).toBe('kernel');
    expect(kernel.kills.map((k) => [k.pid, k.by])).toEqual([[200, 'kernel OOM']]);
    expect(Number(kernel.kills[0].tNs)).toBeGreaterThan(2e9);
    expect(Number(kernel.kills[0].tNs)).toBeLessThanOrEqual(3.5e9);
    const b = simulate(sc, input, [{ name: 'earlyoom' }]);
    const j = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(j(b.compare.rows)).toBe(j(a.compare.rows));
    const w = await build(['machine.swap=2G', 'earlyoom.m=5']);
    expect(w.rest).toEqual(['earlyoom.m=5']);
    const c = simulate(w.sc, w.input, [{ name: 'earlyoom', params: { m: 5 } }]);
    expect(c.compare.rows[0].kernelOomKills).toBe(0);
  });

  it('CLI: prints the recording beside each simulated run; a bad what-if is an error naming the field', async () => {
    const log = console.log, err = console.error;
    const out: string[] = [], errs: string[] = [];
    console.log = (...x: unknown[]) => void out.push(x.join(' '));
    console.error = (...x: unknown[]) => void errs.push(x.join(' '));
    let code: number, bad: number;
    try {
      code = await mainAsync(['replay', file, '--simulate', '--policies', 'earlyoom', '--json', `${d}/s.json`]);
      bad = await mainAsync(['replay', file, '--simulate', '--set', 'cgroup:/app/memory.high=lots']);
    } finally {
      console.log = log;
      console.error = err;
    }
    expect(code).toBe(0);
    expect(out[0]).toBe('recording: 5 samples; the kernel killed leaky(200) at 3.5s');
    expect(out[1]).toMatch(/^simulated, kernel: killed leaky\(200\) at \d\.\ds by kernel OOM; kernel OOM kills 1$/);
    expect(JSON.parse(readFileSync(`${d}/s.json`, 'utf8')).rows).toHaveLength(2);
    expect(bad).toBe(1);
    expect(errs.join('\n')).toMatch(/not valid at cgroups\.groups\["\/app"\]\["memory\.high"\]: expected a size/);
  });
});
