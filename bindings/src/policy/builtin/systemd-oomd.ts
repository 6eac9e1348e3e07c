/**
 * systemd-oomd (systemd main, v258 development line: src/oom/oomd-util.c, oomd-util.h, oomd-manager.c,
 * oomd-manager.h, oomd-conf.c; percent parsing from src/basic/percent-util.c). Each rule is a pure exported function
 * over the contexts systemd-oomd builds (OomdSystemContext, OomdCGroupContext). See docs/policies/systemd-oomd.md.
 */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView } from '../types.js';
import { MS, S, cgroupNumber, inCgroup, memoryStat } from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// Parsing (percent-util.c parse_permyriad, oomd-conf.c config_parse_duration)

/**
 * percent-util.c:parse_permyriad: "N‱" (integer), "N‰" or "N.D‰", "N%", "N.D%" or "N.DD%"; a bare number is EINVAL;
 * negative or above 10000‱ is ERANGE. Returns permyriad.
 */
export function parsePermyriad(s: string): number {
  const m = /^(-?\d+)(?:\.(\d+))?(‱|‰|%)$/.exec(s);
  if (!m) throw new Error(`EINVAL: "${s}" is not a percentage (N%, N.NN%, N‰, N.N‰ or N‱)`);
  const [, int, frac = '', unit] = m;
  const places = unit === '‱' ? 0 : unit === '‰' ? 1 : 2;
  if (frac.length > places) throw new Error(`EINVAL: "${s}" has more than ${places} decimal place${places === 1 ? '' : 's'}`);
  const scale = unit === '‱' ? 1 : unit === '‰' ? 10 : 100;
  const neg = int.startsWith('-');
  const v = Math.abs(Number(int)) * scale + Number(frac.padEnd(places, '0') || 0) * (scale / 10 ** places);
  if (neg || v > 10000) throw new Error(`ERANGE: "${s}" is outside 0%..100%`);
  return v;
}
/** A parameter given as a number (percent) or as the config file's text. */
export const permyriadOf = (v: number | string): number => (typeof v === 'number' ? parsePermyriad(`${v}%`) : parsePermyriad(v));

