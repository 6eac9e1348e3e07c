/**
 * `oomsim replay`: a recording through every userspace killer's decision logic. Each policy is polled at its own
 * interval (its `intervalNs(view)`, adaptive where the daemon's is) in recording time, and sees at each poll the
 * latest sample taken at or before that time, as a read-only `PolicyView` (the same view the simulator builds:
 * policy/types.ts). What it would have done is reported beside what the kernel did in the recording (OOM kills
 * from the kernel log lines in the trace, else the vmstat oom_kill counter and the memcgs' oom_kill counters).
 *
 * A replay cannot change the past: after a policy's kill the recording still shows the victim's memory in use.
 * The victim leaves that policy's task table when it would have exited (SIGKILL at once, SIGTERM after the grace),
 * and the policy's own kill wait applies (view.pending), so a later decision reads as "had the pressure stayed".
 * The first decision is the one that answers "when and whom". One pass over the file, memory bounded by a sample.
 */
import { createPolicy } from '../policy/index.js';
import { describe as describeAction } from '../policy/host.js';
import { PSI_NOT_SIMULATED, parsePsi, type PsiReading } from '../policy/psi.js';
import type { PendingKill, Policy, PolicyAction, PolicyView, ViewTask } from '../policy/types.js';
import type { PolicySpec } from '../policy/compare.js';
import { OomsimError } from '../errors.js';
import { killedProcess, TASK_COLUMNS, taskRows, type TraceHeader, type TraceSample } from './format.js';
import type { LocatedRecord } from './reader.js';

export interface Victim {
  pid: number;
  comm: string;
  rssKb: number;
  oomScore: number;
  oomScoreAdj: number;
  cgroup: string;
}
export interface ReplayDecision {
  tMs: number;
  /** The sample the policy was looking at. */
  sampleMs: number;
  action: PolicyAction;
  text: string;
  victims: Victim[];
}
export interface ReplayRow {
  label: string;
  policy: string;
  params: Record<string, unknown>;
  polls: number;
  /** Why the real daemon would not run on the recorded machine at all (then it has no decisions), else null. */
  notStarted: string | null;
  /** What the daemon reads that the recording lacks (importers record less), naming the daemon and the field. */
  cannotReplay: string | null;
  /** Kills and cgroup kills, in time order; the first is the answer. */
  kills: ReplayDecision[];
  /** Other actions (oom_score_adj and cgroup writes, "nothing to kill" notes), counted by kind. */
  otherActions: Record<string, number>;
  errors: string[];
}
export interface KernelKill {
  tMs: number;
  pid: number | null;
  comm: string | null;
  scope: 'global' | 'memcg' | 'unknown';
  /** Where the kill was read from: a kernel log line, the vmstat oom_kill counter, a memcg's oom_kill counter. */
  source: 'kmsg' | 'vmstat' | 'memcg';
  count: number;
  memcg?: string;
}
export interface ReplayResult {
  file: string;
  header: TraceHeader;
  samples: number;
  firstMs: number;
  lastMs: number;
  /** False when the trace has no `end` record (the recorder was killed, or the file was cut). */
  complete: boolean;
  kernel: KernelKill[];
  /** The growth of vmstat oom_kill over the trace (every kernel OOM kill, global and memcg). */
  oomKillCounter: number;
  rows: ReplayRow[];
  /** Per-sample MemAvailable and PSI some avg10, for charts (bounded: at most `maxSeries` points, decimated). */
  series: { tMs: number[]; memAvailableKb: number[]; memTotalKb: number[]; psiSomeAvg10: number[] };
}

/**
 * What each built-in daemon reads that a recording may lack (importers record less than `oomsim record`). `psi`:
 * the PSI values it reads (system and memcg alike), as `line.field`; `processes`: it picks a process by its own
 * rules, so rows that stand for containers (the kubelet summary) will not do.
 */
