/**
 * Android lmkd (AOSP platform/system/memory/lmkd, main at 767ae23, 2025-03-17): lmkd.cpp (update_props,
 * init_psi_monitors, mp_event_psi/__mp_event_psi, mp_event_common, find_and_kill_process, proc_get_heaviest,
 * kill_one_process, get_lowest_watermark, calc_zone_watermarks, zoneinfo_parse, meminfo_parse, get_free_swap,
 * calc_swap_utilization, call_handler/mainloop polling), statslog.h (kill_reasons), README.md (ro.lmk.* properties).
 * The PSI triggers lmkd registers are evaluated as kernel/sched/psi.c does (update_triggers, window_update).
 * Each rule is a pure exported function of what lmkd reads. See docs/policies/lmkd.md.
 */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView, ViewTask } from '../types.js';
import { MS, userTask } from './common.js';

export const OOM_SCORE_ADJ_MIN = -1000, OOM_SCORE_ADJ_MAX = 1000;
export const PERCEPTIBLE_APP_ADJ = 200, PREVIOUS_APP_ADJ = 700;
export const PSI_WINDOW_SIZE_MS = 1000, PSI_POLL_PERIOD_SHORT_MS = 10, PSI_POLL_PERIOD_LONG_MS = 100, THRASHING_RESET_INTERVAL_MS = 1000;
/** include/lmkd.h MAX_TARGETS: at most six minfree:adj pairs. */
export const MAX_TARGETS = 6;
/** ActivityManager's ProcessList mOomMinFreeHigh (kB) / mOomAdj, sent to lmkd in pages as LMK_TARGET on a large device. */
export const AMS_MINFREE_LEVELS = '18432:0,23040:100,27648:200,32256:250,36864:900,46080:950';

// ---------------------------------------------------------------------------------------------------------------
// Properties (update_props)

const int = z.number().int();
const opt = <T extends z.ZodTypeAny>(t: T) => t.nullable().default(null);
export const lmkdParams = z
  .object({
    /** ro.config.low_ram (Android Go): changes several defaults and kills one task per event in the old strategy. */
    lowRam: z.boolean().default(false),
    /** ro.lmk.low / medium / critical: min oom_score_adj killed at each vmpressure level (old strategy). */
    low: int.default(OOM_SCORE_ADJ_MAX + 1),
    medium: int.default(800),
    critical: int.default(0),
    criticalUpgrade: z.boolean().default(false),
    upgradePressure: int.default(100),
    downgradePressure: int.default(100),
    killHeaviestTask: z.boolean().default(false),
    killTimeoutMs: int.min(0).default(100),
    pressureAfterKillMinScore: int.default(0),
    useMinfreeLevels: z.boolean().default(false),
    /** ro.lmk.use_new_strategy; default low_ram || !use_minfree_levels. */
    useNewStrategy: opt(z.boolean()),
    swapFreeLowPercentage: int.default(10),
    /** Defaults 200 on low-RAM devices, else 70 (DEF_PARTIAL_STALL*). */
    psiPartialStallMs: opt(int),
    psiCompleteStallMs: int.default(700),
    /** Defaults 30 / 100 (DEF_THRASHING*). */
    thrashingLimit: opt(int),
    /** Defaults 50 / 10 (DEF_THRASHING_DECAY*). */
    thrashingLimitDecay: opt(int),
    /** Default thrashing_limit * 3. */
    thrashingLimitCritical: opt(int),
    swapUtilMax: int.default(100),
    filecacheMinKb: int.default(0),
    stallLimitCritical: int.default(100),
    directReclaimThresholdMs: int.default(0),
    swapCompressionRatio: int.default(1),
    lowmemMinOomScore: int.default(PREVIOUS_APP_ADJ + 1),
    /** sys.lmk.minfree_levels: the LMK_TARGET pairs "minfree_pages:oom_adj,..." (minfree mode). */
    minfreeLevels: z.string().default(AMS_MINFREE_LEVELS),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      parseMinfreeLevels(p.minfreeLevels);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['minfreeLevels'], message: (e as Error).message });
    }
  });
export type LmkdParams = z.output<typeof lmkdParams>;

