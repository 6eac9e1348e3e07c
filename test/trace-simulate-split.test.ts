/**
 * `replay --simulate` with what the first version ignored: the RssAnon/RssFile/RssShmem split (file RSS becomes
 * mapped page cache a reclaim can drop, instead of anonymous memory that needs swap) and memcg limits that change
 * during the recording (cgroup_write actions at their time, instead of the first sample's limits for the whole run).
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNodeSync } from '../bindings/src/loader-node.js';
import { openTrace } from '../bindings/src/trace/reader.js';
import { applyWhatIfs, buildScenario, simulate, traceScenario } from '../bindings/src/trace/simulate.js';
import { runScenario } from '../bindings/src/run.js';
import { parseScenarioOrThrow } from '../bindings/src/scenario/load.js';
import { normalizeScenario } from '../bindings/src/scenario/normalize.js';
import { tempDir } from './trace-helpers.js';

loadNodeSync();
const d = tempDir('oomsim-simulate-split-');
const MiB = 1024; // kB
const COLS = ['pid', 'ppid', 'comm', 'uid', 'state', 'oom_score', 'oom_score_adj', 'rss_pages', 'rss_kb', 'swap_kb', 'memcg', 'rss_anon_kb', 'rss_file_kb', 'rss_shmem_kb'];

/**
 * A 1 GiB machine without swap: `reader` holds 150 MiB anon + 50 MiB shmem + 400 MiB of a mapped file, `leaky`
 * grows 100 -> 450 MiB of anon; the kernel 50 MiB. Anon + shmem + kernel reach 700 MiB, everything 1100 MiB: the
 * recorded kernel killed nothing (it dropped file pages). `split: false` writes the same VmRSS without the split.
 */
function fileTrace(path: string, split: boolean): void {
  const cols = split ? COLS : COLS.slice(0, 11);
  const lines: unknown[] = [{ format: 'oomsim-trace', version: 1, source: 'record', interval_ms: 1000, page_size: 4096, task_columns: cols, memcg: { version: 'v2', mount: '/sys/fs/cgroup' } }];
  for (let i = 0; i <= 4; i++) {
    const leak = [100, 250, 350, 450, 450][i] * MiB;
    const rows = [
      [100, 1, 'reader', 0, 'S', 300, 0, 0, 600 * MiB, 0, '/', 150 * MiB, 400 * MiB, 50 * MiB],
      [200, 1, 'leaky', 0, 'R', 400, 0, 0, leak, 0, '/', leak, 0, 0],
    ].map((r) => r.slice(0, cols.length));
    const avail = 1024 * MiB - 50 * MiB - 200 * MiB - leak;
    lines.push({ type: 'sample', t_ms: i * 1000, meminfo: { MemTotal: 1024 * MiB, MemAvailable: avail, MemFree: 20 * MiB, SwapTotal: 0, SwapFree: 0 }, vmstat: { oom_kill: 0 }, tasks: rows });
  }
  lines.push({ type: 'end', t_ms: 4000, samples: 5, reason: 'duration' });
  writeFileSync(path, lines.map((x) => JSON.stringify(x)).join('\n') + '\n');
}

/** A 2 GiB machine: leaky in /app grows 100 -> 400 MiB; /app's memory.max is max, then 300 MiB from t = 2 s. */
function limitTrace(path: string): void {
  const lines: unknown[] = [{ format: 'oomsim-trace', version: 1, source: 'record', interval_ms: 1000, page_size: 4096, task_columns: COLS.slice(0, 11), memcg: { version: 'v2', mount: '/sys/fs/cgroup' } }];
  for (let i = 0; i <= 4; i++) {
    const leak = [100, 200, 280, 400, 400][i] * MiB;
    const max = i < 2 ? 'max' : String(300 * 1048576);
    lines.push({ type: 'sample', t_ms: i * 1000, meminfo: { MemTotal: 2048 * MiB, MemAvailable: 2048 * MiB - leak - 100 * MiB, SwapTotal: 0, SwapFree: 0 }, tasks: [[200, 1, 'leaky', 0, 'R', 100, 0, 0, leak, 0, '/app'], [300, 1, 'db', 0, 'S', 50, 0, 0, 100 * MiB, 0, '/db']], memcg: { '/app': { 'memory.max': max, 'memory.high': 'max' }, '/db': { 'memory.max': 'max' } } });
  }
  lines.push({ type: 'end', t_ms: 4000, samples: 5, reason: 'duration' });
  writeFileSync(path, lines.map((x) => JSON.stringify(x)).join('\n') + '\n');
}

async function run(file: string, sets: string[] = []) {
  const t = await openTrace(file);
  const input = await traceScenario(file, t.header, t.records);
  applyWhatIfs(input.scenario, sets);
  const r = simulate(buildScenario(file, input.scenario), input, []);
  // the kernel-only run again, keeping its engine for the counters
  const k = runScenario(buildScenario(file, input.scenario), { keepEngine: true });
  const vmstat = k.engine!.vmstat();
  k.engine!.free();
  return { input, kernel: r.compare.rows[0], vmstat, kernelRun: k };
}

