import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ref from '../bindings/src/reference/oom_kill.js';
import { existsSync } from 'node:fs';
import { oomBadness, procOomScore } from '../bindings/src/capture/badness.js';
import { agreement, kendallTauB } from '../bindings/src/capture/agreement.js';
import { memcgOf, parseStatus, statField, statRssPages } from '../bindings/src/capture/proc.js';
import { predict } from '../bindings/src/capture/predict.js';
import { checkReport, parseOomReports } from '../bindings/src/capture/kmsg.js';
import { captureLive } from '../bindings/src/capture/snapshot.js';

const base = { rssPages: 1000, swapPages: 10, pgtablesBytes: 3 * 4096 + 100, oomScoreAdj: 0, unkillable: false };

describe('oom_badness and proc_oom_score', () => {
  it('adds rss, swap, truncated page-table pages and adj * (totalpages / 1000)', () => {
    const b = oomBadness({ ...base, oomScoreAdj: 500 }, 6170946);
    expect(b.pgtablesPages).toBe(3);
    expect(b.adjTerm).toBe(500 * 6170); // the division comes first
    expect(b.points).toBe(1000 + 10 + 3 + 3085000);
  });
  it('negative adj (cannot be written here: EACCES without CAP_SYS_RESOURCE) lowers the points; -1000 is never', () => {
    expect(oomBadness({ ...base, oomScoreAdj: -500 }, 1_000_000).points).toBe(1013 - 500_000);
    expect(oomBadness({ ...base, oomScoreAdj: -1000 }, 1_000_000).points).toBeNull();
    // C division truncates toward zero for the negative badness: (1000 + trunc(-499987*1000/1e6)) * 2 / 3
    expect(procOomScore(1013 - 500_000, 1_000_000)).toBe(Math.trunc(((1000 - 499) * 2) / 3));
    expect(procOomScore(null, 1_000_000)).toBe(0);
  });
  it('a tiny adj-0 task scores 666 and adj 1000 of a tiny task 1333', () => {
    expect(procOomScore(oomBadness({ ...base, rssPages: 1 }, 6170946).points, 6170946)).toBe(666);
    expect(procOomScore(oomBadness({ ...base, rssPages: 1, oomScoreAdj: 1000 }, 6170946).points, 6170946)).toBe(1332);
  });
});

describe('the capture arithmetic is the reference engine\'s', () => {
  it('oom_badness and proc_oom_score agree with reference/oom_kill.ts on random tasks and machines (seeded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 << 26 }), fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 1 << 24 }),
        fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 1 << 28 }),
        (rss, swap, pgtablesBytes, adj, totalpages) => {
          const b = oomBadness({ rssPages: rss, swapPages: swap, pgtablesBytes, oomScoreAdj: adj, unkillable: false }, totalpages);
          const r = ref.oomBadness({ isGlobalInit: false, isKthread: false, hasMm: true, oomScoreAdj: adj, mmfOomSkip: false, inVfork: false, rss, swapents: swap, pgtablesBytes }, totalpages);
          expect(b.points ?? ref.LONG_MIN).toBe(r);
          expect(procOomScore(b.points, totalpages)).toBe(ref.procOomScore(r, totalpages));
        },
      ),
      { seed: 14, numRuns: 2000 },
    );
  });
});

describe('agreement', () => {
  it('Kendall tau-b: 1 for the same order, -1 reversed, ties reduce it', () => {
    expect(kendallTauB([1, 2, 3], [10, 20, 30])).toBe(1);
    expect(kendallTauB([1, 2, 3], [30, 20, 10])).toBe(-1);
    expect(kendallTauB([1, 2, 3], [1, 1, 2])).toBeCloseTo(2 / Math.sqrt(6), 12);
    expect(kendallTauB([1, 1], [2, 2])).toBeNull();
    const a = agreement([666, 700, 1], [666, 702, 1]);
    expect([a.exact, a.maxAbsDiff, a.n]).toEqual([2, 2, 3]);
  });
});