const clamp = (lo: number, hi: number, v: number) => Math.min(hi, Math.max(lo, v));
/** The properties as lmkd holds them after update_props (defaults by ro.config.low_ram, clamps) and init_psi_monitors. */
export interface LmkdProps {
  lowRam: boolean;
  levelOomadj: [number, number, number];
  enablePressureUpgrade: boolean;
  upgradePressure: number;
  downgradePressure: number;
  killHeaviestTask: boolean;
  killTimeoutMs: number;
  pressureAfterKillMinScore: number;
  useMinfreeLevels: boolean;
  useNewStrategy: boolean;
  swapFreeLowPercentage: number;
  psiPartialStallMs: number;
  psiCompleteStallMs: number;
  thrashingLimitPct: number;
  thrashingLimitDecayPct: number;
  thrashingCriticalPct: number;
  swapUtilMax: number;
  filecacheMinKb: number;
  stallLimitCritical: number;
  directReclaimThresholdMs: number;
  swapCompressionRatio: number;
  lowmemMinOomScore: number;
  minfree: { minfree: number; adj: number }[];
}
export function lmkdProps(p: LmkdParams): LmkdProps {
  const thrashing = Math.max(0, p.thrashingLimit ?? (p.lowRam ? 30 : 100));
  return {
    lowRam: p.lowRam,
    levelOomadj: [p.low, p.medium, p.critical],
    enablePressureUpgrade: p.criticalUpgrade,
    upgradePressure: p.upgradePressure,
    downgradePressure: p.downgradePressure,
    killHeaviestTask: p.killHeaviestTask,
    killTimeoutMs: p.killTimeoutMs,
    pressureAfterKillMinScore: p.pressureAfterKillMinScore,
    useMinfreeLevels: p.useMinfreeLevels,
    useNewStrategy: p.useNewStrategy ?? (p.lowRam || !p.useMinfreeLevels),
    swapFreeLowPercentage: clamp(0, 100, p.swapFreeLowPercentage),
    psiPartialStallMs: p.psiPartialStallMs ?? (p.lowRam ? 200 : 70),
    psiCompleteStallMs: p.psiCompleteStallMs,
    thrashingLimitPct: thrashing,
    thrashingLimitDecayPct: clamp(0, 100, p.thrashingLimitDecay ?? (p.lowRam ? 50 : 10)),
    thrashingCriticalPct: Math.max(0, p.thrashingLimitCritical ?? thrashing * 3),
    swapUtilMax: clamp(0, 100, p.swapUtilMax),
    filecacheMinKb: p.filecacheMinKb,
    stallLimitCritical: p.stallLimitCritical,
    directReclaimThresholdMs: p.directReclaimThresholdMs,
    swapCompressionRatio: p.swapCompressionRatio,
    lowmemMinOomScore: Math.max(PERCEPTIBLE_APP_ADJ + 1, p.lowmemMinOomScore),
    minfree: parseMinfreeLevels(p.minfreeLevels),
  };
}

/** "minfree:adj,..." (cmd_target / sys.lmk.minfree_levels), 1..MAX_TARGETS pairs of integers (minfree in pages). */
export function parseMinfreeLevels(s: string): { minfree: number; adj: number }[] {
  const parts = s.split(',').map((x) => x.trim());
  if (parts.length < 1 || parts.length > MAX_TARGETS) throw new Error(`expected 1..${MAX_TARGETS} "minfree:oom_adj" pairs, got ${parts.length}`);
  return parts.map((x) => {
    const m = /^(\d+):(-?\d+)$/.exec(x);
    if (!m) throw new Error(`"${x}" is not "minfree_pages:oom_adj"`);
    return { minfree: Number(m[1]), adj: Number(m[2]) };
  });
}

/**
 * The PSI triggers lmkd registers (init_psi_monitors, init_mp_psi), each "<stall> <threshold_ms> per 1 s window".
 * New strategy: no low level, medium "some" psi_partial_stall_ms, critical "full" psi_complete_stall_ms. Old
 * strategy: the built-in table: low "some" 70 ms, medium "some" 100 ms, critical "full" 70 ms. A threshold of 0
 * registers nothing.
 */
export function psiThresholds(pr: LmkdProps): ({ stall: 'some' | 'full'; thresholdMs: number } | null)[] {
  const t: { stall: 'some' | 'full'; thresholdMs: number }[] = pr.useNewStrategy
    ? [{ stall: 'some', thresholdMs: 0 }, { stall: 'some', thresholdMs: pr.psiPartialStallMs }, { stall: 'full', thresholdMs: pr.psiCompleteStallMs }]
    : [{ stall: 'some', thresholdMs: 70 }, { stall: 'some', thresholdMs: 100 }, { stall: 'full', thresholdMs: 70 }];
  return t.map((x) => (x.thresholdMs ? x : null));
}

// ---------------------------------------------------------------------------------------------------------------
// Kernel PSI trigger (kernel/sched/psi.c update_triggers, window_update), in µs

export interface PsiTriggerState {
  startTime: number;
  startValue: bigint;
  prevGrowth: bigint;
  lastEventTime: number;
  pendingEvent: boolean;
  lastTotal: bigint;
}
/** A new trigger (psi_trigger_create): the window starts now; no event yet (the kernel's 0 is long before any poll). */
export const psiTriggerInit = (nowUs: number, total: bigint): PsiTriggerState => ({ startTime: nowUs, startValue: total, prevGrowth: 0n, lastEventTime: -Infinity, pendingEvent: false, lastTotal: total });
/**
 * One trigger update: with new stall since the last update, the growth over the window is the growth since the
 * window start plus the previous window's growth scaled by the part of the window still to run (past a whole window
 * the window restarts); at or above the threshold an event is pending; a pending event fires at most once per window.
 */
