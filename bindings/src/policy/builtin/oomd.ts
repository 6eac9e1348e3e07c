/**
 * oomd (facebookincubator/oomd v0.5.0-118-g88c28fd): the core detector and kill plugins' math as pure exported
 * functions (src/oomd/plugins/*.cpp, KillMemoryGrowth-inl.h, KillSwapUsage-inl.h, KillPressure-inl.h,
 * OomdContext.h sortDescWithKillPrefs, CgroupContext.cpp, util/Util.cpp). See docs/policies/oomd.md.
 */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView } from '../types.js';
import { cgroupNumber, kb, leaves, memoryStat, secNs } from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// util/Util.cpp

/** Util::parseSize: case-insensitive, spaces removed, a sign, then number+unit terms (k m g t, binary) summed. Null on error. */
export function parseSize(input: string): number | null {
  let s = input.toLowerCase().replace(/\s+/g, '');
  let neg = false;
  if (s[0] === '+') s = s.slice(1);
  else if (s[0] === '-') (neg = true), (s = s.slice(1));
  let size = 0, pos = 0;
  const mult: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
  while (pos < s.length) {
    let u = s.slice(pos).search(/[kmgt]/);
    if (u === 0) return null;
    u = u < 0 ? s.length : pos + u;
    const num = s.slice(pos, u);
    if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(num)) return null; // std::stold must consume it all, v >= 0
    size += Math.trunc(Number(num) * mult[s[u] ?? '']); // size += v (uint64 from long double, truncating)
    pos = u + 1;
  }
  return neg ? -size : size;
}
/** Util::parseSizeOrPercent: "N%" (0..100, integer) of total; a bare integer is MiB (compat); else parseSize. */
export function parseSizeOrPercent(input: string, total: number): number | null {
  if (input.endsWith('%')) {
    const m = /^\s*([+-]?\d+)/.exec(input.slice(0, -1)); // std::stoi: leading integer
    if (!m) return null;
    const pct = Number(m[1]);
    if (pct < 0 || pct > 100) return null;
    return Math.trunc((total * pct) / 100);
  }
  if (/^\s*[+-]?\d+$/.test(input)) return Number(input) * 2 ** 20;
  return parseSize(input);
}

// ---------------------------------------------------------------------------------------------------------------
// Detectors (each returns CONTINUE = fire, or STOP)

export interface ResourcePressure {
  sec_10: number;
  sec_60: number;
  sec_300: number;
}
/** The cgroup a detector looks at among several: the one with the highest 3*avg10 + 2*avg60 + avg300 (first wins ties). */
export function worstPressure(ps: readonly ResourcePressure[]): ResourcePressure {
  let cur: ResourcePressure = { sec_10: 0, sec_60: 0, sec_300: 0 };
  for (const rp of ps) if (rp.sec_10 * 3 + rp.sec_60 * 2 + rp.sec_300 > cur.sec_10 * 3 + cur.sec_60 * 2 + cur.sec_300) cur = rp;
  return cur;
}
/** A "held for duration" clock: started when the condition first holds, cleared when it does not; whole seconds. */
export interface HoldState {
  hitAtNs: bigint | null;
}
function held(state: HoldState, cond: boolean, durationS: number, nowNs: bigint): boolean {
  if (!cond) {
    state.hitAtNs = null;
    return false;
  }
  state.hitAtNs ??= nowNs;
  return Number((nowNs - state.hitAtNs) / 1_000_000_000n) >= durationS; // duration_cast<seconds> truncates
}
/** PressureAbove.cpp: avg10 of the worst cgroup above `threshold` for `duration` s. */
export const pressureAbove = (s: HoldState, ps: readonly ResourcePressure[], threshold: number, durationS: number, nowNs: bigint) => held(s, worstPressure(ps).sec_10 > threshold, durationS, nowNs);
/** MemoryAbove.cpp: the largest usage (memory.current, or anon with threshold_anon) above the threshold for `duration` s. */
export const memoryAbove = (s: HoldState, usages: readonly number[], thresholdBytes: number, durationS: number, nowNs: bigint) => held(s, Math.max(0, ...usages) > thresholdBytes, durationS, nowNs);
/** SwapFree.cpp: swap free < total * pct / 100 (integer) and the swap-out rate at least `swapoutBpsThreshold`. */
export const swapFree = (sys: { swaptotal: number; swapused: number; swapoutBps: number }, thresholdPct: number, swapoutBpsThreshold = 0) =>
  sys.swaptotal - sys.swapused < Math.trunc((sys.swaptotal * thresholdPct) / 100) && sys.swapoutBps >= swapoutBpsThreshold;
