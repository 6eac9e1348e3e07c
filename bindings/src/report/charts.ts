/**
 * The run charts, one module for the standalone HTML report (report/html.ts inlines this function's source next to
 * uPlot) and the browser playground (bindings/web imports it). Input: the JSON report object (report/json.ts
 * toJsonObject, BigInts as decimal strings). Charts over simulated time: memory, swap (only on a machine with
 * swap), Committed_AS vs CommitLimit, per-process RSS, per-cgroup charge (with each cgroup's limit when the series
 * has `cgroupLimitKb`), memory pressure (when the series has `psi`); OOM kills, kills by a userspace policy, a panic
 * and the first ENOMEM of each program as markers on the one time axis. The runner's series has neither limits nor
 * PSI yet; the playground's pausable run (bindings/web/src/stepper.ts) samples both.
 *
 * `drawRunCharts` must stay self-contained (no imports used at run time, no helpers outside its body): the HTML
 * report embeds `drawRunCharts.toString()`.
 */
import type uPlotType from 'uplot';

/** The parts of the JSON report the charts read. */
export interface ChartReport {
  endNs: string | number;
  series: {
    tNs: (string | number)[];
    meminfo: Record<string, number[]>;
    rssKb: Record<string, (number | null)[]>;
    cgroupKb?: Record<string, number[]>;
    /** Each cgroup's limit, kB; null while unlimited. */
    cgroupLimitKb?: Record<string, (number | null)[]>;
    /** /proc/pressure/memory averages, percent. */
    psi?: { someAvg10: number[]; fullAvg10: number[]; someAvg60: number[]; fullAvg60: number[] };
  };
  processes: { pid: number; comm: string; errors?: { errno: string; firstNs: string | number }[]; outcome?: { kind: string; atNs?: string | number; how?: string } }[];
  oomKills: { tNs: string | number; pid: number; comm: string }[];
  panic: { tNs: string | number } | null;
}

export interface ChartLabels {
  time: string;
  memory: string;
  swap: string;
  noSwap: string;
  commit: string;
  rss: string;
  cgroups: string;
  /** Title of the cgroup chart when it shows the limits too. */
  cgroupsLimit: string;
  /** Series suffix of a cgroup's limit. */
  limit: string;
  psi: string;
  used: string;
  workingSet: string;
  swapUsed: string;
  oomKill: string;
  panic: string;
  enomem: string;
}

export const CHART_LABELS_EN: ChartLabels = {
  time: 'simulated time (s)',
  memory: 'Memory (MiB)',
  swap: 'Swap (MiB)',
  noSwap: 'No swap on this machine (SwapTotal 0 kB): no swap chart.',
  commit: 'Committed_AS vs CommitLimit (MiB)',
  rss: 'Per-process RSS (MiB)',
  cgroups: 'Memory charged per cgroup (MiB)',
  cgroupsLimit: 'Memory charged per cgroup vs its limit (MiB)',
  limit: 'limit',
  psi: 'Memory pressure, /proc/pressure/memory (%)',
  used: 'used (MemTotal - MemFree)',
  workingSet: 'kubelet working set (used - Inactive(file))',
  swapUsed: 'swap used',
  oomKill: 'OOM kill',
  panic: 'panic',
  enomem: 'ENOMEM',
};

export interface RunCharts {
  /** Show the first `n` samples only (playback); markers after that time are hidden. n >= all shows everything. */
  show(n: number): void;
  /** Fit every chart to the container's width (called on window resize too). */
  resize(): void;
  destroy(): void;
  /** Chart ids drawn, in order (mem, swap, commit, rss, cgroups, psi). */
  ids: string[];
}

