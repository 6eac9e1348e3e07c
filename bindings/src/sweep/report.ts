/**
 * Reports over a results file (`oomsim sweep --report results.sqlite [--html f]`): rows grouped into
 * configurations (scenario, policy, parameters, point; seeds pooled), means per configuration, and the Pareto front
 * of mean stall time against mean collateral kills (no other configuration of the same scenario is at least as good
 * on both and better on one).
 */
import type { SqlValue } from 'sql.js';
import { esc, uplotAssets } from '../report/html.js';

export interface ConfigSummary {
  scenario: string;
  policy: string;
  params: string;
  point: string;
  runs: number;
  failed: number;
  kills: number;
  collateral: number;
  stallS: number;
  pressureS: number;
  workLost: number;
  protectedOk: number;
  pareto: boolean;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Rows (ResultStore.rows()) into configurations, sorted by scenario, policy, params, point. */
export function summarize(rows: Record<string, SqlValue>[]): ConfigSummary[] {
  const groups = new Map<string, Record<string, SqlValue>[]>();
  for (const r of rows) {
    const k = JSON.stringify([r.scenario, r.policy, r.params, r.point]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const out: ConfigSummary[] = [];
  for (const [k, g] of groups) {
    const [scenario, policy, params, point] = JSON.parse(k) as string[];
    const ok = g.filter((r) => r.status === 'done');
    const col = (c: string) => ok.map((r) => Number(r[c] ?? 0));
    out.push({
      scenario, policy, params, point,
      runs: g.length,
      failed: g.length - ok.length,
      kills: mean(col('kills')),
      collateral: mean(col('collateral_kills')),
      stallS: mean(col('stalled_ns')) / 1e9,
      pressureS: mean(col('under_pressure_ns')) / 1e9,
      workLost: mean(col('work_lost_mibs')),
      protectedOk: mean(col('protected_ok')),
      pareto: false,
    });
  }
  for (const c of out) {
    if (!(c.runs > c.failed)) continue;
    c.pareto = !out.some((d) => d !== c && d.scenario === c.scenario && d.runs > d.failed && d.collateral <= c.collateral && d.stallS <= c.stallS && (d.collateral < c.collateral || d.stallS < c.stallS));
  }
  return out.sort((a, b) => (a.scenario + a.policy + a.params + a.point < b.scenario + b.policy + b.params + b.point ? -1 : 1));
}

const f = (x: number, d = 1) => (Number.isNaN(x) ? '-' : x.toFixed(d));
const vals = (json: string) => {
  const o = JSON.parse(json) as Record<string, unknown>;
  return Object.keys(o).map((k) => `${k}=${typeof o[k] === 'string' ? o[k] : JSON.stringify(o[k])}`).join(' ');
};

export function summaryTable(cs: ConfigSummary[]): string[] {
  const head = ['scenario', 'policy', 'params', 'point', 'runs', 'failed', 'kills', 'collateral', 'stall s', 'pressure s', 'work lost MiB*s', 'protected ok', 'pareto'];
  const body = cs.map((c) => [c.scenario, c.policy, vals(c.params), vals(c.point), String(c.runs), String(c.failed), f(c.kills, 2), f(c.collateral, 2), f(c.stallS), f(c.pressureS), f(c.workLost), f(c.protectedOk * 100, 0) + '%', c.pareto ? '*' : '']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(w[i])).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)];
}

const PAGE = String.raw`
(function () {
  var R = window.OOMSIM_SWEEP, colors = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  var width = Math.min(1100, document.body.clientWidth - 40);
  R.charts.forEach(function (c, n) {
    var el = document.createElement('div'); document.getElementById('charts').appendChild(el);
    var series = [{ label: 'collateral kills' }].concat(c.labels.map(function (l, i) {
      var front = i === c.labels.length - 1;
      return { label: l, stroke: front ? '#000' : colors[i % colors.length], width: front ? 1 : 0, spanGaps: front,
        paths: front ? undefined : function () { return null; }, points: { show: true, size: front ? 4 : 8 } };
    }));
    new uPlot({ title: c.scenario + ': mean stall time vs mean collateral kills (line: Pareto front)', width: width, height: 360,
      series: series, scales: { x: { time: false } }, axes: [{ label: 'collateral kills (mean over seeds)' }, { label: 'stall s', size: 70 }] },
      c.data, el);
  });
  document.body.setAttribute('data-ready', '1');
})();
`;

/** The standalone HTML report: the table and, per scenario, a Pareto chart (one series per policy). */
export function sweepHtml(cs: ConfigSummary[], title: string): string {
  const { js, css } = uplotAssets();
  const charts = [...new Set(cs.map((c) => c.scenario))].map((scenario) => {
    const mine = cs.filter((c) => c.scenario === scenario && c.runs > c.failed).sort((a, b) => a.collateral - b.collateral || a.stallS - b.stallS);
    const policies = [...new Set(mine.map((c) => c.policy))].sort();
    const x = mine.map((c) => c.collateral);
    const data = [x, ...policies.map((p) => mine.map((c) => (c.policy === p ? c.stallS : null))), mine.map((c) => (c.pareto ? c.stallS : null))];
    return { scenario, labels: [...policies, 'Pareto front'], data };
  });
  const rows = summaryTable(cs);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${css}
body{font-family:system-ui,sans-serif;margin:20px}pre{font-size:12px}</style></head>
<body><h1>${esc(title)}</h1><p>${cs.length} configurations; * marks the Pareto front of mean stall time vs mean collateral kills per scenario.</p>
<pre>${esc(rows.join('\n'))}</pre><div id="charts"></div>
<script>${js}</script><script>window.OOMSIM_SWEEP=${JSON.stringify({ charts }).replace(/</g, '\\u003c')};</script><script>${PAGE}</script>
</body></html>
`;
}