export interface RisingState extends HoldState {
  last: ResourcePressure;
}
/** PressureRisingBeyond.cpp: avg60 above for `duration`, avg10 above too, and avg10 not falling below fast_fall_ratio × the last one. */
export function pressureRisingBeyond(s: RisingState, ps: readonly ResourcePressure[], threshold: number, durationS: number, nowNs: bigint, fastFallRatio = 0.85): boolean {
  const cur = worstPressure(ps);
  const met60 = held(s, cur.sec_60 > threshold, durationS, nowNs);
  const fire = met60 && cur.sec_10 > threshold && !(cur.sec_10 < s.last.sec_10 * fastFallRatio);
  s.last = cur;
  return fire;
}
export const risingStart = (): RisingState => ({ hitAtNs: null, last: { sec_10: 100, sec_60: 100, sec_300: 100 } });

// ---------------------------------------------------------------------------------------------------------------
// Kill plugins: ranking

export type KillPreference = 'prefer' | 'normal' | 'avoid';
const PREF: Record<KillPreference, number> = { prefer: 1, normal: 0, avoid: -1 };
export interface OomdCgroup {
  path: string;
  currentUsage: number;
  /** CgroupContext::getAverageUsage: prev * (decay-1)/decay + current/decay, decay 4. */
  averageUsage: number;
  /** memory_protection (memoryProtection: memory.min / memory.low normalised over siblings); null when unreadable. */
  protection: number | null;
  swapUsage: number;
  memPressure: ResourcePressure;
  preference: KillPreference;
}
/** CgroupContext::getAverageUsage, truncated to int64 as returned. */
export const averageUsage = (prev: number, current: number, decay = 4) => Math.trunc(prev * ((decay - 1) / decay) + current / decay);
/**
 * CgroupContext: effective_usage = current - protection; the plugins take `effective_usage().value_or(0)`, so a
 * cgroup whose protection cannot be read (no memory.min/low: cgroup v1, or the upstream fixtures) counts 0.
 * memory_growth = current / average (0 when average is 0).
 */
export const effectiveUsage = (c: OomdCgroup) => (c.protection === null ? 0 : c.currentUsage - c.protection);
export const memoryGrowth = (c: OomdCgroup) => (c.averageUsage === 0 ? 0 : c.currentUsage / c.averageUsage);

/** The memory files of one cgroup as CgroupContext reads them (bytes; "max" is not used by protection). */
export interface MemFiles {
  current: number;
  min: number;
  low: number;
}
/** A cgroup tree as oomd sees it under its cgroup root: path ("/" the root, "/A/B"...) -> files, or null if unreadable. */
export type CgroupTree = ReadonlyMap<string, MemFiles | null>;
const parentOf = (p: string) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
/** CgroupContext.cpp rawProtection: R = min(memory.current, max(memory.min, memory.low)); null when a file is missing. */
export const rawProtection = (f: MemFiles | null | undefined): number | null => (f ? Math.min(f.current, Math.max(f.min, f.low)) : null);
/**
 * CgroupContext::getMemoryProtection: the root's protection is its usage; a top-level cgroup gets R; below that,
 * P = R * min(1, P(parent) / (sum of R over the parent's children, unreadable ones counting 0)), truncated to int64;
 * a zero sum gives 0. Null when the cgroup's or an ancestor's files cannot be read.
 */
export function memoryProtection(tree: CgroupTree, path: string): number | null {
  const f = tree.get(path);
  if (path === '/') return f ? f.current : null;
  const parent = parentOf(path);
  if (parent === '/') return rawProtection(f);
  let sum = 0;
  for (const [p, sf] of tree) if (p !== '/' && parentOf(p) === parent) sum += rawProtection(sf) ?? 0;
  if (sum === 0) return 0;
  const raw = rawProtection(f);
  if (raw === null) return null;
  const pp = memoryProtection(tree, parent);
  if (pp === null) return null;
  return Math.trunc(raw * Math.min(1.0, (1.0 * pp) / sum));
}
/** The tree read from cgroupfs (memory.current, memory.min, memory.low of every known cgroup; root: its usage). */
export function cgroupTreeOf(v: PolicyView, rootUsage: number): CgroupTree {
  const t = new Map<string, MemFiles | null>([['/', { current: rootUsage, min: 0, low: 0 }]]);
  for (const c of v.cgroups) {
    if (c === '/') continue;
    const cur = cgroupNumber(v, c, 'memory.current'), min = cgroupNumber(v, c, 'memory.min'), low = cgroupNumber(v, c, 'memory.low');
    t.set(c, cur === null || min === null || low === null ? null : { current: cur, min, low });
  }
  return t;
}

