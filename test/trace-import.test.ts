/**
 * Trace reading and the importers on fixtures in their real formats (test/fixtures/trace: vmstat output recorded on
 * this project's machine with procps-ng vmstat 4.0.2; psi2log output written by the project in the layout of
 * nohang's src/psi2log), malformed files with located errors, and the replay's kernel-kill counting.
 */
import { describe, expect, it } from 'vitest';
import { importPsi2log, importTrace, importVmstat } from '../bindings/src/trace/import.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { openTrace } from '../bindings/src/trace/reader.js';
import { counterKills, missingFields, replayTrace } from '../bindings/src/trace/replay.js';
import type { TraceSample } from '../bindings/src/trace/format.js';
import { mainAsync } from '../bindings/src/cli/main.js';
import { failure, samples, tempDir } from './trace-helpers.js';

const F = 'test/fixtures/trace';
const d = tempDir('oomsim-trace-import-');

describe('--from vmstat', () => {
  it('reads `vmstat -n 1` text: MemFree, Buffers, Cached in kB, one sample per line at the interval', async () => {
    const s = await samples(importVmstat(`${F}/vmstat-n-1.txt`));
    expect(s).toHaveLength(4);
    expect(s.map((x) => x.t_ms)).toEqual([0, 1000, 2000, 3000]);
    expect(s[0].meminfo).toEqual({ MemFree: 21453228, Buffers: 12756, Cached: 2861664 });
  });
  it('reads `vmstat -n -a -t 1`: Inactive/Active and the time from the timestamp column', async () => {
    const warn: string[] = [];
    const s = await samples(importVmstat(`${F}/vmstat-a-t.txt`, { warn: (m) => warn.push(m) }));
    expect(s.map((x) => x.t_ms)).toEqual([0, 1000, 2000]);
    expect(s[1].meminfo).toEqual({ MemFree: 21495776, Inactive: 1283488, Active: 1181088 });
    expect(warn).toEqual([]);
  });
  it('a short line is an error at its line, with the count expected', async () => {
    const m = await failure(samples(importVmstat(`${F}/bad-vmstat.txt`)));
    expect(m).toMatch(/bad-vmstat\.txt:4: 16 fields; the header has 17 columns, so expected 17/);
  });
  it('replay names each daemon and the field a vmstat recording lacks', async () => {
    const t = importVmstat(`${F}/vmstat-n-1.txt`);
    const r = await replayTrace('v.txt', t.header, t.records, [{ name: 'earlyoom' }, { name: 'lmkd' }]);
    expect(r.rows[0].cannotReplay).toMatch(/^earlyoom needs \/proc\/meminfo MemTotal, \/proc\/meminfo MemAvailable, .*the process table/);
    expect(r.rows[1].cannotReplay).toMatch(/^lmkd needs \/proc\/pressure\/memory/);
    expect(r.rows.every((x) => x.polls === 0)).toBe(true);
  });
});

describe('--from psi2log', () => {
  it('mode 1: memory some/full avg10/avg60/avg300 per line, at the header\'s interval', async () => {
    const t = importPsi2log(`${F}/psi2log-mode1.txt`);
    const s = await samples(t);
    expect(t.header.interval_ms).toBe(1000);
    expect(t.header.lacks).toEqual(['pressure.some.total', 'pressure.full.total']); // mode 1 prints no totals
    expect(s).toHaveLength(4);
    expect(s[3].t_ms).toBe(3000);
    expect(s[3].pressure).toEqual({ some: { avg10: 81.5, avg60: 27, avg300: 6.4, total: 0 }, full: { avg10: 77.9, avg60: 24.8, avg300: 5.8, total: 0 } });
  });
  it('mode 2 with -l: times from the log prefix, stall percent accumulated into totals (µs)', async () => {
    const t = importPsi2log(`${F}/psi2log-mode2-log.txt`);
    const s = await samples(t);
    expect(t.header.lacks).toEqual(['pressure.some.avg60', 'pressure.some.avg300', 'pressure.full.avg60', 'pressure.full.avg300']);
    expect(s.map((x) => x.t_ms)).toEqual([0, 2002, 4005, 6007]);
    // 10 % of 2.002 s, then 60 % of 2.003 s, then 5 % of 2.002 s.
    expect(s.map((x) => x.pressure!.some!.total)).toEqual([0, 200200, 200200 + 1201800, 200200 + 1201800 + 100100]);
    expect(s[2].pressure!.full!.total).toBe(100100 + 1001500);
  });
  it('a damaged data line is an error at its line', async () => {
    const m = await failure(samples(importPsi2log(`${F}/bad-psi2log.txt`)));
    expect(m).toMatch(/bad-psi2log\.txt:12: not a psi2log data line/);
  });
  it('an unknown importer lists the built-in ones', () => {
    expect(() => importTrace('sar', 'x')).toThrow(/unknown importer; built in: vmstat, psi2log/);
  });
});

describe('oomsim-trace reader', () => {
  it('a wrong value is an error at its line with the field path', async () => {
    const t = await openTrace(`${F}/bad-trace.jsonl`);
    const m = await failure(samples(t));
    expect(m).toMatch(/bad-trace\.jsonl:3: meminfo\.MemTotal: .*number/i);
  });
  it('another tool\'s file is refused with a hint to --from, and a newer version by number', async () => {
    expect(await failure(openTrace(`${F}/vmstat-n-1.txt`))).toMatch(/vmstat-n-1\.txt:1: not a JSON line/);
    writeFileSync(`${d}/a.jsonl`, '{"format":"oomsim-trace","version":2,"source":"record"}\n');
    expect(await failure(openTrace(`${d}/a.jsonl`))).toMatch(/a\.jsonl:1: oomsim-trace version 2; this oomsim reads version 1/);
    writeFileSync(`${d}/b.jsonl`, '{"hello":1}\n');
    expect(await failure(openTrace(`${d}/b.jsonl`))).toMatch(/b\.jsonl:1: not an oomsim-trace file.*--from vmstat\|psi2log/);
  });
});