export function psiTriggerUpdate(s: PsiTriggerState, nowUs: number, total: bigint, thresholdUs: number, winUs = PSI_WINDOW_SIZE_MS * 1000): { state: PsiTriggerState; event: boolean } {
  const st = { ...s };
  const newStall = total !== st.lastTotal;
  st.lastTotal = total;
  if (!newStall && !st.pendingEvent) return { state: st, event: false };
  if (newStall) {
    const elapsed = nowUs - st.startTime;
    let growth = total - st.startValue;
    if (elapsed > winUs) {
      st.startTime = nowUs;
      st.startValue = total;
      st.prevGrowth = growth;
    } else growth += (st.prevGrowth * BigInt(winUs - elapsed)) / BigInt(winUs);
    if (!st.pendingEvent) {
      if (growth < BigInt(thresholdUs)) return { state: st, event: false };
      st.pendingEvent = true;
    }
  }
  if (nowUs < st.lastEventTime + winUs) return { state: st, event: false };
  st.lastEventTime = nowUs;
  st.pendingEvent = false;
  return { state: st, event: true };
}

// ---------------------------------------------------------------------------------------------------------------
// What lmkd reads: /proc/meminfo (pages), /proc/vmstat, /proc/zoneinfo

export interface LmkdMeminfo {
  nr_free_pages: number;
  cached: number;
  swap_cached: number;
  buffers: number;
  shmem: number;
  unevictable: number;
  total_swap: number;
  free_swap: number;
  active_anon: number;
  inactive_anon: number;
  active_file: number;
  inactive_file: number;
  cma_free: number;
  nr_file_pages: number;
  easy_available: number;
}
/** meminfo_parse: kB values divided by the page size in kB; nr_file_pages = Cached + SwapCached + Buffers; easy_available = MemFree + Inactive(file). */
export function lmkdMeminfo(mi: Readonly<Record<string, number>>, pageKb = 4): LmkdMeminfo {
  const g = (k: string) => Math.trunc((mi[k] ?? 0) / pageKb);
  const m = {
    nr_free_pages: g('MemFree'), cached: g('Cached'), swap_cached: g('SwapCached'), buffers: g('Buffers'), shmem: g('Shmem'), unevictable: g('Unevictable'),
    total_swap: g('SwapTotal'), free_swap: g('SwapFree'), active_anon: g('Active(anon)'), inactive_anon: g('Inactive(anon)'), active_file: g('Active(file)'),
    inactive_file: g('Inactive(file)'), cma_free: g('CmaFree'),
  };
  return { ...m, nr_file_pages: m.cached + m.swap_cached + m.buffers, easy_available: m.nr_free_pages + m.inactive_file };
}
/** get_free_swap: with a compression ratio, the smaller of SwapFree and easily available memory times the ratio (zram). */
export const getFreeSwap = (mi: LmkdMeminfo, ratio: number) => (ratio ? Math.min(mi.free_swap, mi.easy_available * ratio) : mi.free_swap);
/** calc_swap_utilization: swap used * 100 / (anon + shmem + swap used), integer. */
export function calcSwapUtilization(mi: LmkdMeminfo, ratio: number): number {
  const used = mi.total_swap - getFreeSwap(mi, ratio);
  const swappable = mi.active_anon + mi.inactive_anon + mi.shmem + used;
  return swappable > 0 ? Math.trunc((used * 100) / swappable) : 0;
}

export interface ZoneWatermarks {
  min: number;
  low: number;
  high: number;
}
/** calc_zone_watermarks: over present zones, each watermark plus the zone's largest lowmem protection, summed. */
export function calcZoneWatermarks(zones: readonly { present: boolean; min: number; low: number; high: number; protection: readonly number[] }[]): ZoneWatermarks {
  const w = { min: 0, low: 0, high: 0 };
  for (const z of zones) {
    if (!z.present) continue;
    const maxp = Math.max(0, ...z.protection);
    w.min += maxp + z.min;
    w.low += maxp + z.low;
    w.high += maxp + z.high;
  }
  return w;
}
/** zoneinfo_parse totalreserve_pages: sum over zones of the largest protection plus the high watermark. */
export const totalreservePages = (zones: readonly { high: number; protection: readonly number[] }[]) => zones.reduce((s, z) => s + Math.max(0, ...z.protection) + z.high, 0);

export type Wmark = 'WMARK_MIN' | 'WMARK_LOW' | 'WMARK_HIGH' | 'WMARK_NONE';
const WMARK_ORDER: Wmark[] = ['WMARK_MIN', 'WMARK_LOW', 'WMARK_HIGH', 'WMARK_NONE'];
const wlt = (a: Wmark, b: Wmark) => WMARK_ORDER.indexOf(a) < WMARK_ORDER.indexOf(b);
/** get_lowest_watermark: free pages minus free CMA against min, then low, then high. */
export function getLowestWatermark(mi: Pick<LmkdMeminfo, 'nr_free_pages' | 'cma_free'>, w: ZoneWatermarks): Wmark {
  const free = mi.nr_free_pages - mi.cma_free;
  if (free < w.min) return 'WMARK_MIN';
  if (free < w.low) return 'WMARK_LOW';
  if (free < w.high) return 'WMARK_HIGH';
  return 'WMARK_NONE';
}

// ---------------------------------------------------------------------------------------------------------------
// Victims (find_and_kill_process)