/** `only`: draw just these chart ids (the playground's bake-off shows the memory chart of each policy). */
export function drawRunCharts(uPlot: typeof uPlotType, R: ChartReport, root: HTMLElement, L: ChartLabels, only?: string[]): RunCharts {
  const t = R.series.tNs.map((x) => Number(x) / 1e9);
  const endS = Math.max(Number(R.endNs) / 1e9, t.length ? t[t.length - 1]! : 0);
  const m = R.series.meminfo;
  const mb = (a: readonly (number | null)[]) => a.map((v) => (v === null || v === undefined ? null : v / 1024));
  const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]!);
  const colors = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  type Mark = { t: number; label: string; color: string; dash: number[] };
  const marks: Mark[] = R.oomKills.map((k) => ({ t: Number(k.tNs) / 1e9, label: `${L.oomKill} ${k.comm}`, color: '#d00', dash: [] }));
  if (R.panic) marks.push({ t: Number(R.panic.tNs) / 1e9, label: L.panic, color: '#000', dash: [] });
  for (const p of R.processes) {
    const e = (p.errors ?? []).find((x) => x.errno === 'ENOMEM');
    if (e) marks.push({ t: Number(e.firstNs) / 1e9, label: `${L.enomem} ${p.comm}`, color: '#e67e00', dash: [6, 4] });
    if (p.outcome && p.outcome.kind === 'exited' && p.outcome.atNs !== undefined && /^killed \(/.test(p.outcome.how ?? '')) {
      // a kill by a userspace policy (earlyoom, systemd-oomd, ...) or an admin action: purple, labelled with who
      marks.push({ t: Number(p.outcome.atNs) / 1e9, label: `${p.comm} ${p.outcome.how}`, color: '#7b2fbf', dash: [] });
    }
    if (!e && p.outcome && p.outcome.kind === 'fork_failed' && p.outcome.atNs !== undefined) marks.push({ t: Number(p.outcome.atNs) / 1e9, label: `fork ${L.enomem} ${p.comm}`, color: '#e67e00', dash: [6, 4] });
  }
  let shownUpTo = t.length;
  let curT = endS;
  const markerPlugin = {
    hooks: {
      draw: [
        (u: uPlotType) => {
          const ctx = u.ctx;
          const dpr = devicePixelRatio || 1;
          ctx.save();
          ctx.lineWidth = 2 * dpr;
          ctx.font = `${11 * dpr}px sans-serif`;
          let row = 0;
          for (const mk of marks) {
            if (mk.t > curT) continue;
            const x = u.valToPos(mk.t, 'x', true);
            ctx.strokeStyle = mk.color;
            ctx.fillStyle = mk.color;
            ctx.setLineDash(mk.dash.map((d) => d * dpr));
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            // labels right of the line, or left of it near the right edge; stacked so that they do not overlap
            const w = ctx.measureText(mk.label).width;
            const lx = x + 4 * dpr + w > u.bbox.left + u.bbox.width ? x - 4 * dpr - w : x + 4 * dpr;
            ctx.fillText(mk.label, lx, u.bbox.top + (12 + 13 * (row++ % 4)) * dpr);
          }
          ctx.restore();
        },
      ],
    },
  };
  const fmt = (v: number | null) => (v === null || v === undefined || Number.isNaN(v) ? '' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));
  // With the cursor off the chart, the legend shows the value at the newest sample shown (never a bare "--").
  const lastValue = (u: uPlotType, sidx: number) => {
    const d = u.data[sidx] as (number | null)[];
    for (let i = Math.min(shownUpTo, d.length) - 1; i >= 0; i--) if (d[i] !== null && d[i] !== undefined) return d[i]!;
    return null;
  };
  const width = () => Math.max(280, Math.floor(root.clientWidth || 800));
  const plots: { u: uPlotType; full: (number | null)[][] }[] = [];
  const ids: string[] = [];
  type Style = { color?: string; dash?: number[] } | undefined;
  const add = (id: string, title: string, names: string[], cols: (number | null)[][], fill: boolean, yLabel = 'MiB', styles: Style[] = []) => {
    if (only && !only.includes(id)) return;
    const el = document.createElement('div');
    el.className = 'chart';
    el.id = id;
    root.appendChild(el);
    ids.push(id);
    // A series equal to an earlier one at every sample would hide under it: dash it and say so in the legend.
    const same = cols.map((c, i) => cols.findIndex((o, j) => j < i && o.length === c.length && o.every((v, k) => v === c[k])));
    const series: uPlotType.Series[] = [
      { label: L.time, value: (u, v, si, idx) => fmt(idx === null ? lastValue(u, 0) : v) },
      ...names.map((n, i): uPlotType.Series => {
        const st = styles[i];
        const color = st?.color ?? colors[i % colors.length]!;
        const dup = same[i]!;
        return {
          label: dup >= 0 ? `${n} (= ${names[dup]})` : n,
          stroke: color,
          width: 2,
          dash: dup >= 0 ? [10, 6] : st?.dash,
          fill: fill ? `${color}22` : undefined,
          spanGaps: false,
          points: { show: false },
          value: (u, v, si, idx) => fmt(idx === null ? lastValue(u, si) : v),
        };
      }),
    ];
    const opts: uPlotType.Options = {
      title,
      width: width(),
      height: 260,
      series,
      plugins: [markerPlugin],
      legend: { live: true },
      scales: { x: { time: false, range: () => [t.length ? t[0]! : 0, endS > 0 ? endS : 1] } },
      axes: [{ label: L.time }, { label: yLabel, size: 70 }],
    };
    const full = [t as (number | null)[], ...cols];
    plots.push({ u: new uPlot(opts, full as uPlotType.AlignedData, el), full });
  };

  const used = sub(m.MemTotal!, m.MemFree!);
  const ws = sub(used, m['Inactive(file)']!).map((v) => Math.max(0, v));
  add('mem', L.memory, [L.used, 'Cached', 'MemFree', 'MemAvailable', L.workingSet], [mb(used), mb(m.Cached!), mb(m.MemFree!), mb(m.MemAvailable!), mb(ws)], false);
  if (m.SwapTotal!.some((v) => v > 0)) {
    add('swap', L.swap, [L.swapUsed, 'SwapTotal'], [mb(sub(m.SwapTotal!, m.SwapFree!)), mb(m.SwapTotal!)], true);
  } else if (!only) {
    const p = document.createElement('p');
    p.className = 'chart-note';
    p.id = 'swap-none';
    p.textContent = L.noSwap;
    root.appendChild(p);
  }
  add('commit', L.commit, ['Committed_AS', 'CommitLimit'], [mb(m.Committed_AS!), mb(m.CommitLimit!)], false);
  const keys = Object.keys(R.series.rssKb);
  const names = keys.map((k) => {
    const p = R.processes.find((q) => String(q.pid) === k);
    return `${p ? p.comm : ''} (${k})`;
  });
  add('rss', L.rss, names, keys.map((k) => mb(R.series.rssKb[k]!)), false);
  const cg = Object.keys(R.series.cgroupKb ?? {});
  if (cg.length > 0) {
    // each cgroup's charge, then its limit in the same colour, dashed (a limit that is "max" throughout is left out)
    const lim = R.series.cgroupLimitKb ?? {};
    const cgNames: string[] = [];
    const cgCols: (number | null)[][] = [];
    const cgStyles: Style[] = [];
    cg.forEach((k, i) => {
      const color = colors[i % colors.length]!;
      cgNames.push(k);
      cgCols.push(mb(R.series.cgroupKb![k]!));
      cgStyles.push({ color });
      const l = lim[k];
      if (l && l.some((v) => v !== null)) {
        cgNames.push(`${k} ${L.limit}`);
        cgCols.push(mb(l));
        cgStyles.push({ color, dash: [4, 4] });
      }
    });
    add('cgroups', cgNames.length > cg.length ? L.cgroupsLimit : L.cgroups, cgNames, cgCols, false, 'MiB', cgStyles);
  }
  const psi = R.series.psi;
  if (psi && psi.someAvg10.length === t.length) {
    add('psi', L.psi, ['some avg10', 'full avg10', 'some avg60', 'full avg60'], [psi.someAvg10, psi.fullAvg10, psi.someAvg60, psi.fullAvg60], false, '%', [
      { color: '#ff7f0e' }, { color: '#d62728' }, { color: '#ff7f0e', dash: [4, 4] }, { color: '#d62728', dash: [4, 4] },
    ]);
  }

  const resize = () => {
    for (const p of plots) p.u.setSize({ width: width(), height: 260 });
  };
  const onResize = () => resize();
  window.addEventListener('resize', onResize);
  return {
    ids,
    show(n: number) {
      shownUpTo = Math.max(0, Math.min(n, t.length));
      curT = shownUpTo >= t.length ? endS : shownUpTo > 0 ? t[shownUpTo - 1]! : 0;
      for (const p of plots) p.u.setData(p.full.map((c) => c.slice(0, Math.max(1, shownUpTo))) as uPlotType.AlignedData);
    },
    resize,
    destroy() {
      window.removeEventListener('resize', onResize);
      for (const p of plots) p.u.destroy();
      root.replaceChildren();
    },
  };
}
