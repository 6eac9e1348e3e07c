// The OOM killer through the built package: a global OOM picks the kernel's victim and prints its lines, events
// report the kill and the panic, /proc oom files, the explanation table, the clock, the OOM-killer-disabled switch.
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, OomsimError, load } from '../bindings/src/index.js';

beforeAll(async () => {
  await load();
});

function machine(): Engine {
  const e = new Engine({ totalramPages: 4096 });
  e.spawn(1, { comm: 'init' });
  return e;
}

function hog(e: Engine, pid: number, comm: string, pages: number, adj = 0): number {
  e.spawn(pid, { comm, oomScoreAdj: adj });
  const v = e.mmapAnon(pid, pages);
  expect(e.touch(pid, v, pages, 'write')).toBe(pages);
  return v;
}

describe('global OOM', () => {
  it('kills the highest badness, logs the kernel lines and emits an oom_kill event', () => {
    const e = machine();
    hog(e, 2, 'db', 1000, -500);
    hog(e, 3, 'cache', 600, 500);
    e.spawn(4, { comm: 'stress' });
    const ex = e.oomExplain();
    expect(ex.totalpages).toBe(4096);
    const top = ex.rows[0];
    expect(top).toMatchObject({ pid: 3, rss_pages: 600, chosen: true, eligible: true, adj_points: 2000 });
    expect(top.badness).toBe(600 + top.pgtables_pages + 2000);
    expect(ex.rows.find((r) => r.pid === 1)).toMatchObject({ eligible: false, badness: null });
    expect(e.oomScore(3)).toBe(Math.trunc(((1000 + Math.trunc(((top.badness as number) * 1000) / 4096)) * 2) / 3));
    expect(top.oom_score).toBe(e.oomScore(3));
    e.drainEvents();
    const v = e.mmapAnon(4, 2500);
    expect(e.touch(4, v, 2500, 'write')).toBe(2500);
    const log = e.drainLog();
    expect(log).toContain('stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0');
    expect(log).toContain(
      `Out of memory: Killed process 3 (cache) total-vm:2400kB, anon-rss:2400kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:${top.pgtables_pages * 4}kB oom_score_adj:500`,
    );
    const ev = e.drainEvents();
    expect(ev.filter((x) => x.kind === 'oom_kill').map((x) => x.pid)).toEqual([3]);
    expect(ev.find((x) => x.kind === 'task_exit' && x.pid === 3)?.a).toBe(1);
    expect(e.vmstat().oom_kill).toBe(1n);
    expect(e.tasks().map((t) => t.pid)).toEqual([1, 2, 4]);
    // the reaper fires 2 s later and finds the victim gone
    expect(e.advance(2_000_000_000n)).toBe('done');
    expect(e.nowNs()).toBe(2_000_000_000n);
    expect(e.drainLog()).toEqual([]);
    e.free();
  });

  it('panics when every task is unkillable: run() says panic, syscalls throw E_PANICKED', () => {
    const e = machine();
    e.spawn(2, { comm: 'stress', oomScoreAdj: -1000 });
    const v = e.mmapAnon(2, 4000);
    e.touch(2, v, 4000, 'write');
    const log = e.drainLog();
    expect(log.slice(-2)).toEqual(['Out of memory and no killable processes...', 'Kernel panic - not syncing: System is deadlocked on memory']);
    expect(e.drainEvents().some((x) => x.kind === 'panic')).toBe(true);
    expect(e.panicMessage()).toBe('System is deadlocked on memory');
    expect(e.run(10n)).toBe('panic');
    let err: unknown;
    try {
      e.spawn(5);
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(OomsimError);
    expect((err as OomsimError).code).toBe('E_PANICKED');
    e.free();
  });

  it('the OOM-killer-disabled simulation switch makes the allocation fail instead', () => {
    const e = machine();
    e.setOomKillerDisabled(true);
    expect(e.oomKillerDisabled).toBe(true);
    e.spawn(2, { comm: 'stress' });
    const v = e.mmapAnon(2, 4000);
    expect(e.touch(2, v, 4000, 'write')).toBeLessThan(0);
    expect(e.tasks().map((t) => t.pid)).toEqual([1, 2]);
    expect(e.panicMessage()).toBeUndefined();
    e.free();
  });
});

describe('/proc oom files', () => {
  it('oom_score_adj write rules and legacy oom_adj', () => {
    const e = machine();
    hog(e, 2, 'a', 100);
    expect(e.writeOomScoreAdj(2, 1001)).toBeLessThan(0);
    expect(e.writeOomScoreAdj(2, -200)).toBe(0);
    expect(e.writeOomScoreAdj(2, -300, false)).toBeLessThan(0); // EACCES below oom_score_adj_min
    expect(e.writeOomScoreAdj(2, -100, false)).toBe(0);
    expect(e.oomScoreAdj(2)).toBe(-100);
    expect(e.writeOomAdj(2, 15)).toBe(0);
    expect(e.oomScoreAdj(2)).toBe(1000);
    expect(e.oomAdj(2)).toBe(15);
    expect(e.drainLog()).toEqual(['oomsim (0): /proc/2/oom_adj is deprecated, please use /proc/2/oom_score_adj instead.']);
    expect(e.oomScore(1)).toBe(0);
    e.free();
  });
});
