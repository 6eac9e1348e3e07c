/**
 * nohang (hakavlad/nohang v0.3.0-11-g1d49838): src/nohang (calculate_percent, get_swap_threshold_tuple,
 * check_mem_swap_ex, check_zram, check_zram_ex, check_psi_ex, pid_to_badness, badness_pid_list, fast_find_victim,
 * implement_corrective_action, is_victim_alive, sleep_after_check_mem, the main loop) and conf/nohang/nohang.conf.in
 * (defaults). Each rule is a pure exported function of what nohang reads. See docs/policies/nohang.md.
 */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView, ViewTask } from '../types.js';
import { comm15, secNs } from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// Config values (nohang's own syntax: "5 %", "300 M", "True")

/** A config error as nohang prints it (invalid_config_key_value). */
export const invalidValue = (key: string) => new Error(`ERROR: invalid config: invalid "${key}" value`);

/** Python float(): optional blanks, a decimal or exponent number, inf/nan; anything else is None. */
function pyFloat(s: string): number | null {
  const t = s.trim();
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  return null;
}
const asText = (v: string | number) => (typeof v === 'number' ? `${v} %` : v);

export interface MemThreshold {
  kb: number;
  mb: number;
  percent: number;
}
/**
 * calculate_percent: "N %" is percent of MemTotal, "N M" is MiB; anything else is invalid. Ranges: soft/hard
 * min_mem at most 50 % of MemTotal (and not negative), soft/hard max_zram 10 %..90 %, warning min_mem and max_zram
 * 0..100 %. (A number stands for "N %".)
 */
export function calculatePercent(key: string, value: string | number, memTotalKiB: number): MemThreshold {
  const s = asText(value).trim();
  let kb: number, mb: number, percent: number;
  if (s.endsWith('%')) {
    const p = pyFloat(s.slice(0, -1));
    if (p === null) throw invalidValue(key);
    percent = p;
    kb = (p / 100) * memTotalKiB;
    mb = Math.round(kb / 1024);
  } else if (s.endsWith('M')) {
    const m = pyFloat(s.slice(0, -1));
    if (m === null) throw invalidValue(key);
    mb = m;
    kb = m * 1024;
    percent = (kb / memTotalKiB) * 100;
  } else throw invalidValue(key);
  if ((key === 'soft_threshold_min_mem' || key === 'hard_threshold_min_mem') && (kb > memTotalKiB * 0.5 || kb < 0)) throw invalidValue(key);
  if ((key === 'soft_threshold_max_zram' || key === 'hard_threshold_max_zram') && (kb > memTotalKiB * 0.9 || kb < memTotalKiB * 0.1)) throw invalidValue(key);
  if ((key === 'warning_threshold_min_mem' || key === 'warning_threshold_max_zram') && (kb > memTotalKiB || kb < 0)) throw invalidValue(key);
  return { kb, mb, percent };
}

/** get_swap_threshold_tuple: "N %" (0..100) is percent of SwapTotal at each check; "N M" (>= 0) is a fixed size in MiB. */
export function swapThreshold(key: string, value: string | number): { value: number; isPercent: boolean } {
  const s = asText(value);
  if (s.endsWith('%')) {
    const v = pyFloat(s.slice(0, -1));
    if (v === null || v < 0 || v > 100 || Number.isNaN(v)) throw invalidValue(key);
    return { value: v, isPercent: true };
  }
  if (s.endsWith('M')) {
    const v = pyFloat(s.slice(0, -1));
    if (v === null || v < 0 || Number.isNaN(v)) throw invalidValue(key);
    return { value: v, isPercent: false };
  }
  throw invalidValue(key);
}
/**
 * The swap threshold in KiB against the current SwapTotal. Note (code over docs): the "M" form is stored as the
 * number given and compared with SwapFree in KiB, so "200 M" acts as 200 KiB (check_mem_swap_ex uses the tuple's value
 * as KiB without the * 1024 that calculate_percent applies to memory).
 */
