/** Text and JSON forms of an `oomsim predict` result. */
import type { Prediction, Ranking } from './predict.js';

function rankingText(r: Ranking, limit: number, kernelColumn: boolean): string[] {
  const out: string[] = [];
  const title = r.constraint === 'CONSTRAINT_NONE' ? 'global OOM (CONSTRAINT_NONE)' : `memcg OOM in ${r.domain} (CONSTRAINT_MEMCG)`;
  out.push(`${title}: totalpages ${r.totalpages} (${r.totalpagesFrom}), adj unit ${Math.trunc(r.totalpages / 1000)} pages, ${r.rows.length} candidates`);
  out.push(`  rank      pid  comm             adj      rss     swap   pgtbl   adj-term     points${kernelColumn ? '  oom_score kernel  note' : ''}`);
  r.rows.slice(0, limit).forEach((row, i) => {
    const b = row.badness;
    let l = `  ${String(i + 1).padStart(4)} ${String(row.task.pid).padStart(8)}  ${row.task.comm.slice(0, 15).padEnd(15)} ` +
      `${String(row.task.oom_score_adj).padStart(5)} ${String(b.rssPages).padStart(8)} ${String(b.swapPages).padStart(8)} ` +
      `${String(b.pgtablesPages).padStart(7)} ${String(b.adjTerm).padStart(10)} ${String(b.points ?? 'never').padStart(10)}`;
    if (kernelColumn) l += `  ${String(row.predictedOomScore).padStart(9)} ${String(row.task.oom_score).padStart(6)}  ${row.note}`;
    out.push(l.trimEnd());
  });
  if (r.rows.length > limit) out.push(`  ... ${r.rows.length - limit} more (--all lists every candidate)`);
  out.push(r.victim ? `  victim: pid ${r.victim.task.pid} (${r.victim.task.comm}), ${r.victim.badness.points} points` : '  victim: none (no killable task)');
  if (r.note) out.push(`  note: ${r.note}`);
  return out;
}

export function predictText(p: Prediction, limit = 20): string[] {
  const s = p.skipped;
  const out: string[] = [
    `${p.source.host} (Linux ${p.source.kernel}) at ${p.source.taken_at}${p.source.redacted ? ', redacted' : ''}: ${p.global.rows.length} processes read; ` +
      `skipped ${s.kernel_threads} kernel threads, ${s.zombies} zombies, ${s.vanished} vanished, ${s.unreadable} unreadable` +
      (s.files.length ? `, ${s.files.length} unreadable files` : ''),
    'points = rss + swap + pgtbl + adj-term (mm/oom_kill.c:oom_badness), in pages; adj-term = adj * (totalpages / 1000)',
    '',
  ];
  out.push(...rankingText(p.global, limit, true));
  for (const m of p.memcgs) {
    out.push('');
    out.push(...rankingText(m, limit, false));
  }
  const a = p.agreement;
  out.push('');
  out.push(`agreement with /proc/PID/oom_score: ${a.exact}/${a.n} exact, max |difference| ${a.maxAbsDiff}, ` +
    `Kendall tau-b ${a.tau === null ? 'n/a (all tied)' : a.tau.toFixed(4)}`);
  return out;
}

function rankingJson(r: Ranking, kernelColumn: boolean) {
  return {
    domain: r.domain,
    constraint: r.constraint,
    totalpages: r.totalpages,
    totalpages_from: r.totalpagesFrom,
    victim: r.victim ? { pid: r.victim.task.pid, comm: r.victim.task.comm, points: r.victim.badness.points } : null,
    note: r.note || undefined,
    rows: r.rows.map((row) => ({
      pid: row.task.pid,
      comm: row.task.comm,
      memcg: row.task.memcg,
      oom_score_adj: row.task.oom_score_adj,
      rss: row.badness.rssPages,
      swap: row.badness.swapPages,
      pgtables: row.badness.pgtablesPages,
      adj_term: row.badness.adjTerm,
      points: row.badness.points,
      ...(kernelColumn ? { oom_score: row.predictedOomScore, kernel_oom_score: row.task.oom_score, note: row.note || undefined } : {}),
    })),
  };
}

export function predictJson(p: Prediction): string {
  return JSON.stringify(
    {
      source: p.source,
      skipped: p.skipped,
      agreement: p.agreement,
      global: rankingJson(p.global, true),
      memcgs: p.memcgs.map((m) => rankingJson(m, false)),
    },
    null,
    2,
  ) + '\n';
}
