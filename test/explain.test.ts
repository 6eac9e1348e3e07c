// The candidate table users ask for: which process the OOM killer would pick, and why the others would not be.
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, load, runScenarioFile, type OomExplanation } from '../bindings/src/index.js';
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

describe('run --explain', () => {
  // scenarios/global-oom-adj.yaml: web (the leaker) allocates when memory runs out; memcached has the highest badness
  // and is killed first, web at the second OOM. Each table must be the ranking the OOM killer chose from, with the
  // victim alive and on top; a table taken after the kill ranks the next task first (web, then postgres).
  it('records the ranking the OOM killer saw at selection, before the kill', () => {
    const r = runScenarioFile(new URL('../scenarios/global-oom-adj.yaml', import.meta.url).pathname, { explain: true });
    expect(r.oomKills.map((k) => k.pid)).toEqual([200, 300]);
    expect(r.explanations).toHaveLength(r.oomKills.length);
    r.explanations.forEach((x, i) => {
      const kill = r.oomKills[i];
      const table = x.table as OomExplanation;
      expect(x.tNs).toBe(kill.tNs);
      expect(table.constraint).toBe('CONSTRAINT_NONE');
      const chosen = table.rows.filter((row) => row.chosen);
      expect(chosen.map((row) => row.pid)).toEqual([kill.pid]);
      expect(table.rows[0].pid).toBe(kill.pid);
      // the victim still holds its memory in the table, and its badness is the one the kill event reported
      expect(table.rows[0].rss_pages).toBeGreaterThan(0);
      expect(table.rows[0].badness).toBe(Number(kill.badness));
    });
  });

  it('records nothing without explain', () => {
    const r = runScenarioFile(new URL('../scenarios/global-oom-adj.yaml', import.meta.url).pathname);
    expect(r.oomKills).toHaveLength(2);
    expect(r.explanations).toEqual([]);
  });
});
