// The policy bake-off: the editor's scenario under each picked policy, one worker per policy, then the compare
// table (policy/compare.ts compareTable, as `oomsim compare` prints it) and each policy's memory chart side by side.
// The policies and their parameters come from the policy registry (policy/index.ts BUILTIN_POLICIES and each
// policy's zod schema), so a policy added there shows up here with its parameters, no change to the page.
import uPlot from 'uplot';
import { compareTable, type CompareRow } from '../../src/policy/compare.js';
import { BUILTIN_POLICIES, parsePolicyParams, policyParamKeys } from '../../src/policy/index.js';
import { drawRunCharts, type ChartLabels, type RunCharts } from '../../src/report/charts.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** The built-in policies, the plain kernel first. */
export const POLICIES = ['kernel', ...Object.keys(BUILTIN_POLICIES).filter((n) => n !== 'kernel')];

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

/** Each parameter of a policy with its default, as the value text `--set policy.key=value` takes. */
// A null default is one the daemon derives from other settings (lmkd: ro.config.low_ram): an empty field.
export function paramDefaults(name: string): { key: string; text: string }[] {
  const d = parsePolicyParams(name, {});
  return policyParamKeys(name).map((key) => ({ key, text: d[key] === undefined || d[key] === null ? '' : json(d[key]) }));
}

/** A `--set` value: JSON when it parses, else the string (as the CLI reads it, bindings/src/cli/sweep.ts). */
export function setValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The parameters set in the page's form for one policy: the fields whose text differs from the default's, i.e.
 * what `--set` would carry. Checked with the policy's schema (the CLI's message on an error).
 */
export function formParams(name: string, fields: { key: string; text: string }[]): Record<string, unknown> {
  const defaults = new Map(paramDefaults(name).map((d) => [d.key, d.text]));
  const params: Record<string, unknown> = {};
  for (const f of fields) if (f.text.trim() !== defaults.get(f.key)) params[f.key] = setValue(f.text.trim());
  parsePolicyParams(name, params);
  return params;
}

