/**
 * earlyoom (rfjakob/earlyoom v1.9.0-9-g5c3e3ea): msg.c (parse_term_kill_tuple), main.c (option merge, lowmem_sig,
 * sleep_time_ms, poll_loop), meminfo.c (parse_meminfo, available_guesstimate, print_mem_stats), kill.c (is_larger,
 * kill_wait, kill_process). Each rule is a pure exported function of what earlyoom reads. See docs/policies/earlyoom.md.
 */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView, ViewTask } from '../types.js';
import { MS, comm15, compileRegex, secNs } from './common.js';

/** msg.h MSG_LEN: option arguments longer than 255 bytes are refused. */
const MSG_LEN = 256;
export interface TermKill {
  term: number;
  kill: number;
  /** The warning earlyoom prints when it raised term to kill. */
  warning?: string;
}

/** strtod: the longest numeric prefix (decimal, exponent, hex, inf, nan) after leading blanks; the rest is garbage. */
function strtod(s: string): { val: number; rest: string } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*(?:[pP][+-]?\d+)?|inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/i.exec(s);
  if (!m) return { val: 0, rest: s };
  const body = m[2].toLowerCase();
  let v: number;
  if (body.startsWith('inf')) v = Infinity;
  else if (body === 'nan') v = NaN;
  else if (body.startsWith('0x')) {
    const h = /^0x([0-9a-f]*)\.?([0-9a-f]*)(?:p([+-]?\d+))?$/.exec(body)!;
    if (h[1] === '' && h[2] === '') return { val: 0, rest: s.slice(s.indexOf(m[2]) + 1) }; // "0x" parses as 0, "x" is left
    v = (parseInt(h[1] || '0', 16) + (h[2] ? parseInt(h[2], 16) / 16 ** h[2].length : 0)) * 2 ** Number(h[3] ?? 0);
  } else v = Number(body);
  return { val: m[1] === '-' ? -v : v, rest: s.slice(m[0].length) };
}
const lf = (v: number) => (Number.isNaN(v) ? 'nan' : Number.isFinite(v) ? v.toFixed(6) : v > 0 ? 'inf' : '-inf');

/** msg.c:parse_part: 0 <= value <= upper limit, no trailing garbage. */
function parsePart(part: string, upper: number): number {
  const { val, rest } = strtod(part);
  if (rest !== '') throw new Error(`trailing garbage '${rest}'`);
  if (Math.abs(val) === Infinity && /^[ \t]*[+-]?\d/.test(part)) throw new Error('conversion error: Numerical result out of range');
  if (val > upper) throw new Error(`value ${lf(val)} exceeds limit ${upper}`);
  if (val < 0) throw new Error(`value ${lf(val)} below zero`);
  return val;
}

/**
 * msg.c:parse_term_kill_tuple: "TERM[,KILL]"; KILL defaults to TERM/2; TERM below KILL is raised to KILL (with a
 * warning); both zero is an error. The error text is earlyoom's (it prints it as `fatal: -m: <text>`).
 */
export function parseTermKillTuple(arg: string, upperLimit: number): TermKill {
  if (arg.length > MSG_LEN - 1) throw new Error(`argument too long (${arg.length} bytes)`);
  const i = arg.indexOf(',');
  const term0 = parsePart(i < 0 ? arg : arg.slice(0, i), upperLimit);
  const kill = i < 0 ? term0 / 2 : parsePart(arg.slice(i + 1), upperLimit);
  let term = term0, warning: string | undefined;
  if (term < kill) {
    warning = `warning: SIGTERM value ${term.toFixed(2)} is below SIGKILL value ${kill.toFixed(2)}, setting SIGTERM = SIGKILL = ${kill.toFixed(2)}`;
    term = kill;
  }
  if (kill === 0 && term === 0) throw new Error('both SIGTERM and SIGKILL values are zero');
  return { term, kill, warning };
}

export interface EarlyoomLimits {
  memTermPercent: number;
  memKillPercent: number;
  swapTermPercent: number;
  swapKillPercent: number;
  warnings: string[];
}
/**
 * main.c option handling: -m (limit 99) and -s (limit 100) in percent, -M/-S in KiB (limit total*100/99, integer),
 * turned into percent of MemTotal/SwapTotal; when both forms are given the lower wins; -S without swap is ignored
 * with a warning. Defaults 10/5 and 10/5. Errors read `-m: <reason>` as earlyoom's fatal().
 */
