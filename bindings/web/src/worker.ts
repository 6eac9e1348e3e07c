// The playground's run worker: the engine (wasm, bytes sent by the page) runs the editor's scenario here so the page
// never freezes. A run posts progress every few percent and ends with the JSON report; a snapshot re-runs the same
// scenario (same seed, so the same state) up to a time and returns the task table and the OOM candidate ranking.
import { loadSync } from '../../src/wasm.js';
import { parseScenario, formatIssue } from '../../src/scenario/load.js';
import { normalizeScenario } from '../../src/scenario/normalize.js';
import { runScenario, type RunResult } from '../../src/run.js';
import { bigintReplacer, toJsonObject } from '../../src/report/json.js';
import { textSummary } from '../../src/report/text.js';
import type { Engine } from '../../src/engine.js';
import { resolveCulprits, resolveProtected, runOne } from '../../src/policy/compare.js';
import type { FromWorker, ToWorker } from './protocol.js';

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
    const sc = scenario(m.text, m.file, m.id);
    if (!sc) return;
    const tickNs = BigInt(m.tickMs) * 1_000_000n;
    if (m.type === 'run') {
      const t0 = performance.now();
      let last = -1;
      const r: RunResult = runScenario(sc, {
        tickNs,
        explain: true,
        onTick: (now, end) => {
          const pct = end > 0n ? Number((now * 100n) / end) : 100;
          if (pct !== last) {
            last = pct;
            post({ type: 'progress', id: m.id, nowNs: String(now), endNs: String(end) });
          }
        },
      });
      const report = JSON.parse(JSON.stringify(toJsonObject(r), bigintReplacer));
      post({ type: 'done', id: m.id, report, summary: textSummary(r, { explain: true }), logT: r.log.map((l) => String(l.tNs)), ms: performance.now() - t0 });
    } else if (m.type === 'compare') {
      // one column of the bake-off: the same seeded scenario under one policy (policy/compare.ts runOne)
      const culprits = resolveCulprits(sc, {});
      const protect = resolveProtected(sc, {});
      const { row, run } = runOne(sc, { name: m.policy }, culprits, protect, { tickNs });
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