interface Needs {
  meminfo?: string[];
  tasks?: boolean;
  processes?: boolean;
  psi?: string[];
  oomScore?: boolean;
  /** Header `lacks` entries that stop it, with what to call them. */
  lacks?: Record<string, string>;
}
const NEEDS: Record<string, Needs> = {
  earlyoom: { meminfo: ['MemTotal', 'MemAvailable', 'SwapTotal', 'SwapFree'], tasks: true, processes: true, oomScore: true },
  nohang: { meminfo: ['MemTotal', 'MemAvailable', 'SwapTotal', 'SwapFree'], tasks: true, processes: true, oomScore: true },
  // lmkd's kernel PSI triggers run on the stall totals (kernel/sched/psi.c window_update); its kill rule reads full avg10.
  lmkd: { psi: ['some.total', 'full.total', 'full.avg10'], tasks: true, processes: true },
  // It kills for pressure only in a memcg with recent reclaim (a memory.stat pgscan rise: oomd.c monitor_memory_pressure_contexts_handler).
  'systemd-oomd': { meminfo: ['MemTotal', 'MemAvailable'], psi: ['full.avg10'], lacks: { 'memcg.pgscan': 'memory.stat pgscan (of each memcg)' } },
  // oomd's detectors and its KillPressure ranking read full avg10, avg60 and avg300.
  oomd: { meminfo: ['MemTotal', 'MemAvailable'], psi: ['full.avg10', 'full.avg60', 'full.avg300'] },
  // memory.available = MemTotal - (MemTotal - MemFree - Inactive(file)) (kubelet eviction helpers.go); pods are
  // the leaf cgroups that hold tasks.
  kubelet: { meminfo: ['MemTotal', 'MemFree', 'Inactive(file)'], tasks: true },
};

/** Fields a policy needs that the first sample lacks, as "what (where)" strings. */
export function missingFields(policy: string, h: TraceHeader, s: TraceSample): string[] {
  const n = NEEDS[policy];
  if (!n) return [];
  const out: string[] = [];
  const lacks = new Set(h.lacks ?? []);
  for (const k of n.meminfo ?? []) if (s.meminfo?.[k] === undefined) out.push(`/proc/meminfo ${k}`);
  if (n.psi?.length) {
    if (!s.pressure?.some && !s.pressure?.full) out.push('/proc/pressure/memory');
    else for (const f of n.psi) {
      const [line, field] = f.split('.') as ['some' | 'full', string];
      if (!s.pressure[line] || lacks.has(`pressure.${f}`)) out.push(`/proc/pressure/memory ${line} ${field}`);
    }
  }
  if (n.tasks && s.tasks === undefined) out.push('the process table (/proc/PID)');
  else if (n.processes && lacks.has('processes')) out.push('the process table (/proc/PID; the rows of this recording are containers, not processes)');
  const cols: readonly string[] = h.task_columns ?? TASK_COLUMNS;
  if (n.tasks && s.tasks !== undefined && !cols.includes('rss_kb') && !cols.includes('rss_pages')) out.push('/proc/PID/status VmRSS');
  if (n.oomScore && s.tasks !== undefined && !cols.includes('oom_score')) out.push('/proc/PID/oom_score');
  for (const [k, what] of Object.entries(n.lacks ?? {})) if (lacks.has(k)) out.push(what);
  return out;
}

/** Whether the real daemon starts on the recorded machine (null: it does), with the daemon's own reason. */
export function startCheck(policy: string, h: TraceHeader): string | null {
  // systemd src/oom/oomd.c run(): refuses to start without the unified hierarchy or without PSI.
  if (policy === 'systemd-oomd' && h.memcg && h.memcg.version !== 'v2') return 'would not start: "Requires the unified cgroups hierarchy" (src/oom/oomd.c); the recorded machine has cgroup v1';
  return null;
}

const psiOf = (p: TraceSample['pressure']): PsiReading => {
  if (!p?.some && !p?.full) return PSI_NOT_SIMULATED;
  const line = (l: { avg10: number; avg60: number; avg300: number; total: number } | undefined) =>
    l ? { avg10: l.avg10, avg60: l.avg60, avg300: l.avg300, totalUs: BigInt(Math.trunc(l.total)) } : { avg10: 0, avg60: 0, avg300: 0, totalUs: 0n };
  return { some: line(p.some), full: line(p.full), simulated: true };
};