export function earlyoomLimits(p: { m?: string | number | null; s?: string | number | null; M?: string | number | null; S?: string | number | null }, mem: { MemTotalKiB: number; SwapTotalKiB: number }): EarlyoomLimits {
  const L: EarlyoomLimits = { memTermPercent: 10, memKillPercent: 5, swapTermPercent: 10, swapKillPercent: 5, warnings: [] };
  const tuple = (flag: string, v: string | number, upper: number) => {
    try {
      const t = parseTermKillTuple(String(v), upper);
      if (t.warning) L.warnings.push(t.warning);
      return t;
    } catch (e) {
      throw new Error(`-${flag}: ${(e as Error).message}`);
    }
  };
  const has = (v: unknown): v is string | number => v !== null && v !== undefined;
  if (has(p.m)) ({ term: L.memTermPercent, kill: L.memKillPercent } = tuple('m', p.m, 99));
  if (has(p.s)) ({ term: L.swapTermPercent, kill: L.swapKillPercent } = tuple('s', p.s, 100));
  if (has(p.M)) {
    const t = tuple('M', p.M, Math.trunc((mem.MemTotalKiB * 100) / 99));
    const term = (100 * t.term) / mem.MemTotalKiB, kill = (100 * t.kill) / mem.MemTotalKiB;
    L.memTermPercent = has(p.m) ? Math.min(L.memTermPercent, term) : term;
    L.memKillPercent = has(p.m) ? Math.min(L.memKillPercent, kill) : kill;
  }
  if (has(p.S)) {
    const t = tuple('S', p.S, Math.trunc((mem.SwapTotalKiB * 100) / 99));
    if (mem.SwapTotalKiB === 0) L.warnings.push('warning: -S: total swap is zero, using default percentages');
    else {
      const term = (100 * t.term) / mem.SwapTotalKiB, kill = (100 * t.kill) / mem.SwapTotalKiB;
      L.swapTermPercent = has(p.s) ? Math.min(L.swapTermPercent, term) : term;
      L.swapKillPercent = has(p.s) ? Math.min(L.swapKillPercent, kill) : kill;
    }
  }
  return L;
}

export interface EarlyoomMem {
  memTotalKiB: number;
  memAvailableKiB: number;
  userMemTotalKiB: number;
  memAvailablePercent: number;
  swapFreeKiB: number;
  swapFreePercent: number;
  swapTotalKiB: number;
}
/**
 * meminfo.c:parse_meminfo on a /proc/meminfo record (kB): MemAvailable (or, on kernels without it,
 * MemFree + Cached + Buffers - Shmem), "user memory total" = MemAvailable + AnonPages, the percentages against it,
 * SwapFree% = 0 without swap.
 */
export function parseMeminfo(mi: Readonly<Record<string, number>>): EarlyoomMem {
  const g = (k: string) => mi[k] ?? 0;
  const avail = mi.MemAvailable ?? g('MemFree') + g('Cached') + g('Buffers') - g('Shmem');
  const user = avail + g('AnonPages');
  const swapTotal = g('SwapTotal');
  return {
    memTotalKiB: g('MemTotal'),
    memAvailableKiB: avail,
    userMemTotalKiB: user,
    memAvailablePercent: (avail * 100) / user,
    swapFreeKiB: g('SwapFree'),
    swapFreePercent: swapTotal > 0 ? (g('SwapFree') * 100) / swapTotal : 0,
    swapTotalKiB: swapTotal,
  };
}
/** The same, from a policy view. */
export const earlyoomMeminfo = (v: PolicyView): EarlyoomMem => parseMeminfo(v.meminfo);

/** main.c:lowmem_sig: SIGKILL when both at or below the kill limits, else SIGTERM when both at or below the term limits. */
export function lowmemSig(l: EarlyoomLimits, m: EarlyoomMem): 'SIGKILL' | 'SIGTERM' | null {
  if (m.memAvailablePercent <= l.memKillPercent && m.swapFreePercent <= l.swapKillPercent) return 'SIGKILL';
  if (m.memAvailablePercent <= l.memTermPercent && m.swapFreePercent <= l.swapTermPercent) return 'SIGTERM';
  return null;
}

/** main.c:sleep_time_ms: headroom / max fill rate (6000 kiB/ms RAM, 800 kiB/ms swap), clamped to 100..1000 ms. */
export function sleepTimeMs(l: EarlyoomLimits, m: EarlyoomMem): number {
  const memHead = Math.max(0, Math.trunc(((m.memAvailablePercent - l.memTermPercent) * m.userMemTotalKiB) / 100));
  const swapHead = Math.max(0, Math.trunc(((m.swapFreePercent - l.swapTermPercent) * m.swapTotalKiB) / 100));
  const ms = Math.trunc(memHead / 6000) + Math.trunc(swapHead / 800);
  return Math.min(1000, Math.max(100, ms));
}