export const swapThresholdKb = (t: { value: number; isPercent: boolean }, swapTotalKiB: number) => (t.isPercent ? (swapTotalKiB * t.value) / 100 : t.value);

// ---------------------------------------------------------------------------------------------------------------
// Checks

/** The config resolved against MemTotal (nohang does it once at startup). */
export interface NohangConfig {
  softMinMemKb: number;
  hardMinMemKb: number;
  warningMinMemKb: number;
  softMinSwap: { value: number; isPercent: boolean };
  hardMinSwap: { value: number; isPercent: boolean };
  warningMinSwap: { value: number; isPercent: boolean };
  softMaxZramKb: number;
  hardMaxZramKb: number;
  warningMaxZramKb: number;
  lowMemoryWarningsEnabled: boolean;
}
export type Threshold = 'SIGKILL' | 'SIGTERM' | 'WARN' | null;

/**
 * check_mem_swap_ex: SIGKILL when MemAvailable <= hard_threshold_min_mem and SwapFree <= hard_threshold_min_swap
 * (percent of SwapTotal or a fixed value), else SIGTERM with the soft pair, else (warnings on) WARN with the warning
 * pair (SwapFree compared with the warning value + 0.1). Without swap SwapFree 0 <= 0 holds, so memory alone decides.
 */
export function checkMemSwapEx(c: NohangConfig, m: { memAvailableKiB: number; swapTotalKiB: number; swapFreeKiB: number }): Threshold {
  const hardSwap = swapThresholdKb(c.hardMinSwap, m.swapTotalKiB), softSwap = swapThresholdKb(c.softMinSwap, m.swapTotalKiB);
  if (m.memAvailableKiB <= c.hardMinMemKb && m.swapFreeKiB <= hardSwap) return 'SIGKILL';
  if (m.memAvailableKiB <= c.softMinMemKb && m.swapFreeKiB <= softSwap) return 'SIGTERM';
  if (c.lowMemoryWarningsEnabled && m.memAvailableKiB <= c.warningMinMemKb && m.swapFreeKiB <= swapThresholdKb(c.warningMinSwap, m.swapTotalKiB) + 0.1) return 'WARN';
  return null;
}

/**
 * check_zram: the memory zram really holds, summed over the zram devices' mm_stat mem_used_total, in KiB. The
 * engine's zram pools are vmstat nr_zspages (zsmalloc pages), which is what mem_used_total counts.
 */
export const memUsedZramKiB = (v: PolicyView) => Number(v.vmstat.nr_zspages ?? 0n) * 4;

/** check_zram_ex: SIGKILL when MemUsedZram >= hard_threshold_max_zram and MemAvailable <= hard min_mem; SIGTERM likewise. */
export function checkZramEx(c: NohangConfig, memAvailableKiB: number, memUsedZram: number): Threshold {
  if (memUsedZram >= c.hardMaxZramKb && memAvailableKiB <= c.hardMinMemKb) return 'SIGKILL';
  if (memUsedZram >= c.softMaxZramKb && memAvailableKiB <= c.softMinMemKb) return 'SIGTERM';
  if (c.lowMemoryWarningsEnabled && memUsedZram >= c.warningMaxZramKb && memAvailableKiB <= c.warningMinMemKb) return 'WARN';
  return null;
}

