/** nohang (hakavlad/nohang v0.3.0-11, src/nohang, conf/nohang/nohang.conf.in). See docs/policies/nohang.md. */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView, ViewTask } from '../types.js';
import { kb, secNs, userTask } from './common.js';

const pct = z.number().min(0).max(100);
export const nohangParams = z
  .object({
    softThresholdMinMem: pct.default(5),
    hardThresholdMinMem: pct.default(2),
    softThresholdMinSwap: pct.default(10),
    hardThresholdMinSwap: pct.default(4),
    psiCheckingEnabled: z.boolean().default(false),
    psiMetrics: z.enum(['some_avg10', 'some_avg60', 'some_avg300', 'full_avg10', 'full_avg60', 'full_avg300']).default('full_avg10'),
    softThresholdMaxPsi: pct.default(40),
    hardThresholdMaxPsi: pct.default(90),
    psiExcessDuration: z.number().nonnegative().default(30),
    psiPostActionDelay: z.number().nonnegative().default(15),
    fillRateMem: z.number().positive().default(6000),
    fillRateSwap: z.number().positive().default(2000),
    maxSleep: z.number().positive().default(3),
    minSleep: z.number().positive().default(0.1),
    ignorePositiveOomScoreAdj: z.boolean().default(false),
    /** @BADNESS_ADJ_RE_NAME lines: [adjustment, regex on the process name]. */
    badnessAdjReName: z.array(z.tuple([z.number().int(), z.string()])).default([]),
    minBadness: z.number().int().default(1),
    maxSoftExitTime: z.number().positive().default(10),
    postSoftActionDelay: z.number().nonnegative().default(3),
  })
  .strict();
export type NohangParams = z.output<typeof nohangParams>;

/** check_mem_swap_ex: thresholds are percent of MemTotal / SwapTotal; both memory and swap must be at or below. */
export function nohangMemSignal(p: NohangParams, v: PolicyView): 'SIGKILL' | 'SIGTERM' | null {
  const total = kb(v, 'MemTotal'), avail = kb(v, 'MemAvailable'), swapTotal = kb(v, 'SwapTotal'), swapFree = kb(v, 'SwapFree');
  if (avail <= (total * p.hardThresholdMinMem) / 100 && swapFree <= (swapTotal * p.hardThresholdMinSwap) / 100) return 'SIGKILL';
  if (avail <= (total * p.softThresholdMinMem) / 100 && swapFree <= (swapTotal * p.softThresholdMinSwap) / 100) return 'SIGTERM';
  return null;
}

/** pid_to_badness: oom_score, minus 2/3 of a positive adj when ignoring it, plus regex adjustments (positive ones only when adj >= 0). */
export function nohangBadness(p: NohangParams, t: ViewTask): number {
  if (t.oomScore === 0) return 0;
  let b = t.oomScore;
  if (p.ignorePositiveOomScoreAdj && t.oomScoreAdj > 0) b -= Math.floor((t.oomScoreAdj * 2) / 3);
  for (const [adj, re] of p.badnessAdjReName) {
    if (new RegExp(re).test(t.comm)) {
      if (adj <= 0) b += adj;
      else if (t.oomScoreAdj >= 0) b += adj;
    }
  }
  return b;
}
export function nohangVictim(p: NohangParams, tasks: readonly ViewTask[]): { task: ViewTask; badness: number } | null {
  let best: { task: ViewTask; badness: number } | null = null;
  for (const t of [...tasks].sort((a, b) => a.pid - b.pid)) {
    if (!userTask(t)) continue;
    const b = nohangBadness(p, t);
    if (!best || b > best.badness) best = { task: t, badness: b };
  }
  return best;
}
const psiValue = (p: NohangParams, v: PolicyView) => {
  const [kind, avg] = p.psiMetrics.split('_') as ['some' | 'full', 'avg10' | 'avg60' | 'avg300'];
  return v.psi[kind][avg];
};

export const nohang: PolicyDefinition<typeof nohangParams> = {
  name: 'nohang',
  summary: 'soft/hard MemAvailable+SwapFree thresholds and optional PSI; badness = oom_score + regex (hakavlad/nohang)',
  source: 'hakavlad/nohang v0.3.0 (master 1d49838): src/nohang (check_mem_swap_ex, pid_to_badness, sleep_after_check_mem), conf/nohang/nohang.conf.in',
  params: nohangParams,
  create(p) {
    let psiSoftSince: bigint | null = null, psiHardSince: bigint | null = null;
    let quietUntil = 0n; // post_soft_action_delay / psi_post_action_delay
    return {
      name: 'nohang',
      params: p,
      intervalNs(v) {
        if (v.pending.length) return secNs(0.1);
        // sleep_after_check_mem: headroom to the nearest threshold over the fill rates (MiB/s), clamped.
        const total = kb(v, 'MemTotal'), swapTotal = kb(v, 'SwapTotal');
        const memPoint = Math.max(0, kb(v, 'MemAvailable') - (total * Math.max(p.softThresholdMinMem, p.hardThresholdMinMem)) / 100);
        const swapPoint = Math.max(0, kb(v, 'SwapFree') - (swapTotal * Math.max(p.softThresholdMinSwap, p.hardThresholdMinSwap)) / 100);
        const t = memPoint / (p.fillRateMem * 1024) + swapPoint / (p.fillRateSwap * 1024);
        return secNs(Math.min(p.maxSleep, Math.max(p.minSleep, t)));
      },
      tick(v): PolicyAction[] {
        let sig = nohangMemSignal(p, v);
        if (p.psiCheckingEnabled) {
          const x = psiValue(p, v);
          psiHardSince = x >= p.hardThresholdMaxPsi ? (psiHardSince ?? v.nowNs) : null;
          psiSoftSince = x >= p.softThresholdMaxPsi ? (psiSoftSince ?? v.nowNs) : null;
          const dur = secNs(p.psiExcessDuration);
          if (!sig && psiHardSince !== null && v.nowNs - psiHardSince >= dur) sig = 'SIGKILL';
          else if (!sig && psiSoftSince !== null && v.nowNs - psiSoftSince >= dur) sig = 'SIGTERM';
        }
        if (v.pending.length) {
          const w = v.pending[0];
          if (v.nowNs - w.sinceNs < secNs(p.maxSoftExitTime)) {
            if (w.signal === 'SIGTERM' && sig === 'SIGKILL') return [{ type: 'kill', pid: w.pid, signal: 'SIGKILL', reason: 'hard threshold reached while waiting' }];
            return [];
          }
          quietUntil = v.nowNs + secNs(p.postSoftActionDelay);
        }
        if (!sig || v.nowNs < quietUntil) return [];
        const victim = nohangVictim(p, v.tasks);
        if (!victim || victim.badness < p.minBadness) return [{ type: 'none', reason: 'victim badness < min_badness; nothing to do' }];
        quietUntil = v.nowNs + secNs(sig === 'SIGTERM' ? p.postSoftActionDelay : 0) + (p.psiCheckingEnabled ? secNs(p.psiPostActionDelay) : 0n);
        psiSoftSince = psiHardSince = null;
        return [{ type: 'kill', pid: victim.task.pid, signal: sig, reason: `badness ${victim.badness}` }];
      },
    };
  },
};
