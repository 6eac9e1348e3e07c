// The policy bake-off: the editor's scenario under each picked policy, one worker per policy, then the compare
// table (policy/compare.ts compareTable, as `oomsim compare` prints it) and each policy's memory chart side by side.
import uPlot from 'uplot';
import { compareTable, type CompareRow } from '../../src/policy/compare.js';
import { drawRunCharts, type ChartLabels, type RunCharts } from '../../src/report/charts.js';
import type { FromWorker, ToWorker } from './protocol.js';

export const POLICIES = ['kernel', 'earlyoom', 'nohang', 'systemd-oomd', 'oomd', 'lmkd', 'kubelet'];

type Done = Extract<FromWorker, { type: 'compared' }>;
let charts: RunCharts[] = [];
let workers: Worker[] = [];

export function cancelBakeoff(): void {
  for (const w of workers) w.terminate();
  workers = [];
}

export function runBakeoff(o: {
  policies: string[];
  text: string;
  file: string;
  tickMs: number;
  newWorker: () => Worker;
  labels: ChartLabels;
  table: HTMLElement;
  grid: HTMLElement;
  onState: (s: 'running' | 'done' | 'error', text: string) => void;
}): void {
  cancelBakeoff();
  for (const c of charts) c.destroy();
  charts = [];
  o.grid.replaceChildren();
  o.table.textContent = '';
  if (!o.policies.length) return o.onState('error', 'pick at least one policy');
  const results = new Map<string, Done>();
  o.onState('running', `0 / ${o.policies.length}`);
  for (const policy of o.policies) {
    const w = o.newWorker();
    workers.push(w);
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      if (m.type === 'ready') w.postMessage({ type: 'compare', id: 1, text: o.text, file: o.file, tickMs: o.tickMs, policy } satisfies ToWorker);
      else if (m.type === 'error') {
        cancelBakeoff();
        o.table.textContent = `${policy}: ${m.message}`;
        o.onState('error', policy);
      } else if (m.type === 'compared') {
        results.set(policy, m);
        w.terminate();
        o.onState('running', `${results.size} / ${o.policies.length}`);
        if (results.size === o.policies.length) finish();
      }
    };
  }
  const finish = () => {
    workers = [];
    const done = o.policies.map((p) => results.get(p)!);
    const first = done[0]!;
    const rows: CompareRow[] = done.map((d) => d.row);
    o.table.textContent = compareTable({ scenario: first.scenario, seed: first.seed, culprits: first.culprits, protected: first.protected, rows, runs: [] }).join('\n');
    for (const d of done) {
      const col = document.createElement('div');
      col.className = 'bake-col';
      col.dataset.policy = d.policy;
      const h = document.createElement('h3');
      h.textContent = `${d.policy}: ${d.report.outcome}`;
      const box = document.createElement('div');
      col.append(h, box);
      o.grid.appendChild(col);
      charts.push(drawRunCharts(uPlot, d.report, box, o.labels, ['mem']));
    }
    o.onState('done', `${done.length} / ${done.length}`);
  };
}
