// The process table at the playback time, and the oom_badness breakdown of one task ("why this victim").
import type { OomExplanation, TaskRow } from '../../src/engine.js';
import type { TEXT } from './i18n.js';

type T = (typeof TEXT)['en'];
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | number) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  return e;
};

export interface ProcState {
  report: any;
  index: number;
  snapshot: { atNs: string; tasks: TaskRow[]; explain: OomExplanation | null } | null;
  selected: number | null;
}

/** State of a scenario process at time tNs, from its outcome in the report. */
function stateAt(p: any, tNs: bigint): string {
  const o = p.outcome;
  if (p.startNs !== null && BigInt(p.startNs) > tNs) return 'not started';
  if (o.atNs !== undefined && BigInt(o.atNs) <= tNs) return o.kind === 'oom_killed' ? 'OOM-killed' : o.kind.replace('_', ' ');
  if (o.kind === 'blocked' && BigInt(o.sinceNs) <= tNs) return 'blocked';
  return 'running';
}

export function renderProcs(table: HTMLTableElement, s: ProcState, t: T, onSelect: (pid: number) => void): void {
  const R = s.report;
  const tNs = BigInt(R.series.tNs[s.index]);
  const snap = s.snapshot && s.snapshot.atNs === String(tNs) ? s.snapshot : null;
  const head = el('tr');
  for (const c of t.cols) head.appendChild(el('th', c));
  const rows: HTMLTableRowElement[] = [head];
  for (const p of R.processes) {
    const rss = R.series.rssKb[String(p.pid)]?.[s.index];
    const task = snap?.tasks.find((x) => x.pid === p.pid);
    const cand = snap?.explain?.rows.find((x) => x.pid === p.pid);
    const tr = el('tr');
    tr.tabIndex = 0;
    tr.dataset.pid = String(p.pid);
    if (s.selected === p.pid) tr.className = 'selected';
    const dead = rss === null || rss === undefined;
    const cells = [p.pid, p.comm, dead ? '—' : rss, ...(dead ? ['—', '—', '—', '—'] : [task ? task.vm_swap_kb : '…', task ? task.vm_pte_kb : '…', task ? task.oom_score_adj : '…', cand ? cand.oom_score : '…']), stateAt(p, tNs)];
    for (const c of cells) tr.appendChild(el('td', c));
    tr.onclick = () => onSelect(p.pid);
    tr.onkeydown = (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onSelect(p.pid));
    rows.push(tr);
  }
  table.replaceChildren(...rows);
}

/** The breakdown pane: the selected task's badness sum at the playback time, then the ranking at the last kill. */
export function renderWhy(pane: HTMLElement, s: ProcState, t: T): void {
  const R = s.report;
  const tNs = BigInt(R.series.tNs[s.index]);
  const out: string[] = [];
  const snap = s.snapshot && s.snapshot.atNs === String(tNs) ? s.snapshot : null;
  if (s.selected !== null && snap?.explain) {
    const x = snap.explain;
    const r = x.rows.find((q) => q.pid === s.selected);
    if (r) {
      out.push(`${r.comm} (${r.pid}) at ${(Number(tNs) / 1e9).toFixed(1)}s, ${x.constraint}, totalpages ${x.totalpages}:`);
      out.push(`  oom_badness = rss ${r.rss_pages} + swapents ${r.swapents} + pgtables ${r.pgtables_pages} + adj ${r.oom_score_adj} × (${x.totalpages} / 1000 = ${Math.trunc(x.totalpages / 1000)}) = ${r.adj_points}`);
      out.push(`              = ${r.badness === null ? 'LONG_MIN (never chosen)' : r.badness} pages; oom_score ${r.oom_score}; ${r.chosen ? 'this task would be the victim now' : r.eligible ? 'a candidate, not the top one' : `not eligible: ${r.reason}`}`);
      out.push('');
    }
  } else if (s.selected !== null) out.push('…');
  // Each kill so far with the badness the kernel chose it by (the oom_kill event carries it). The full ranking of a
  // moment is the snapshot above: step to the tick before a kill and click the tasks to compare them.
  const kills = (R.oomKills as { tNs: string; pid: number; comm: string; badness: string }[]).filter((k) => BigInt(k.tNs) <= tNs);
  for (const k of kills) out.push(`${t.killed} ${k.comm} (${k.pid}) @ ${(Number(k.tNs) / 1e9).toFixed(3)}s: oom_badness ${k.badness} pages`);
  if (!out.length) out.push(t.whyHint);
  pane.textContent = out.join('\n');
}
