/**
 * `--from below` on fixtures the project wrote in the layout of `below dump` (below/dump/src/print.rs and tmain.rs:
 * CSV with a trailing separator and an empty line after each process/cgroup sample; JSON as `[` + one sample per
 * line + `]`; titles from below/render/src/default_configs.rs), malformed files with located errors, unknown columns
 * with a warning, and what the replay says each daemon lacks.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { mainAsync } from '../bindings/src/cli/main.js';
import { belowValue, importBelow } from '../bindings/src/trace/import-below.js';
import { importTrace } from '../bindings/src/trace/import.js';
import { replayTrace } from '../bindings/src/trace/replay.js';
import { failure, samples, tempDir } from './trace-helpers.js';

const F = 'test/fixtures/trace';
const d = tempDir('oomsim-trace-below-');
const ALL = [`${F}/below-system.csv`, `${F}/below-process.json`, `${F}/below-cgroup.csv`];

describe('below values', () => {
  it('reads raw numbers, rounded sizes (base 1024), percents, rates, ? and max', () => {
    expect(belowValue('8589934592')).toEqual({ n: 8589934592 });
    expect(belowValue('4.5 GB')).toEqual({ n: Math.round(4.5 * 1024 ** 3), rounded: true });
    expect(belowValue('12.0 MB')).toEqual({ n: 12 * 1024 ** 2, rounded: true });
    expect(belowValue('512.0 B')).toEqual({ n: 512, rounded: false });
    expect(belowValue('1.2 MB/s')?.n).toBe(Math.round(1.2 * 1024 ** 2));
    expect(belowValue('98.50%')).toEqual({ n: 98.5 });
    expect(belowValue('?')).toEqual({ n: null });
    expect(belowValue('max')).toEqual({ n: null, max: true });
    expect(belowValue('0d 1h 2m')).toBeNull();
    expect(belowValue('12 GiB')).toBeNull();
  });
});

describe('--from below', () => {
  it('merges a system CSV, a process JSON and a cgroup CSV by Timestamp into samples', async () => {
    const warn: string[] = [];
    const t = importBelow(ALL, { warn: (m) => warn.push(m) });
    const s = await samples(t);
    expect(s.map((x) => x.t_ms)).toEqual([0, 5000, 10000]);
    expect(t.header).toMatchObject({ source: 'below', host: 'web1', kernel: '6.18.0', interval_ms: 5000, memcg: { version: 'v2' } });
    expect(t.header.task_columns).toEqual(['pid', 'ppid', 'comm', 'state', 'rss_kb', 'memcg']);
    // meminfo in kB from below's bytes; OOM Kills is vmstat oom_kill.
    expect(s[1].meminfo).toEqual({ MemTotal: 8388608, MemFree: 512000, MemAvailable: 921600, Buffers: 102400, Cached: 512000, Inactive: 768000, SwapTotal: 2097152, SwapFree: 1572864 });
    expect(s.map((x) => x.vmstat?.oom_kill)).toEqual([3, 3, 4]);
    // Processes: below's rounded RSS (5.8 GB) in kB, the state letter, the v2 cgroup path.
    expect(s[1].tasks).toEqual([[1, 0, 'systemd', 'S', 12288, '/init.scope'], [4242, 1, 'leaky', 'R', Math.round((5.8 * 1024 ** 3) / 1024), '/system.slice/leaky.service']]);
    expect(s[2].tasks![1][3]).toBe('D');
    // cgroups: the root's pressure is the system's; memory.high -1 (raw "max"); pgscan integrated from its rate.
    expect(s[2].pressure).toEqual({ some: { avg10: 78.9, avg60: 0, avg300: 0, total: 0 }, full: { avg10: 71.3, avg60: 0, avg300: 0, total: 0 } });
    expect(s[0].memcg!['/system.slice']['memory.high']).toBe('max');
    expect(s[0].memcg!['/system.slice/leaky.service']).toMatchObject({ 'memory.current': '4831838208', 'memory.high': '6442450944', 'memory.swap.current': '0' });
    expect(s.map((x) => x.memcg!['/system.slice/leaky.service']['memory.stat'])).toEqual(['pgscan 0', 'pgscan 10000', `pgscan ${10000 + Math.round(15000.5 * 5)}`]);
    expect(s[2].memcg!['/system.slice/leaky.service']['memory.pressure']).toBe('some avg10=78.90 avg60=0.00 avg300=0.00 total=0\nfull avg10=71.30 avg60=0.00 avg300=0.00 total=0');
    expect(s[0].memcg!['/']).toEqual({ 'memory.pressure': 'some avg10=0.50 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.25 avg60=0.00 avg300=0.00 total=0' });
    expect(t.header.lacks).toEqual(expect.arrayContaining(['pressure.full.avg60', 'pressure.full.total', 'pressure.some.total']));
    expect(t.header.lacks).not.toContain('memcg.pgscan');
    // The JSON dump is below's rounded form: said once.
    expect(warn).toEqual([expect.stringMatching(/below-process\.json:1: sizes are below's rounded form \(12\.0 MB\).*--raw/)]);
  });

  it('a CSV command line with unquoted commas stays one Cmdline; an unknown column is a warning', async () => {
    const warn: string[] = [];
    const s = await samples(importTrace('below', [`${F}/below-process-cmdline.csv`], { warn: (m) => warn.push(m) }));
    expect(s).toHaveLength(1);
    expect(s[0].tasks).toEqual([[77, 1, 'java', 'S', 1048576, 4, '/app.slice/java.service']]);
    expect(warn).toEqual([expect.stringMatching(/below-process-cmdline\.csv:1: below process columns Mystery Column are not ones this importer knows; ignored/)]);
  });

  it('a short row is an error at its line, with the count expected', async () => {
    const m = await failure(samples(importBelow([`${F}/bad-below.csv`])));
    expect(m).toMatch(/bad-below\.csv:3: 7 fields; the title line has 8 columns/);
  });

  it('other damage is located too: a bad value, a broken JSON line, no time column, two dumps of one kind', async () => {
    writeFileSync(`${d}/v.csv`, 'Total,Free,Timestamp,\n8589934592,lots,1796637600,\n');
    expect(await failure(samples(importBelow([`${d}/v.csv`])))).toMatch(/v\.csv:2: column Free: "lots" is not a below value/);
    writeFileSync(`${d}/j.json`, '[{"Total":"1","Timestamp":"1796637600"}\n,{"Total":"1","Timestamp":\n]');
    expect(await failure(samples(importBelow([`${d}/j.json`])))).toMatch(/j\.json:2: not a below dump JSON sample/);
    writeFileSync(`${d}/n.csv`, 'Total,Free,\n1,2,\n');
    expect(await failure(samples(importBelow([`${d}/n.csv`])))).toMatch(/n\.csv:1: the below system dump has no Timestamp or Datetime column/);
    writeFileSync(`${d}/x.csv`, 'Foo,Bar,Timestamp,\n1,2,3,\n');
    expect(await failure(samples(importBelow([`${d}/x.csv`])))).toMatch(/x\.csv:1: cannot tell which below dump this is/);
    expect(await failure(samples(importBelow([`${F}/below-system.csv`, `${F}/bad-below.csv`])))).toMatch(/bad-below\.csv: a second below system dump/);
    expect(() => importTrace('vmstat', [`${F}/vmstat-n-1.txt`, `${F}/vmstat-a-t.txt`])).toThrow(/--from vmstat reads one file \(2 given\)/);
  });

  it('replay: systemd-oomd replays; each other daemon is named with the field below does not record', async () => {
    const t = importBelow(ALL);
    const names = ['earlyoom', 'nohang', 'lmkd', 'oomd', 'systemd-oomd', 'kubelet'];
    const r = await replayTrace('below', t.header, t.records, names.map((name) => ({ name })));
    const why = Object.fromEntries(r.rows.map((x) => [x.policy, x.cannotReplay]));
    expect(why.earlyoom).toMatch(/^earlyoom needs \/proc\/PID\/oom_score, which this below recording/);
    expect(why.nohang).toMatch(/^nohang needs \/proc\/PID\/oom_score/);
    expect(why.lmkd).toMatch(/^lmkd needs \/proc\/pressure\/memory some total, \/proc\/pressure\/memory full total,/);
    expect(why.oomd).toMatch(/^oomd needs \/proc\/pressure\/memory full avg60, \/proc\/pressure\/memory full avg300,/);
    expect(why.kubelet).toMatch(/^kubelet needs \/proc\/meminfo Inactive\(file\),/);
    expect(why['systemd-oomd']).toBeNull();
    expect(r.rows.find((x) => x.policy === 'systemd-oomd')!.polls).toBeGreaterThan(0);
    expect(r.kernel).toEqual([{ tMs: 10000, pid: null, comm: null, scope: 'unknown', source: 'vmstat', count: 1 }]);
  });

  it('without a Pgscan column systemd-oomd is named too (it kills only after reclaim in the memcg)', async () => {
    writeFileSync(`${d}/c.csv`, 'Name,Full Path,Mem Total,Mem Pressure,Timestamp,\n<root>,,?,1.5,1796637600,\nsystem.slice,/system.slice,1000,1.5,1796637600,\n\n');
    const t = importBelow([`${F}/below-system.csv`, `${d}/c.csv`]);
    const r = await replayTrace('below', t.header, t.records, [{ name: 'systemd-oomd' }]);
    expect(r.rows[0].cannotReplay).toMatch(/^systemd-oomd needs memory\.stat pgscan \(of each memcg\)/);
  });

  it('oomsim replay --from below takes one file per dump kind; without --from, more than one file is an error', async () => {
    const log = console.log, err = console.error;
    const out: string[] = [], errs: string[] = [];
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    console.error = (...a: unknown[]) => void errs.push(a.join(' '));
    let code: number, code2: number;
    try {
      code = await mainAsync(['replay', ...ALL, '--from', 'below', '--policies', 'earlyoom,systemd-oomd', '--json', `${d}/r.json`]);
      code2 = await mainAsync(['replay', `${F}/below-system.csv`, `${F}/below-cgroup.csv`]);
    } finally {
      console.log = log;
      console.error = err;
    }
    expect(code).toBe(0);
    const j = JSON.parse(readFileSync(`${d}/r.json`, 'utf8'));
    expect(j.policies.map((p: { label: string; verdict: string }) => [p.label, p.verdict])).toEqual([['earlyoom', 'cannot replay'], ['systemd-oomd', 'never acts']]);
    expect(out.join('\n')).toMatch(/earlyoom needs \/proc\/PID\/oom_score, which this below recording \(test\/fixtures\/trace\/below-system\.csv:2\) does not have/);
    expect(code2).toBe(1);
    expect(errs.join('\n')).toMatch(/2 files given; a replay reads one trace \(only --from below merges several dumps\)/);
  });
});