/** The read-only part of a view that depends only on the sample (built once per sample, shared by the policies). */
interface Base {
  sampleMs: number;
  meminfo: Readonly<Record<string, number>>;
  vmstat: Readonly<Record<string, bigint>>;
  psi: PsiReading;
  tasks: readonly Readonly<ViewTask>[];
  cgroups: readonly string[];
  cgroupRead(path: string, file: string): string | null;
  cgroupPsi(path: string): PsiReading;
}

export function sampleBase(h: TraceHeader, s: TraceSample): Base {
  const pageKb = (h.page_size ?? 4096) / 1024;
  const tasks: ViewTask[] = taskRows(h, s).map((t) =>
    Object.freeze({
      pid: t.pid, ppid: t.ppid ?? 0, comm: t.comm ?? '?', cmdline: t.comm ?? '?', uid: t.uid ?? 0, oomScore: t.oom_score ?? 0, oomScoreAdj: t.oom_score_adj ?? 0,
      vmRssKb: t.rss_kb ?? (t.rss_pages ?? 0) * pageKb, vmSwapKb: t.swap_kb ?? 0, cgroup: t.memcg ?? '/', state: t.state ?? 'S',
    }),
  );
  const memcg = s.memcg ?? {};
  const paths = new Set<string>(['/', ...Object.keys(memcg), ...tasks.map((t) => t.cgroup)]);
  const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
  const cgroups = [...paths].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  const vmstat: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(s.vmstat ?? {})) vmstat[k] = BigInt(Math.trunc(v));
  const psiCache = new Map<string, PsiReading>();
  return {
    sampleMs: s.t_ms,
    meminfo: Object.freeze({ ...(s.meminfo ?? {}) }),
    vmstat: Object.freeze(vmstat),
    psi: psiOf(s.pressure),
    tasks: Object.freeze(tasks),
    cgroups: Object.freeze(cgroups),
    cgroupRead: (path, file) => (typeof path === 'string' && typeof file === 'string' ? (memcg[path]?.[file] ?? null) : null),
    cgroupPsi: (path) => {
      let r = psiCache.get(path);
      if (!r) {
        const t = memcg[path]?.['memory.pressure'];
        psiCache.set(path, (r = t === undefined ? PSI_NOT_SIMULATED : (parsePsi(t) ?? PSI_NOT_SIMULATED)));
      }
      return r;
    },
  };
}

interface Slot {
  row: ReplayRow;
  policy: Policy | null;
  nextNs: bigint;
  pending: PendingKill[];
  /** Victims of this policy and when they would have exited. */
  gone: Map<number, bigint>;
  disabled: boolean;
}

const ms = (ns: bigint) => Number(ns / 1000n) / 1000;
const SIGTERM_EXIT_NS = 100_000_000n; // as the simulator's host: a victim without a grace exits 100 ms after SIGTERM

