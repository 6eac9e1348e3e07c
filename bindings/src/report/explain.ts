/**
 * The OOM killer's candidate table as text: "which process dies, and why". One row per task, in the order the
 * kernel would choose (mm/oom_kill.c:select_bad_process: highest badness, ties to the later task), then the tasks it
 * would not consider and why. badness = rss + swapents + pgtables + adj × (totalpages / 1000), the division first
 * (measured on 6.18); oom_score is /proc/<pid>/oom_score (global totalpages).
 */
import type { OomExplanation } from '../engine.js';

const pad = (s: string | number, n: number) => String(s).padStart(n);

export function explainTable(x: OomExplanation): string[] {
  const unit = Math.trunc(x.totalpages / 1000);
  const L = [
    `${x.constraint}, totalpages ${x.totalpages} (one oom_score_adj point = totalpages/1000 = ${unit} pages)`,
    '   pid comm             rss_pages  swapents  pgtables   adj  adj*(tp/1000)     badness  oom_score  verdict',
  ];
  for (const r of x.rows) {
    const verdict = r.chosen ? 'VICTIM' : r.eligible ? 'candidate' : `not eligible: ${r.reason ?? 'unknown'}`;
    L.push(
      `${pad(r.pid, 6)} ${r.comm.padEnd(16).slice(0, 16)} ${pad(r.rss_pages, 9)} ${pad(r.swapents, 9)} ${pad(r.pgtables_pages, 9)} ` +
        `${pad(r.oom_score_adj, 5)} ${pad(r.adj_points, 14)} ${pad(r.badness === null ? 'LONG_MIN' : r.badness, 11)} ${pad(r.oom_score, 10)}  ${verdict}`,
    );
  }
  return L;
}
