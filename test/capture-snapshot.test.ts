/**
 * oomsim capture/predict on a fake /proc and memcg tree (so the cases a live machine produces rarely are certain
 * here: a pid that exits mid-read, kernel threads, zombies, EACCES, a comm with parentheses), the snapshot round
 * trip through the scenario loader, redaction, and the CLI's answers to bad input.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { fsio } from '../bindings/src/capture/fsio.js';
import { predict } from '../bindings/src/capture/predict.js';
import { predictJson, predictText } from '../bindings/src/capture/format.js';
import { captureLive, redactName, snapshotOf, snapshotYaml } from '../bindings/src/capture/snapshot.js';
import { main } from '../bindings/src/cli/main.js';
import { formatIssue, parseScenario } from '../bindings/src/scenario/load.js';
import { normalizeScenario } from '../bindings/src/scenario/normalize.js';

const dir = mkdtempSync(join(tmpdir(), 'oomsim-fakeproc-'));
const proc = join(dir, 'proc');
const cg = join(dir, 'cgroup-memory');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

interface FakeTask { pid: number; comm: string; rssPages: number; start: number; adj?: number; memcg?: string; anonKb?: number; pteKb?: number; kthread?: boolean; zombie?: boolean; score?: number }
function task(t: FakeTask): void {
  const d = join(proc, String(t.pid));
  // stat: fields 3.. after the comm; field 22 starttime, field 24 rss.
  const after = ['S', '1', String(t.pid), String(t.pid), '0', '-1', '4194560', '0', '0', '0', '0', '0', '0', '0', '0', '20', '0', '1', '0', String(t.start), '1000000', String(t.rssPages), '0'];
  put(join(d, 'stat'), `${t.pid} (${t.comm}) ${after.join(' ')}\n`);
  put(join(d, 'oom_score'), `${t.score ?? 666}\n`);
  put(join(d, 'oom_score_adj'), `${t.adj ?? 0}\n`);
  put(join(d, 'cgroup'), `5:devices:/\n4:memory:${t.memcg ?? '/'}\n0::/\n`);
  const vm = t.kthread || t.zombie ? '' : `VmSize:\t 20000 kB\nVmLck:\t 0 kB\nVmRSS:\t ${t.rssPages * 4} kB\nRssAnon:\t ${t.anonKb ?? t.rssPages * 4} kB\nRssFile:\t ${t.rssPages * 4 - (t.anonKb ?? t.rssPages * 4)} kB\nRssShmem:\t 0 kB\nVmData:\t 9000 kB\nVmPTE:\t ${t.pteKb ?? 48} kB\nVmSwap:\t 0 kB\n`;
  put(join(d, 'status'), `Name:\t${t.comm}\nState:\t${t.zombie ? 'Z (zombie)' : 'S (sleeping)'}\nUid:\t1000\t1000\t1000\t1000\nKthread:\t${t.kthread ? 1 : 0}\n${vm}`);
}

// A 4 GiB machine without swap: totalpages 1048576, one adj unit 1048 pages globally.
put(join(proc, 'meminfo'), 'MemTotal:        4194304 kB\nMemFree:         3000000 kB\nSwapTotal:             0 kB\n');
put(join(proc, 'vmstat'), 'nr_free_pages 750000\noom_kill 3\n');
put(join(proc, 'swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n');
put(join(proc, 'pressure', 'memory'), 'some avg10=1.50 avg60=0.20 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=99\n');
for (const [k, v] of Object.entries({ overcommit_memory: 0, overcommit_ratio: 50, overcommit_kbytes: 0, panic_on_oom: 0, oom_kill_allocating_task: 0, oom_dump_tasks: 1, swappiness: 60, min_free_kbytes: 8192, watermark_scale_factor: 10, admin_reserve_kbytes: 8192, user_reserve_kbytes: 131072 })) {
  put(join(proc, 'sys', 'vm', k), `${v}\n`);
}
put(join(proc, 'sys', 'kernel', 'osrelease'), '6.18.0-fake\n');
put(join(proc, 'self', 'mountinfo'), `35 31 0:32 / ${cg} rw,relatime - cgroup cgroup rw,memory\n41 31 0:38 / ${dir}/unified rw,relatime - cgroup2 cgroup2 rw\n`);
mkdirSync(join(proc, 'self', 'ns'), { recursive: true });
symlinkSync('pid:[4026531836]', join(proc, 'self', 'ns', 'pid'));
function group(path: string, limit: string): void {
  const d = join(cg, path);
  put(join(d, 'memory.limit_in_bytes'), `${limit}\n`);
  put(join(d, 'memory.soft_limit_in_bytes'), '9223372036854771712\n');
  put(join(d, 'memory.usage_in_bytes'), '1048576\n');
  put(join(d, 'memory.max_usage_in_bytes'), '2097152\n');
  put(join(d, 'memory.failcnt'), '0\n');
  put(join(d, 'memory.swappiness'), '60\n');
  put(join(d, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
  put(join(d, 'memory.stat'), 'cache 0\nrss 1048576\nhierarchical_memory_limit 9223372036854771712\n');
}
group('', '9223372036854771712');
group('secretgroup', String(64 << 20)); // 16384 pages: one adj unit is 16 pages in this memcg
group('secretgroup/sub', '9223372036854771712');
group('free', '9223372036854771712');

task({ pid: 1, comm: 'init', rssPages: 3000, start: 1, score: 0 });
// Two accounted VMAs (ac) and one not: committed 1028 kB.
put(join(proc, '200', 'smaps'), [
  '55d0c0000000-55d0c0100000 rw-p 00000000 00:00 0', 'Size:               1024 kB', 'Rss:                   4 kB', 'VmFlags: rd wr mr mw me ac sd',
  '7f0000000000-7f0000001000 r--p 00000000 08:01 42 /lib/x.so', 'Size:                  4 kB', 'VmFlags: rd mr mw me sd',
  '7ffd00000000-7ffd00001000 rw-p 00000000 00:00 0 [stack]', 'Size:                  4 kB', 'VmFlags: rd wr mr mw me gd ac',
].join('\n') + '\n');
task({ pid: 200, comm: 'bigdb', rssPages: 50000, start: 50, memcg: '/secretgroup', pteKb: 200, score: 696 });
task({ pid: 201, comm: 'secretcomm', rssPages: 1000, start: 60, adj: 500, memcg: '/secretgroup/sub', score: 1000 });
task({ pid: 202, comm: 'kworker/0:1', rssPages: 0, start: 2, kthread: true, score: 0 });
task({ pid: 203, comm: 'defunct', rssPages: 0, start: 70, zombie: true, score: 0 });
mkdirSync(join(proc, '204')); // exited between readdir and the first read
task({ pid: 205, comm: 'locked', rssPages: 10, start: 80 });
task({ pid: 206, comm: 'a) (b', rssPages: 700, start: 90, memcg: '/free' });
task({ pid: 207, comm: 'gone-later', rssPages: 700, start: 95 });
// 208: the leader exited (zombie, no mm) but thread 209 runs on: the kernel scores it through 209's mm.
task({ pid: 208, comm: 'pthread-exit', rssPages: 0, start: 97, zombie: true, score: 667 });
{
  const live = join(proc, '208', 'task', '209');
  const after = ['S', '1', '208', '208', '0', '-1', '4194560', '0', '0', '0', '0', '0', '0', '0', '0', '20', '0', '2', '0', '98', '1000000', '4242', '0'];
  put(join(live, 'stat'), `209 (worker) ${after.join(' ')}\n`);
  put(join(live, 'status'), 'Name:\tworker\nState:\tS (sleeping)\nUid:\t1000\t1000\t1000\t1000\nKthread:\t0\nVmRSS:\t 16968 kB\nRssAnon:\t 16968 kB\nVmPTE:\t 60 kB\n');
  mkdirSync(join(proc, '208', 'task', '208'), { recursive: true });
}

const opts = { proc, tool: 'oomsim test', now: new Date('2026-01-02T03:04:05Z') };
/** EACCES for 205's status (root reads any file, so a mode cannot do it), ESRCH for 207's oom_score (exited after
 *  its stat was read), EACCES for secretgroup's memory.stat. */