export interface PsiTimers {
  /** Seconds the hard/soft PSI threshold has been exceeded (negative: not exceeded). */
  kill: number;
  term: number;
  /** Time of the previous PSI check (s). */
  x0: number;
}
export const PSI_TIMERS_INIT = (t: number): PsiTimers => ({ kill: -0.0001, term: -0.0001, x0: t });
export interface PsiCheckInput {
  nowS: number;
  memAvailableKiB: number;
  swapTotalKiB: number;
  /** The psi_metrics value, or null when psi_path cannot be read. */
  psiValue: number | null;
  /** Time of the last corrective action (nohang starts it at its own start). */
  lastActionS: number;
}
/**
 * check_psi_ex: PSI is looked at only while MemAvailable is at or below one of the min_mem thresholds and there is
 * swap (SwapTotal 0 skips it: code over docs). A timer per level runs while the metric is >= the level's max_psi and
 * MemAvailable is at or below that level's min_mem (it starts at 0 and adds the time between checks); the level
 * fires once its timer reaches psi_excess_duration and psi_post_action_delay has passed since the last action.
 */
export function checkPsiEx(p: Pick<NohangParams, 'hardThresholdMaxPsi' | 'softThresholdMaxPsi' | 'warningThresholdMaxPsi' | 'psiExcessDuration' | 'psiPostActionDelay'>, c: NohangConfig, t: PsiTimers, i: PsiCheckInput): { threshold: Threshold; timers: PsiTimers } {
  const hard = i.memAvailableKiB <= c.hardMinMemKb, soft = i.memAvailableKiB <= c.softMinMemKb, warn = i.memAvailableKiB <= c.warningMinMemKb;
  if (!(warn || soft || hard) || i.swapTotalKiB === 0) return { threshold: null, timers: t };
  const delta = i.nowS - t.x0;
  const x0 = i.nowS;
  if (i.psiValue === null) return { threshold: null, timers: { kill: -0.0001, term: -0.0001, x0 } };
  const delayOver = i.nowS - i.lastActionS >= p.psiPostActionDelay;
  let kill = t.kill, term = t.term;
  const killOver = i.psiValue >= p.hardThresholdMaxPsi;
  kill = killOver && hard ? (kill < 0 ? 0 : kill + delta) : -0.0001;
  if (killOver && kill >= p.psiExcessDuration && delayOver && hard) return { threshold: 'SIGKILL', timers: { kill, term, x0 } };
  const termOver = i.psiValue >= p.softThresholdMaxPsi;
  term = termOver && soft ? (term < 0 ? 0 : term + delta) : -0.0001;
  if (termOver && term >= p.psiExcessDuration && delayOver && soft) return { threshold: 'SIGTERM', timers: { kill, term, x0 } };
  if (c.lowMemoryWarningsEnabled && i.psiValue >= p.warningThresholdMaxPsi && warn) return { threshold: 'WARN', timers: { kill, term, x0 } };
  return { threshold: null, timers: { kill, term, x0 } };
}

/**
 * sleep_after_check_mem: headroom of MemAvailable over the larger min_mem threshold / fill_rate_mem plus headroom of
 * SwapFree over the larger min_swap threshold / fill_rate_swap (rates in MiB/s); with zram checking, the smaller of
 * that and t_mem + (80 % of MemTotal - MemUsedZram) / fill_rate_zram; clamped to [min_sleep, max_sleep]
 * (min_sleep == max_sleep sleeps min_sleep).
 */
export function sleepAfterCheckMem(p: Pick<NohangParams, 'fillRateMem' | 'fillRateSwap' | 'fillRateZram' | 'minSleep' | 'maxSleep' | 'zramCheckingEnabled'>, c: NohangConfig, m: { memTotalKiB: number; memAvailableKiB: number; swapTotalKiB: number; swapFreeKiB: number; memUsedZramKiB: number }): number {
  if (p.maxSleep === p.minSleep) return p.minSleep;
  const memPoint = Math.max(0, m.memAvailableKiB - Math.max(c.softMinMemKb, c.hardMinMemKb));
  const swapPoint = Math.max(0, m.swapFreeKiB - Math.max(swapThresholdKb(c.softMinSwap, m.swapTotalKiB), swapThresholdKb(c.hardMinSwap, m.swapTotalKiB)));
  const tMem = memPoint / (p.fillRateMem * 1024), tSwap = swapPoint / (p.fillRateSwap * 1024);
  let t = tMem + tSwap;
  if (p.zramCheckingEnabled) t = Math.min(t, tMem + Math.max(0, (m.memTotalKiB * 0.8 - m.memUsedZramKiB) / (p.fillRateZram * 1024)));
  return Math.min(p.maxSleep, Math.max(p.minSleep, t));
}

