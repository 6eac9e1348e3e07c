// The oomsim playground: a scenario editor with the repository's presets, a run in a Web Worker (progress, cancel,
// live pause / step N ticks / resume of the simulation itself), then playback of the finished run over simulated
// time (play / pause / step / speed) driving the shared charts
// (bindings/src/report/charts.ts), the process table with the oom_badness breakdown, and the kernel log; share by
// URL; English and Korean. Works from file:// (vite.config.ts inlines everything into index.html).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EditorView } from 'codemirror';
import wasmBase64 from '../../pkg/oomsim_wasm_bg.wasm?base64';
import RunWorker from './src/worker.ts?worker&inline';
import { drawRunCharts, type RunCharts } from '../src/report/charts.js';
import { createEditor } from './src/editor.js';
import { PRESETS, SECTIONS, articleCorrection } from './src/presets.js';
import { TEXT, type Lang } from './src/i18n.js';
import { decodeShare, encodeShare } from './src/share.js';
import { renderProcs, renderWhy, type ProcState } from './src/procs.js';
import type { FromWorker, ToWorker } from './src/protocol.js';
import { applyPolicyForm, compareCommand, drawColumns, readPolicyForm, renderPolicyForm, runBakeoff } from './src/bakeoff.js';

const $ = <E extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as E;
const params = new URLSearchParams(location.search);
let lang: Lang = params.get('lang') === 'ko' ? 'ko' : 'en';
const T = () => TEXT[lang];

const wasmBytes = Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0));
let worker: Worker;
let runId = 0;
/** The run shown: the finished one (`final`), or the run so far while it runs or is paused. */
let current: { report: any; logT: string[]; final: boolean } | null = null;
/** The simulation in the worker: running, paused between ticks, or none (finished, cancelled, failed). */
let liveRun: 'running' | 'paused' | null = null;
let charts: RunCharts | null = null;
let playTimer: number | null = null;
const proc: ProcState = { report: null, index: 0, snapshot: null, selected: null };
let file = PRESETS[0]?.file ?? 'scenario.yaml';
let editor: EditorView;

function setState(s: string, text?: string): void {
  document.body.dataset.state = s;
  $('status').textContent = text ?? '';
}

function startWorker(): void {
  worker = new RunWorker();
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(ev.data);
  worker.onerror = (e) => setState('error', e.message);
  const copy = wasmBytes.slice().buffer;
  worker.postMessage({ type: 'init', wasm: copy } satisfies ToWorker, [copy]);
}

const tickMs = () => Math.max(1, Math.min(10_000, Math.trunc(Number(($('tick') as HTMLInputElement).value) || 100)));

/** Simulated seconds per wall second for the live run (0: full speed). */
const liveSpeed = () => Number(($('live-speed') as HTMLSelectElement).value) || 0;
const stepTicks = () => Math.max(1, Math.min(100_000, Math.trunc(Number(($('step-n') as HTMLInputElement).value) || 1)));

function run(): void {
  stopPlay();
  const id = ++runId;
  current = null;
  const paused = ($('start-paused') as HTMLInputElement).checked;
  liveRun = paused ? 'paused' : 'running';
  ($('progress') as HTMLProgressElement).value = 0;
  setState(liveRun, paused ? T().paused : T().running);
  $('errors').textContent = '';
  playLabel();
  worker.postMessage({ type: 'run', id, text: editor.state.doc.toString(), file, tickMs: tickMs(), paused, speed: liveSpeed() } satisfies ToWorker);
}

function cancel(): void {
  if (liveRun === null) return;
  worker.terminate();
  runId++;
  liveRun = null;
  startWorker();
  setState('cancelled', T().cancelled);
  playLabel();
}

/** Pause or resume the simulation in the worker (between two ticks). */
function toggleLive(): void {
  if (liveRun === 'running') {
    worker.postMessage({ type: 'pause', id: runId } satisfies ToWorker);
  } else if (liveRun === 'paused') {
    liveRun = 'running';
    setState('running', T().running);
    worker.postMessage({ type: 'resume', id: runId } satisfies ToWorker);
  }
  playLabel();
}

