/**
 * The replay's HTML page: the text table, then MemAvailable and memory PSI (some avg10) over recording time on one
 * synced axis, with the kernel's OOM kills (solid red) and each daemon's kills (dashed, one colour per daemon) as
 * markers. Same assets and layout as `oomsim compare --html` (policy/compare-html.ts; uPlot inlined).
 */
import { tablePage } from '../report/html.js';
import type { ReplayResult } from './replay.js';
import { replayText } from './replay-report.js';

const PAGE = String.raw`
(function () {
  var R = window.OOMSIM_REPLAY, colors = ['#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
  var width = Math.min(1100, document.body.clientWidth - 40);
  var plugin = { hooks: { draw: [function (u) {
    var ctx = u.ctx, dpr = devicePixelRatio || 1; ctx.save(); ctx.lineWidth = 2 * dpr; ctx.font = (11 * dpr) + 'px sans-serif';
    R.marks.forEach(function (k, n) { var x = u.valToPos(k.t, 'x', true);
      var c = k.i < 0 ? '#d00' : colors[k.i % colors.length]; ctx.strokeStyle = c; ctx.fillStyle = c;
      ctx.setLineDash(k.i < 0 ? [] : [5 * dpr, 4 * dpr]); ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.fillText(k.label, x + 4 * dpr, u.bbox.top + (12 + 13 * (n % 4)) * dpr); });
    ctx.restore(); }] } };
  function chart(id, title, unit, cols, names) {
    var series = [{ label: 's' }].concat(names.map(function (l, i) { return { label: l, stroke: i ? '#888' : '#d62728', width: 2 }; }));
    new uPlot({ title: title, width: width, height: 260, series: series, plugins: [plugin], cursor: { sync: { key: 'replay' } },
      scales: { x: { time: false } }, axes: [{ label: 'recording time (s)' }, { label: unit, size: 70 }] },
      [R.t].concat(cols), document.getElementById(id));
  }
  chart('avail', 'MemAvailable and MemTotal (MiB)', 'MiB', [R.avail, R.total], ['MemAvailable', 'MemTotal']);
  chart('psi', 'Memory pressure: some avg10 (%)', '%', [R.psi], ['some avg10']);
  document.body.setAttribute('data-ready', '1');
})();
`;

export function replayHtml(r: ReplayResult): string {
  const data = {
    t: r.series.tMs.map((x) => x / 1000),
    avail: r.series.memAvailableKb.map((v) => v / 1024),
    total: r.series.memTotalKb.map((v) => v / 1024),
    psi: r.series.psiSomeAvg10,
    marks: [
      ...r.kernel.map((k) => ({ t: k.tMs / 1000, i: -1, label: `kernel OOM ${k.comm ?? k.memcg ?? ''}` })),
      ...r.rows.flatMap((x, i) => x.kills.slice(0, 20).map((k) => ({ t: k.tMs / 1000, i, label: `${x.label} ${k.victims[0]?.comm ?? ''}` }))),
    ],
  };
  return tablePage({
    title: `oomsim replay: ${r.file}`,
    table: replayText(r),
    note: 'Solid red: OOM kills the kernel made in the recording. Dashed: kills each daemon would have made (first 20 each).',
    charts: ['avail', 'psi'],
    global: 'OOMSIM_REPLAY',
    data,
    script: PAGE,
  });
}