function withFaults<T>(f: () => T): T {
  const real = fsio.readText;
  const spy = vi.spyOn(fsio, 'readText').mockImplementation((p: string) => {
    const fail = (code: string) => Object.assign(new Error(`${code}: ${p}`), { code });
    if (p.endsWith('/205/status')) throw fail('EACCES');
    if (p.endsWith('/207/oom_score')) throw fail('ESRCH');
    if (p === join(cg, 'secretgroup', 'memory.stat')) throw fail('EACCES');
    return real(p);
  });
  try {
    return f();
  } finally {
    spy.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

describe('capture of a fake /proc', () => {
  const c = withFaults(() => captureLive(opts));
  it('reads the processes and counts what it skipped', () => {
    expect(c.tasks.map((t) => t.pid)).toEqual([1, 200, 201, 206, 208]);
    expect(c.tasks.find((t) => t.pid === 208)).toMatchObject({ comm: 'pthread-exit', rss_pages: 4242, vm_pte_kb: 60, start_time: 97 });
    expect(c.skipped).toMatchObject({ kernel_threads: 1, zombies: 1, vanished: 2, unreadable: 1 });
    expect(c.skipped.files).toEqual([{ path: join(cg, 'secretgroup', 'memory.stat'), reason: 'EACCES' }]);
    const t200 = c.tasks.find((t) => t.pid === 200)!;
    expect(t200).toMatchObject({ rss_pages: 50000, start_time: 50, memcg: '/secretgroup', vm_pte_kb: 200, uid: 1000, oom_score: 696, committed_kb: 1028 });
    expect(c.tasks.find((t) => t.pid === 201)!.committed_kb).toBeNull(); // no smaps: kept, committed unknown
    expect(c.tasks.find((t) => t.pid === 206)!.comm).toBe('a) (b');
    expect(c.tasks.find((t) => t.pid === 206)!.rss_pages).toBe(700);
    expect(c.memcg?.version).toBe('v1');
    expect(Object.keys(c.memcg!.groups)).toEqual(['/', '/free', '/secretgroup', '/secretgroup/sub']);
    expect(c.memcg!.groups['/secretgroup']!.stat).toBeUndefined();
    expect(c.memcg!.groups['/free']!.stat).toEqual({ cache: 0, rss: 1048576, hierarchical_memory_limit: '9223372036854771712' });
    expect(c.pressure?.some).toEqual({ avg10: 1.5, avg60: 0.2, avg300: 0, total: 12345 });
    expect(c.sysctl['vm.min_free_kbytes']).toBe(8192);
    expect(c.init_pid_ns).toBe(true);
    expect(c.kernel).toBe('6.18.0-fake');
  });

  it('predicts the global victim by adj (RAM/1000 per unit) and the memcg victim by size (limit/1000 per unit)', () => {
    const p = predict(c);
    expect(p.global.totalpages).toBe(1048576);
    const g201 = p.global.rows.find((r) => r.task.pid === 201)!;
    expect(g201.badness).toEqual({ points: 1000 + 12 + 500 * 1048, rssPages: 1000, swapPages: 0, pgtablesPages: 12, adjTerm: 500 * 1048 });
    expect(p.global.victim?.task.pid).toBe(201);
    // pid 1 is the global init here (the capture was taken in the initial pid namespace): never a candidate.
    expect(p.global.rows.find((r) => r.task.pid === 1)!.badness.points).toBeNull();
    expect(p.memcgs.map((m) => m.domain)).toEqual(['/secretgroup']);
    const m = p.memcgs[0]!;
    expect(m.totalpages).toBe(16384);
    expect(m.rows.map((r) => r.task.pid)).toEqual([200, 201]); // the subtree: /secretgroup/sub is in it
    expect(m.rows[1]!.badness.points).toBe(1000 + 12 + 500 * 16);
    expect(m.victim?.task.pid).toBe(200);
    // 1 exact (init 0), and the made-up kernel scores of the others: 696 for 200 is right, 1000 for 201 is not.
    expect(p.global.rows.find((r) => r.task.pid === 200)!.predictedOomScore).toBe(Math.trunc(((1000 + Math.trunc((50050 * 1000) / 1048576)) * 2) / 3));
    expect(p.agreement.n).toBe(5);
    const text = predictText(p).join('\n');
    expect(text).toContain('memcg OOM in /secretgroup (CONSTRAINT_MEMCG): totalpages 16384 (memory.limit_in_bytes), adj unit 16 pages');
    expect(text).toContain('victim: pid 200 (bigdb), 50050 points');
    expect(text).toContain('skipped 1 kernel threads, 1 zombies, 2 vanished, 1 unreadable, 1 unreadable files');
    const j = JSON.parse(predictJson(p));
    expect(j.memcgs[0].victim).toEqual({ pid: 200, comm: 'bigdb', points: 50050 });
  });

  it('gives a tie to the task later in the task list (oom_evaluate_task rejects only a lower score)', () => {
    const t = (pid: number, start: number) => ({ ...c.tasks[1]!, pid, start_time: start, memcg: '/', oom_score_adj: 0, rss_pages: 5000, vm_pte_kb: 40 });
    const p = predict({ ...c, memcg: null, tasks: [t(300, 20), t(301, 10), t(302, 30)] });
    expect(p.global.victim?.task.pid).toBe(302);
    expect(p.global.rows[0]!.task.pid).toBe(302);
  });

  it('marks a task the kernel scores 0 though it has memory (a vfork child or an mm being reaped)', () => {
    const p = predict({ ...c, tasks: c.tasks.map((t) => (t.pid === 206 ? { ...t, oom_score: 0 } : t)) });
    expect(p.global.rows.find((r) => r.task.pid === 206)!.note).toMatch(/^kernel: unkillable/);
  });
});

describe('snapshot files', () => {
  const c = withFaults(() => captureLive(opts));
  it('are scenarios: the loader takes them, keeps the capture section, and normalizes the derived scenario', () => {
    const text = snapshotYaml(snapshotOf(c));
    const r = parseScenario(text, { file: 'snap.yaml' });
    if (!r.success) throw new Error(r.errors.map(formatIssue).join('\n'));
    expect(r.data.capture).toEqual(c);
    expect(r.data.machine.ram).toBe('4194304K');
    expect(r.data.cgroups?.groups['/secretgroup']).toEqual({ 'memory.limit_in_bytes': String(64 << 20) });
    expect(r.data.processes.find((p) => p.pid === 200)).toMatchObject({ comm: 'bigdb', cgroup: '/secretgroup', workload: { kind: 'steady', working_set: '200000K' } });
    expect(r.data.machine.sysctl['vm.overcommit_kbytes']).toBeUndefined(); // only one of the pair
    const n = normalizeScenario(r.data, { file: 'snap.yaml' });
    expect(n.processes.length).toBe(5);
  });

  it('--redact hashes comms, cgroup names and the host, stably', () => {
    const rc = withFaults(() => captureLive({ ...opts, redact: true }));
    const text = snapshotYaml(snapshotOf(rc));
    expect(text).not.toMatch(/secretgroup|secretcomm|bigdb/);
    expect(rc.skipped.files).toEqual([{ path: `${cg}/${redactName('g', 'secretgroup')}/memory.stat`, reason: 'EACCES' }]);
    expect(rc.tasks.find((t) => t.pid === 201)!.comm).toBe(redactName('c', 'secretcomm'));
    expect(rc.tasks.find((t) => t.pid === 201)!.memcg).toBe(`/${redactName('g', 'secretgroup')}/${redactName('g', 'sub')}`);
    expect(parseScenario(text).success).toBe(true);
    expect(predict(rc).memcgs[0]!.victim?.task.pid).toBe(200);
  });

  it('a truncated snapshot gives file:line errors, not a stack trace', () => {
    const text = snapshotYaml(snapshotOf(c));
    const cut = text.slice(0, text.indexOf('  tasks:'));
    const f = join(dir, 'cut.yaml');
    writeFileSync(f, cut);
    const out = cli(['predict', f]);
    expect(out.code).toBe(1);
    expect(out.err).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+ capture(\\.tasks)?: `, 'm'));
    expect(out.err).toContain('tasks');
    expect(out.err).not.toMatch(/\n\s+at /);
    // Cut between two tasks: still YAML, still tasks, but fewer than the header says.
    const lastTask = text.lastIndexOf('\n    - pid:');
    writeFileSync(f, text.slice(0, lastTask + 1));
    const out2 = cli(['predict', f]);
    expect(out2.code).toBe(1);
    expect(out2.err).toMatch(/:\d+ capture\.tasks: the file holds 4 tasks but task_count says 5: the snapshot is truncated/);
  });

  it('predict on a scenario without a capture section says what it needs', () => {
    const f = join(dir, 'plain.yaml');
    writeFileSync(f, 'machine: { ram: 1G }\n');
    const out = cli(['predict', f]);
    expect(out.code).toBe(1);
    expect(out.err).toContain('no capture: section');
    expect(cli(['predict']).err).toContain('give a snapshot file');
    expect(cli(['predict', f, '--live']).code).toBe(2);
  });

  it('predict reads a snapshot file and prints the rankings', () => {
    const f = join(dir, 'snap.yaml');
    writeFileSync(f, snapshotYaml(snapshotOf(c)));
    const out = cli(['predict', f]);
    expect(out.code).toBe(0);
    expect(out.out).toContain('victim: pid 201 (secretcomm)');
    const j = cli(['predict', f, '--json']);
    expect(JSON.parse(j.out).global.victim.pid).toBe(201);
    expect(readFileSync(f, 'utf8')).toContain('capture:');
  });
});

function cli(argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    return { code: main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('a cgroup v2 tree (this machine has v1: the v2 reader is checked on a fake tree)', () => {
  const v2 = join(dir, 'cg2');
  put(join(v2, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  put(join(v2, 'memory.stat'), 'anon 1000\nfile 2000\n');
  put(join(v2, 'memory.pressure'), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=5\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n');
  const files: Record<string, string> = { 'memory.max': String(64 << 20), 'memory.high': 'max', 'memory.low': '0', 'memory.min': '0', 'memory.swap.max': 'max', 'memory.oom.group': '1', 'memory.current': '4096', 'memory.events': 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\noom_group_kill 1\n', 'memory.stat': 'anon 4096\n' };
  for (const [f, v] of Object.entries(files)) put(join(v2, 'secretgroup', f), `${v}\n`);
  for (const [f, v] of Object.entries({ ...files, 'memory.max': 'max', 'memory.oom.group': '0' })) put(join(v2, 'secretgroup', 'sub', f), `${v}\n`);
  const mi = join(dir, 'mountinfo-v2');
  put(mi, `41 31 0:38 / ${v2} rw,relatime - cgroup2 cgroup2 rw\n`);
  const c = captureLive({ ...opts, mountinfo: mi });

  it('reads the v2 files (the root has only stat and pressure) and derives v2 scenario files', () => {
    expect(c.memcg?.version).toBe('v2');
    expect(c.memcg!.groups['/']).toEqual({ stat: { anon: 1000, file: 2000 }, pressure: { some: { avg10: 0, avg60: 0, avg300: 0, total: 5 }, full: { avg10: 0, avg60: 0, avg300: 0, total: 1 } } });
    expect(c.memcg!.groups['/secretgroup']).toMatchObject({ max: String(64 << 20), high: 'max', swap_max: 'max', oom_group: 1, current: 4096, events: { oom_kill: 1 } });
    const s = snapshotOf(c);
    // /free is not in this tree but task 206 names it: the scenario declares it (empty) so the task has its group.
    expect(s.cgroups).toEqual({ version: 'v2', groups: { '/secretgroup': { 'memory.max': String(64 << 20), 'memory.oom.group': 1 }, '/secretgroup/sub': {}, '/free': {} } });
    expect(parseScenario(snapshotYaml(s)).success).toBe(true);
  });

  it('ranks the limited v2 group with memory.max (no swap) and says the whole group goes', () => {
    const p = predict(c);
    expect(p.memcgs.map((m) => [m.domain, m.totalpages, m.totalpagesFrom])).toEqual([['/secretgroup', 16384, 'memory.max']]);
    expect(p.memcgs[0]!.victim?.task.pid).toBe(200);
    expect(p.memcgs[0]!.note).toMatch(/memory\.oom\.group=1/);
  });
});

const liveProc = existsSync('/proc/self/stat');
if (!liveProc) console.log('capture-snapshot: the live capture CLI check is skipped: no Linux /proc here');
describe.skipIf(!liveProc)('oomsim capture on this machine', () => {
  it('says which files it could not read (here: every memory.stat made unreadable) and still writes the file', () => {
    const real = fsio.readText;
    vi.spyOn(fsio, 'readText').mockImplementation((p: string) => {
      if (p.endsWith('/memory.stat')) throw Object.assign(new Error(`EACCES: ${p}`), { code: 'EACCES' });
      return real(p);
    });
    const f = join(dir, 'live.yaml');
    const out = cli(['capture', '-o', f]);
    expect(out.code).toBe(0);
    const r = parseScenario(readFileSync(f, 'utf8'));
    if (!r.success) throw new Error(r.errors.map(formatIssue).join('\n'));
    if (r.data.capture!.memcg === null) return; // no memory controller mounted: no memory.stat to refuse
    expect(out.err).toMatch(/^oomsim capture: wrote .*live\.yaml: \d+ processes, \d+ memcgs \(v[12]\); skipped .* [1-9]\d* files$/m);
    expect(out.err).toMatch(/^ {2}not read: \/.*\/memory\.stat \(EACCES\)$/m);
    expect(r.data.capture!.skipped.files.some((x) => x.reason === 'EACCES' && x.path.endsWith('/memory.stat'))).toBe(true);
  });
});
