// The candidate table users ask for: which process the OOM killer would pick, and why the others would not be.
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, load } from '../bindings/src/index.js';
import { explainTable } from '../bindings/src/report/explain.js';

beforeAll(async () => {
  await load();
});

describe('OOM explanation table', () => {
  it('ranks by badness with adj weighed in totalpages/1000 units, and says why ineligible tasks are skipped', () => {
    const e = new Engine({ totalramPages: 262144 }); // totalpages 262144: one adj point = 262 pages
    e.spawn(1, { comm: 'init' });
    e.spawn(10, { comm: 'big', oomScoreAdj: -500 });
    e.spawn(11, { comm: 'small' });
    e.spawn(12, { comm: 'pinned', oomScoreAdj: -1000 });
    for (const [pid, pages] of [[10, 100000], [11, 20000], [12, 50000]]) e.touch(pid, e.mmapAnon(pid, pages), pages, 'write');
    const x = e.oomExplain();
    expect(x.totalpages).toBe(262144);
    const byPid = Object.fromEntries(x.rows.map((r) => [r.pid, r]));
    // big: 100000 pages + page tables - 500 * 262 = 100000 + pgtables - 131000 < small's 20000 + pgtables
    expect(byPid[10].adj_points).toBe(-131000);
    expect(x.rows[0]).toMatchObject({ pid: 11, chosen: true, eligible: true });
    expect(byPid[12]).toMatchObject({ eligible: false, badness: null, oom_score: 0 });
    expect(byPid[1]).toMatchObject({ eligible: false });
    const text = explainTable(x);
    expect(text[0]).toBe('CONSTRAINT_NONE, totalpages 262144 (one oom_score_adj point = totalpages/1000 = 262 pages)');
    expect(text.find((l) => l.includes(' small '))).toMatch(/VICTIM$/);
    expect(text.find((l) => l.includes(' pinned '))).toMatch(/not eligible: .*-1000/);
    e.free();
  });
});