/** A process registered with lmkd: its adj slot position (most recently (re)registered first) and /proc values. */
export interface LmkdProc {
  pid: number;
  uid: number;
  comm: string;
  oomadj: number;
  /** /proc/<pid>/statm resident pages (proc_get_size). */
  rssPages: number;
  /** VmRSS / VmSwap from /proc/<pid>/status; null for a zombie (no such lines: kill_one_process gives up). */
  vmRssKb: number | null;
  vmSwapKb: number;
}
/**
 * proc_get_heaviest: a slot with one process returns it without reading its size; else the largest statm RSS,
 * strictly larger wins (so the most recently registered among equals), and none if every size is 0.
 */
export function procGetHeaviest(slot: readonly LmkdProc[]): LmkdProc | null {
  if (slot.length === 1) return slot[0];
  let max: LmkdProc | null = null, maxSize = 0;
  for (const p of slot) if (p.rssPages > maxSize) (maxSize = p.rssPages), (max = p);
  return max;
}
/**
 * find_and_kill_process: from oom_score_adj 1000 down to the minimum, take the slot's heaviest (kill_heaviest_task,
 * and always at or below PERCEPTIBLE_APP_ADJ 200) or its tail (the least recently registered); a zombie is dropped
 * and the slot tried again; a kill that frees 0 pages goes on to the next adj. Returns the kills with the pages each
 * freed (VmRSS / page size).
 */
export function findAndKillProcess(procs: readonly LmkdProc[], minScoreAdj: number, killHeaviestTask: boolean, pageKb = 4): { proc: LmkdProc; pagesFreed: number }[] {
  const gone = new Set<number>();
  const kills: { proc: LmkdProc; pagesFreed: number }[] = [];
  let heaviest = killHeaviestTask;
  for (let i = OOM_SCORE_ADJ_MAX; i >= minScoreAdj; i--) {
    if (!heaviest && i <= PERCEPTIBLE_APP_ADJ) heaviest = true;
    let killed = 0;
    for (;;) {
      const slot = procs.filter((p) => p.oomadj === i && !gone.has(p.pid));
      const p = heaviest ? procGetHeaviest(slot) : (slot[slot.length - 1] ?? null);
      if (!p) break;
      gone.add(p.pid);
      if (p.vmRssKb === null) continue; // kill_one_process fails: -1, the record is removed, try again
      killed = Math.trunc(p.vmRssKb / pageKb);
      kills.push({ proc: p, pagesFreed: killed });
      break;
    }
    if (killed) break;
  }
  return kills;
}

// ---------------------------------------------------------------------------------------------------------------
// The new strategy (__mp_event_psi)

export const KILL_REASONS = ['PRESSURE_AFTER_KILL', 'NOT_RESPONDING', 'LOW_SWAP_AND_THRASHING', 'LOW_MEM_AND_SWAP', 'LOW_MEM_AND_THRASHING', 'DIRECT_RECL_AND_THRASHING', 'LOW_MEM_AND_SWAP_UTIL', 'LOW_FILECACHE_AFTER_THRASHING', 'LOW_MEM', 'DIRECT_RECL_STUCK'] as const;
export type KillReason = (typeof KILL_REASONS)[number];

/** The function-static state of __mp_event_psi, plus prev_level and last_kill_tm. */
export interface MpEventPsiState {
  initWsRefault: number;
  prevWorkingsetRefault: number;
  baseFileLru: number;
  initPgscanKswapd: number;
  initPgscanDirect: number;
  initPgrefill: number;
  killing: boolean;
  thrashingLimit: number;
  /** null: the reset window last started long before (the daemon's clock starts at boot). */
  thrashingResetMs: number | null;
  prevThrashGrowth: number;
  checkFilecache: boolean;
  maxThrashing: number;
  prevLevel: number;
  lastKillMs: number;
}
export const mpEventPsiInit = (pr: LmkdProps): MpEventPsiState => ({
  initWsRefault: 0, prevWorkingsetRefault: 0, baseFileLru: 0, initPgscanKswapd: 0, initPgscanDirect: 0, initPgrefill: 0, killing: false,
  thrashingLimit: pr.thrashingLimitPct, thrashingResetMs: null, prevThrashGrowth: 0, checkFilecache: false, maxThrashing: 0, prevLevel: 0, lastKillMs: -Infinity,
});
export interface MpEventInput {
  nowMs: number;
  /** 0 low, 1 medium, 2 critical; `events` false for a polling wakeup. */
  level: number;
  events: boolean;
  mi: LmkdMeminfo;
  vmstat: { workingset_refault_file: number; nr_inactive_file: number; nr_active_file: number; pgscan_kswapd: number; pgscan_direct: number; pgrefill: number };
  wmarks: ZoneWatermarks;
  /** /proc/pressure/memory full avg10. */
  psiFullAvg10: number;
  /** A killed process has not died yet. */
  killPending: boolean;
  pageKb?: number;
}
export interface MpEventPsiResult {
  /** The kill lmkd asks for (reason and the minimum adj), or null. */
  kill: { reason: KillReason; desc: string; minScoreAdj: number; thrashing: number } | null;
  skipped?: 'kill pending' | 'no reclaim or refault' | 'lower event too soon';
  swapIsLow: boolean;
  reclaim: 'NO_RECLAIM' | 'KSWAPD_RECLAIM' | 'DIRECT_RECLAIM';
}
/**
 * __mp_event_psi for a PSI event or polling wakeup: skip a lower event within the first polling window and while a
 * killed process is still dying (kill_timeout_ms); reclaim state from pgscan/pgrefill deltas; bail out when neither
 * reclaiming nor refaulting; thrashing = file refaults since the reset window as % of the file LRU (+ the previous
 * window's decayed growth); then the first matching kill reason, in lmkd's order, with its minimum oom_score_adj
 * (perceptible apps spared unless the min watermark is breached or thrashing is critical); a critical full-stall
 * avg10 above stall_limit_critical lets adj 0 be killed. `kill` performs the kill and returns the pages freed.
 */