function poll(slot: Slot, base: Base, nowNs: bigint): void {
  const p = slot.policy!;
  slot.pending = slot.pending.filter((x) => x.exitAtNs > nowNs);
  const tasks = slot.gone.size ? base.tasks.filter((t) => !(slot.gone.has(t.pid) && slot.gone.get(t.pid)! <= nowNs)) : base.tasks;
  const view: PolicyView = Object.freeze({ ...base, nowNs, tasks, pending: Object.freeze(slot.pending.map((x) => Object.freeze({ ...x }))) });
  slot.row.polls++;
  let actions: PolicyAction[];
  let iv: bigint;
  try {
    actions = p.tick(view);
    iv = p.intervalNs(view);
    if (!Array.isArray(actions) || typeof iv !== 'bigint' || iv <= 0n) throw new Error('tick() must return actions and intervalNs() a bigint > 0');
  } catch (e) {
    slot.row.errors.push(`at ${ms(nowNs)} ms: ${(e as Error).message}`);
    slot.disabled = true;
    return;
  }
  const alive = new Set(tasks.map((t) => t.pid));
  for (const a of actions) {
    if (a.type === 'kill' || a.type === 'kill_cgroup') {
      const inside = (c: string) => a.type === 'kill_cgroup' && (a.cgroup === '/' || c === a.cgroup || c.startsWith(a.cgroup + '/'));
      const victims = tasks.filter((t) => (a.type === 'kill' ? t.pid === a.pid : inside(t.cgroup)) && alive.has(t.pid));
      const exitAt = a.signal === 'SIGKILL' ? nowNs : nowNs + (a.graceNs ?? SIGTERM_EXIT_NS);
      for (const t of victims) {
        const prev = slot.gone.get(t.pid);
        if (prev === undefined || exitAt < prev) slot.gone.set(t.pid, exitAt);
        const pk = slot.pending.find((x) => x.pid === t.pid);
        if (pk) Object.assign(pk, { signal: a.signal, exitAtNs: exitAt });
        else slot.pending.push({ pid: t.pid, signal: a.signal, sinceNs: nowNs, exitAtNs: exitAt });
      }
      // A SIGKILL that escalates a pending SIGTERM is part of the same decision, not a new victim.
      const escalation = a.type === 'kill' && slot.row.kills.some((k) => k.victims.some((v) => v.pid === a.pid));
      if (escalation) {
        slot.row.otherActions['escalate to SIGKILL'] = (slot.row.otherActions['escalate to SIGKILL'] ?? 0) + 1;
        continue;
      }
      slot.row.kills.push({
        tMs: ms(nowNs),
        sampleMs: base.sampleMs,
        action: a,
        text: describeAction(a),
        victims: victims.map((t) => ({ pid: t.pid, comm: t.comm, rssKb: t.vmRssKb, oomScore: t.oomScore, oomScoreAdj: t.oomScoreAdj, cgroup: t.cgroup })),
      });
    } else {
      const k = a.type === 'none' ? `note: ${a.reason ?? 'nothing'}` : a.type;
      slot.row.otherActions[k] = (slot.row.otherActions[k] ?? 0) + 1;
    }
  }
  slot.nextNs = nowNs + iv;
}

/**
 * Counter deltas between two samples that say the kernel OOM-killed: each memcg's oom_kill (v1 memory.oom_control,
 * v2 memory.events) and the rest of vmstat oom_kill (which counts every kill, memcg ones too:
 * mm/oom_kill.c:__oom_kill_process).
 */
export function counterKills(prev: TraceSample, cur: TraceSample): KernelKill[] {
  const out: KernelKill[] = [];
  let inMemcgs = 0;
  for (const [path, files] of Object.entries(cur.memcg ?? {})) {
    if (path === '/') continue;
    const get = (f: Record<string, string> | undefined) => {
      const t = f?.['memory.oom_control'] ?? f?.['memory.events'];
      const m = t ? /^oom_kill (\d+)$/m.exec(t) : null;
      return m ? Number(m[1]) : undefined;
    };
    const x = get(prev.memcg?.[path]), y = get(files);
    if (x === undefined || y === undefined || y <= x) continue;
    // Only the innermost memcg that counted it (hierarchical v2 counters count in every ancestor).
    if (Object.keys(cur.memcg ?? {}).some((q) => q.startsWith(path + '/') && (get(cur.memcg![q]) ?? 0) > (get(prev.memcg?.[q]) ?? 0))) continue;
    out.push({ tMs: cur.t_ms, pid: null, comm: null, scope: 'memcg', source: 'memcg', count: y - x, memcg: path });
    inMemcgs += y - x;
  }
  const a = prev.vmstat?.oom_kill, b = cur.vmstat?.oom_kill;
  if (a !== undefined && b !== undefined && b - a > inMemcgs) out.push({ tMs: cur.t_ms, pid: null, comm: null, scope: 'unknown', source: 'vmstat', count: b - a - inMemcgs });
  return out;
}