// ---------------------------------------------------------------------------------------------------------------
// Victim choice

export type BadnessAdj = [number, string];
/** The @BADNESS_ADJ_RE_* lists; each entry is [adjustment, regex] or the config line's "ADJ /// REGEX". */
export interface BadnessRules {
  ignorePositiveOomScoreAdj: boolean;
  name: BadnessAdj[];
  cmdline: BadnessAdj[];
  uid: BadnessAdj[];
  cgroupV1: BadnessAdj[];
  cgroupV2: BadnessAdj[];
}
/**
 * pid_to_badness: 0 when oom_score is 0; else oom_score, minus 2/3 of a positive oom_score_adj (floor) with
 * ignore_positive_oom_score_adj; then, list by list (name, cgroup v1, cgroup v2, cmdline, uid), every regex that
 * matches anywhere in the property (re.search) adds its adjustment: a negative or zero one always, a positive one only
 * when oom_score_adj >= 0. The result is at least 0. The name is /proc/<pid>/status Name (the 15-byte comm); the
 * cgroup lines are the task's cgroup path; the cmdline is the comm (the engine has no argv); the uid is its decimal.
 */
export function pidToBadness(r: BadnessRules, t: ViewTask): number {
  if (t.oomScore === 0) return 0;
  let b = t.oomScore;
  if (r.ignorePositiveOomScoreAdj && t.oomScoreAdj > 0) b -= Math.floor((t.oomScoreAdj * 2) / 3);
  const name = comm15(t.comm);
  const props: [BadnessAdj[], string][] = [[r.name, name], [r.cgroupV1, t.cgroup], [r.cgroupV2, t.cgroup], [r.cmdline, t.cmdline], [r.uid, String(t.uid)]];
  for (const [list, value] of props) {
    for (const [adj, re] of list) {
      if (!new RegExp(re).test(value)) continue;
      if (adj <= 0 || t.oomScoreAdj >= 0) b += adj;
    }
  }
  return Math.max(0, b);
}

/**
 * badness_pid_list + fast_find_victim: every /proc pid (ascending) with oom_score >= 1 except pid 1 (and nohang
 * itself), sorted by badness descending with a stable sort, so among equal badness the lowest pid wins.
 */