describe('kernel kills from counters', () => {
  const s = (t: number, oom: number, a: number, b: number): TraceSample => ({
    type: 'sample', t_ms: t, vmstat: { oom_kill: oom },
    memcg: { '/': {}, '/a': { 'memory.oom_control': `oom_kill_disable 0\nunder_oom 0\noom_kill ${a}` }, '/a/b': { 'memory.oom_control': `oom_kill_disable 0\nunder_oom 0\noom_kill ${b}` } },
  });
  it('a memcg kill is counted once, in the innermost memcg that counted it; the rest of vmstat oom_kill is global', () => {
    expect(counterKills(s(0, 5, 1, 1), s(1000, 5, 1, 1))).toEqual([]);
    expect(counterKills(s(0, 5, 1, 1), s(1000, 6, 2, 2))).toEqual([{ tMs: 1000, pid: null, comm: null, scope: 'memcg', source: 'memcg', count: 1, memcg: '/a/b' }]);
    expect(counterKills(s(0, 5, 1, 1), s(1000, 8, 1, 2))).toEqual([
      { tMs: 1000, pid: null, comm: null, scope: 'memcg', source: 'memcg', count: 1, memcg: '/a/b' },
      { tMs: 1000, pid: null, comm: null, scope: 'unknown', source: 'vmstat', count: 2 },
    ]);
  });
  it('missingFields is empty for a full sample', () => {
    const psi = { avg10: 0, avg60: 0, avg300: 0, total: 0 };
    const full: TraceSample = { type: 'sample', t_ms: 0, meminfo: { MemTotal: 1, MemFree: 1, 'Inactive(file)': 0, MemAvailable: 1, SwapTotal: 0, SwapFree: 0 }, pressure: { some: psi, full: psi }, tasks: [] };
    for (const p of ['earlyoom', 'nohang', 'lmkd', 'oomd', 'systemd-oomd', 'kubelet']) expect(missingFields(p, { format: 'oomsim-trace', version: 1, source: 'record' }, full)).toEqual([]);
  });
  it('missingFields names a PSI line or value the header says the tool did not record', () => {
    const s: TraceSample = { type: 'sample', t_ms: 0, meminfo: { MemTotal: 1, MemAvailable: 1 }, pressure: { full: { avg10: 0, avg60: 0, avg300: 0, total: 0 } }, tasks: [] };
    const h = { format: 'oomsim-trace' as const, version: 1, source: 'psi2log' as const, lacks: ['pressure.full.total'] };
    expect(missingFields('lmkd', h, s)).toEqual(['/proc/pressure/memory some total', '/proc/pressure/memory full total']);
    expect(missingFields('oomd', h, s)).toEqual([]);
    expect(missingFields('oomd', { ...h, lacks: ['pressure.full.avg60'] }, s)).toEqual(['/proc/pressure/memory full avg60']);
  });
});

describe('oomsim replay (CLI) on a small trace', () => {
  it('--sweep earlyoom.m: at -m 10 the first poll on the 8 % sample SIGTERMs the highest oom_score; at -m 2 never; JSON and HTML written', async () => {
    const cols = ['pid', 'ppid', 'comm', 'uid', 'state', 'oom_score', 'oom_score_adj', 'rss_pages', 'rss_kb', 'swap_kb', 'memcg'];
    const tasks = [[100, 1, 'db', 0, 'S', 300, 0, 75000, 300000, 0, '/'], [200, 1, 'leaky', 0, 'S', 600, 0, 150000, 600000, 0, '/']];
    const s = (t: number, avail: number) => ({ type: 'sample', t_ms: t, meminfo: { MemTotal: 1000000, MemFree: avail, MemAvailable: avail, AnonPages: 1000000 - avail, SwapTotal: 0, SwapFree: 0 }, vmstat: { oom_kill: 0 }, pressure: null, tasks });
    const lines = [{ format: 'oomsim-trace', version: 1, source: 'record', interval_ms: 1000, task_columns: cols }, s(0, 500000), s(1000, 80000), s(2000, 30000), { type: 'end', t_ms: 2000, samples: 3, reason: 'duration' }];
    writeFileSync(`${d}/t.jsonl`, lines.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const log = console.log;
    const out: string[] = [];
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    let code: number;
    try {
      code = await mainAsync(['replay', `${d}/t.jsonl`, '--policies', 'earlyoom', '--sweep', 'earlyoom.m=2,10', '--json', `${d}/r.json`, '--html', `${d}/r.html`]);
    } finally {
      console.log = log;
    }
    expect(code).toBe(0);
    const j = JSON.parse(readFileSync(`${d}/r.json`, 'utf8'));
    expect(j.policies.map((p: { label: string; verdict: string }) => [p.label, p.verdict])).toEqual([['earlyoom m=2', 'never acts'], ['earlyoom m=10', 'would kill']]);
    const first = j.policies[1].first_kill;
    expect(first.tMs).toBe(1000);
    expect(first.victims.map((v: { pid: number }) => v.pid)).toEqual([200]);
    expect(first.action).toMatchObject({ type: 'kill', pid: 200, signal: 'SIGTERM' });
    expect(out.join('\n')).toMatch(/earlyoom m=10\s+would kill\s+1\.0s\s+SIGTERM leaky\(200\) 586 MiB/);
    expect(readFileSync(`${d}/r.html`, 'utf8')).toContain('window.OOMSIM_REPLAY');
  });
});
