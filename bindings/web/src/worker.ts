// The playground's run worker: the engine (wasm, bytes sent by the page) runs the editor's scenario here so the page
// never freezes. A run goes in slices of ticks (stepper.ts) with the message queue read in between, so the page can
// pause it, step it N ticks and resume it; it posts progress every percent, the run so far every half second (and
// at each pause and step, with the live task table and OOM ranking), and ends with the JSON report. A snapshot
// re-runs the same scenario (same seed, so the same state) up to a time: the playback of a finished run.
import { loadSync } from '../../src/wasm.js';
import { parseScenario, formatIssue } from '../../src/scenario/parse.js';
import { normalizeScenario } from '../../src/scenario/normalize.js';
import { runScenario } from '../../src/run.js';
import { bigintReplacer, toJsonObject } from '../../src/report/json.js';
import { textSummary } from '../../src/report/text.js';
import type { Engine } from '../../src/engine.js';
import { resolveCulprits, resolveProtected, runOne } from '../../src/policy/compare.js';
import type { FromWorker, RunRequest, ToWorker } from './protocol.js';
import { RunStepper } from './stepper.js';

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

function scenario(text: string, file: string, id: number) {
  const r = parseScenario(text, { file });
  if (!r.success) {
    post({ type: 'error', id, message: r.errors.map(formatIssue).join('\n'), issues: r.errors.map((e) => ({ line: e.line, column: e.column, message: e.message })) });
    return null;
  }
  return normalizeScenario(r.data, { file });
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  try {
    if (m.type === 'init') {
      loadSync(new Uint8Array(m.wasm));
      post({ type: 'ready' });
      return;
    }
    if (m.type === 'pause' || m.type === 'resume' || m.type === 'step' || m.type === 'speed') {
      control(m.type, m.id, m.type === 'step' ? m.ticks : m.type === 'speed' ? m.speed : 0);
      return;
    }
    const sc = scenario(m.text, m.file, m.id);
    if (!sc) return;
    const tickNs = BigInt(m.tickMs) * 1_000_000n;
    if (m.type === 'run') {
      startRun(m, sc, tickNs);
    } else if (m.type === 'compare') {
      // one column of the bake-off: the same seeded scenario under one policy (policy/compare.ts runOne)
      const culprits = resolveCulprits(sc, {});
      const protect = resolveProtected(sc, {});
      const { row, run } = runOne(sc, { name: m.policy, params: m.params }, culprits, protect, { tickNs });
      const names = (l: (string | number)[]) => l.map((x) => (typeof x === 'number' ? `${sc.processes.find((p) => p.pid === x)?.comm ?? '?'}(${x})` : x));
      const report = JSON.parse(JSON.stringify(toJsonObject(run), bigintReplacer));
      post({ type: 'compared', id: m.id, policy: m.policy, row, report, scenario: sc.name, seed: sc.seed, culprits: names(culprits), protected: names(protect) });
    } else {
      const r = runScenario(sc, { tickNs, untilNs: BigInt(m.atNs), keepEngine: true });
      const e = r.engine as Engine;
      const tasks = e.tasks();
      let explain = null;
      try {
        explain = e.oomExplain();
      } catch {
        explain = null;
      }
      e.free?.();
      post({ type: 'snapshot', id: m.id, atNs: m.atNs, tasks, explain });
    }
  } catch (e) {
    post({ type: 'error', id: 'id' in m ? m.id : 0, message: (e as Error).message });
  }
};

// --- the live run ----------------------------------------------------------------------------------------------

interface Live {
  id: number;
  s: RunStepper;
  paused: boolean;
  /** Wall time spent running ticks (pauses excluded). */
  ms: number;
  lastPct: number;
  lastLive: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** Simulated seconds per wall second, 0 = as fast as the machine goes. */
  speed: number;
  /** Where the pacing counts from (set at start, resume and speed changes): wall ms and simulated ns. */
  paceWall: number;
  paceSimNs: bigint;
}
let live: Live | null = null;
/** Wall time one slice of ticks may take before the worker reads its messages again. */
const SLICE_MS = 20;
const LIVE_EVERY_MS = 500;
const LIVE_PACED_MS = 200;

function startRun(m: RunRequest, sc: NonNullable<ReturnType<typeof scenario>>, tickNs: bigint): void {
  stopRun();
  const s = new RunStepper(sc, { tickNs, explain: true });
  live = { id: m.id, s, paused: !!m.paused, ms: 0, lastPct: -1, lastLive: performance.now(), timer: null, speed: 0, paceWall: 0, paceSimNs: 0n };
  pace(live, m.speed ?? 0);
  if (live.paused) postLive(live);
  else schedule(live);
}