const limitsOf = (p: Parameters<typeof earlyoomLimits>[0], m: EarlyoomMem) => earlyoomLimits(p, { MemTotalKiB: m.memTotalKiB, SwapTotalKiB: m.swapTotalKiB });
/** lowmem_sig with the limits from the options (shorthand for tests and tools). */
export const earlyoomSignal = (p: Parameters<typeof earlyoomLimits>[0], m: EarlyoomMem) => lowmemSig(limitsOf(p, m), m);
/** sleep_time_ms with the limits from the options. */
export const earlyoomSleepMs = (p: Parameters<typeof earlyoomLimits>[0], m: EarlyoomMem) => sleepTimeMs(limitsOf(p, m), m);

/** The victim-choice options (kill.c is_larger reads these). */
export interface VictimOptions {
  prefer?: string | null;
  avoid?: string | null;
  ignore?: string | null;
  sortByRss?: boolean;
  ignoreRootUser?: boolean;
}
export const OOM_SCORE_PREFER = 300, OOM_SCORE_AVOID = -300, VMRSS_PREFER = 3145728, VMRSS_AVOID = -3145728;
/** TASK_COMM_LEN: /proc/<pid>/comm holds at most 15 bytes (common.ts). */
export { comm15 };

/**
 * kill.c:is_larger, the comparison: larger oom_score wins, ties by larger VmRSS; with --sort-by-rss larger VmRSS
 * wins, ties by larger oom_score, unless either RSS is 0 (a zombie main thread), which falls back to oom_score.
 */
export function isLarger(sortByRss: boolean, victim: { score: number; rss: number }, cur: { score: number; rss: number }): boolean {
  if (sortByRss && cur.rss > 0 && victim.rss > 0) return !(cur.rss < victim.rss || (cur.rss === victim.rss && cur.score <= victim.score));
  return !(cur.score < victim.score || (cur.score === victim.score && cur.rss <= victim.rss));
}

/**
 * kill.c:find_largest_process / is_larger, in /proc (pid) order: skip pid <= 2, root's processes with
 * --ignore-root-user, kernel threads (ppid 2); --prefer/--avoid (regex on the 15-byte comm) add ±300 to oom_score,
 * or ±3145728 kiB to VmRSS with --sort-by-rss; --ignore skips. Larger oom_score wins, ties by larger VmRSS (with
 * --sort-by-rss the reverse; an RSS of 0 on either side falls back to oom_score). oom_score_adj -1000 is skipped
 * last, so it never becomes the victim.
 */
export function earlyoomVictim(p: VictimOptions, tasks: readonly ViewTask[]): (ViewTask & { score: number; rss: number }) | null {
  const prefer = compileRegex(p.prefer ?? null), avoid = compileRegex(p.avoid ?? null), ignore = compileRegex(p.ignore ?? null);
  let victim: (ViewTask & { score: number; rss: number }) | null = null;
  for (const t of [...tasks].sort((a, b) => a.pid - b.pid)) {
    if (t.pid <= 2) continue;
    if (p.ignoreRootUser && t.uid === 0) continue;
    if (t.ppid === 2) continue;
    let score = t.oomScore, rss = t.vmRssKb;
    const name = comm15(t.comm);
    if (prefer?.test(name)) p.sortByRss ? (rss += VMRSS_PREFER) : (score += OOM_SCORE_PREFER);
    if (avoid?.test(name)) p.sortByRss ? (rss += VMRSS_AVOID) : (score += OOM_SCORE_AVOID);
    if (ignore?.test(name)) continue;
    if (victim && !isLarger(p.sortByRss ?? false, victim, { score, rss })) continue;
    if (t.oomScoreAdj === -1000) continue;
    victim = { ...t, score, rss };
  }
  return victim;
}

const pct = (v: number) => `${v.toFixed(2).padStart(5)}%`;
/** meminfo.c:print_mem_stats. */
export const memStatsLine = (m: EarlyoomMem) =>
  `mem avail: ${String(Math.trunc(m.memAvailableKiB / 1024)).padStart(5)} of ${String(Math.trunc(m.userMemTotalKiB / 1024)).padStart(5)} MiB (${pct(m.memAvailablePercent)}), swap free: ${String(Math.trunc(m.swapFreeKiB / 1024)).padStart(4)} of ${String(Math.trunc(m.swapTotalKiB / 1024)).padStart(4)} MiB (${pct(m.swapFreePercent)})`;
/** main.c:poll_loop warning when a limit is crossed. */
export const lowMemLine = (sig: 'SIGKILL' | 'SIGTERM', l: EarlyoomLimits) =>
  sig === 'SIGKILL'
    ? `low memory! at or below SIGKILL limits: mem ${pct(l.memKillPercent)}, swap ${pct(l.swapKillPercent)}`
    : `low memory! at or below SIGTERM limits: mem ${pct(l.memTermPercent)}, swap ${pct(l.swapTermPercent)}`;