function playLabel(): void {
  $('play').textContent = liveRun === 'running' || (liveRun === null && playTimer !== null) ? T().pause : T().play;
}

function onMessage(m: FromWorker): void {
  if (m.type === 'ready') return;
  if (m.type === 'error' && m.id === 0) {
    setState('error', `error: ${m.message}`); // the worker could not start the engine
    return;
  }
  if (m.id !== runId) return;
  if (m.type === 'progress') {
    const p = $('progress') as HTMLProgressElement;
    p.value = Number((BigInt(m.nowNs) * 1000n) / (BigInt(m.endNs) || 1n)) / 10;
    $('status').textContent = `${T().running} ${(Number(m.nowNs) / 1e9).toFixed(1)} / ${(Number(m.endNs) / 1e9).toFixed(1)} s`;
  } else if (m.type === 'error') {
    liveRun = null;
    playLabel();
    setState('error', T().errors);
    $('errors').textContent = m.message;
  } else if (m.type === 'done') {
    liveRun = null;
    playLabel();
    current = { report: m.report, logT: m.logT, final: true };
    ($('progress') as HTMLProgressElement).value = 100;
    showRun(m.report, m.summary);
    setState('done', `${T().done} (${(m.ms / 1000).toFixed(2)} s)`);
  } else if (m.type === 'live') {
    // the run so far: live charts, dmesg and process table; while paused, the task table and the ranking are the
    // running engine's own at that tick
    current = { report: m.report, logT: m.logT, final: false };
    if (m.paused) {
      liveRun = 'paused';
      playLabel();
      setState('paused', `${T().paused} ${(Number(m.nowNs) / 1e9).toFixed(1)} / ${(Number(m.endNs) / 1e9).toFixed(1)} s`);
    }
    if (m.report.series.tNs.length === 0) return; // paused before the first tick: nothing to draw yet
    const keep = proc.selected;
    showRun(m.report, []);
    proc.selected = keep;
    if (m.paused && m.tasks) proc.snapshot = { atNs: m.nowNs, tasks: m.tasks, explain: m.explain ?? null };
    renderAt();
  } else if (m.type === 'snapshot' && current) {
    proc.snapshot = { atNs: m.atNs, tasks: m.tasks, explain: m.explain };
    renderAt();
  }
}

function showRun(R: any, summary: string[]): void {
  charts?.destroy();
  charts = drawRunCharts(uPlot, R, $('charts'), T().chart);
  proc.report = R;
  proc.snapshot = null;
  proc.selected = null;
  $('outcome').textContent = R.outcome;
  $('summary').textContent = summary.join('\n');
  const kills = $('kills');
  kills.replaceChildren(
    ...R.oomKills.map((k: any) => {
      const li = document.createElement('li');
      Object.assign(li.dataset, { pid: String(k.pid), comm: k.comm, tns: String(k.tNs) });
      li.textContent = `${(Number(k.tNs) / 1e9).toFixed(3)} s: OOM kill ${k.comm} (${k.pid})`;
      return li;
    }),
  );
  const slider = $('cursor') as HTMLInputElement;
  slider.max = String(Math.max(0, R.series.tNs.length - 1));
  slider.disabled = !current?.final;
  seek(R.series.tNs.length - 1, !!current?.final);
}

/** Move the playback to sample i; `snapshot` asks the worker for the task table at that time. */
function seek(i: number, snapshot: boolean): void {
  if (!current) return;
  const n = current.report.series.tNs.length;
  proc.index = Math.max(0, Math.min(n - 1, i));
  ($('cursor') as HTMLInputElement).value = String(proc.index);
  charts?.show(proc.index + 1);
  renderAt();
  if (snapshot) requestSnapshot();
}

