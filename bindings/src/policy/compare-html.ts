/** The bake-off HTML report: the table, then charts of every policy's run on one shared, synced time axis. */
import { uplotAssets } from '../report/html.js';
import { bigintReplacer } from '../report/json.js';
import { compareTable, type CompareResult } from './compare.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const PAGE = String.raw`
(function () {
  var R = window.OOMSIM_COMPARE, colors = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  var t = R.t, width = Math.min(1100, document.body.clientWidth - 40);
  var marks = R.kills;
  var plugin = { hooks: { draw: [function (u) {
    var ctx = u.ctx; ctx.save(); ctx.lineWidth = devicePixelRatio;
    marks.forEach(function (k) { var x = u.valToPos(k.t, 'x', true); ctx.strokeStyle = colors[k.i % colors.length];
      ctx.setLineDash([4, 4]); ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke(); });
    ctx.restore(); }] } };
  function chart(id, title, unit, key) {
    var series = [{ label: 's' }].concat(R.labels.map(function (l, i) { return { label: l, stroke: colors[i % colors.length], width: 2 }; }));
    new uPlot({ title: title, width: width, height: 240, series: series, plugins: [plugin], cursor: { sync: { key: 'cmp' } },
      scales: { x: { time: false, range: [t[0], t[t.length - 1]] } }, axes: [{ label: 'simulated time (s)' }, { label: unit, size: 70 }] },
      [t].concat(R[key]), document.getElementById(id));
  }
  chart('avail', 'MemAvailable (MiB)', 'MiB', 'avail');
  chart('swap', 'Swap used (MiB)', 'MiB', 'swap');
  chart('tasks', 'Tasks', 'tasks', 'tasks');
  document.body.setAttribute('data-ready', '1');
})();
`;

export function compareHtml(r: CompareResult): string {
  const { js, css } = uplotAssets();
  const longest = r.runs.reduce((a, b) => (b.series.tNs.length > a.series.tNs.length ? b : a), r.runs[0]);
  const t = longest ? longest.series.tNs.map((x) => Number(x) / 1e9) : [];
  const pad = (a: number[]) => t.map((_x, i) => (i < a.length ? a[i] : null));
  const data = {
    t,
    labels: r.rows.map((x) => x.label),
    avail: r.runs.map((x) => pad(x.series.meminfo.MemAvailable.map((v) => v / 1024))),
    swap: r.runs.map((x) => pad(x.series.meminfo.SwapTotal.map((v, i) => (v - x.series.meminfo.SwapFree[i]) / 1024))),
    tasks: r.runs.map((x) => pad(x.series.tasks)),
    kills: r.rows.flatMap((x, i) => x.kills.map((k) => ({ t: Number(k.tNs) / 1e9, i }))),
  };
  const json = JSON.stringify(data, bigintReplacer).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oomsim compare: ${esc(r.scenario)}</title>
<style>${css}
body { font-family: system-ui, sans-serif; margin: 20px; } pre { background: #f6f6f6; padding: 10px; font-size: 12px; overflow-x: auto; }</style>
</head><body>
<h1>oomsim compare: ${esc(r.scenario)}</h1>
<pre id="table">${esc(compareTable(r).join('\n'))}</pre>
<p>Dashed lines: kills (policy or kernel), coloured by policy. The charts share one time axis and cursor.</p>
<div id="avail"></div><div id="swap"></div><div id="tasks"></div>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script>window.OOMSIM_COMPARE = ${json};</script>
<script>${PAGE}</script>
</body></html>
`;
}