describe('rss_curve file part', () => {
  it('maps and reads a file of the points\' file size (RssFile), beside the anonymous curve (RssAnon)', () => {
    const sc = normalizeScenario(parseScenarioOrThrow(`
machine: { ram: 1G }
duration: 3s
processes:
  - comm: curve
    pid: 50
    workload: { kind: rss_curve, points: [{ at: 0, rss: 40M, file: 100M }, { at: 2s, rss: 40M, file: 20M }] }
`));
    const st = (secs: string) => {
      const r = runScenario({ ...sc, durationNs: BigInt(Number(secs) * 1e9) }, { keepEngine: true });
      const text = r.engine!.procStatus(50);
      r.engine!.free();
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)![1]);
      return [kb('RssAnon'), kb('RssFile')].map((x) => Math.round(x / 1024));
    };
    expect(st('0.5')).toEqual([40, 80]); // linear from 100M at 0 to 20M at 2 s
    expect(st('2.5')).toEqual([40, 20]); // given back as it falls (unmapped; the pages stay in the page cache)
  });
});

describe('replay --simulate: RSS split into anonymous and file-backed', () => {
  it('RssFile becomes a mapped file the process reads; anon + shmem its anonymous curve; the rest counts only what is not reclaimable', async () => {
    fileTrace(`${d}/split.jsonl`, true);
    const { input } = await run(`${d}/split.jsonl`);
    const [reader, leaky, rest] = input.scenario.processes;
    expect(reader.workload.points).toEqual([{ at: '0ms', rss: 200 * MiB * 1024, file: 400 * MiB * 1024 }]);
    expect(leaky.workload.points.map((p) => [p.rss / 1048576, p.file])).toEqual([[100, undefined], [250, undefined], [350, undefined], [450, undefined]]);
    // MemTotal - MemAvailable - (anon + shmem) = the kernel's 50 MiB (file RSS is in MemAvailable: reclaimable)
    expect(rest.comm).toBe('(unaccounted)');
    expect(rest.workload.points).toEqual([{ at: '0ms', rss: 50 * 1048576 }]);
  });

  it('where it matters: without swap, the kernel drops file pages instead of OOM-killing, as the recorded kernel did', async () => {
    fileTrace(`${d}/split.jsonl`, true);
    fileTrace(`${d}/vmrss.jsonl`, false);
    const split = await run(`${d}/split.jsonl`);
    const all = await run(`${d}/vmrss.jsonl`);
    // All RSS anonymous (the first version, and a recording without the split): 1100 MiB of anon on 1 GiB.
    expect(all.kernel.kernelOomKills).toBeGreaterThan(0);
    // Split: 700 MiB that cannot be reclaimed, the mapped file is dropped and read back (major faults), no kill.
    expect(split.kernel.kernelOomKills).toBe(0);
    expect(split.kernel.kills).toEqual([]);
    expect(split.vmstat.pgmajfault).toBeGreaterThan(0n);
    expect(all.vmstat.pgmajfault).toBe(0n);
    expect(split.kernelRun.oomKills).toEqual([]); // the same scenario run alone agrees
    expect(all.kernelRun.oomKills.length).toBe(all.kernel.kernelOomKills);
  });
});

describe('replay --simulate: memcg limits that change during the recording', () => {
  it('each change is a cgroup_write at the time of the sample that shows it, and the memcg OOM follows it', async () => {
    limitTrace(`${d}/limit.jsonl`);
    const { input, kernel } = await run(`${d}/limit.jsonl`);
    expect(input.scenario.cgroups.groups['/app']).toEqual({ 'memory.max': 'max', 'memory.high': 'max' });
    expect(input.scenario.actions).toEqual([{ action: 'cgroup_write', at: '2000ms', cgroup: '/app', set: { 'memory.max': String(300 * 1048576) } }]);
    // leaky passes 300 MiB between 2 s and 3 s: killed in /app by the memcg OOM, after the write.
    expect(kernel.kills.map((k) => [k.pid, k.by])).toEqual([[200, 'kernel OOM']]);
    expect(Number(kernel.kills[0].tNs)).toBeGreaterThan(2e9);
    expect(Number(kernel.kills[0].tNs)).toBeLessThanOrEqual(3.1e9);
    // The first sample's limit alone (the first version) kills nothing on this 2 GiB machine.
    input.scenario.actions = [];
    expect(simulate(buildScenario('x', input.scenario), input, []).compare.rows[0].kernelOomKills).toBe(0);
  });

  it('a what-if on that file holds for the whole run: the recorded writes of it are dropped', async () => {
    limitTrace(`${d}/limit.jsonl`);
    const { input, kernel } = await run(`${d}/limit.jsonl`, ['cgroup:/app/memory.max=1G']);
    expect(input.scenario.actions).toEqual([]);
    expect(kernel.kernelOomKills).toBe(0);
    // a what-if on another file keeps the recorded write
    const other = await run(`${d}/limit.jsonl`, ['cgroup:/app/memory.high=1G']);
    expect(other.input.scenario.actions).toHaveLength(1);
    expect(other.kernel.kernelOomKills).toBe(1);
  });
});
