/**
 * `oomsim capture` + `oomsim predict` checked against this machine's real kernel (cgroup v1 memory controller).
 *
 * The test makes its own memcgs under its own memcg (oomsim-test-<pid>: 256 MiB; a: 128 MiB; b: 128 MiB), starts
 * 12 helper processes (tools/memhog, one with an exited leader thread) in them with different RSS and oom_score_adj 0..1000, captures the machine,
 * and checks (1) the predicted /proc/PID/oom_score of every helper against the kernel's, (2) that the victim
 * predicted for a memcg OOM in b is the task the kernel really kills when one helper drives b over its limit.
 * It signals only the pids it started and removes every memcg it made, even when a check fails.
 * Negative oom_score_adj cannot be written here (EACCES: no CAP_SYS_RESOURCE); unit tests cover it
 * (test/capture-predict.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../bindings/src/cli/main.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { predict, type Ranking } from '../bindings/src/capture/predict.js';
import { captureLive, snapshotOf, snapshotYaml } from '../bindings/src/capture/snapshot.js';
import { load } from '../bindings/src/index.js';
import { runScenario } from '../bindings/src/run.js';
import { normalizeScenario, parseScenarioOrThrow } from '../bindings/src/scenario/index.js';
import { oomBadness } from '../bindings/src/capture/badness.js';
import { checkReport, parseOomReports } from '../bindings/src/capture/kmsg.js';
import { spawnSync } from 'node:child_process';
import { ensureMemhog, KernelLab, labUnavailable, V1_MOUNT, type Helper } from './kernel-lab.js';

const why = labUnavailable();
if (why !== null) console.log(`capture-kernel: the real-kernel checks are skipped: ${why}`);

const MIB_PAGES = 256;

/** The kernel log, or null when dmesg is missing or refused (kernel.dmesg_restrict without CAP_SYSLOG). */
function kernelLog(): string | null {
  const r = spawnSync('dmesg', [], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  return r.status === 0 ? r.stdout : null;
}

describe.skipIf(why !== null)('capture and predict against the real kernel (cgroup v1)', () => {
  let lab: KernelLab;
  let root = '';
  let a = '';
  let b = '';
  const inA: Helper[] = [];
  let hog: Helper; // b: 72 MiB, adj 0: the memcg victim
  let favoured: Helper; // b: 8 MiB, adj 300: the global formula's pick among b's tasks
  let small: Helper; // b: 4 MiB, adj 150
  let driver: Helper; // b: 1 MiB, adj 0: grows past the limit
  let zombieLeader: Helper; // a: 16 MiB, adj 600, its main thread exited

  beforeAll(async () => {
    await load();
    ensureMemhog();
    lab = new KernelLab('oomsim-test');
    root = lab.mkgroup('', { 'memory.limit_in_bytes': '256M' });
    a = lab.mkgroup('a', { 'memory.limit_in_bytes': '128M' });
    b = lab.mkgroup('b', { 'memory.limit_in_bytes': '128M' });
    const sizes = [2, 4, 8, 12, 16, 24, 32];
    const adjs = [0, 100, 250, 400, 500, 800, 1000];
    for (let i = 0; i < sizes.length; i++) inA.push(await lab.start(a, sizes[i]!, adjs[i]!));
    // A process whose leader thread has exited (a zombie leader) while its second thread holds the mm.
    zombieLeader = await lab.start(a, 16, 600, ['--leader-exits']);
    hog = await lab.start(b, 72, 0);
    favoured = await lab.start(b, 8, 300);
    small = await lab.start(b, 4, 150);
    driver = await lab.start(b, 1, 0);
  }, 120_000);

  afterAll(async () => {
    const left = lab ? await lab.cleanup() : [];
    expect(left).toEqual([]);
    expect(existsSync(`${V1_MOUNT}${root}`)).toBe(false);
    // What is left of our memcg after the run (the issue asks to show it): no oomsim-test-* directory.
    const parent = `${V1_MOUNT}${root.slice(0, root.lastIndexOf('/'))}`;
    const dirs = readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    console.log(`capture-kernel: after cleanup, ${parent} holds ${dirs.length ? dirs.join(', ') : 'no memcg directories'}`);
    expect(dirs.filter((d) => d === root.slice(root.lastIndexOf('/') + 1))).toEqual([]);
  }, 180_000); // the cleanup waits up to 30 s for the helpers and 30 s per memcg on a loaded machine

  it('predicts /proc/PID/oom_score of every helper exactly as the kernel computes it', () => {
    const c = captureLive();
    const p = predict(c);
    const mine = new Set([...inA, zombieLeader, hog, favoured, small, driver].map((h) => h.pid));
    const rows = p.global.rows.filter((r) => mine.has(r.task.pid));
    expect(rows.map((r) => r.task.pid).sort()).toEqual([...mine].sort());
    // The helpers are idle after "ready", so their rss and page tables do not move between the stat and oom_score
    // reads: no ±1 allowance is needed, and none is taken.
    const diffs = rows.filter((r) => r.predictedOomScore !== r.task.oom_score).map((r) => `${r.task.pid} adj ${r.task.oom_score_adj}: oomsim ${r.predictedOomScore}, kernel ${r.task.oom_score}`);
    expect(diffs).toEqual([]);
    // The exited-leader process is read through its live thread (the kernel scores it via find_lock_task_mm).
    expect(readFileSync(`/proc/${zombieLeader.pid}/status`, 'utf8')).toMatch(/^State:\s+Z/m);
    expect(rows.find((r) => r.task.pid === zombieLeader.pid)!.badness.rssPages).toBeGreaterThanOrEqual(16 * MIB_PAGES);
    // The scores are spread by adj (one adj point = totalpages/1000 pages), so the check is not a check of 666s.
    expect(new Set(rows.map((r) => r.task.oom_score)).size).toBeGreaterThanOrEqual(10);
    // Every task read: report the whole machine's agreement too (not asserted beyond our helpers: other engineers'
    // processes run between the reads).
    console.log(`capture-kernel: machine-wide ${p.agreement.exact}/${p.agreement.n} exact, max |difference| ${p.agreement.maxAbsDiff}, tau-b ${p.agreement.tau?.toFixed(4) ?? 'n/a'}`);
    // The engine, given the snapshot as a scenario, scores the helpers as the kernel does. The scenario carries
    // each helper's rss but not its page tables (the engine builds its own, a few pages fewer), so a score may sit
    // one point off where the kernel's badness is that close to a score boundary (one point = totalpages/1000).
    const sc = parseScenarioOrThrow(snapshotYaml(snapshotOf(c)));
    const run = runScenario(normalizeScenario(sc), { untilNs: 1_000_000_000n, keepEngine: true });
    try {
      const ex = run.engine!.oomExplain();
      expect(ex.totalpages).toBe(p.global.totalpages);
      const engineDiffs = rows.map((r) => ({ pid: r.task.pid, d: (ex.rows.find((e) => e.pid === r.task.pid)?.oom_score ?? NaN) - r.task.oom_score }));
      expect(engineDiffs.filter((x) => !(Math.abs(x.d) <= 1))).toEqual([]);
      // Same rss (the scenario carries the kernel's counter); page tables are the engine's own.
      for (const r of rows) {
        const e = ex.rows.find((x) => x.pid === r.task.pid)!;
        expect(e.rss_pages, `engine rss of ${r.task.pid}`).toBe(r.badness.rssPages);
        expect(Math.abs(e.pgtables_pages - r.badness.pgtablesPages), `page tables of ${r.task.pid}`).toBeLessThanOrEqual(16);
      }
      const pointDiffs = rows.map((r) => Math.abs((ex.rows.find((e) => e.pid === r.task.pid)?.badness ?? NaN) - r.badness.points!));
      console.log(`capture-kernel: engine vs kernel oom_score on the helpers: ${engineDiffs.filter((x) => x.d === 0).length}/${engineDiffs.length} exact; ` +
        `engine badness vs the kernel's inputs: max |difference| ${Math.max(...pointDiffs)} pages`);
    } finally {
      run.engine!.free();
    }
    // The memcgs we made are in the capture with their limits.
    expect(c.memcg?.version).toBe('v1');
    expect(c.memcg?.groups[b]?.limit_in_bytes).toBe(String(128 << 20));
    expect(c.tasks.find((t) => t.pid === hog.pid)?.memcg).toBe(b);
  });

  it('predicts the memcg OOM victim in b, and the kernel kills exactly that task', async () => {
    const p = predict(captureLive());
    const rb = p.memcgs.find((m) => m.domain === b) as Ranking;
    expect(rb).toBeDefined();
    expect(rb.totalpages).toBe(128 * MIB_PAGES); // no swap here: mem_cgroup_get_max is the limit
    expect(rb.rows.map((r) => r.task.pid).sort()).toEqual([hog, favoured, small, driver].map((h) => h.pid).sort());
    expect(rb.victim?.task.pid).toBe(hog.pid);
    // The global formula would pick another task of b: one adj unit is RAM/1000 pages there, limit/1000 in the memcg.
    const globalInB = p.global.rows.filter((r) => r.task.memcg === b);
    expect(globalInB[0]?.task.pid).toBe(favoured.pid);
    // The driver grows during the OOM; even holding everything else the limit leaves it, it stays below the victim.
    const others = rb.rows.filter((r) => r.task.pid !== driver.pid).reduce((s, r) => s + r.badness.rssPages, 0);
    const driverRow = rb.rows.find((r) => r.task.pid === driver.pid)!;
    const driverBound = rb.totalpages - others + driverRow.badness.pgtablesPages + 64;
    expect(rb.victim!.badness.points!).toBeGreaterThan(driverBound);

    const killsBefore = Number(/oom_kill (\d+)/.exec(lab.read(b, 'memory.oom_control'))![1]);
    const answer = await driver.command('grow 48');
    expect(answer).toBe('grown 49');
    expect(await hog.exited).toBe('SIGKILL');
    expect([favoured.alive, small.alive, driver.alive, zombieLeader.alive, ...inA.map((h) => h.alive)].every(Boolean)).toBe(true);
    const oc = lab.read(b, 'memory.oom_control');
    expect(Number(/oom_kill (\d+)/.exec(oc)![1])).toBe(killsBefore + 1);
    expect(Number(lab.read(b, 'memory.failcnt'))).toBeGreaterThan(0);

    // What the kernel printed at the OOM itself (dump_tasks): our formula over its numbers picks its victim, and
    // the idle helpers' rss and page tables there are the ones the capture read.
    const log = kernelLog();
    if (log === null) {
      console.log('capture-kernel: the kernel log check is skipped: dmesg cannot be read here');
      return;
    }
    const report = parseOomReports(log).filter((r) => r.oomMemcg === b).at(-1);
    expect(report, `no oom-kill line for ${b} in dmesg`).toBeDefined();
    expect(report!.constraint).toBe('CONSTRAINT_MEMCG');
    expect(report!.victimPid).toBe(hog.pid);
    expect(report!.tasks.map((t) => t.pid).sort()).toEqual([hog, favoured, small, driver].map((h) => h.pid).sort());
    const replay = checkReport(report!, p.global.totalpages, (path) => (path === b ? rb.totalpages : null), (t, tp) =>
      oomBadness({ rssPages: t.rss, swapPages: t.swapents, pgtablesBytes: t.pgtablesBytes, oomScoreAdj: t.oomScoreAdj, unkillable: false }, tp).points);
    expect([replay.totalpages, replay.predictedPid, replay.agrees]).toEqual([rb.totalpages, hog.pid, true]);
    // The same through the CLI (while b still exists, so its totalpages is known).
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
    try {
      expect(main(['predict', '--live', '--last-oom'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const text = lines.join('\n');
    // The machine is shared: another OOM (someone else's memcg) may have become the last one meanwhile.
    if (parseOomReports(kernelLog() ?? '').at(-1)?.victimPid !== hog.pid) {
      console.log('capture-kernel: --last-oom check skipped: another OOM was logged after ours');
      return;
    }
    expect(text).toContain(`the kernel's last OOM (CONSTRAINT_MEMCG in ${b}, from dmesg): it killed pid ${hog.pid} (oomsim-memhog)`);
    expect(text).toContain(`(totalpages ${rb.totalpages}) picks pid ${hog.pid}: the same task`);
    for (const h of [hog, favoured, small]) {
      const dumped = report!.tasks.find((t) => t.pid === h.pid)!;
      const read = rb.rows.find((r) => r.task.pid === h.pid)!.task;
      expect([dumped.rss, dumped.pgtablesBytes, dumped.oomScoreAdj]).toEqual([read.rss_pages, read.vm_pte_kb * 1024, read.oom_score_adj]);
    }
  }, 120_000);

  it('a second OOM in b follows the new ranking: the grown driver goes next, not the high-adj task', async () => {
    if (hog.alive) throw new Error('the first OOM did not happen (see the test above)');
    const p = predict(captureLive());
    const rb = p.memcgs.find((m) => m.domain === b)!;
    expect(rb.rows.map((r) => r.task.pid).sort()).toEqual([favoured, small, driver].map((h) => h.pid).sort());
    expect(rb.victim?.task.pid).toBe(driver.pid);
    // The driver only grows from here, so it stays ahead: the kernel must kill it during the grow.
    const killsBefore = Number(/oom_kill (\d+)/.exec(lab.read(b, 'memory.oom_control'))![1]);
    await expect(driver.command('grow 100')).rejects.toThrow(/exited \(SIGKILL\)/);
    expect(await driver.exited).toBe('SIGKILL');
    expect(favoured.alive && small.alive).toBe(true);
    expect(Number(/oom_kill (\d+)/.exec(lab.read(b, 'memory.oom_control'))![1])).toBe(killsBefore + 1);
  }, 120_000);
});