/** The `oomsim compare` command that gives the same table. */
export function compareCommand(file: string, tickMs: number, specs: { name: string; params: Record<string, unknown> }[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const sets = specs.flatMap((s) => Object.entries(s.params).map(([k, v]) => ` --set ${q(`${s.name}.${k}=${typeof v === 'string' ? v : json(v)}`)}`));
  return `oomsim compare ${q(file)} --policies ${specs.map((s) => s.name).join(',')}${sets.join('')}${tickMs !== 100 ? ` --tick ${tickMs}ms` : ''}`;
}

/** The policy pickers: a checkbox per policy and, under it, a field per parameter holding its default. */
export function renderPolicyForm(root: HTMLElement, checked: string[]): void {
  root.replaceChildren(
    ...POLICIES.map((p) => {
      const box = document.createElement('div');
      box.className = 'policy';
      box.dataset.policy = p;
      const l = document.createElement('label');
      const c = document.createElement('input');
      c.type = 'checkbox';
      c.value = p;
      c.checked = checked.includes(p);
      l.append(c, ` ${p}`);
      l.title = `${BUILTIN_POLICIES[p]!.summary} (${BUILTIN_POLICIES[p]!.source})`;
      box.appendChild(l);
      const defs = paramDefaults(p);
      if (defs.length) {
        const d = document.createElement('details');
        const sum = document.createElement('summary');
        sum.dataset.n = String(defs.length);
        sum.textContent = `${defs.length} parameters`; // the page's labels() puts it in the page's language
        d.appendChild(sum);
        for (const f of defs) {
          const fl = document.createElement('label');
          fl.className = 'param';
          const inp = document.createElement('input');
          inp.name = f.key;
          inp.value = f.text;
          inp.dataset.default = f.text;
          inp.setAttribute('aria-label', `${p} ${f.key}`);
          fl.append(`${f.key} `, inp);
          d.appendChild(fl);
        }
        box.appendChild(d);
      }
      return box;
    }),
  );
}

/** Put picked policies and their set parameters into the form (a share link's bake-off); unknown names are skipped. */
export function applyPolicyForm(root: HTMLElement, specs: { name: string; params: Record<string, unknown> }[]): void {
  for (const b of Array.from(root.querySelectorAll<HTMLElement>('.policy'))) {
    const spec = specs.find((x) => x.name === b.dataset.policy);
    b.querySelector<HTMLInputElement>('input[type=checkbox]')!.checked = !!spec;
    for (const i of Array.from(b.querySelectorAll<HTMLInputElement>('.param input'))) {
      const v = spec?.params[i.name];
      i.value = v === undefined ? (i.dataset.default ?? '') : typeof v === 'string' ? v : json(v);
    }
  }
}

/** The picked policies with the parameters set in the form; throws the schema's message on a bad value. */
export function readPolicyForm(root: HTMLElement): { name: string; params: Record<string, unknown> }[] {
  return Array.from(root.querySelectorAll<HTMLElement>('.policy'))
    .filter((b) => b.querySelector<HTMLInputElement>('input[type=checkbox]')!.checked)
    .map((b) => {
      const name = b.dataset.policy!;
      const fields = Array.from(b.querySelectorAll<HTMLInputElement>('.param input')).map((i) => ({ key: i.name, text: i.value }));
      return { name, params: formParams(name, fields) };
    });
}

type Done = Extract<FromWorker, { type: 'compared' }>;
let charts: RunCharts[] = [];
let workers: Worker[] = [];

export function cancelBakeoff(): void {
  for (const w of workers) w.terminate();
  workers = [];
}

export function runBakeoff(o: {
  policies: { name: string; params: Record<string, unknown> }[];
  text: string;
  file: string;
  tickMs: number;
  newWorker: () => Worker;
  labels: ChartLabels;
  table: HTMLElement;
  grid: HTMLElement;
  onState: (s: 'running' | 'done' | 'error', text: string) => void;
  /** Which chart to show per policy (default: memory). */
  chart?: string;
}): void {
  cancelBakeoff();
  for (const c of charts) c.destroy();
  charts = [];
  o.grid.replaceChildren();
  o.table.textContent = '';
  if (!o.policies.length) return o.onState('error', 'pick at least one policy');
  const results = new Map<string, Done>();
  if (new Set(o.policies.map((p) => p.name)).size !== o.policies.length) return o.onState('error', 'each policy once');
  o.onState('running', `0 / ${o.policies.length}`);
  for (const { name: policy, params } of o.policies) {
    const w = o.newWorker();
    workers.push(w);
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      if (m.type === 'ready') w.postMessage({ type: 'compare', id: 1, text: o.text, file: o.file, tickMs: o.tickMs, policy, params } satisfies ToWorker);
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
    const done = o.policies.map((p) => results.get(p.name)!);
    const first = done[0]!;
    const rows: CompareRow[] = done.map((d) => d.row);
    o.table.textContent = compareTable({ scenario: first.scenario, seed: first.seed, culprits: first.culprits, protected: first.protected, rows, runs: [] }).join('\n');
    shown = { done, grid: o.grid, labels: o.labels };
    drawColumns(o.chart ?? 'mem');
    o.onState('done', `${done.length} / ${done.length}`);
  };
}

/** The last bake-off's runs, kept so that another chart can be shown side by side without running again. */
let shown: { done: Done[]; grid: HTMLElement; labels: ChartLabels } | null = null;

/** Show chart `id` of every policy's run, one column per policy (a run without that chart says so). */
export function drawColumns(id: string): void {
  if (!shown) return;
  for (const c of charts) c.destroy();
  charts = [];
  shown.grid.replaceChildren();
  for (const d of shown.done) {
    const col = document.createElement('div');
    col.className = 'bake-col';
    col.dataset.policy = d.policy;
    const h = document.createElement('h3');
    h.textContent = `${d.policy}: ${d.report.outcome}`;
    const box = document.createElement('div');
    col.append(h, box);
    shown.grid.appendChild(col);
    const c = drawRunCharts(uPlot, d.report, box, shown.labels, [id]);
    if (c.ids.length === 0) {
      const p = document.createElement('p');
      p.className = 'chart-note';
      p.textContent = '—';
      box.appendChild(p);
    }
    charts.push(c);
  }
}