/** kill.c:kill_process message (cmdline is the comm here: the engine has no argv). */
export const killLine = (sig: 'SIGKILL' | 'SIGTERM', v: ViewTask & { score: number }) =>
  `sending ${sig} to process ${v.pid} uid ${v.uid} "${comm15(v.comm)}": oom_score ${v.score}, oom_score_adj ${v.oomScoreAdj}, VmRSS ${Math.trunc(v.vmRssKb / 1024)} MiB, cmdline "${v.cmdline}"`;
/** main.c startup lines. */
export const startupLines = (l: EarlyoomLimits) => [
  `sending SIGTERM when mem avail <= ${pct(l.memTermPercent)} and swap free <= ${pct(l.swapTermPercent)},`,
  `        SIGKILL when mem avail <= ${pct(l.memKillPercent)} and swap free <= ${pct(l.swapKillPercent)}`,
];

const tupleArg = z.union([z.number(), z.string()]).nullable();
export const earlyoomParams = z
  .object({
    /** -m PERCENT[,KILL_PERCENT] (default 10,5). A number or the option's string. */
    m: tupleArg.default(null),
    /** -s PERCENT[,KILL_PERCENT] (default 10,5). */
    s: tupleArg.default(null),
    /** -M SIZE[,KILL_SIZE] in KiB. */
    M: tupleArg.default(null),
    /** -S SIZE[,KILL_SIZE] in KiB. */
    S: tupleArg.default(null),
    prefer: z.string().nullable().default(null),
    avoid: z.string().nullable().default(null),
    ignore: z.string().nullable().default(null),
    sortByRss: z.boolean().default(false),
    ignoreRootUser: z.boolean().default(false),
    /** --dryrun: decide and log, send nothing. */
    dryrun: z.boolean().default(false),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const k of ['prefer', 'avoid', 'ignore'] as const) {
      try {
        compileRegex(p[k]);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [k], message: `could not compile regexp '${p[k]}': ${(e as Error).message}` });
      }
    }
    for (const [k, upper] of [['m', 99], ['s', 100]] as const) {
      if (p[k] === null) continue;
      try {
        parseTermKillTuple(String(p[k]), upper);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [k], message: `-${k}: ${(e as Error).message}` });
      }
    }
  });
export type EarlyoomParams = z.output<typeof earlyoomParams>;

export const earlyoom: PolicyDefinition<typeof earlyoomParams> = {
  name: 'earlyoom',
  summary: 'MemAvailable/SwapFree percent thresholds; kills the highest oom_score (rfjakob/earlyoom)',
  source: 'rfjakob/earlyoom v1.9.0-9-g5c3e3ea: msg.c (parse_term_kill_tuple), main.c (lowmem_sig, sleep_time_ms), meminfo.c (parse_meminfo), kill.c (is_larger, kill_wait)',
  params: earlyoomParams,
  create(p) {
    let limits: EarlyoomLimits | null = null; // earlyoom reads meminfo at startup to resolve -M/-S
    let startup: { MemTotalKiB: number; SwapTotalKiB: number } | null = null;
    const lim = (v: PolicyView) => (limits ??= earlyoomLimits(p, (startup ??= { MemTotalKiB: v.meminfo.MemTotal ?? 0, SwapTotalKiB: v.meminfo.SwapTotal ?? 0 })));
    return {
      name: 'earlyoom',
      params: p,
      // the only state: the meminfo read at startup (the limits follow from it and the parameters)
      state: () => ({ startup: startup && { ...startup } }),
      fromState(s) {
        startup = (s as { startup: typeof startup }).startup;
        limits = startup && earlyoomLimits(p, startup);
      },
      intervalNs(v) {
        if (v.pending.length) return 100n * MS; // kill_wait polls every 100 ms
        return BigInt(sleepTimeMs(lim(v), earlyoomMeminfo(v))) * MS;
      },
      tick(v): PolicyAction[] {
        const l = lim(v);
        const m = earlyoomMeminfo(v);
        const sig = lowmemSig(l, m);
        if (v.pending.length) {
          // kill_wait: 100 polls of 100 ms; a SIGTERM victim gets SIGKILL once memory is at the SIGKILL limits.
          const w = v.pending[0];
          if (v.nowNs - w.sinceNs < secNs(10)) {
            if (w.signal === 'SIGTERM' && sig === 'SIGKILL') return [{ type: 'kill', pid: w.pid, signal: 'SIGKILL', reason: 'escalating to SIGKILL' }];
            return [];
          }
        }
        if (!sig) return [];
        const victim = earlyoomVictim(p, v.tasks);
        if (!victim) return [{ type: 'none', reason: 'Could not find a process to kill. Sleeping 1 second.' }];
        if (p.dryrun) return [{ type: 'none', reason: `${killLine(sig, victim)}; dryrun, not actually sending any signal` }];
        return [{ type: 'kill', pid: victim.pid, signal: sig, reason: `${lowMemLine(sig, l)}; ${killLine(sig, victim)}` }];
      },
    };
  },
};
