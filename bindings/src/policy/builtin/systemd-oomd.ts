/** systemd-oomd (systemd v256+: src/oom/oomd-manager.h, oomd-manager.c, oomd-util.c). See docs/policies/systemd-oomd.md. */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView } from '../types.js';
import { MS, S, cgroupNumber, cgroupUsageBytes, kb, leaves, memoryStat, secNs } from './common.js';

export const systemdOomdParams = z
  .object({
    /** oomd.conf SwapUsedLimit= (DEFAULT_SWAP_USED_LIMIT_PERCENT). */
    swapUsedLimit: z.number().min(0).max(100).default(90),
    /** oomd.conf DefaultMemoryPressureLimit= (DEFAULT_MEM_PRESSURE_LIMIT_PERCENT). */
    memoryPressureLimit: z.number().min(0).max(100).default(60),
    /** oomd.conf DefaultMemoryPressureDurationSec= (DEFAULT_MEM_PRESSURE_DURATION_USEC). */
    memoryPressureDurationSec: z.number().positive().default(30),
    /** Units with ManagedOOMSwap=kill / ManagedOOMMemoryPressure=kill, as cgroup paths (with an optional per-unit limit). */
    managedSwap: z.array(z.string()).default(['/']),
    managedMemoryPressure: z.array(z.object({ cgroup: z.string(), limit: z.number().min(0).max(100).optional(), durationSec: z.number().positive().optional() })).default([{ cgroup: '/' }]),
  })
  .strict();
export type SystemdOomdParams = z.output<typeof systemdOomdParams>;

export const SWAP_INTERVAL_NS = 150n * MS;
export const MEM_PRESSURE_INTERVAL_NS = 1n * S;
export const POST_ACTION_DELAY_NS = 15n * S;
export const RECLAIM_DURATION_NS = 30n * S;
export const THRESHOLD_SWAP_USED_PERCENT = 5;

/** The swap rule: MemAvailable and SwapFree both below (100 - SwapUsedLimit)% of their totals. */
export function swapRuleFires(p: SystemdOomdParams, v: PolicyView): boolean {
  const swapTotal = kb(v, 'SwapTotal');
  if (swapTotal <= 0) return false;
  const free = 100 - p.swapUsedLimit;
  return kb(v, 'MemAvailable') * 100 < kb(v, 'MemTotal') * free && kb(v, 'SwapFree') * 100 < swapTotal * free;
}

export const systemdOomd: PolicyDefinition<typeof systemdOomdParams> = {
  name: 'systemd-oomd',
  summary: 'per-cgroup PSI full avg10 limit for a duration, and system swap use; kills a whole cgroup',
  source: 'systemd/systemd v256: src/oom/oomd-manager.h (defaults, intervals), oomd-manager.c (monitor_swap_contexts_handler, monitor_memory_pressure_contexts_handler), oomd-util.c (oomd_pressure_above, oomd_sort_cgroup_contexts, oomd_cgroup_kill)',
  params: systemdOomdParams,
  create(p) {
    const above = new Map<string, bigint>(); // cgroup -> since when its full avg10 is above the limit
    const lastScan = new Map<string, number>();
    let lastReclaimNs: bigint | null = null;
    let lastPgscan: bigint | null = null;
    let delayUntil = 0n;
    let nextPressureNs = 0n;
    return {
      name: 'systemd-oomd',
      params: p,
      intervalNs: () => SWAP_INTERVAL_NS,
      tick(v): PolicyAction[] {
        const scan = (v.vmstat.pgscan_direct ?? 0n) + (v.vmstat.pgscan_kswapd ?? 0n);
        if (lastPgscan !== null && scan > lastPgscan) lastReclaimNs = v.nowNs;
        lastPgscan = scan;
        const rates = new Map<string, number>();
        for (const c of v.cgroups) {
          const s = memoryStat(v, c, 'pgscan') ?? 0;
          rates.set(c, s - (lastScan.get(c) ?? s));
          lastScan.set(c, s);
        }
        if (v.pending.length || v.nowNs < delayUntil) return [];
        // Swap: every 150 ms. Candidates: leaf cgroups under ManagedOOMSwap units using >= 5% of swap; most swap first.
        if (swapRuleFires(p, v)) {
          const swapTotalB = kb(v, 'SwapTotal') * 1024;
          const cands = p.managedSwap.flatMap((m) => leaves(v, m)).map((c) => ({ c, swap: cgroupNumber(v, c, 'memory.swap.current') ?? 0 }));
          const best = cands.filter((x) => x.swap * 100 >= swapTotalB * THRESHOLD_SWAP_USED_PERCENT).sort((a, b) => b.swap - a.swap || (a.c < b.c ? -1 : 1))[0];
          if (best) {
            delayUntil = v.nowNs + POST_ACTION_DELAY_NS;
            return [{ type: 'kill_cgroup', cgroup: best.c, signal: 'SIGKILL', reason: `swap used over ${p.swapUsedLimit}%; ${best.c} uses the most swap` }];
          }
        }
        // Memory pressure: every 1 s, per managed cgroup, full avg10 above its limit for its duration.
        if (v.nowNs < nextPressureNs) return [];
        nextPressureNs = v.nowNs + MEM_PRESSURE_INTERVAL_NS;
        for (const m of p.managedMemoryPressure) {
          const limit = m.limit ?? p.memoryPressureLimit;
          const dur = secNs(m.durationSec ?? p.memoryPressureDurationSec);
          const full = v.cgroupPsi(m.cgroup).full.avg10;
          if (full <= limit) {
            above.delete(m.cgroup);
            continue;
          }
          const since = above.get(m.cgroup) ?? v.nowNs;
          above.set(m.cgroup, since);
          if (v.nowNs - since < dur) continue;
          // Only act when there was reclaim activity recently (RECLAIM_DURATION_USEC).
          if (lastReclaimNs === null || v.nowNs - lastReclaimNs > RECLAIM_DURATION_NS) continue;
          const cands = leaves(v, m.cgroup).filter((c) => v.tasks.some((t) => t.cgroup === c));
          cands.sort((a, b) => (rates.get(b) ?? 0) - (rates.get(a) ?? 0) || cgroupUsageBytes(v, b) - cgroupUsageBytes(v, a) || (a < b ? -1 : 1));
          if (!cands.length) continue;
          above.delete(m.cgroup);
          delayUntil = v.nowNs + POST_ACTION_DELAY_NS;
          return [{ type: 'kill_cgroup', cgroup: cands[0], signal: 'SIGKILL', reason: `${m.cgroup} full avg10 ${full.toFixed(2)} > ${limit}% for ${Number(dur) / 1e9}s` }];
        }
        return [];
      },
    };
  },
};
