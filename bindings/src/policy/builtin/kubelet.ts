/** Kubernetes kubelet: node-pressure eviction and QoS oom_score_adj (kubernetes/kubernetes v1.30). See docs/policies/kubelet.md. */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView } from '../types.js';
import { S, cgroupUsageBytes, inCgroup, kb, leaves, secNs } from './common.js';
import { kubeletWorkingSetKb } from '../../model/metrics.js';

const pod = z
  .object({
    cgroup: z.string(),
    requestBytes: z.number().nonnegative().default(0),
    limitBytes: z.number().nonnegative().nullable().default(null),
    priority: z.number().int().default(0),
    terminationGracePeriodS: z.number().nonnegative().default(30),
  })
  .strict();
export const kubeletParams = z
  .object({
    /** --eviction-hard memory.available<100Mi (the kubelet default), bytes. */
    evictionHardBytes: z.number().nonnegative().default(100 * 1024 * 1024),
    /** --eviction-soft memory.available<X (no default), bytes; null: off. */
    evictionSoftBytes: z.number().nonnegative().nullable().default(null),
    evictionSoftGracePeriodS: z.number().nonnegative().default(0),
    evictionMaxPodGracePeriodS: z.number().nonnegative().default(0),
    /** The eviction manager's monitoring interval (evictionMonitoringPeriod, 10 s). */
    housekeepingIntervalS: z.number().positive().default(10),
    /** Pods by cgroup; when empty, every leaf cgroup with tasks is a BestEffort pod (request 0, priority 0). */
    pods: z.array(pod).default([]),
    /** Set the QoS oom_score_adj on pod processes (what the kubelet/runtime do at container start). */
    setQosAdj: z.boolean().default(true),
  })
  .strict();
export type KubeletParams = z.output<typeof kubeletParams>;
export type PodSpec = z.output<typeof pod>;
export type Qos = 'Guaranteed' | 'Burstable' | 'BestEffort';

export const qosOf = (p: PodSpec): Qos => (p.requestBytes === 0 && p.limitBytes === null ? 'BestEffort' : p.limitBytes !== null && p.limitBytes === p.requestBytes ? 'Guaranteed' : 'Burstable');

/** pkg/kubelet/qos/policy.go:GetContainerOOMScoreAdjust, in int64 arithmetic (truncating division). */
export function qosOomScoreAdj(qos: Qos, requestBytes: bigint, capacityBytes: bigint): number {
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const adj = 1000n - (1000n * requestBytes) / capacityBytes;
  if (adj < 1000n + -997n) return 3;
  if (adj === 1000n) return 999;
  return Number(adj);
}

/** Moved to model/metrics.ts (shared with the reports); re-exported so existing imports keep compiling. */
export { kubeletWorkingSetKb };

/** memory.available as the kubelet computes it: capacity - working set. */
export function memoryAvailableBytes(v: PolicyView): number {
  const ws = kubeletWorkingSetKb({ MemTotal: kb(v, 'MemTotal'), MemFree: kb(v, 'MemFree'), 'Inactive(file)': kb(v, 'Inactive(file)') });
  return (kb(v, 'MemTotal') - ws) * 1024;
}

/** eviction/helpers.go:rankMemoryPressure: exceeds request first, then lower priority, then usage - request larger. */
export function rankPods(v: PolicyView, pods: PodSpec[]): { pod: PodSpec; usage: number }[] {
  const rows = pods.map((pod) => ({ pod, usage: cgroupUsageBytes(v, pod.cgroup) }));
  return rows.sort((a, b) => {
    const ea = a.usage > a.pod.requestBytes ? 1 : 0, eb = b.usage > b.pod.requestBytes ? 1 : 0;
    if (ea !== eb) return eb - ea;
    if (a.pod.priority !== b.pod.priority) return a.pod.priority - b.pod.priority;
    return b.usage - b.pod.requestBytes - (a.usage - a.pod.requestBytes) || (a.pod.cgroup < b.pod.cgroup ? -1 : 1);
  });
}

export const kubelet: PolicyDefinition<typeof kubeletParams> = {
  name: 'kubelet',
  summary: 'node-pressure eviction on memory.available (hard/soft, 10 s housekeeping), pod ranking, QoS oom_score_adj',
  source: 'kubernetes/kubernetes v1.30: pkg/kubelet/eviction (eviction_manager.go synchronize, helpers.go rankMemoryPressure), pkg/kubelet/qos/policy.go, pkg/kubelet/apis/config/v1beta1/defaults_linux.go',
  params: kubeletParams,
  create(p) {
    let softSince: bigint | null = null;
    const adjDone = new Set<number>();
    return {
      name: 'kubelet',
      params: p,
      intervalNs: () => secNs(p.housekeepingIntervalS),
      tick(v): PolicyAction[] {
        const pods: PodSpec[] = p.pods.length
          ? p.pods
          : leaves(v, '/').filter((c) => c !== '/' && v.tasks.some((t) => t.cgroup === c)).map((cgroup) => pod.parse({ cgroup }));
        const out: PolicyAction[] = [];
        if (p.setQosAdj) {
          const cap = BigInt(kb(v, 'MemTotal')) * 1024n;
          for (const pd of pods) {
            const adj = qosOomScoreAdj(qosOf(pd), BigInt(Math.trunc(pd.requestBytes)), cap);
            for (const t of v.tasks) if (inCgroup(pd.cgroup, t.cgroup) && !adjDone.has(t.pid) && t.oomScoreAdj !== adj) {
              adjDone.add(t.pid);
              out.push({ type: 'set_oom_score_adj', pid: t.pid, value: adj, reason: `${qosOf(pd)} pod ${pd.cgroup}` });
            }
          }
        }
        const avail = memoryAvailableBytes(v);
        const hard = avail < p.evictionHardBytes;
        const soft = p.evictionSoftBytes !== null && avail < p.evictionSoftBytes;
        softSince = soft ? (softSince ?? v.nowNs) : null;
        const softMet = softSince !== null && v.nowNs - softSince >= secNs(p.evictionSoftGracePeriodS);
        if (v.pending.length || (!hard && !softMet)) return out;
        const ranked = rankPods(v, pods).filter((r) => v.tasks.some((t) => inCgroup(r.pod.cgroup, t.cgroup)));
        if (!ranked.length) return out;
        const victim = ranked[0].pod;
        // Hard: no grace (the runtime still gives its minimum of 2 s); soft: min(max pod grace, pod's grace).
        const graceS = hard ? 2 : Math.min(p.evictionMaxPodGracePeriodS, victim.terminationGracePeriodS);
        out.push({ type: 'kill_cgroup', cgroup: victim.cgroup, signal: graceS > 0 ? 'SIGTERM' : 'SIGKILL', graceNs: secNs(graceS), reason: `memory.available ${Math.round(avail / 1048576)}Mi < ${hard ? 'hard' : 'soft'} threshold` });
        return out;
      },
    };
  },
};
void S;
