/**
 * `--from kubelet` on a fixture the project wrote from the summary API's types (kubelet stats v1alpha1 types.go:
 * three /stats/summary objects, one per line, a node whose memory.available falls to 80Mi), malformed files with
 * located errors, an unknown field with a warning, and the replay: the kubelet evicts the largest pod; the daemons
 * that need processes or MemAvailable are named with the field.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { importKubelet } from '../bindings/src/trace/import-kubelet.js';
import { replayTrace } from '../bindings/src/trace/replay.js';
import { failure, samples, tempDir } from './trace-helpers.js';

const F = 'test/fixtures/trace';
const d = tempDir('oomsim-trace-kubelet-');
const GI = 1024 ** 3, MI = 1024 ** 2;

describe('--from kubelet', () => {
  it('derives MemTotal = availableBytes + workingSetBytes, and MemFree/Inactive(file) that give back the working set', async () => {
    const warn: string[] = [];
    const t = importKubelet(`${F}/kubelet-summary.jsonl`, { warn: (m) => warn.push(m) });
    const s = await samples(t);
    expect(s.map((x) => x.t_ms)).toEqual([0, 10000, 20000]);
    expect(t.header).toMatchObject({ source: 'kubelet', host: 'node-a', interval_ms: 10000, lacks: ['processes'], task_columns: ['pid', 'comm', 'rss_kb', 'memcg'] });
    const usage = 8550000000, avail = 80 * MI, ws = 8 * GI - avail;
    expect(s[2].meminfo).toEqual({ MemTotal: (8 * GI) / 1024, MemFree: Math.round((8 * GI - usage) / 1024), 'Inactive(file)': Math.round((usage - ws) / 1024) });
    // The kubelet policy's working set (MemTotal - MemFree - Inactive(file)) is the summary's, to the kB.
    const m = s[2].meminfo!;
    expect(Math.abs((m.MemTotal - m.MemFree - m['Inactive(file)']) * 1024 - ws)).toBeLessThanOrEqual(1024);
    expect(s[1].vmstat).toEqual({ pgfault: 123461789, pgmajfault: 5021 });
    // Pods as memcgs, containers as task rows with stable made-up pids.
    expect(s[0].memcg!['/kubepods/podbbbb-2']).toEqual({ 'memory.current': String(4 * GI + 20 * MI), 'memory.stat': `inactive_file ${20 * MI}` });
    expect(s[0].memcg!['/kubepods']['memory.max']).toBe(String(7680 * MI));
    expect(s[2].tasks).toEqual([[100000, 'nginx', 290 * 1024, '/kubepods/podaaaa-1'], [100001, 'worker', (6500 - 80) * 1024, '/kubepods/podbbbb-2'], [100002, 'sidecar', 50 * 1024, '/kubepods/podbbbb-2']]);
    expect(s[0].pressure).toBeUndefined();
    expect(warn).toEqual([expect.stringMatching(/kubelet-summary\.jsonl:1: summary field node\.fancyStats is not in the kubelet stats API this importer knows; ignored/)]);
  });

  it('replay: the kubelet evicts the largest pod when memory.available < 100Mi; the others are named with what they lack', async () => {
    const t = importKubelet(`${F}/kubelet-summary.jsonl`);
    const names = ['earlyoom', 'nohang', 'lmkd', 'oomd', 'systemd-oomd', 'kubelet'];
    const r = await replayTrace('k', t.header, t.records, names.map((name) => ({ name })));
    const row = (n: string) => r.rows.find((x) => x.policy === n)!;
    expect(row('earlyoom').cannotReplay).toMatch(/^earlyoom needs \/proc\/meminfo MemAvailable, \/proc\/meminfo SwapTotal, \/proc\/meminfo SwapFree, the process table \(\/proc\/PID; the rows of this recording are containers, not processes\), \/proc\/PID\/oom_score/);
    expect(row('lmkd').cannotReplay).toMatch(/^lmkd needs \/proc\/pressure\/memory, the process table/);
    expect(row('systemd-oomd').cannotReplay).toMatch(/^systemd-oomd needs \/proc\/meminfo MemAvailable, \/proc\/pressure\/memory/);
    expect(row('oomd').cannotReplay).toMatch(/^oomd needs \/proc\/meminfo MemAvailable/);
    const k = row('kubelet');
    expect(k.cannotReplay).toBeNull();
    expect(k.kills).toHaveLength(1);
    expect(k.kills[0].tMs).toBe(20000);
    expect(k.kills[0].action).toMatchObject({ type: 'kill_cgroup', cgroup: '/kubepods/podbbbb-2' });
    expect(k.kills[0].victims.map((v) => v.comm)).toEqual(['worker', 'sidecar']);
  });

  it('node psi (KEP-4205) becomes /proc/pressure/memory and a pod\'s memory.pressure', async () => {
    const psi = { some: { total: 1200, avg10: 1.5, avg60: 0.5, avg300: 0.1 }, full: { total: 800, avg10: 1.25, avg60: 0.25, avg300: 0.05 } };
    const mem = { time: '2026-12-07T10:00:00Z', availableBytes: GI, usageBytes: 3 * GI, workingSetBytes: 2 * GI, psi };
    writeFileSync(`${d}/p.jsonl`, JSON.stringify({ node: { nodeName: 'n', memory: mem }, pods: [{ podRef: { name: 'a', uid: 'u1' }, memory: mem, containers: [] }] }) + '\n');
    const s = await samples(importKubelet(`${d}/p.jsonl`));
    expect(s[0].pressure).toEqual({ some: { avg10: 1.5, avg60: 0.5, avg300: 0.1, total: 1200 }, full: { avg10: 1.25, avg60: 0.25, avg300: 0.05, total: 800 } });
    expect(s[0].memcg!['/kubepods/podu1']['memory.pressure']).toBe('some avg10=1.50 avg60=0.50 avg300=0.10 total=1200\nfull avg10=1.25 avg60=0.25 avg300=0.05 total=800');
  });

  it('a cut line is an error at its line; so are a bad value, a missing node.memory, a pretty-printed file and time going back', async () => {
    expect(await failure(samples(importKubelet(`${F}/bad-kubelet.jsonl`)))).toMatch(/bad-kubelet\.jsonl:2: not a JSON line .*one \/stats\/summary JSON object per line/);
    writeFileSync(`${d}/v.jsonl`, '{"node":{"memory":{"usageBytes":-5}}}\n');
    expect(await failure(samples(importKubelet(`${d}/v.jsonl`)))).toMatch(/v\.jsonl:1: node\.memory\.usageBytes: .*(greater|>=)/i);
    writeFileSync(`${d}/m.jsonl`, '{"node":{"nodeName":"n"},"pods":[]}\n');
    expect(await failure(samples(importKubelet(`${d}/m.jsonl`)))).toMatch(/m\.jsonl:1: node\.memory is missing/);
    writeFileSync(`${d}/pp.jsonl`, '{\n  "node": {}\n}\n');
    expect(await failure(samples(importKubelet(`${d}/pp.jsonl`)))).toMatch(/pp\.jsonl:1: not a JSON line.*pretty-printed: put each summary on one line \(jq -c \.\)/);
    const at = (t: string) => JSON.stringify({ node: { memory: { time: t, availableBytes: 1, workingSetBytes: 1 } } });
    writeFileSync(`${d}/b.jsonl`, `${at('2026-12-07T10:00:10Z')}\n${at('2026-12-07T10:00:00Z')}\n`);
    expect(await failure(samples(importKubelet(`${d}/b.jsonl`)))).toMatch(/b\.jsonl:2: node\.memory\.time .* is before the previous summary's/);
  });
});