function requestSnapshot(): void {
  if (!current?.final) return; // while the run is live, a pause brings the engine's own table
  const atNs = String(current.report.series.tNs[proc.index]);
  if (proc.snapshot?.atNs === atNs) return;
  worker.postMessage({ type: 'snapshot', id: runId, text: editor.state.doc.toString(), file, tickMs: tickMs(), atNs } satisfies ToWorker);
}

function renderAt(): void {
  if (!current || current.report.series.tNs.length === 0) return;
  const R = current.report;
  const tNs = BigInt(R.series.tNs[proc.index]);
  $('time').textContent = `${T().time} ${(Number(tNs) / 1e9).toFixed(1)} s`;
  const lines: string[] = R.log;
  const upto = current.logT.findIndex((x) => BigInt(x) > tNs);
  const shown = upto < 0 ? lines : lines.slice(0, upto);
  const d = $('dmesg');
  d.textContent = shown.join('\n') || '(empty)';
  d.scrollTop = d.scrollHeight;
  renderProcs($<HTMLTableElement>('procs'), proc, T(), (pid) => {
    proc.selected = pid;
    renderAt();
    requestSnapshot();
  });
  renderWhy($('why'), proc, T());
}

function stopPlay(): void {
  if (playTimer !== null) clearInterval(playTimer);
  playTimer = null;
  playLabel();
}

function togglePlay(): void {
  if (liveRun !== null) return toggleLive();
  if (!current) return;
  if (playTimer !== null) {
    stopPlay();
    requestSnapshot();
    return;
  }
  const n = current.report.series.tNs.length;
  if (proc.index >= n - 1) seek(0, false);
  playTimer = window.setInterval(() => {
    const speed = Number(($('speed') as HTMLSelectElement).value);
    const next = proc.index + Math.max(1, Math.round((speed * n) / 200));
    seek(next, false);
    if (next >= n - 1) {
      stopPlay();
      requestSnapshot();
    }
  }, 50);
  playLabel();
}

/** Step: N ticks of the live simulation (it pauses first), or N samples of the finished run's playback. */
function step(): void {
  if (liveRun !== null) {
    liveRun = 'paused';
    playLabel();
    worker.postMessage({ type: 'step', id: runId, ticks: stepTicks() } satisfies ToWorker);
    return;
  }
  stopPlay();
  seek(proc.index + stepTicks(), true);
}

function loadPreset(name: string): void {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) return;
  file = p.file;
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: p.text } });
  showCorrection();
}

function showCorrection(): void {
  const p = PRESETS.find((x) => x.file === file);
  $('preset-desc').textContent = p ? (lang === 'ko' ? p.descriptionKo : p.description) : '';
  const c = p ? articleCorrection(p) : null;
  $('correction').textContent = c === 'overcommit' ? T().corrOvercommit : c === 'oom_kill' ? T().corrOomKill : '';
}

/** Policies of the last bake-off run, for the share link (none when no bake-off ran or it failed). */
let lastBakeoff: { name: string; params: Record<string, unknown> }[] | null = null;

/** The bake-off of the policies picked in the form (with their parameters). */
function compare(): void {
  let policies;
  try {
    policies = readPolicyForm($('policies'));
  } catch (e) {
    document.body.dataset.bakeoff = 'error';
    $('compare-status').textContent = '';
    $('compare-table').textContent = (e as Error).message;
    return;
  }
  $('compare-cmd').textContent = policies.length ? compareCommand(file, tickMs(), policies) : '';
  lastBakeoff = policies;
  runBakeoff({
    policies,
    text: editor.state.doc.toString(),
    file,
    tickMs: tickMs(),
    newWorker: () => {
      const w = new RunWorker();
      const copy = wasmBytes.slice().buffer;
      w.postMessage({ type: 'init', wasm: copy } satisfies ToWorker, [copy]);
      return w;
    },
    labels: T().chart,
    chart: ($('compare-chart') as HTMLSelectElement).value,
    table: $('compare-table'),
    grid: $('compare-charts'),
    onState: (st, text) => {
      document.body.dataset.bakeoff = st;
      $('compare-status').textContent = text;
    },
  });
}