export function mpEventPsi(pr: LmkdProps, s: MpEventPsiState, i: MpEventInput, kill: (minScoreAdj: number, reason: KillReason, desc: string) => number): MpEventPsiResult {
  const pageKb = i.pageKb ?? 4;
  const base = { swapIsLow: false, reclaim: 'NO_RECLAIM' as const };
  if (i.events) {
    if (i.level < s.prevLevel) return { ...base, kill: null, skipped: 'lower event too soon' };
    s.prevLevel = i.level;
  } else s.prevLevel = 0;
  if (i.killPending && (pr.killTimeoutMs === 0 || i.nowMs - s.lastKillMs < pr.killTimeoutMs)) return { ...base, kill: null, skipped: 'kill pending' };
  const vs = i.vmstat, mi = i.mi;
  const refault = vs.workingset_refault_file;
  let cycleAfterKill = false;
  if (s.killing) {
    s.killing = false;
    cycleAfterKill = true;
    s.baseFileLru = vs.nr_inactive_file + vs.nr_active_file;
    s.initWsRefault = refault;
    s.thrashingResetMs = i.nowMs;
    s.prevThrashGrowth = 0;
  }
  let swapIsLow = false, swapLowThreshold = 0;
  if (pr.swapFreeLowPercentage) {
    swapLowThreshold = Math.trunc((mi.total_swap * pr.swapFreeLowPercentage) / 100);
    swapIsLow = getFreeSwap(mi, pr.swapCompressionRatio) < swapLowThreshold;
  }
  let reclaim: MpEventPsiResult['reclaim'] = 'NO_RECLAIM';
  if (vs.pgscan_direct !== s.initPgscanDirect) {
    s.initPgscanDirect = vs.pgscan_direct;
    s.initPgscanKswapd = vs.pgscan_kswapd;
    s.initPgrefill = vs.pgrefill;
    reclaim = 'DIRECT_RECLAIM';
  } else if (vs.pgscan_kswapd !== s.initPgscanKswapd || vs.pgrefill !== s.initPgrefill) {
    s.initPgscanKswapd = vs.pgscan_kswapd;
    s.initPgrefill = vs.pgrefill;
    reclaim = 'KSWAPD_RECLAIM';
  } else if (refault === s.prevWorkingsetRefault) return { kill: null, skipped: 'no reclaim or refault', swapIsLow, reclaim };
  s.prevWorkingsetRefault = refault;

  let thrashing = 0;
  const since = s.thrashingResetMs === null ? Infinity : i.nowMs - s.thrashingResetMs;
  if (since > THRASHING_RESET_INTERVAL_MS) {
    s.prevThrashGrowth = Math.trunc(((refault - s.initWsRefault) * 100) / (s.baseFileLru + 1));
    const windows = Math.trunc(since / THRASHING_RESET_INTERVAL_MS);
    if (windows > 1 || s.prevThrashGrowth < s.thrashingLimit) s.prevThrashGrowth = windows >= 63 ? 0 : Math.trunc(s.prevThrashGrowth / 2 ** windows);
    s.baseFileLru = vs.nr_inactive_file + vs.nr_active_file;
    s.initWsRefault = refault;
    s.thrashingResetMs = i.nowMs;
    s.thrashingLimit = pr.thrashingLimitPct;
  } else thrashing = Math.trunc(((refault - s.initWsRefault) * 100) / (s.baseFileLru + 1));
  thrashing += s.prevThrashGrowth;
  if (s.maxThrashing < thrashing) s.maxThrashing = thrashing;

  const wmark = getLowestWatermark(mi, i.wmarks);
  const criticalStall = i.psiFullAvg10 > pr.stallLimitCritical;
  const freeSwapKb = getFreeSwap(mi, pr.swapCompressionRatio) * pageKb, lowKb = swapLowThreshold * pageKb;
  const mOrL = wlt(wmark, 'WMARK_LOW') ? 'min' : 'low';
  const spare = () => (wlt('WMARK_MIN', wmark) && thrashing < pr.thrashingCriticalPct ? PERCEPTIBLE_APP_ADJ + 1 : 0);
  let reason: KillReason | null = null, desc = '', minScoreAdj = 0, cutThrashingLimit = false;
  let swapUtil = 0;
  if (cycleAfterKill && wlt(wmark, 'WMARK_LOW')) {
    [reason, desc, minScoreAdj] = ['PRESSURE_AFTER_KILL', 'min watermark is breached even after kill', pr.pressureAfterKillMinScore];
  } else if (i.level === 2 && i.events) {
    [reason, desc] = ['NOT_RESPONDING', 'device is not responding'];
  } else if (swapIsLow && thrashing > pr.thrashingLimitPct) {
    [reason, desc, minScoreAdj] = ['LOW_SWAP_AND_THRASHING', `device is low on swap (${freeSwapKb}kB < ${lowKb}kB) and thrashing (${thrashing}%)`, spare()];
    s.checkFilecache = true;
  } else if (swapIsLow && wlt(wmark, 'WMARK_HIGH')) {
    [reason, desc, minScoreAdj] = ['LOW_MEM_AND_SWAP', `${mOrL} watermark is breached and swap is low (${freeSwapKb}kB < ${lowKb}kB)`, spare()];
  } else if (wlt(wmark, 'WMARK_HIGH') && pr.swapUtilMax < 100 && (swapUtil = calcSwapUtilization(mi, pr.swapCompressionRatio)) > pr.swapUtilMax) {
    [reason, desc] = ['LOW_MEM_AND_SWAP_UTIL', `${mOrL} watermark is breached and swap utilization is high (${swapUtil}% > ${pr.swapUtilMax}%)`];
  } else if (wlt(wmark, 'WMARK_HIGH') && thrashing > s.thrashingLimit) {
    [reason, desc, minScoreAdj] = ['LOW_MEM_AND_THRASHING', `${mOrL} watermark is breached and thrashing (${thrashing}%)`, thrashing < pr.thrashingCriticalPct ? PERCEPTIBLE_APP_ADJ + 1 : 0];
    cutThrashingLimit = s.checkFilecache = true;
  } else if (reclaim === 'DIRECT_RECLAIM' && thrashing > s.thrashingLimit) {
    [reason, desc, minScoreAdj] = ['DIRECT_RECL_AND_THRASHING', `device is in direct reclaim and thrashing (${thrashing}%)`, thrashing < pr.thrashingCriticalPct ? PERCEPTIBLE_APP_ADJ + 1 : 0];
    cutThrashingLimit = s.checkFilecache = true;
  } else if (reclaim === 'DIRECT_RECLAIM' && pr.directReclaimThresholdMs > 0 && i.nowMs > pr.directReclaimThresholdMs) {
    // Without the memevent listener direct_reclaim_start_tm stays 0, so the duration is the time since boot.
    [reason, desc] = ['DIRECT_RECL_STUCK', `device is stuck in direct reclaim (${i.nowMs}ms > ${pr.directReclaimThresholdMs}ms)`];
  } else if (s.checkFilecache) {
    const fileLruKb = (vs.nr_inactive_file + vs.nr_active_file) * pageKb;
    if (fileLruKb < pr.filecacheMinKb) [reason, desc, minScoreAdj] = ['LOW_FILECACHE_AFTER_THRASHING', `filecache is low (${fileLruKb}kB < ${pr.filecacheMinKb}kB) after thrashing`, PERCEPTIBLE_APP_ADJ + 1];
    else s.checkFilecache = false;
  }
  if (reason === null && wlt(wmark, 'WMARK_HIGH')) [reason, desc, minScoreAdj] = ['LOW_MEM', `${mOrL} watermark is breached`, pr.lowmemMinOomScore];
  if (reason === null) return { kill: null, swapIsLow, reclaim };
  if (criticalStall) minScoreAdj = 0;
  const pages = kill(minScoreAdj, reason, desc);
  if (pages > 0) {
    s.killing = true;
    s.maxThrashing = 0;
    s.lastKillMs = i.nowMs;
    if (cutThrashingLimit) s.thrashingLimit = Math.trunc((s.thrashingLimit * (100 - pr.thrashingLimitDecayPct)) / 100);
  }
  return { kill: { reason, desc, minScoreAdj, thrashing }, swapIsLow, reclaim };
}