describe('/proc parsing', () => {
  it('reads status fields and the v1 memory line of /proc/PID/cgroup', () => {
    const st = parseStatus('Name:\tnode\nRssAnon:\t     148 kB\n');
    expect(st.get('Name')).toBe('node');
    expect(st.get('RssAnon')).toBe('148 kB');
    expect(memcgOf('5:devices:/\n4:memory:/process_api/abc\n0::/\n')).toBe('/process_api/abc');
    expect(memcgOf('0::/user.slice\n')).toBe('/user.slice');
  });
  it('reads stat fields after the last ")" of the comm (comms may hold spaces and parentheses)', () => {
    const stat = '4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777 123456 321 18446744073709551615 1 1 0';
    expect(statRssPages(stat)).toBe(321);
    expect(statField(stat, 22)).toBe(777);
  });
});

const live = existsSync('/proc/self/oom_score');
if (!live) console.log('capture-predict: live check skipped: /proc/self/oom_score is not readable here');
describe.skipIf(!live)('live /proc against the kernel', () => {
  it('predicts oom_score of this test process within 1 of the kernel (per-CPU rss counters may move)', () => {
    const p = predict(captureLive());
    const me = p.global.rows.find((r) => r.task.pid === process.pid);
    expect(me).toBeDefined();
    expect(Math.abs(me!.predictedOomScore - me!.task.oom_score)).toBeLessThanOrEqual(1);
    expect(p.agreement.n).toBeGreaterThan(0);
  });
});

describe('kernel log OOM reports', () => {
  it('parses the Tasks state table and the oom-kill line that follows it', () => {
    // The shape of a v1 memcg OOM report on Linux 6.18 (numbers from a run of test/capture-kernel.test.ts).
    const log = [
      '[48331.787666] Tasks state (memory values in pages):',
      '[48331.787667] [  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name',
      '[48331.787671] [  26564]     0 26564     2793     2498     2080      418         0    69632        0           300 oomsim-memhog',
      '[48331.787682] [  26566]     0 26566    30556    30046    29632      414         0   282624        0             0 my prog',
      '[48331.787687] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a/b,task_memcg=/a/b,task=my prog,pid=26566,uid=0',
      '[48331.787700] Memory cgroup out of memory: Killed process 26566 (my prog) total-vm:122224kB',
      '[48400.000000] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=x,pid=7,uid=0',
    ].join('\n');
    const r = parseOomReports(log);
    expect(r).toHaveLength(2);
    expect(r[0]).toMatchObject({ constraint: 'CONSTRAINT_MEMCG', oomMemcg: '/a/b', victimPid: 26566, victimComm: 'my prog' });
    expect(r[0]!.tasks[1]).toEqual({ pid: 26566, uid: 0, tgid: 26566, totalVm: 30556, rss: 30046, rssAnon: 29632, rssFile: 414, rssShmem: 0, pgtablesBytes: 282624, swapents: 0, oomScoreAdj: 0, name: 'my prog' });
    expect(r[1]).toMatchObject({ constraint: 'CONSTRAINT_NONE', oomMemcg: null, victimPid: 7, tasks: [] });

    // Replayed with the memcg's totalpages (128 MiB): 2498 + 17 + 300*32 = 12115 vs 30046 + 69 = 30115.
    const bad = (t: { rss: number; swapents: number; pgtablesBytes: number; oomScoreAdj: number }, tp: number) =>
      oomBadness({ rssPages: t.rss, swapPages: t.swapents, pgtablesBytes: t.pgtablesBytes, oomScoreAdj: t.oomScoreAdj, unkillable: false }, tp).points;
    const c = checkReport(r[0]!, 6170946, (p) => (p === '/a/b' ? 32768 : null), bad);
    expect(c).toMatchObject({ totalpages: 32768, predictedPid: 26566, agrees: true });
    expect(c.rows.map((x) => x.points)).toEqual([30046 + 69, 2498 + 17 + 300 * 32]);
    // With the global totalpages the adj-300 task would win: the replay must use the memcg's.
    expect(checkReport(r[0]!, 6170946, () => 6170946, bad)).toMatchObject({ predictedPid: 26564, agrees: false });
    expect(checkReport(r[0]!, 6170946, () => null, bad)).toMatchObject({ totalpages: null, predictedPid: null, agrees: null });
    expect(checkReport(r[1]!, 6170946, () => null, bad)).toMatchObject({ totalpages: 6170946, predictedPid: null, agrees: null });
  });
});