async function share(): Promise<void> {
  const preset = PRESETS.find((x) => x.file === file)?.name;
  const bakeoff = document.body.dataset.bakeoff === 'done' && lastBakeoff ? lastBakeoff : undefined;
  const hash = await encodeShare({ text: editor.state.doc.toString(), tickMs: tickMs(), preset, lang, bakeoff });
  history.replaceState(null, '', `#${hash}`);
  ($('share-url') as HTMLInputElement).value = location.href;
  $('status').textContent = T().shared;
}

function labels(): void {
  const t = T();
  document.documentElement.lang = lang;
  document.querySelectorAll<HTMLElement>('[data-t]').forEach((e) => {
    const v = (t as any)[e.dataset.t!];
    if (typeof v === 'string') e.textContent = v;
  });
  $('lang').textContent = t.lang;
  playLabel();
  document.querySelectorAll<HTMLElement>('.policy summary').forEach((e) => (e.textContent = `${e.dataset.n} ${t.parameters}`));
  const sel = $('preset') as HTMLSelectElement;
  const value = sel.value;
  sel.replaceChildren(
    ...SECTIONS.map((s) => {
      const g = document.createElement('optgroup');
      g.label = t.sections[s];
      for (const p of PRESETS.filter((x) => x.section === s)) {
        const o = document.createElement('option');
        o.value = p.name;
        o.textContent = p.name;
        o.title = lang === 'ko' ? p.descriptionKo : p.description;
        g.appendChild(o);
      }
      return g;
    }),
  );
  if (value) sel.value = value;
  showCorrection();
  if (current) {
    charts?.destroy();
    charts = drawRunCharts(uPlot, current.report, $('charts'), t.chart);
    seek(proc.index, false);
  }
}

async function main(): Promise<void> {
  editor = createEditor($('editor'), PRESETS[0]?.text ?? '', () => file, (d) => {
    $('errors').textContent = d.map((x) => x.message).join('\n');
  });
  renderPolicyForm($('policies'), ['kernel', 'earlyoom']);
  labels();
  startWorker();
  $('run').onclick = run;
  $('cancel').onclick = cancel;
  $('play').onclick = togglePlay;
  $('step').onclick = step;
  $('live-speed').onchange = () => liveRun !== null && worker.postMessage({ type: 'speed', id: runId, speed: liveSpeed() } satisfies ToWorker);
  $('cursor').oninput = () => { stopPlay(); seek(Number(($('cursor') as HTMLInputElement).value), false); };
  $('cursor').onchange = () => requestSnapshot();
  $('share').onclick = () => void share();
  $('preset').onchange = () => loadPreset(($('preset') as HTMLSelectElement).value);
  $('compare').onclick = compare;
  $('compare-chart').onchange = () => drawColumns(($('compare-chart') as HTMLSelectElement).value);
  $('lang').onclick = () => { lang = lang === 'en' ? 'ko' : 'en'; labels(); };
  let shared = null;
  try {
    shared = await decodeShare(location.hash);
  } catch (e) {
    setState('error', `error: ${(e as Error).message}`);
  }
  if (shared) {
    if (shared.lang === 'ko' || shared.lang === 'en') lang = shared.lang;
    const p = PRESETS.find((x) => x.name === shared.preset);
    file = p ? p.file : 'shared.yaml';
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: shared.text } });
    ($('tick') as HTMLInputElement).value = String(shared.tickMs);
    labels();
    if (p) ($('preset') as HTMLSelectElement).value = p.name;
    run();
    if (shared.bakeoff?.length) {
      // the link was made after a bake-off: the same policies and parameters, compared again
      applyPolicyForm($('policies'), shared.bakeoff);
      compare();
    }
  } else if (document.body.dataset.state !== 'error') setState('idle', '');
  document.body.dataset.ready = '1';
}

main().catch((e: Error) => setState('error', `error: ${e.message}`));