export function findVictim(r: BadnessRules, tasks: readonly ViewTask[]): { task: ViewTask; badness: number } | null {
  let best: { task: ViewTask; badness: number } | null = null;
  for (const t of [...tasks].sort((a, b) => a.pid - b.pid)) {
    if (t.oomScore < 1 || t.pid === 1) continue;
    const b = pidToBadness(r, t);
    if (!best || b > best.badness) best = { task: t, badness: b };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters: nohang.conf keys (camelCase) with nohang's value syntax

const memArg = z.union([z.number(), z.string()]);
const adjList = z
  .array(z.union([z.tuple([z.number().int(), z.string()]), z.string()]))
  .default([])
  .transform((xs, ctx) =>
    xs.map((x): BadnessAdj => {
      if (Array.isArray(x)) return x;
      const i = x.indexOf('///');
      const adj = i < 0 ? NaN : Number(x.slice(0, i).trim());
      if (!Number.isInteger(adj)) ctx.addIssue({ code: 'custom', message: `"${x}": expected "BADNESS_ADJ /// REGEX"` });
      return [adj, i < 0 ? '' : x.slice(i + 3).trim()];
    }),
  );
const seconds = (min: number, def: number) => z.number().min(min).default(def);

export const nohangParams = z
  .object({
    zramCheckingEnabled: z.boolean().default(false),
    psiCheckingEnabled: z.boolean().default(false),
    /** /proc/pressure/memory or a cgroup's /sys/fs/cgroup/<path>/memory.pressure. */
    psiPath: z.string().default('/proc/pressure/memory'),
    psiMetrics: z.enum(['some_avg10', 'some_avg60', 'some_avg300', 'full_avg10', 'full_avg60', 'full_avg300']).default('full_avg10'),
    psiExcessDuration: seconds(0, 30),
    psiPostActionDelay: seconds(10, 15),
    fillRateMem: z.number().min(100).default(6000),
    fillRateSwap: z.number().min(100).default(2000),
    fillRateZram: z.number().min(100).default(4000),
    maxSleep: seconds(0.01, 3),
    minSleep: seconds(0.01, 0.1),
    lowMemoryWarningsEnabled: z.boolean().default(false),
    warningThresholdMinMem: memArg.default('20 %'),
    warningThresholdMinSwap: memArg.default('25 %'),
    warningThresholdMaxZram: memArg.default('45 %'),
    warningThresholdMaxPsi: z.number().min(1).max(100).default(10),
    minPostWarningDelay: seconds(1, 60),
    softThresholdMinMem: memArg.default('5 %'),
    softThresholdMinSwap: memArg.default('10 %'),
    softThresholdMaxZram: memArg.default('55 %'),
    softThresholdMaxPsi: z.number().min(1).max(100).default(40),
    hardThresholdMinMem: memArg.default('2 %'),
    hardThresholdMinSwap: memArg.default('4 %'),
    hardThresholdMaxZram: memArg.default('60 %'),
    hardThresholdMaxPsi: z.number().min(1).max(100).default(90),
    ignorePositiveOomScoreAdj: z.boolean().default(false),
    /** @BADNESS_ADJ_RE_NAME lines. */
    badnessAdjReName: adjList,
    badnessAdjReCgroupV1: adjList,
    badnessAdjReCgroupV2: adjList,
    /** @BADNESS_ADJ_RE_CMDLINE (the engine's cmdline is the comm). */
    badnessAdjReCmdline: adjList,
    badnessAdjReUid: adjList,
    maxSoftExitTime: seconds(0.1, 10),
    minBadness: z.number().int().min(1).default(1),
    /** Read and range-checked as nohang does, but the code never waits on it (docs/policies/nohang.md). */
    postSoftActionDelay: seconds(0.1, 3),
    postZombieDelay: seconds(0, 0.1),
    victimCacheTime: seconds(0, 10),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.minSleep > p.maxSleep) ctx.addIssue({ code: 'custom', path: ['minSleep'], message: 'ERROR: invalid config: invalid "min_sleep" value (must be <= max_sleep)' });
    for (const k of ['softThresholdMinSwap', 'hardThresholdMinSwap', 'warningThresholdMinSwap'] as const) {
      try {
        swapThreshold(k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), p[k]);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [k], message: (e as Error).message });
      }
    }
    for (const k of ['badnessAdjReName', 'badnessAdjReCgroupV1', 'badnessAdjReCgroupV2', 'badnessAdjReCmdline', 'badnessAdjReUid'] as const) {
      for (const [, re] of p[k]) {
        try {
          new RegExp(re);
        } catch {
          ctx.addIssue({ code: 'custom', path: [k], message: `Invalid RE pattern: ${re}` });
        }
      }
    }
  });
export type NohangParams = z.output<typeof nohangParams>;

