/**
 * earlyoom (rfjakob/earlyoom v1.9.0, main.c, meminfo.c, kill.c). See docs/policies/earlyoom.md.
 */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView, ViewTask } from '../types.js';
import { MS, S, compileRegex, kb, secNs, userTask } from './common.js';

const pct = z.number().min(0).max(100);
export const earlyoomParams = z
  .object({
    /** -m PERCENT: SIGTERM when MemAvailable% <= m (and SwapFree% <= s). */
    m: pct.default(10),
    /** -m PERCENT,KILL_PERCENT: SIGKILL threshold; earlyoom's default is PERCENT/2. */
    mKill: pct.nullable().default(null),
    s: pct.default(10),
    sKill: pct.nullable().default(null),
    prefer: z.string().nullable().default(null),
    avoid: z.string().nullable().default(null),
    ignore: z.string().nullable().default(null),
    sortByRss: z.boolean().default(false),
    ignoreRootUser: z.boolean().default(false),
    /** kill_wait: up to 100 polls of 100 ms for the victim to exit. */
    killWaitS: z.number().positive().default(10),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const k of ['prefer', 'avoid', 'ignore'] as const) {
      try {
        compileRegex(p[k]);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [k], message: `invalid regex: ${(e as Error).message}` });
      }
    }
  });
export type EarlyoomParams = z.output<typeof earlyoomParams>;

export interface EarlyoomMem {
  memAvailableKiB: number;
  userMemTotalKiB: number;
  memAvailablePercent: number;
  swapFreePercent: number;
  swapTotalKiB: number;
}
/** meminfo.c:parse_meminfo: percentages relative to MemAvailable + AnonPages ("user memory total"). */
export function earlyoomMeminfo(v: PolicyView): EarlyoomMem {
  const avail = kb(v, 'MemAvailable');
  const user = avail + kb(v, 'AnonPages');
  const swapTotal = kb(v, 'SwapTotal');
  return {
    memAvailableKiB: avail,
    userMemTotalKiB: user,
    memAvailablePercent: user > 0 ? (avail * 100) / user : 0,
    swapFreePercent: swapTotal > 0 ? (kb(v, 'SwapFree') * 100) / swapTotal : 0,
    swapTotalKiB: swapTotal,
  };
}

const thresholds = (p: EarlyoomParams) => ({ mTerm: p.m, mKill: p.mKill ?? p.m / 2, sTerm: p.s, sKill: p.sKill ?? p.s / 2 });

/** main.c:lowmem_sig. */
export function earlyoomSignal(p: EarlyoomParams, m: EarlyoomMem): 'SIGKILL' | 'SIGTERM' | null {
  const t = thresholds(p);
  if (m.memAvailablePercent <= t.mKill && m.swapFreePercent <= t.sKill) return 'SIGKILL';
  if (m.memAvailablePercent <= t.mTerm && m.swapFreePercent <= t.sTerm) return 'SIGTERM';
  return null;
}

/** main.c:sleep_time_ms: headroom / max fill rate (6000 kiB/ms RAM, 800 kiB/ms swap), clamped to 100..1000 ms. */
export function earlyoomSleepMs(p: EarlyoomParams, m: EarlyoomMem): number {
  const t = thresholds(p);
  const memHead = Math.max(0, Math.trunc(((m.memAvailablePercent - t.mTerm) * m.userMemTotalKiB) / 100));
  const swapHead = Math.max(0, Math.trunc(((m.swapFreePercent - t.sTerm) * m.swapTotalKiB) / 100));
  const ms = Math.trunc(memHead / 6000) + Math.trunc(swapHead / 800);
  return Math.min(1000, Math.max(100, ms));
}

/** kill.c:find_largest_process/is_larger: the victim, or null. */
export function earlyoomVictim(p: EarlyoomParams, tasks: readonly ViewTask[]): (ViewTask & { score: number; rss: number }) | null {
  const prefer = compileRegex(p.prefer), avoid = compileRegex(p.avoid), ignore = compileRegex(p.ignore);
  let victim: (ViewTask & { score: number; rss: number }) | null = null;
  for (const t of [...tasks].sort((a, b) => a.pid - b.pid)) {
    if (!userTask(t)) continue;
    if (p.ignoreRootUser && t.uid === 0) continue;
    let score = t.oomScore, rss = t.vmRssKb;
    if (prefer?.test(t.comm)) p.sortByRss ? (rss += 3145728) : (score += 300);
    if (avoid?.test(t.comm)) p.sortByRss ? (rss -= 3145728) : (score -= 300);
    if (ignore?.test(t.comm)) continue;
    if (victim) {
      if (p.sortByRss && rss > 0 && victim.rss > 0) {
        if (rss < victim.rss || (rss === victim.rss && score <= victim.score)) continue;
      } else if (score < victim.score || (score === victim.score && rss <= victim.rss)) continue;
    }
    if (t.oomScoreAdj === -1000) continue;
    victim = { ...t, score, rss };
  }
  return victim;
}

export const earlyoom: PolicyDefinition<typeof earlyoomParams> = {
  name: 'earlyoom',
  summary: 'MemAvailable/SwapFree percent thresholds; kills the highest oom_score (rfjakob/earlyoom)',
  source: 'rfjakob/earlyoom v1.9.0: main.c (lowmem_sig, sleep_time_ms), meminfo.c (parse_meminfo), kill.c (is_larger, kill_wait)',
  params: earlyoomParams,
  create(p) {
    return {
      name: 'earlyoom',
      params: p,
      intervalNs(v) {
        if (v.pending.length) return 100n * MS; // kill_wait polls every 100 ms
        return BigInt(earlyoomSleepMs(p, earlyoomMeminfo(v))) * MS;
      },
      tick(v): PolicyAction[] {
        const m = earlyoomMeminfo(v);
        const sig = earlyoomSignal(p, m);
        if (v.pending.length) {
          // kill_wait: wait for the victim (at most killWaitS); escalate SIGTERM to SIGKILL below the kill limits.
          const w = v.pending[0];
          if (v.nowNs - w.sinceNs < secNs(p.killWaitS)) {
            if (w.signal === 'SIGTERM' && sig === 'SIGKILL') return [{ type: 'kill', pid: w.pid, signal: 'SIGKILL', reason: 'escalating to SIGKILL' }];
            return [];
          }
        }
        if (!sig) return [];
        const victim = earlyoomVictim(p, v.tasks);
        if (!victim) return [{ type: 'none', reason: 'Could not find a process to kill' }];
        return [{ type: 'kill', pid: victim.pid, signal: sig, reason: `mem avail ${m.memAvailablePercent.toFixed(2)}%, oom_score ${victim.score}` }];
      },
    };
  },
};
void S;