const tupleCmp = (a: number[], b: number[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i] ? -1 : 1;
  return 0;
};
/** OomdContext::sortDescWithKillPrefs: prefer first, avoid last, then the key descending (ties keep input order). */
export function sortDescWithKillPrefs<T extends { preference: KillPreference }>(cs: readonly T[], key: (c: T) => number[]): T[] {
  return cs.map((c, i) => ({ c, i })).sort((a, b) => tupleCmp([PREF[a.c.preference], ...key(a.c)], [PREF[b.c.preference], ...key(b.c)]) || a.i - b.i).map((x) => x.c);
}
export type KmgPhase = 'size_threshold' | 'growth' | 'size_no_threshold';
/**
 * KillMemoryGrowth-inl.h:get_ranking_fn. Size phase: current >= size_threshold % of the siblings' total current.
 * Growth phase: growth >= min_growth_ratio and effective usage at least the P(growing_size_percentile) sibling's
 * (the element at index ceil(n*(100-p)/100)-1 by effective usage, descending). Rank tuple: (effective if size
 * phase, growth if growth phase, effective), descending, kill preferences first.
 */
export function killMemoryGrowthRank(cs: readonly OomdCgroup[], sizeThreshold = 50, growingSizePercentile = 80, minGrowthRatio = 1.25): { ranked: OomdCgroup[]; phase: (c: OomdCgroup) => KmgPhase } {
  const total = cs.reduce((s, c) => s + c.currentUsage, 0);
  const sizeBytes = Math.trunc(total * (sizeThreshold / 100));
  let growthMin = 0;
  if (cs.length > 0 && growingSizePercentile > 0) {
    const nth = Math.ceil((cs.length * (100 - growingSizePercentile)) / 100) - 1;
    growthMin = [...cs].map(effectiveUsage).sort((a, b) => b - a)[nth];
  }
  const info = (c: OomdCgroup) => {
    const sizeOk = c.currentUsage >= sizeBytes;
    const g = memoryGrowth(c);
    const growthOk = g >= minGrowthRatio && effectiveUsage(c) >= growthMin;
    return { phase: (sizeOk ? 'size_threshold' : growthOk ? 'growth' : 'size_no_threshold') as KmgPhase, key: [sizeOk ? effectiveUsage(c) : 0, growthOk ? Math.fround(g) : 0, effectiveUsage(c)] };
  };
  return { ranked: sortDescWithKillPrefs(cs, (c) => info(c).key), phase: (c) => info(c).phase };
}
/** KillSwapUsage-inl.h: cgroups with swap above the threshold, most swap first (biased: swap beyond swapRatio × protection). */
export function killSwapUsageRank(cs: readonly OomdCgroup[], thresholdBytes: number, biased = false, swapRatio = 0): OomdCgroup[] {
  const excess = (c: OomdCgroup) => (c.protection ? Math.max(0, c.swapUsage - Math.trunc(swapRatio * c.protection)) : c.swapUsage);
  return sortDescWithKillPrefs(cs.filter((c) => c.swapUsage > thresholdBytes), (c) => [biased ? excess(c) : c.swapUsage]);
}
/** KillPressure-inl.h: by int(avg10/2 + avg60/2), highest first. */
export const killPressureRank = (cs: readonly OomdCgroup[]) => sortDescWithKillPrefs(cs, (c) => [Math.trunc(c.memPressure.sec_10 / 2 + c.memPressure.sec_60 / 2)]);

// ---------------------------------------------------------------------------------------------------------------
// Parameters: one ruleset (detector groups OR'ed, one action), named as oomd's plugin arguments

