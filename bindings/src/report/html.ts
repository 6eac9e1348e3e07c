/**
 * The standalone HTML report: one file, no network. uPlot (MIT, pinned in package.json) is read from node_modules
 * at report time and inlined; the run's data is embedded as JSON. Charts over simulated time: memory (used, cache,
 * free, available), swap, Committed_AS vs CommitLimit, per-process RSS, with OOM-kill and panic markers, drawn by
 * the chart module the playground uses too (report/charts.ts).
 * When the page has drawn every chart it sets `<body data-ready="1">` (tests wait for it).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RunResult } from '../run.js';
import { bigintReplacer, toJsonObject } from './json.js';
import { textSummary } from './text.js';
import { CHART_LABELS_EN, drawRunCharts } from './charts.js';

export function uplotAssets(): { js: string; css: string } {
  const req = createRequire(import.meta.url);
  const dir = req.resolve('uplot/package.json').replace(/package\.json$/, '');
  return { js: readFileSync(`${dir}dist/uPlot.iife.min.js`, 'utf8'), css: readFileSync(`${dir}dist/uPlot.min.css`, 'utf8') };
}

/** Text inside HTML: &, < and > escaped. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** JSON inside <script>: no `</script>` or `<!--` can end it early. */
export const scriptJson = (v: unknown) => JSON.stringify(v, bigintReplacer).replace(/</g, '\\u003c');

/** What a table-and-charts page holds (`oomsim compare --html`, `oomsim replay --html`). */
export interface TablePage {
  /** The page's title and heading (text, escaped here). */
  title: string;
  /** The text table, one line each, shown as <pre id="table">. */
  table: string[];
  /** The sentence under the table (HTML). */
  note: string;
  /** The ids of the chart placeholders, in order. */
  charts: string[];
  /** The data, as `window[global]`, for `script` to draw from. */
  global: string;
  data: unknown;
  /** The drawing script (it sets `<body data-ready="1">` when done). */
  script: string;
}

/** One standalone file: heading, the table, the note, the chart placeholders, then uPlot inlined, the data as JSON
 *  and the drawing script. */
export function tablePage(p: TablePage): string {
  const { js, css } = uplotAssets();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(p.title)}</title>
<style>${css}
body { font-family: system-ui, sans-serif; margin: 20px; } pre { background: #f6f6f6; padding: 10px; font-size: 12px; overflow-x: auto; }</style>
</head><body>
<h1>${esc(p.title)}</h1>
<pre id="table">${esc(p.table.join('\n'))}</pre>
<p>${p.note}</p>
${p.charts.map((id) => `<div id="${id}"></div>`).join('')}
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script>window.${p.global} = ${scriptJson(p.data)};</script>
<script>${p.script}</script>
</body></html>
`;
}

/** Draws the charts with the shared chart module (report/charts.ts), inlined as source. */
const pageScript = () => String.raw`
(function () {
  var drawRunCharts = ${drawRunCharts.toString()};
  drawRunCharts(uPlot, window.OOMSIM_REPORT, document.getElementById('charts'), ${JSON.stringify(CHART_LABELS_EN)});
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
pre { background: #f6f6f6; padding: 10px; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
#charts { width: 100%; }
.chart { margin: 16px 0; }
.chart-note { color: #555; font-style: italic; }
</style>
</head>
<body>
<h1>oomsim: ${esc(r.name)}</h1>
<p>${esc(r.description)}</p>
<h2>Summary</h2>
<pre id="summary">${esc(summary)}</pre>
<h2>Charts</h2>
<p>Red vertical lines mark OOM kills, purple kills by a userspace policy, black a panic, dashed orange the first ENOMEM a program saw. A dashed line has the same values as the line it names. The last chart shows the memory charged to each declared cgroup.</p>
<div id="charts"></div>
${notes ? `<h2>Not yet simulated</h2><ul>${notes}</ul>` : ''}
<h2>Kernel log</h2>
<pre id="log">${esc(r.log.length ? (data as { log: string[] }).log.join('\n') : '(empty)')}</pre>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script>window.OOMSIM_REPORT = ${scriptJson(data)};</script>
<script>${pageScript()}</script>
</body>
</html>
`;
}