// ---------------------------------------------------------------------------------------------------------------
// The old strategy (mp_event_common)

/**
 * mp_event_common, minfree mode: other_free = free pages - totalreserve_pages, other_file = file pages - shmem -
 * unevictable - swap cache (0 if negative); the first minfree level (in the order given) that both are below gives
 * the minimum adj; none: the event is ignored (null).
 */
export function minfreeMinScoreAdj(levels: readonly { minfree: number; adj: number }[], mi: LmkdMeminfo, totalreserve: number): { minScoreAdj: number | null; otherFree: number; otherFile: number } {
  const otherFree = mi.nr_free_pages - totalreserve;
  const otherFile = mi.nr_file_pages > mi.shmem + mi.unevictable + mi.swap_cached ? mi.nr_file_pages - mi.shmem - mi.unevictable - mi.swap_cached : 0;
  for (const l of levels) if (otherFree < l.minfree && otherFile < l.minfree) return { minScoreAdj: l.adj, otherFree, otherFile };
  return { minScoreAdj: null, otherFree, otherFile };
}
/**
 * mp_event_common, vmpressure mode: mem_pressure = memcg usage * 100 / memsw usage; with critical_upgrade a level
 * below critical goes up one when mem_pressure < upgrade_pressure; with free swap at or above
 * swap_free_low_percentage, mem_pressure > downgrade_pressure ignores the event and a critical one with
 * mem_pressure > upgrade_pressure goes down one. Returns the level to act at, or null (ignored). Usage unreadable:
 * the level as given (lmkd goes straight to the kill).
 */