export interface ReplayOptions {
  maxSeries?: number;
}

/** Replays an opened trace (reader.ts) through the policies. */
export async function replayTrace(file: string, header: TraceHeader, records: AsyncIterable<LocatedRecord>, specs: PolicySpec[], o: ReplayOptions = {}): Promise<ReplayResult> {
  const slots: Slot[] = specs.map((s) => ({
    row: { label: s.label ?? s.name, policy: s.name, params: s.params ?? {}, polls: 0, notStarted: startCheck(s.name, header), cannotReplay: null, kills: [], otherActions: {}, errors: [] },
    policy: createPolicy(s.name, s.params ?? {}),
    nextNs: -1n,
    pending: [],
    gone: new Map(),
    disabled: false,
  }));
  for (const s of slots) if (s.row.notStarted) s.disabled = true;
  const kmsgKills: KernelKill[] = [];
  const counter: KernelKill[] = [];
  let oomKillCounter = 0;
  let prev: TraceSample | null = null;
  let base: Base | null = null;
  let samples = 0, firstMs = 0, lastMs = 0, complete = false;
  const maxSeries = o.maxSeries ?? 2000;
  const series: ReplayResult['series'] = { tMs: [], memAvailableKb: [], memTotalKb: [], psiSomeAvg10: [] };
  let stride = 1;
  const advance = (untilNs: bigint, inclusive: boolean) => {
    for (const s of slots) {
      if (s.disabled || base === null) continue;
      while (!s.disabled && (inclusive ? s.nextNs <= untilNs : s.nextNs < untilNs)) poll(s, base, s.nextNs);
    }
  };
  for await (const { record: r, line, file: at } of records) {
    if (r.type === 'kmsg') {
      const k = killedProcess(r.text);
      if (k) kmsgKills.push({ tMs: r.t_ms, pid: k.pid, comm: k.comm, scope: k.memcg ? 'memcg' : 'global', source: 'kmsg', count: 1 });
      continue;
    }
    if (r.type === 'end') {
      complete = true;
      continue;
    }
    const tNs = BigInt(Math.round(r.t_ms * 1e6));
    if (samples === 0) {
      for (const s of slots) {
        const miss = missingFields(s.row.policy, header, r);
        if (miss.length && !s.row.notStarted) {
          s.row.cannotReplay = `${s.row.policy} needs ${miss.join(', ')}, which this ${header.source} recording (${at ?? file}:${line}) does not have`;
          s.disabled = true;
        }
        s.nextNs = tNs;
      }
      firstMs = r.t_ms;
    } else {
      advance(tNs, false);
      counter.push(...counterKills(prev!, r));
      const a = prev!.vmstat?.oom_kill, b = r.vmstat?.oom_kill;
      if (a !== undefined && b !== undefined && b > a) oomKillCounter += b - a;
    }
    base = sampleBase(header, r);
    prev = r;
    samples++;
    lastMs = r.t_ms;
    if (samples % stride === 0) {
      series.tMs.push(r.t_ms);
      series.memAvailableKb.push(r.meminfo?.MemAvailable ?? 0);
      series.memTotalKb.push(r.meminfo?.MemTotal ?? 0);
      series.psiSomeAvg10.push(r.pressure?.some?.avg10 ?? 0);
      if (series.tMs.length >= maxSeries) {
        for (const k of Object.keys(series) as (keyof typeof series)[]) series[k] = series[k].filter((_, i) => i % 2 === 0);
        stride *= 2;
      }
    }
  }
  if (samples === 0) throw new OomsimError('E_TRACE', `${file}: the trace has a header but no samples`);
  advance(BigInt(Math.round(lastMs * 1e6)), true);
  // Kernel kills: the log lines when the trace has them (they name the victim), else the counters.
  const kernel = (kmsgKills.length ? kmsgKills : counter).sort((a, b) => a.tMs - b.tMs);
  return { file, header, samples, firstMs, lastMs, complete: complete || header.source !== 'record', kernel, oomKillCounter, rows: slots.map((s) => s.row), series };
}
