/** Android lmkd, PSI mode (platform/system/memory/lmkd: lmkd.cpp). See docs/policies/lmkd.md. */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, ViewTask } from '../types.js';
import { S, userTask } from './common.js';

export const lmkdParams = z
  .object({
    /** ro.lmk.psi_partial_stall_ms (DEF_PARTIAL_STALL): "some" stall per 1 s window -> medium level. */
    psiPartialStallMs: z.number().int().positive().default(70),
    /** ro.lmk.psi_complete_stall_ms (DEF_COMPLETE_STALL): "full" stall per 1 s window -> critical level. */
    psiCompleteStallMs: z.number().int().positive().default(700),
    /** Minimum oom_score_adj killed at each level (ro.lmk.medium / ro.lmk.critical). */
    mediumMinAdj: z.number().int().min(-1000).max(1001).default(800),
    criticalMinAdj: z.number().int().min(-1000).max(1001).default(0),
    killHeaviestTask: z.boolean().default(true),
  })
  .strict();
export type LmkdParams = z.output<typeof lmkdParams>;

/** find_and_kill_process: the highest oom_score_adj band >= minAdj; inside it the heaviest (or the first). */
export function lmkdVictim(p: LmkdParams, tasks: readonly ViewTask[], minAdj: number): ViewTask | null {
  const c = tasks.filter((t) => userTask(t) && t.oomScoreAdj >= minAdj && t.oomScoreAdj > -1000);
  if (!c.length) return null;
  const band = Math.max(...c.map((t) => t.oomScoreAdj));
  const inBand = c.filter((t) => t.oomScoreAdj === band).sort((a, b) => a.pid - b.pid);
  return p.killHeaviestTask ? inBand.reduce((a, b) => (b.vmRssKb > a.vmRssKb ? b : a)) : inBand[inBand.length - 1];
}

export const lmkd: PolicyDefinition<typeof lmkdParams> = {
  name: 'lmkd',
  summary: 'Android low memory killer daemon: PSI stall levels, victim by oom_score_adj band',
  source: 'AOSP platform/system/memory/lmkd: lmkd.cpp (DEF_PARTIAL_STALL, DEF_COMPLETE_STALL, find_and_kill_process)',
  params: lmkdParams,
  create(p) {
    let lastSome: bigint | null = null, lastFull: bigint | null = null;
    return {
      name: 'lmkd',
      params: p,
      intervalNs: () => S, // the PSI monitor window (1 s)
      tick(v): PolicyAction[] {
        const some = v.psi.some.totalUs, full = v.psi.full.totalUs;
        const dSome = lastSome === null ? 0n : some - lastSome, dFull = lastFull === null ? 0n : full - lastFull;
        lastSome = some;
        lastFull = full;
        if (v.pending.length) return [];
        const level = dFull >= BigInt(p.psiCompleteStallMs) * 1000n ? 'critical' : dSome >= BigInt(p.psiPartialStallMs) * 1000n ? 'medium' : null;
        if (!level) return [];
        const victim = lmkdVictim(p, v.tasks, level === 'critical' ? p.criticalMinAdj : p.mediumMinAdj);
        if (!victim) return [];
        return [{ type: 'kill', pid: victim.pid, signal: 'SIGKILL', reason: `${level} pressure, oom_score_adj ${victim.oomScoreAdj}` }];
      },
    };
  },
};