export function vmpressureLevel(pr: LmkdProps, level: number, memUsage: number | null, memswUsage: number | null, mi: LmkdMeminfo): number | null {
  if (memUsage === null || memswUsage === null || memUsage <= 0 || memswUsage <= 0) return level;
  const pressure = Math.trunc((memUsage * 100) / memswUsage);
  if (pr.enablePressureUpgrade && level !== 2 && pressure < pr.upgradePressure) level = Math.min(2, level + 1);
  if (getFreeSwap(mi, pr.swapCompressionRatio) >= Math.trunc((mi.total_swap * pr.swapFreeLowPercentage) / 100)) {
    if (pressure > pr.downgradePressure) return null;
    if (level === 2 && pressure > pr.upgradePressure) level = 1;
  }
  return level;
}

// ---------------------------------------------------------------------------------------------------------------
// The daemon

const LEVEL_NAMES = ['low', 'medium', 'critical'];
const vm = (v: PolicyView, k: string) => Number(v.vmstat[k] ?? 0n);
/** kill_one_process log line. */
export const killLine = (p: LmkdProc, desc: string | null) =>
  `Kill '${p.comm}' (${p.pid}), uid ${p.uid}, oom_score_adj ${p.oomadj} to free ${p.vmRssKb ?? 0}kB rss, ${p.vmSwapKb}kB swap${desc === null ? '' : `; reason: ${desc}`}`;