/** The startup part of nohang: thresholds resolved against MemTotal (calculate_percent, get_swap_threshold_tuple). */
export function nohangConfig(p: NohangParams, memTotalKiB: number): NohangConfig {
  const mem = (k: keyof NohangParams & string, key: string) => calculatePercent(key, p[k] as string | number, memTotalKiB).kb;
  return {
    softMinMemKb: mem('softThresholdMinMem', 'soft_threshold_min_mem'),
    hardMinMemKb: mem('hardThresholdMinMem', 'hard_threshold_min_mem'),
    warningMinMemKb: mem('warningThresholdMinMem', 'warning_threshold_min_mem'),
    softMaxZramKb: mem('softThresholdMaxZram', 'soft_threshold_max_zram'),
    hardMaxZramKb: mem('hardThresholdMaxZram', 'hard_threshold_max_zram'),
    warningMaxZramKb: mem('warningThresholdMaxZram', 'warning_threshold_max_zram'),
    softMinSwap: swapThreshold('soft_threshold_min_swap', p.softThresholdMinSwap),
    hardMinSwap: swapThreshold('hard_threshold_min_swap', p.hardThresholdMinSwap),
    warningMinSwap: swapThreshold('warning_threshold_min_swap', p.warningThresholdMinSwap),
    lowMemoryWarningsEnabled: p.lowMemoryWarningsEnabled,
  };
}
export const badnessRules = (p: NohangParams): BadnessRules => ({
  ignorePositiveOomScoreAdj: p.ignorePositiveOomScoreAdj,
  name: p.badnessAdjReName,
  cmdline: p.badnessAdjReCmdline,
  uid: p.badnessAdjReUid,
  cgroupV1: p.badnessAdjReCgroupV1,
  cgroupV2: p.badnessAdjReCgroupV2,
});

const psiOf = (p: NohangParams, v: PolicyView): number | null => {
  let r = v.psi;
  if (p.psiPath !== '/proc/pressure/memory') {
    const m = /^\/sys\/fs\/cgroup(\/.*)?\/memory\.pressure$/.exec(p.psiPath);
    if (!m) return null;
    r = v.cgroupPsi(m[1] ?? '/');
  }
  const [kind, avg] = p.psiMetrics.split('_') as ['some' | 'full', 'avg10' | 'avg60' | 'avg300'];
  return r[kind][avg];
};
const nsS = (ns: bigint) => Number(ns) / 1e9;

