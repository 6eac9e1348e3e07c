/** oomd (facebookincubator/oomd): a core subset. See docs/policies/oomd.md for what is and is not confirmed. */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition } from '../types.js';
import { S, cgroupUsageBytes, kb, leaves, secNs } from './common.js';

export const oomdParams = z
  .object({
    /** The monitored cgroup (its children are the kill candidates). */
    cgroup: z.string().default('/'),
    /** pressure_above: memory pressure (full avg10 by default) threshold, percent, and how long it must hold. */
    pressureThreshold: z.number().min(0).max(100).default(60),
    pressureMetric: z.enum(['some', 'full']).default('full'),
    pressureDurationS: z.number().nonnegative().default(30),
    /** memory_above: usage of `cgroup` above this percent of MemTotal (null: rule off). */
    memoryAbovePct: z.number().min(0).max(100).nullable().default(null),
    memoryAboveDurationS: z.number().nonnegative().default(0),
    /** kill_by_memory_size_or_growth: a child above size_threshold % of the parent's usage is killed first; else the fastest grower. */
    sizeThreshold: z.number().min(0).max(100).default(50),
    postActionDelayS: z.number().nonnegative().default(15),
    intervalS: z.number().positive().default(1),
  })
  .strict();

export const oomd: PolicyDefinition<typeof oomdParams> = {
  name: 'oomd',
  summary: 'pressure_above / memory_above detectors, kill_by_memory_size_or_growth (facebookincubator/oomd, subset)',
  source: 'facebookincubator/oomd: src/oomd/plugins/PressureAbove.cpp, MemoryAbove.cpp, KillMemoryGrowth-inl.h, BaseKillPlugin.cpp',
  params: oomdParams,
  create(p) {
    let pressSince: bigint | null = null, memSince: bigint | null = null;
    let delayUntil = 0n;
    const prev = new Map<string, number>();
    return {
      name: 'oomd',
      params: p,
      intervalNs: () => secNs(p.intervalS),
      tick(v): PolicyAction[] {
        const kids = leaves(v, p.cgroup).filter((c) => c !== p.cgroup || p.cgroup !== '/');
        const usage = new Map(kids.map((c) => [c, cgroupUsageBytes(v, c)]));
        const growth = new Map(kids.map((c) => [c, (usage.get(c) ?? 0) - (prev.get(c) ?? usage.get(c) ?? 0)]));
        for (const [c, u] of usage) prev.set(c, u);
        const pr = v.cgroupPsi(p.cgroup)[p.pressureMetric].avg10;
        pressSince = pr > p.pressureThreshold ? (pressSince ?? v.nowNs) : null;
        const used = p.cgroup === '/' ? (kb(v, 'MemTotal') - kb(v, 'MemAvailable')) * 1024 : cgroupUsageBytes(v, p.cgroup);
        const memHit = p.memoryAbovePct !== null && used * 100 > kb(v, 'MemTotal') * 1024 * p.memoryAbovePct;
        memSince = memHit ? (memSince ?? v.nowNs) : null;
        if (v.pending.length || v.nowNs < delayUntil) return [];
        const fire =
          (pressSince !== null && v.nowNs - pressSince >= secNs(p.pressureDurationS)) ||
          (memSince !== null && v.nowNs - memSince >= secNs(p.memoryAboveDurationS));
        if (!fire) return [];
        const withTasks = kids.filter((c) => v.tasks.some((t) => t.cgroup === c || t.cgroup.startsWith(c + '/')));
        if (!withTasks.length) return [];
        const total = withTasks.reduce((s, c) => s + (usage.get(c) ?? 0), 0);
        const bySize = [...withTasks].sort((a, b) => (usage.get(b) ?? 0) - (usage.get(a) ?? 0) || (a < b ? -1 : 1));
        let victim = bySize.find((c) => (usage.get(c) ?? 0) * 100 > total * p.sizeThreshold);
        let why = 'size';
        if (!victim) {
          victim = [...withTasks].sort((a, b) => (growth.get(b) ?? 0) - (growth.get(a) ?? 0) || (a < b ? -1 : 1))[0];
          why = 'growth';
        }
        delayUntil = v.nowNs + secNs(p.postActionDelayS);
        pressSince = memSince = null;
        return [{ type: 'kill_cgroup', cgroup: victim, signal: 'SIGKILL', reason: `kill_by_memory_size_or_growth (${why})` }];
      },
    };
  },
};
void S;