const sizeOrPct = z.union([z.number(), z.string()]);
export const oomdParams = z
  .object({
    /** The monitored cgroup; its leaf descendants are the kill candidates (the plugins' `cgroup` glob). */
    cgroup: z.string().default('/'),
    /** pressure_above: memory avg10 above `threshold` for `duration` s (oomd has no defaults: example values). */
    pressure_above: z.object({ threshold: z.number().min(0).max(100), duration: z.number().nonnegative() }).strict().nullable().default({ threshold: 60, duration: 30 }),
    /** memory_above: usage above `threshold` (size "1.5G", bare number = MiB, or "N%" of MemTotal) for `duration` s. */
    memory_above: z.object({ threshold: sizeOrPct.optional(), threshold_anon: sizeOrPct.optional(), duration: z.number().nonnegative() }).strict().nullable().default(null),
    /** swap_free: free swap below threshold_pct % (and swap-out at least swapout_bps_threshold). */
    swap_free: z.object({ threshold_pct: z.number().int().min(0).max(100), swapout_bps_threshold: z.number().nonnegative().default(0) }).strict().nullable().default(null),
    /** pressure_rising_beyond: avg60 above for `duration`, avg10 above, not falling fast. */
    pressure_rising_beyond: z.object({ threshold: z.number(), duration: z.number().nonnegative(), fast_fall_ratio: z.number().default(0.85) }).strict().nullable().default(null),
    action: z.enum(['kill_by_memory_size_or_growth', 'kill_by_swap_usage', 'kill_by_pressure']).default('kill_by_memory_size_or_growth'),
    size_threshold: z.number().int().nonnegative().default(50),
    growing_size_percentile: z.number().int().min(0).max(99).default(80),
    min_growth_ratio: z.number().nonnegative().default(1.25),
    /** kill_by_swap_usage threshold (size or % of SwapTotal; default 1 byte as the plugin's threshold_{1}). */
    threshold: sizeOrPct.default(1),
    biased_swap_kill: z.boolean().default(false),
    /** Seconds without acting after a kill (BaseKillPlugin post_action_delay; example value). */
    post_action_delay: z.number().nonnegative().default(15),
    /** Ruleset evaluation interval, s (oomd's --interval, default 5 s in oomd; 1 s here as before). */
    interval: z.number().positive().default(1),
    /** Kill preferences by cgroup (the trusted.oomd_prefer / oomd_avoid xattrs). */
    preferences: z.record(z.string(), z.enum(['prefer', 'normal', 'avoid'])).default({}),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const [k, v] of [['memory_above.threshold', p.memory_above?.threshold], ['memory_above.threshold_anon', p.memory_above?.threshold_anon], ['threshold', p.threshold]] as const) {
      if (v !== undefined && typeof v === 'string' && parseSizeOrPercent(v, 100) === null) ctx.addIssue({ code: 'custom', path: k.split('.'), message: `Failed to parse threshold: ${v}` });
    }
    if (p.memory_above && p.memory_above.threshold === undefined && p.memory_above.threshold_anon === undefined) ctx.addIssue({ code: 'custom', path: ['memory_above'], message: 'threshold or threshold_anon is required' });
  });
export type OomdParams = z.output<typeof oomdParams>;

const sizeArg = (v: string | number, total: number) => (typeof v === 'number' ? Math.trunc(v) : (parseSizeOrPercent(v, total) ?? 0));
const pressureOf = (v: PolicyView, cg: string): ResourcePressure => {
  const f = v.cgroupPsi(cg).full;
  return { sec_10: f.avg10, sec_60: f.avg60, sec_300: f.avg300 };
};

