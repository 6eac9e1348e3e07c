/**
 * Sampling: the time series, one entry per tick. Three reads per sample (meminfo, vmstat, the task table) plus
 * one cgroup file read per declared cgroup.
 */
import type { TaskRow } from '../engine.js';
import type { RunState } from './state.js';
import { SAMPLED_MEMINFO, SAMPLED_VMSTAT, type Series } from './types.js';

export interface SamplerState {
  series: Series;
  lastVm: Record<string, bigint> | null;
}

export class Sampler {
  readonly series: Series = {
    tNs: [],
    meminfo: Object.fromEntries(SAMPLED_MEMINFO.map((k) => [k, []])) as unknown as Series['meminfo'],
    vmstatDelta: Object.fromEntries(SAMPLED_VMSTAT.map((k) => [k, []])) as unknown as Series['vmstatDelta'],
    rssKb: {},
    tasks: [],
    cgroupKb: {},
  };
  private readonly usageFile: string;
  private readonly cgroups: string[];
  private lastVm: Record<string, bigint> | null = null;

  constructor(private readonly st: RunState) {
    this.usageFile = st.sc.cgroups.version === 'v1' ? 'memory.usage_in_bytes' : 'memory.current';
    this.cgroups = st.sc.cgroups.groups.map((g) => g.path).filter((p) => p !== '/');
    for (const p of this.cgroups) this.series.cgroupKb[p] = [];
  }

  /** The series so far and the last vmstat read (the next delta's base), as plain data. */
  state(): SamplerState {
    return structuredClone({ series: this.series, lastVm: this.lastVm });
  }
  fromState(s: SamplerState): void {
    const c = structuredClone(s);
    Object.assign(this.series, c.series);
    this.lastVm = c.lastVm;
  }

  /** One sample at the current time; also updates each tracked process's peak RSS. */
  sample(): void {
    const { e, now, tracked } = this.st;
    const s = this.series;
    const m = e.meminfo();
    s.tNs.push(now);
    for (const k of SAMPLED_MEMINFO) s.meminfo[k].push(m[k]);
    const vm = e.vmstat() as Record<string, bigint>;
    for (const k of SAMPLED_VMSTAT) s.vmstatDelta[k].push(Number(vm[k] - (this.lastVm?.[k] ?? 0n)));
    this.lastVm = vm;
    const rows: TaskRow[] = e.tasks();
    s.tasks.push(rows.length);
    for (const p of this.cgroups) s.cgroupKb[p].push(Number(e.cgroupRead(p, this.usageFile) ?? 0) / 1024);
    const rss = new Map<number, number>();
    for (const r of rows) rss.set(r.pid, r.vm_rss_kb);
    for (const p of tracked) {
      const col = (s.rssKb[p.key!] ??= new Array(s.tNs.length - 1).fill(null));
      const v = p.alive ? (rss.get(p.pid) ?? null) : null;
      col.push(v);
      if (v !== null && v > p.peakRssKb) p.peakRssKb = v;
    }
  }
}