/** systemd parse_sec (subset: "30s", "1min", "500ms", "2m 30s", bare seconds), in µs. */
export function parseSec(s: string): number {
  const units: Record<string, number> = { us: 1, usec: 1, ms: 1e3, msec: 1e3, s: 1e6, sec: 1e6, second: 1e6, seconds: 1e6, m: 60e6, min: 60e6, minute: 60e6, minutes: 60e6, h: 3600e6, hr: 3600e6, hour: 3600e6, hours: 3600e6 };
  const t = s.trim();
  if (t === 'infinity') return Infinity;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1e6;
  const re = /\s*(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0, end = 0, m: RegExpExecArray | null;
  while ((m = re.exec(t))) {
    if (!(m[2] in units)) throw new Error(`EINVAL: unknown time unit "${m[2]}" in "${s}"`);
    total += Number(m[1]) * units[m[2]];
    end = re.lastIndex;
  }
  if (end === 0 || end !== t.length) throw new Error(`EINVAL: "${s}" is not a time span`);
  return Math.round(total);
}
export const DEFAULT_MEM_PRESSURE_DURATION_USEC = 30_000_000;
/** oomd-conf.c:config_parse_duration: empty or 0 -> the default 30 s; below 1 s or infinity is ignored (warning). */
export function parseOomdDuration(s: string, current = DEFAULT_MEM_PRESSURE_DURATION_USEC): { usec: number; warning?: string } {
  if (s.trim() === '') return { usec: DEFAULT_MEM_PRESSURE_DURATION_USEC };
  const us = parseSec(s);
  if (us === 0) return { usec: DEFAULT_MEM_PRESSURE_DURATION_USEC };
  if (us < 1_000_000 || us === Infinity) return { usec: current, warning: `DefaultMemoryPressureDurationSec= must be at least 1s and less than infinity, ignoring: ${s}` };
  return { usec: us };
}

// ---------------------------------------------------------------------------------------------------------------
// Contexts and rules

export interface OomdSystemContext {
  memTotal: bigint;
  memUsed: bigint;
  swapTotal: bigint;
  swapUsed: bigint;
}
/**
 * oomd-util.c:oomd_system_context_acquire on /proc/meminfo (kB -> bytes): MemTotal, MemAvailable, SwapTotal,
 * SwapFree must all be there; MemAvailable > MemTotal or SwapFree > SwapTotal is EINVAL; used = total - free.
 */
export function oomdSystemContext(mi: Readonly<Record<string, number>>): OomdSystemContext {
  for (const k of ['MemTotal', 'MemAvailable', 'SwapTotal', 'SwapFree']) if (mi[k] === undefined) throw new Error(`EINVAL: /proc/meminfo is missing expected fields (${k})`);
  const b = (k: string) => BigInt(mi[k]) * 1024n;
  if (b('MemAvailable') > b('MemTotal')) throw new Error(`EINVAL: MemAvailable (${b('MemAvailable')}) cannot be greater than MemTotal (${b('MemTotal')})`);
  if (b('SwapFree') > b('SwapTotal')) throw new Error(`EINVAL: SwapFree (${b('SwapFree')}) cannot be greater than SwapTotal (${b('SwapTotal')})`);
  return { memTotal: b('MemTotal'), memUsed: b('MemTotal') - b('MemAvailable'), swapTotal: b('SwapTotal'), swapUsed: b('SwapTotal') - b('SwapFree') };
}
/** oomd_mem_available_below: total - used (saturating) < total * permyriad / 10000 (integer). */
export const memAvailableBelow = (c: OomdSystemContext, permyriad: number) => (c.memTotal > c.memUsed ? c.memTotal - c.memUsed : 0n) < (c.memTotal * BigInt(permyriad)) / 10000n;
/** oomd_swap_free_below: total - used < total * permyriad / 10000 (integer). */
export const swapFreeBelow = (c: OomdSystemContext, permyriad: number) => c.swapTotal - c.swapUsed < (c.swapTotal * BigInt(permyriad)) / 10000n;
/** monitor_swap_contexts_handler: both below (10000 - SwapUsedLimit) permyriad. */
export const swapRuleHit = (c: OomdSystemContext, swapUsedLimitPermyriad: number) => memAvailableBelow(c, 10000 - swapUsedLimitPermyriad) && swapFreeBelow(c, 10000 - swapUsedLimitPermyriad);

export type Preference = 'none' | 'avoid' | 'omit';
const PREF_ORDER: Record<Preference, number> = { none: 0, avoid: 1, omit: 2 };
export interface OomdCGroupContext {
  path: string;
  /** memory.pressure full avg10, percent with two decimals as the kernel prints it. */
  avg10: number;
  currentMemoryUsage: bigint;
  swapUsage: bigint;
  pgscan: bigint;
  lastPgscan: bigint;
  preference: Preference;
}
/** oomd_pgscan_rate: pgscan - last_pgscan, with last reset to 0 when it is larger (cgroup recreated). */
export const pgscanRate = (c: Pick<OomdCGroupContext, 'pgscan' | 'lastPgscan'>) => c.pgscan - (c.lastPgscan > c.pgscan ? 0n : c.lastPgscan);
const cmp = (a: bigint | number, b: bigint | number) => (a < b ? -1 : a > b ? 1 : 0);
/** oomd-util.h:compare_swap_usage: "avoid" last, then most swap first. */
export const compareSwapUsage = (a: OomdCGroupContext, b: OomdCGroupContext) => cmp(PREF_ORDER[a.preference], PREF_ORDER[b.preference]) || cmp(b.swapUsage, a.swapUsage);
/** oomd-util.h:compare_pgscan_rate_and_memory_usage: "avoid" last, then highest pgscan rate, then most memory. */
export const comparePgscanRateAndMemoryUsage = (a: OomdCGroupContext, b: OomdCGroupContext) =>
  cmp(PREF_ORDER[a.preference], PREF_ORDER[b.preference]) || cmp(pgscanRate(b), pgscanRate(a)) || cmp(b.currentMemoryUsage, a.currentMemoryUsage);
/** path_startswith on whole components. */
const pathStartsWith = (p: string, prefix: string) => prefix === '/' || p === prefix || p.startsWith(prefix.replace(/\/+$/, '') + '/');
/** oomd_sort_cgroup_contexts: only paths under `prefix` (when given), "omit" left out, sorted with `compare`. */
export function sortCgroupContexts(cs: readonly OomdCGroupContext[], compare: (a: OomdCGroupContext, b: OomdCGroupContext) => number, prefix: string | null): OomdCGroupContext[] {
  return cs.filter((c) => (prefix === null || pathStartsWith(c.path, prefix)) && c.preference !== 'omit').sort((a, b) => compare(a, b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
/** oomd_kill_by_swap_usage: the first sorted candidate with swap usage above the threshold (5 % of SwapTotal). */
export const pickBySwapUsage = (sorted: readonly OomdCGroupContext[], thresholdBytes: bigint) => sorted.find((c) => c.swapUsage > thresholdBytes) ?? null;
/** oomd_kill_by_pgscan_rate: the first sorted candidate that has reclaim or memory (pgscan 0 and usage 0 are skipped). */
export const pickByPgscanRate = (sorted: readonly OomdCGroupContext[]) => sorted.find((c) => !(c.pgscan === 0n && c.currentMemoryUsage === 0n)) ?? null;
/** Hundredths, as loadavg_t compares them after parsing "avg10=12.34". */
const hundredths = (x: number) => Math.round(x * 100);
/**
 * oomd_pressure_above: a monitored cgroup whose avg10 is above its limit since `hitStart` for at least its duration
 * is a target; going at or below the limit resets `hitStart`. Returns the new hit start (null = not above).
 */
export function pressureAbove(avg10: number, limitPermyriad: number, hitStartUs: number | null, durationUs: number, nowUs: number): { target: boolean; hitStartUs: number | null } {
  if (hundredths(avg10) > limitPermyriad) {
    const start = hitStartUs ?? nowUs;
    return { target: nowUs - start >= durationUs, hitStartUs: start };
  }
  return { target: false, hitStartUs: null };
}

/**
 * oomd-manager.c:recursively_get_cgroup_context: the kill candidates under a monitored cgroup are its leaves, except
 * that a cgroup with memory.oom.group = 1 is taken whole.
 */
export function candidatePaths(cgroups: readonly string[], root: string, oomGroup: (p: string) => boolean): string[] {
  const kids = (p: string) => cgroups.filter((c) => c !== p && inCgroup(p, c) && !cgroups.some((d) => d !== c && d !== p && inCgroup(p, d) && inCgroup(d, c) && d !== c));
  const walk = (p: string): string[] => {
    const k = kids(p);
    if (!k.length) return [p];
    return k.flatMap((c) => (oomGroup(c) ? [c] : walk(c)));
  };
  return walk(root);
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters and the daemon loop

export const SWAP_INTERVAL_NS = 150n * MS;
export const MEM_PRESSURE_INTERVAL_NS = 1n * S;
export const POST_ACTION_DELAY_NS = 15n * S;
export const RECLAIM_DURATION_NS = 30n * S;
export const THRESHOLD_SWAP_USED_PERCENT = 5n;

const pctArg = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  try {
    permyriadOf(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});
const durArg = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  try {
    if (typeof v === 'string') parseSec(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});
export const systemdOomdParams = z
  .object({
    /** oomd.conf SwapUsedLimit= (default 90%). A number is percent; strings as the config file ("90%", "9000‱"). */
    swapUsedLimit: pctArg.default('90%'),
    /** oomd.conf DefaultMemoryPressureLimit= (default 60%). */
    defaultMemoryPressureLimit: pctArg.default('60%'),
    /** oomd.conf DefaultMemoryPressureDurationSec= (default 30s; a number is seconds). */
    defaultMemoryPressureDurationSec: durArg.default('30s'),
    /** Units with ManagedOOMSwap=kill, as cgroup paths (default: -.slice, as the distributions' drop-in). */
    managedSwap: z.array(z.string()).default(['/']),
    /** Units with ManagedOOMMemoryPressure=kill, with ManagedOOMMemoryPressureLimit= / ...DurationSec=. */
    managedMemoryPressure: z.array(z.object({ cgroup: z.string(), limit: pctArg.optional(), durationSec: durArg.optional() }).strict()).default([]),
    /** ManagedOOMPreference= of units (the user.oomd_avoid / user.oomd_omit xattrs systemd sets), by cgroup. */
    preferences: z.record(z.string(), z.enum(['none', 'avoid', 'omit'])).default({}),
    /** systemd-oomd --dry-run. */
    dryRun: z.boolean().default(false),
  })
  .strict();
export type SystemdOomdParams = z.output<typeof systemdOomdParams>;

const durUs = (v: number | string | undefined, dflt: number) => (v === undefined ? dflt : typeof v === 'number' ? parseOomdDuration(`${v}s`, dflt).usec : parseOomdDuration(v, dflt).usec);

export const systemdOomd: PolicyDefinition<typeof systemdOomdParams> = {
  name: 'systemd-oomd',
  summary: 'per-cgroup PSI full avg10 limit for a duration, and system swap use; kills a whole cgroup',
  source: 'systemd/systemd main (v258 dev): src/oom/oomd-manager.h (defaults, intervals), oomd-manager.c (monitor_swap_contexts_handler, monitor_memory_pressure_contexts_handler), oomd-util.c (oomd_pressure_above, oomd_sort_cgroup_contexts, oomd_kill_by_*), oomd-conf.c, percent-util.c (parse_permyriad)',
  params: systemdOomdParams,
  create(p) {
    const swapLimit = permyriadOf(p.swapUsedLimit);
    const defLimit = permyriadOf(p.defaultMemoryPressureLimit);
    const defDur = durUs(p.defaultMemoryPressureDurationSec, DEFAULT_MEM_PRESSURE_DURATION_USEC);
    const monitored = p.managedMemoryPressure.map((m) => ({ path: m.cgroup, limit: m.limit === undefined ? defLimit : permyriadOf(m.limit), dur: durUs(m.durationSec, defDur) }));
    const lastPgscan = new Map<string, bigint>(); // per cgroup, from the previous context of that path
    const hitStart = new Map<string, number | null>();
    const lastReclaimUs = new Map<string, number>();
    let postActionStartUs: number | null = null;
    let nextPressureNs = 0n;
    const ctxOf = (v: PolicyView, path: string): OomdCGroupContext => {
      const pg = BigInt(path === '/' ? 0 : (memoryStat(v, path, 'pgscan') ?? 0)); // the root context reads no pgscan
      const c: OomdCGroupContext = {
        path,
        avg10: v.cgroupPsi(path).full.avg10,
        currentMemoryUsage: BigInt(path === '/' ? ((v.meminfo.MemTotal ?? 0) - (v.meminfo.MemAvailable ?? 0)) * 1024 : Math.trunc(cgroupNumber(v, path, 'memory.current') ?? 0)),
        swapUsage: BigInt(Math.trunc(path === '/' ? 0 : (cgroupNumber(v, path, 'memory.swap.current') ?? 0))),
        pgscan: pg,
        lastPgscan: lastPgscan.get(path) ?? 0n,
        preference: (p.preferences[path] ?? 'none') as Preference,
      };
      return c;
    };
    const candidates = (v: PolicyView, roots: string[]) => {
      const seen = new Set<string>();
      const out: OomdCGroupContext[] = [];
      for (const r of roots) for (const c of candidatePaths(v.cgroups, r, (x) => cgroupNumber(v, x, 'memory.oom.group') === 1)) if (!seen.has(c)) (seen.add(c), out.push(ctxOf(v, c)));
      return out;
    };
    const remember = (cs: OomdCGroupContext[], nowUs: number) => {
      for (const c of cs) {
        if (pgscanRate(c) > 0n) lastReclaimUs.set(c.path, nowUs);
        lastPgscan.set(c.path, c.pgscan);
      }
    };
    return {
      name: 'systemd-oomd',
      params: p,
      state: () => ({ lastPgscan: [...lastPgscan], hitStart: [...hitStart], lastReclaimUs: [...lastReclaimUs], postActionStartUs, nextPressureNs }),
      fromState(x) {
        const s = x as { lastPgscan: [string, bigint][]; hitStart: [string, number | null][]; lastReclaimUs: [string, number][]; postActionStartUs: number | null; nextPressureNs: bigint };
        const load = <V>(m: Map<string, V>, es: [string, V][]) => (m.clear(), es.forEach(([k, v]) => m.set(k, v)));
        load(lastPgscan, s.lastPgscan);
        load(hitStart, s.hitStart);
        load(lastReclaimUs, s.lastReclaimUs);
        ({ postActionStartUs, nextPressureNs } = s);
      },
      intervalNs: () => SWAP_INTERVAL_NS,
      tick(v): PolicyAction[] {
        const nowUs = Number(v.nowNs / 1000n);
        // Swap, every 150 ms: no post-action delay on this path.
        if (p.managedSwap.length) {
          const sys = oomdSystemContext(v.meminfo);
          if (swapRuleHit(sys, swapLimit)) {
            const threshold = (sys.swapTotal * THRESHOLD_SWAP_USED_PERCENT) / 100n;
            const pick = pickBySwapUsage(sortCgroupContexts(candidates(v, p.managedSwap), compareSwapUsage, null), threshold);
            if (pick) {
              const why = `memory used (${sys.memUsed}) / total (${sys.memTotal}) and swap used (${sys.swapUsed}) / total (${sys.swapTotal}) being more than ${(swapLimit / 100).toFixed(2)}%`;
              return [p.dryRun ? { type: 'none', reason: `dry-run: would have killed ${pick.path} due to ${why}` } : { type: 'kill_cgroup', cgroup: pick.path, signal: 'SIGKILL', reason: `Killed ${pick.path} due to ${why}` }];
            }
          }
        }
        // Memory pressure, every 1 s.
        if (v.nowNs < nextPressureNs || !monitored.length) return [];
        nextPressureNs = v.nowNs + MEM_PRESSURE_INTERVAL_NS;
        const mon = monitored.map((m) => ({ m, c: ctxOf(v, m.path) }));
        remember(mon.map((x) => x.c), nowUs);
        const inDelay = postActionStartUs !== null && postActionStartUs + Number(POST_ACTION_DELAY_NS / 1000n) > nowUs;
        if (!inDelay) postActionStartUs = null;
        const targets: typeof mon = [];
        for (const x of mon) {
          const r = pressureAbove(x.c.avg10, x.m.limit, hitStart.get(x.m.path) ?? null, x.m.dur, nowUs);
          hitStart.set(x.m.path, r.hitStartUs);
          if (r.target) targets.push(x);
        }
        if (inDelay) return [];
        for (const t of targets) {
          const last = lastReclaimUs.get(t.m.path);
          if (last === undefined || nowUs - last > Number(RECLAIM_DURATION_NS / 1000n)) continue;
          const cands = candidates(v, [t.m.path]);
          const pick = pickByPgscanRate(sortCgroupContexts(cands, comparePgscanRateAndMemoryUsage, t.m.path));
          remember(cands, nowUs);
          if (!pick || !v.tasks.some((k) => inCgroup(pick.path, k.cgroup))) continue;
          postActionStartUs = nowUs; // the hit start is kept: still above after the delay means another kill
          const why = `memory pressure for ${t.m.path} is ${t.c.avg10.toFixed(2)}% > ${(t.m.limit / 100).toFixed(2)}% for > ${t.m.dur / 1e6}s with reclaim activity`;
          return [p.dryRun ? { type: 'none', reason: `dry-run: would have killed ${pick.path}: ${why}` } : { type: 'kill_cgroup', cgroup: pick.path, signal: 'SIGKILL', reason: `Killed ${pick.path} due to ${why}` }];
        }
        return [];
      },
    };
  },
};