export const lmkd: PolicyDefinition<typeof lmkdParams> = {
  name: 'lmkd',
  summary: 'Android low memory killer daemon: PSI events, watermarks/swap/thrashing kill reasons (or minfree levels), victims by oom_score_adj',
  source: 'AOSP platform/system/memory/lmkd main 767ae23 (2025-03): lmkd.cpp (update_props, __mp_event_psi, mp_event_common, find_and_kill_process), statslog.h (kill_reasons)',
  params: lmkdParams,
  create(p) {
    const pr = lmkdProps(p);
    const thresholds = psiThresholds(pr);
    const st = mpEventPsiInit(pr);
    let triggers: (PsiTriggerState | null)[] | null = null;
    /** The adj slots: pid -> [adj, registration sequence]; a higher sequence is nearer the slot's head. */
    const reg = new Map<number, [number, number]>();
    let seq = 0;
    let poll: { level: number; startMs: number; lastMs: number; intervalMs: number } | null = null;
    let lowPressureMaxFree = -1;
    let lastCommonKillMs = -Infinity;
    return {
      name: 'lmkd',
      params: p,
      state: () => ({ st: { ...st }, triggers: triggers && triggers.map((t) => t && { ...t }), reg: [...reg].map(([k, v]) => [k, [...v]]), seq, poll: poll && { ...poll }, lowPressureMaxFree, lastCommonKillMs }),
      fromState(x) {
        const s = x as { st: typeof st; triggers: typeof triggers; reg: [number, [number, number]][]; seq: number; poll: typeof poll; lowPressureMaxFree: number; lastCommonKillMs: number };
        Object.assign(st, s.st);
        ({ triggers, seq, poll, lowPressureMaxFree, lastCommonKillMs } = s);
        reg.clear();
        for (const [k, v] of s.reg) reg.set(k, [v[0], v[1]]);
      },
      intervalNs: () => BigInt(poll ? poll.intervalMs : PSI_POLL_PERIOD_LONG_MS) * MS,
      tick(v): PolicyAction[] {
        const nowMs = Math.trunc(Number(v.nowNs / MS)), nowUs = Number(v.nowNs / 1000n);
        // ActivityManager (re)registers a process when its oom_score_adj changes (LMK_PROCPRIO -> proc_slot at the head).
        for (const t of v.tasks) {
          if (!userTask(t)) continue;
          const r = reg.get(t.pid);
          if (!r || r[0] !== t.oomScoreAdj) reg.set(t.pid, [t.oomScoreAdj, ++seq]);
        }
        for (const pid of [...reg.keys()]) if (!v.tasks.some((t) => t.pid === pid)) reg.delete(pid);
        const procs = (): LmkdProc[] =>
          v.tasks
            .filter((t) => reg.has(t.pid))
            .sort((a, b) => reg.get(b.pid)![1] - reg.get(a.pid)![1])
            .map((t: ViewTask) => ({ pid: t.pid, uid: t.uid, comm: t.comm, oomadj: t.oomScoreAdj, rssPages: Math.trunc(t.vmRssKb / 4), vmRssKb: t.state === 'Z' ? null : t.vmRssKb, vmSwapKb: t.vmSwapKb }));
        const totals = { some: v.psi.some.totalUs, full: v.psi.full.totalUs };
        if (!triggers) triggers = thresholds.map((t) => (t ? psiTriggerInit(nowUs, totals[t.stall]) : null));
        const fired: number[] = [];
        thresholds.forEach((t, lvl) => {
          if (!t) return;
          const r = psiTriggerUpdate(triggers![lvl]!, nowUs, totals[t.stall], t.thresholdMs * 1000);
          triggers![lvl] = r.state;
          if (r.event) fired.push(lvl);
        });
        const actions: PolicyAction[] = [];
        const doKill = (minScoreAdj: number, desc: string | null): number => {
          let pages = 0;
          for (const k of findAndKillProcess(procs(), minScoreAdj, pr.killHeaviestTask)) {
            actions.push({ type: 'kill', pid: k.proc.pid, signal: 'SIGKILL', reason: killLine(k.proc, desc) });
            reg.delete(k.proc.pid);
            pages += k.pagesFreed;
          }
          return pages;
        };
        const mi = lmkdMeminfo(v.meminfo);
        const wm = v.zoneinfo ?? { min: 0, low: 0, high: 0 };
        const handler = (level: number, events: boolean) => {
          let start = false;
          if (pr.useNewStrategy) {
            const r = mpEventPsi(pr, st, {
              nowMs, level, events, mi, wmarks: wm, psiFullAvg10: v.psi.full.avg10, killPending: v.pending.length > 0,
              vmstat: { workingset_refault_file: vm(v, 'workingset_refault_file') || vm(v, 'workingset_refault'), nr_inactive_file: vm(v, 'nr_inactive_file'), nr_active_file: vm(v, 'nr_active_file'), pgscan_kswapd: vm(v, 'pgscan_kswapd'), pgscan_direct: vm(v, 'pgscan_direct'), pgrefill: vm(v, 'pgrefill') },
            }, (min, _reason, desc) => doKill(min, desc));
            if (r.skipped !== 'lower event too soon') {
              start = events || st.killing || r.reclaim === 'DIRECT_RECLAIM';
              const interval = r.swapIsLow || st.killing ? PSI_POLL_PERIOD_SHORT_MS : PSI_POLL_PERIOD_LONG_MS;
              if (start) poll = { level, startMs: nowMs, lastMs: nowMs, intervalMs: interval };
              else if (poll) poll.intervalMs = interval;
            }
          } else {
            if (events && (!poll || level > poll.level)) (poll = { level, startMs: nowMs, lastMs: nowMs, intervalMs: PSI_POLL_PERIOD_SHORT_MS }), (start = true);
            if (pr.killTimeoutMs && nowMs - lastCommonKillMs < pr.killTimeoutMs && v.pending.length) return;
            let min: number | null;
            if (pr.useMinfreeLevels) {
              min = minfreeMinScoreAdj(pr.minfree, mi, v.zoneinfo?.high ?? 0).minScoreAdj;
              if (min === null) return;
            } else {
              if (level === 0 && (lowPressureMaxFree === -1 || (lowPressureMaxFree < mi.nr_free_pages && mi.nr_free_pages - lowPressureMaxFree < lowPressureMaxFree * 0.1))) lowPressureMaxFree = mi.nr_free_pages;
              if (pr.levelOomadj[level] > OOM_SCORE_ADJ_MAX) return;
              const num = (f: string) => {
                const t = v.cgroupRead('/', f);
                return t === null ? null : Number(t.trim());
              };
              const l = vmpressureLevel(pr, level, num('memory.usage_in_bytes'), num('memory.memsw.usage_in_bytes'), mi);
              if (l === null) return;
              if (!pr.lowRam && mi.nr_free_pages >= lowPressureMaxFree) return;
              min = pr.levelOomadj[l];
            }
            const desc = null;
            let pages = 0;
            if (pr.lowRam) {
              const k = findAndKillProcess(procs(), min, pr.killHeaviestTask)[0];
              if (k) {
                actions.push({ type: 'kill', pid: k.proc.pid, signal: 'SIGKILL', reason: killLine(k.proc, desc) });
                reg.delete(k.proc.pid);
                pages = k.pagesFreed;
              }
            } else pages = doKill(min, desc);
            if (pages > 0) lastCommonKillMs = nowMs;
            if (actions.length) actions.push({ type: 'none', reason: `Reclaimed ${pages * 4}kB at oom_score_adj ${min} (${LEVEL_NAMES[level]} pressure)` });
          }
          if (!start && poll && nowMs - poll.startMs > PSI_WINDOW_SIZE_MS) poll = null;
        };
        for (const lvl of fired) handler(lvl, true);
        if (!fired.length && poll && nowMs - poll.lastMs >= poll.intervalMs) {
          poll.lastMs = nowMs;
          handler(poll.level, false);
        }
        return actions;
      },
    };
  },
};