function stopRun(): void {
  if (!live) return;
  if (live.timer !== null) clearTimeout(live.timer);
  live.s.free();
  live = null;
}

function schedule(l: Live, delayMs = 0): void {
  l.timer = setTimeout(() => slice(l), delayMs);
}

/** Restart the pacing from here (at a resume, a speed change and the start). */
function pace(l: Live, speed: number): void {
  l.speed = speed > 0 && Number.isFinite(speed) ? speed : 0;
  l.paceWall = performance.now();
  l.paceSimNs = nextNs(l);
}

/** With a speed set: the simulated time the run may have reached by now (the next tick runs once it is due). */
const dueNs = (l: Live) => l.paceSimNs + BigInt(Math.floor((performance.now() - l.paceWall) * l.speed * 1e6));
const nextNs = (l: Live) => (l.s.ticks > 0 ? l.s.reachedNs + l.s.tickNs : 0n);

/** Run ticks for up to SLICE_MS, then yield to the message queue. */
function slice(l: Live): void {
  l.timer = null;
  if (live !== l || l.paused) return;
  try {
    const t0 = performance.now();
    while (!l.s.done && performance.now() - t0 < SLICE_MS && (l.speed === 0 || nextNs(l) <= dueNs(l))) l.s.step(1);
    l.ms += performance.now() - t0;
    progress(l);
    if (l.s.done) return finish(l);
    // paced runs show each step sooner (a teacher watching at 1x); a run at full speed every half second
    if (performance.now() - l.lastLive >= (l.speed > 0 ? LIVE_PACED_MS : LIVE_EVERY_MS)) postLive(l);
    schedule(l, l.speed > 0 ? 15 : 0);
  } catch (e) {
    stopRun();
    post({ type: 'error', id: l.id, message: (e as Error).message });
  }
}

function progress(l: Live): void {
  const now = l.s.reachedNs;
  const end = l.s.endNs;
  const pct = end > 0n ? Number((now * 100n) / end) : 100;
  if (pct === l.lastPct && !l.s.done) return;
  l.lastPct = pct;
  post({ type: 'progress', id: l.id, nowNs: String(now), endNs: String(end) });
}

function control(kind: 'pause' | 'resume' | 'step' | 'speed', id: number, ticks: number): void {
  const l = live;
  if (!l || l.id !== id) return; // a control for a run that has ended (or was replaced) does nothing
  try {
    if (kind === 'pause') {
      if (l.timer !== null) clearTimeout(l.timer);
      l.timer = null;
      l.paused = true;
      postLive(l);
    } else if (kind === 'speed') {
      pace(l, ticks);
    } else if (kind === 'resume') {
      if (!l.paused) return;
      l.paused = false;
      pace(l, l.speed);
      schedule(l);
    } else {
      l.paused = true;
      if (l.timer !== null) clearTimeout(l.timer);
      l.timer = null;
      const t0 = performance.now();
      l.s.step(Math.max(1, Math.trunc(ticks)));
      l.ms += performance.now() - t0;
      progress(l);
      if (l.s.done) finish(l);
      else postLive(l);
    }
  } catch (e) {
    stopRun();
    post({ type: 'error', id, message: (e as Error).message });
  }
}

/** The report object the page reads: the JSON report plus the extra samples (cgroup limits, PSI) in its series. */
function reportOf(l: Live) {
  const r = l.s.result();
  const report = JSON.parse(JSON.stringify(toJsonObject(r), bigintReplacer));
  Object.assign(report.series, l.s.extra);
  return { r, report };
}

function postLive(l: Live): void {
  l.lastLive = performance.now();
  const { r, report } = reportOf(l);
  const m: FromWorker = { type: 'live', id: l.id, paused: l.paused, nowNs: String(r.endNs), endNs: String(l.s.endNs), report, logT: r.log.map((x) => String(x.tNs)) };
  if (l.paused) {
    const e = l.s.engine;
    m.tasks = e.tasks();
    try {
      m.explain = e.oomExplain();
    } catch {
      m.explain = null;
    }
  }
  post(m);
}

function finish(l: Live): void {
  const { r, report } = reportOf(l);
  post({ type: 'done', id: l.id, report, summary: textSummary(r, { explain: true }), logT: r.log.map((x) => String(x.tNs)), ms: l.ms });
  stopRun();
}
