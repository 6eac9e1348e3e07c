/**
 * The standalone HTML report: one file, no network. uPlot (MIT, pinned in package.json) is read from node_modules
 * at report time and inlined; the run's data is embedded as JSON. Charts over simulated time: memory (used, cache,
 * free, available), swap, Committed_AS vs CommitLimit, per-process RSS, with OOM-kill and panic markers.
 * When the page has drawn every chart it sets `<body data-ready="1">` (tests wait for it).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RunResult } from '../run.js';
import { bigintReplacer, toJsonObject } from './json.js';
import { textSummary } from './text.js';

export function uplotAssets(): { js: string; css: string } {
  const req = createRequire(import.meta.url);
  const dir = req.resolve('uplot/package.json').replace(/package\.json$/, '');
  return { js: readFileSync(`${dir}dist/uPlot.iife.min.js`, 'utf8'), css: readFileSync(`${dir}dist/uPlot.min.css`, 'utf8') };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** JSON inside <script>: no `</script>` or `<!--` can end it early. */
const scriptJson = (v: unknown) => JSON.stringify(v, bigintReplacer).replace(/</g, '\\u003c');

const PAGE_SCRIPT = String.raw`
(function () {
  var R = window.OOMSIM_REPORT;
  var t = R.series.tNs.map(function (x) { return Number(x) / 1e9; });
  var m = R.series.meminfo;
  var mb = function (a) { return a.map(function (v) { return v === null ? null : v / 1024; }); };
  var sub = function (a, b) { return a.map(function (v, i) { return v - b[i]; }); };
  var marks = R.oomKills.map(function (k) { return { t: Number(k.tNs) / 1e9, label: 'OOM kill ' + k.comm }; });
  if (R.panic) marks.push({ t: Number(R.panic.tNs) / 1e9, label: 'panic' });
  var colors = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  var markerPlugin = {
    hooks: {
      draw: [function (u) {
        var ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#d00';
        ctx.fillStyle = '#d00';
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
        marks.forEach(function (mk) {
          var x = u.valToPos(mk.t, 'x', true);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillText(mk.label, x + 4, u.bbox.top + 12 * devicePixelRatio);
        });
        ctx.restore();
      }],
    },
  };
  var width = Math.min(1100, document.body.clientWidth - 40);
  function chart(id, title, names, cols, fill) {
    var el = document.getElementById(id);
    var series = [{ label: 's' }].concat(names.map(function (n, i) {
      return { label: n, stroke: colors[i % colors.length], width: 2, fill: fill ? colors[i % colors.length] + '22' : undefined, spanGaps: false };
    }));
    var opts = {
      title: title, width: width, height: 260, series: series, plugins: [markerPlugin],
      scales: { x: { time: false } },
      axes: [{ label: 'simulated time (s)' }, { label: 'MiB', size: 70 }],
    };
    return new uPlot(opts, [t].concat(cols), el);
  }
  var ws = sub(sub(m.MemTotal, m.MemFree), m['Inactive(file)']).map(function (v) { return Math.max(0, v); });
  chart('mem', 'Memory (MiB)', ['used (MemTotal - MemFree)', 'Cached', 'MemFree', 'MemAvailable', 'kubelet working set (used - Inactive(file))'],
    [mb(sub(m.MemTotal, m.MemFree)), mb(m.Cached), mb(m.MemFree), mb(m.MemAvailable), mb(ws)], false);
  chart('swap', 'Swap (MiB)', ['swap used', 'SwapTotal'], [mb(sub(m.SwapTotal, m.SwapFree)), mb(m.SwapTotal)], true);
  chart('commit', 'Committed_AS vs CommitLimit (MiB)', ['Committed_AS', 'CommitLimit'], [mb(m.Committed_AS), mb(m.CommitLimit)], false);
  var keys = Object.keys(R.series.rssKb);
  var names = keys.map(function (k) { var p = R.processes.filter(function (q) { return String(q.pid) === k; })[0]; return (p ? p.comm : '') + ' (' + k + ')'; });
  chart('rss', 'Per-process RSS (MiB)', names, keys.map(function (k) { return mb(R.series.rssKb[k]); }), false);
  var cg = Object.keys(R.series.cgroupKb || {});
  if (cg.length > 0) chart('cgroups', 'Memory charged per cgroup (MiB)', cg, cg.map(function (k) { return mb(R.series.cgroupKb[k]); }), false);
  document.body.setAttribute('data-ready', '1');
})();
`;

export function toHtml(r: RunResult): string {
  const { js, css } = uplotAssets();
  const data = toJsonObject(r);
  const summary = textSummary(r).join('\n');
  const notes = r.notSimulated.map((s) => `<li>${esc(s)}</li>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>oomsim report: ${esc(r.name)}</title>
<style>${css}
body { font-family: system-ui, sans-serif; margin: 20px; color: #222; background: #fff; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
.chart { margin: 16px 0; }
</style>
</head>
<body>
<h1>oomsim: ${esc(r.name)}</h1>
<p>${esc(r.description)}</p>
<h2>Summary</h2>
<pre id="summary">${esc(summary)}</pre>
<h2>Charts</h2>
<p>Red vertical lines mark OOM kills and a panic. The last chart shows the memory charged to each declared cgroup.</p>
<div class="chart" id="mem"></div>
<div class="chart" id="swap"></div>
<div class="chart" id="commit"></div>
<div class="chart" id="rss"></div>
<div class="chart" id="cgroups"></div>
${notes ? `<h2>Not yet simulated</h2><ul>${notes}</ul>` : ''}
<h2>Kernel log</h2>
<pre id="log">${esc(r.log.length ? (data as { log: string[] }).log.join('\n') : '(empty)')}</pre>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script>window.OOMSIM_REPORT = ${scriptJson(data)};</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