export const nohang: PolicyDefinition<typeof nohangParams> = {
  name: 'nohang',
  summary: 'soft/hard MemAvailable+SwapFree, zram and PSI thresholds; badness = oom_score + regex rules (hakavlad/nohang)',
  source: 'hakavlad/nohang v0.3.0-11-g1d49838: src/nohang (check_mem_swap_ex, check_zram_ex, check_psi_ex, pid_to_badness, implement_corrective_action, sleep_after_check_mem), conf/nohang/nohang.conf.in',
  params: nohangParams,
  create(p) {
    let c: NohangConfig | null = null;
    let startMemTotal: number | null = null; // MemTotal when nohang started (its config follows from it and the parameters)
    let timers: PsiTimers | null = null;
    let lastActionS = 0;
    /** v_dict: SIGTERM'd victims still alive, with the time of the signal (s). */
    const vDict = new Map<number, number>();
    let sleepS = 0;
    let warnTimeNow = -Infinity, warnTimer = 0;
    const rules = badnessRules(p);
    return {
      name: 'nohang',
      params: p,
      state: () => ({ startMemTotal, timers: timers && { ...timers }, lastActionS, vDict: [...vDict], sleepS, warnTimeNow, warnTimer }),
      fromState(x) {
        const s = x as { startMemTotal: number | null; timers: PsiTimers | null; lastActionS: number; vDict: [number, number][]; sleepS: number; warnTimeNow: number; warnTimer: number };
        startMemTotal = s.startMemTotal;
        c = startMemTotal === null ? null : nohangConfig(p, startMemTotal);
        ({ timers, lastActionS, sleepS, warnTimeNow, warnTimer } = s);
        vDict.clear();
        for (const [k, v] of s.vDict) vDict.set(k, v);
      },
      intervalNs: () => secNs(sleepS),
      tick(v): PolicyAction[] {
        const now = nsS(v.nowNs);
        const mi = v.meminfo;
        if (!c) {
          startMemTotal = mi.MemTotal ?? 0;
          c = nohangConfig(p, startMemTotal);
          timers = PSI_TIMERS_INIT(now);
          lastActionS = now; // last_action_dict['t'] starts at nohang's start
        }
        const mem = { memTotalKiB: mi.MemTotal ?? 0, memAvailableKiB: mi.MemAvailable ?? 0, swapTotalKiB: mi.SwapTotal ?? 0, swapFreeKiB: mi.SwapFree ?? 0, memUsedZramKiB: memUsedZramKiB(v) };
        const check = (): Threshold[] => {
          const out: Threshold[] = [checkMemSwapEx(c!, mem)];
          if (p.zramCheckingEnabled) out.push(checkZramEx(c!, mem.memAvailableKiB, mem.memUsedZramKiB));
          if (p.psiCheckingEnabled) {
            const r = checkPsiEx(p, c!, timers!, { nowS: now, memAvailableKiB: mem.memAvailableKiB, swapTotalKiB: mem.swapTotalKiB, psiValue: psiOf(p, v), lastActionS });
            timers = r.timers;
            out.push(r.threshold);
          }
          return out;
        };
        const overall = (ts: Threshold[]): Threshold => (ts.includes('SIGKILL') ? 'SIGKILL' : ts.includes('SIGTERM') ? 'SIGTERM' : ts.includes('WARN') ? 'WARN' : null);
        const first = overall(check());
        sleepS = p.minSleep; // over_sleep, and the main loop's immediate re-check after an action
        if (first === 'SIGKILL' || first === 'SIGTERM') return corrective();
        const out: PolicyAction[] = [];
        if (first === 'WARN') {
          warnTimer += now - warnTimeNow;
          warnTimeNow = now;
          if (warnTimer > p.minPostWarningDelay) {
            out.push({ type: 'none', reason: 'low memory warning' });
            warnTimer = 0;
          }
        }
        sleepS = sleepAfterCheckMem(p, c, mem);
        return out;

        /** implement_corrective_action. */
        function corrective(): PolicyAction[] {
          for (const pid of [...vDict.keys()]) if (!v.tasks.some((t) => t.pid === pid && t.vmRssKb > 0 && t.state !== 'Z')) vDict.delete(pid);
          // A victim signalled less than victim_cache_time ago is chosen again (the first such in v_dict).
          let victim: { task: ViewTask; badness: number } | null = null;
          for (const [pid, t] of vDict) {
            if (now - t < p.victimCacheTime) {
              const task = v.tasks.find((x) => x.pid === pid)!;
              victim = { task, badness: pidToBadness(rules, task) };
              break;
            }
          }
          victim ??= findVictim(rules, v.tasks);
          if (!victim) return [];
          // The thresholds are checked again right before acting (same readings here: no time passes in between).
          let threshold = overall(check());
          if (threshold !== 'SIGKILL' && threshold !== 'SIGTERM') return [];
          const { task, badness } = victim;
          if (threshold === 'SIGTERM' && vDict.has(task.pid)) {
            if (now - vDict.get(task.pid)! > p.maxSoftExitTime) threshold = 'SIGKILL';
            else return [];
          }
          if (badness < p.minBadness) return [{ type: 'none', reason: `victim (PID: ${task.pid}, Name: ${task.comm}) badness (${badness}) < min_badness (${p.minBadness})` }];
          if (threshold === 'SIGTERM') vDict.set(task.pid, now);
          else vDict.delete(task.pid);
          lastActionS = now;
          return [{ type: 'kill', pid: task.pid, signal: threshold, reason: `Implementing a corrective action: sending ${threshold} to the victim (PID: ${task.pid}, Name: ${task.comm}, badness: ${badness})` }];
        }
      },
    };
  },
};
