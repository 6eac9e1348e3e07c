/** The bake-off HTML report: the table, then charts of every policy's run on one shared, synced time axis. */
import { tablePage } from '../report/html.js';
import { compareTable, type CompareResult } from './compare.js';

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
  return tablePage({
    title: `oomsim compare: ${r.scenario}`,
    table: compareTable(r),
    note: 'Dashed lines: kills (policy or kernel), coloured by policy. The charts share one time axis and cursor.',
    charts: ['avail', 'swap', 'tasks'],
    global: 'OOMSIM_COMPARE',
    data,
    script: PAGE,
  });
}