export const oomd: PolicyDefinition<typeof oomdParams> = {
  name: 'oomd',
  summary: 'pressure_above / memory_above / swap_free / pressure_rising_beyond detectors, kill_by_memory_size_or_growth / swap_usage / pressure (facebookincubator/oomd)',
  source: 'facebookincubator/oomd v0.5.0-118-g88c28fd: src/oomd/plugins (PressureAbove.cpp, MemoryAbove.cpp, SwapFree.cpp, PressureRisingBeyond.cpp, KillMemoryGrowth-inl.h, KillSwapUsage-inl.h, KillPressure-inl.h), util/Util.cpp',
  params: oomdParams,
  create(p) {
    const pa: HoldState = { hitAtNs: null }, ma: HoldState = { hitAtNs: null }, rb = risingStart();
    let delayUntil = 0n, lastSwapOut: bigint | null = null, lastNs = 0n;
    const avg = new Map<string, number>();
    return {
      name: 'oomd',
      params: p,
      state: () => ({ pa: { ...pa }, ma: { ...ma }, rb: { hitAtNs: rb.hitAtNs, last: { ...rb.last } }, delayUntil, lastSwapOut, lastNs, avg: [...avg] }),
      fromState(x) {
        const s = x as { pa: HoldState; ma: HoldState; rb: RisingState; delayUntil: bigint; lastSwapOut: bigint | null; lastNs: bigint; avg: [string, number][] };
        Object.assign(pa, s.pa);
        Object.assign(ma, s.ma);
        rb.hitAtNs = s.rb.hitAtNs;
        rb.last = { ...s.rb.last };
        ({ delayUntil, lastSwapOut, lastNs } = s);
        avg.clear();
        for (const [k, v] of s.avg) avg.set(k, v);
      },
      intervalNs: () => secNs(p.interval),
      tick(v): PolicyAction[] {
        const kids = leaves(v, p.cgroup).filter((c) => c !== '/');
        const tree = cgroupTreeOf(v, kb(v, 'MemTotal') * 1024 - kb(v, 'MemFree') * 1024);
        const cgs: OomdCgroup[] = kids.map((c) => {
          const cur = cgroupNumber(v, c, 'memory.current') ?? cgroupNumber(v, c, 'memory.usage_in_bytes') ?? 0;
          const a = averageUsage(avg.get(c) ?? 0, cur);
          avg.set(c, a);
          return { path: c, currentUsage: cur, averageUsage: a, protection: memoryProtection(tree, c), swapUsage: cgroupNumber(v, c, 'memory.swap.current') ?? 0, memPressure: pressureOf(v, c), preference: p.preferences[c] ?? 'normal' };
        });
        const memTotal = kb(v, 'MemTotal') * 1024;
        const monitored = p.cgroup === '/' ? ['/'] : [p.cgroup];
        const ps = monitored.map((c) => pressureOf(v, c));
        const swapOut = v.vmstat.pswpout ?? 0n;
        const swapoutBps = lastSwapOut === null || v.nowNs === lastNs ? 0 : (Number(swapOut - lastSwapOut) * 4096 * 1e9) / Number(v.nowNs - lastNs);
        lastSwapOut = swapOut;
        lastNs = v.nowNs;
        // The root's current_usage is Fs::readRootMemcurrent: MemTotal - MemFree.
        const usage = (c: string) => (c === '/' ? memTotal - kb(v, 'MemFree') * 1024 : (cgroupNumber(v, c, 'memory.current') ?? 0));
        const anon = (c: string) => memoryStat(v, c, 'anon') ?? (c === '/' ? kb(v, 'AnonPages') * 1024 : 0);
        const fired: string[] = [];
        if (p.pressure_above && pressureAbove(pa, ps, p.pressure_above.threshold, p.pressure_above.duration, v.nowNs)) fired.push('pressure_above');
        if (p.memory_above) {
          const isAnon = p.memory_above.threshold_anon !== undefined;
          const th = sizeArg((isAnon ? p.memory_above.threshold_anon : p.memory_above.threshold)!, memTotal);
          if (memoryAbove(ma, monitored.map(isAnon ? anon : usage), th, p.memory_above.duration, v.nowNs)) fired.push('memory_above');
        }
        if (p.swap_free && swapFree({ swaptotal: kb(v, 'SwapTotal') * 1024, swapused: (kb(v, 'SwapTotal') - kb(v, 'SwapFree')) * 1024, swapoutBps }, p.swap_free.threshold_pct, p.swap_free.swapout_bps_threshold)) fired.push('swap_free');
        if (p.pressure_rising_beyond && pressureRisingBeyond(rb, ps, p.pressure_rising_beyond.threshold, p.pressure_rising_beyond.duration, v.nowNs, p.pressure_rising_beyond.fast_fall_ratio)) fired.push('pressure_rising_beyond');
        if (!fired.length || v.pending.length || v.nowNs < delayUntil) return [];
        const withTasks = cgs.filter((c) => v.tasks.some((t) => t.cgroup === c.path || t.cgroup.startsWith(c.path + '/')));
        let ranked: OomdCgroup[], why = p.action as string;
        if (p.action === 'kill_by_swap_usage') ranked = killSwapUsageRank(withTasks, sizeArg(p.threshold, kb(v, 'SwapTotal') * 1024), p.biased_swap_kill, kb(v, 'MemTotal') ? kb(v, 'SwapTotal') / kb(v, 'MemTotal') : 0);
        else if (p.action === 'kill_by_pressure') ranked = killPressureRank(withTasks);
        else {
          const r = killMemoryGrowthRank(withTasks, p.size_threshold, p.growing_size_percentile, p.min_growth_ratio);
          ranked = r.ranked;
          if (ranked[0]) why = `${p.action} (${r.phase(ranked[0])})`;
        }
        if (!ranked.length) return [];
        delayUntil = v.nowNs + secNs(p.post_action_delay);
        return [{ type: 'kill_cgroup', cgroup: ranked[0].path, signal: 'SIGKILL', reason: `${fired.join(', ')}: ${why}` }];
      },
    };
  },
};
