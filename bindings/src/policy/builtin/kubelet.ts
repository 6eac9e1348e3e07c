/**
 * Kubernetes kubelet: QoS class, container oom_score_adj and node-pressure eviction on memory (kubernetes/kubernetes
 * master, v1.37 development line). Every rule is a pure exported function with the kubelet's own inputs (a pod spec,
 * the node capacity, the eviction config, observations); the policy object at the end only wires them to a run.
 * See docs/policies/kubelet.md for the rules restated and the upstream tests they are checked against.
 */
import { z } from 'zod';
import type { PolicyAction, PolicyDefinition, PolicyView } from '../types.js';
import { cgroupUsageBytes, inCgroup, kb, leaves, secNs } from './common.js';
import { kubeletWorkingSetKb } from '../../model/metrics.js';

// ---------------------------------------------------------------------------------------------------------------
// Quantities and durations (k8s.io/apimachinery resource.ParseQuantity, Go time.ParseDuration)

const BIN: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DEC: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QTY = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * A resource quantity as an exact fraction (num/den). resource.ParseQuantity: decimal number with a binary suffix
 * (Ki..Ei), a decimal suffix (n u m k M G T P E) or a decimal exponent (e3). Numbers are bytes (memory) or cores (cpu).
 */
export function parseQuantity(s: string | number): { num: bigint; den: bigint } {
  const str = typeof s === 'number' ? String(s) : s.trim();
  const m = QTY.exec(str);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw new Error(`quantity "${str}": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  }
  const frac = m[3] ?? '';
  let num = BigInt((m[2] || '0') + frac) * (m[1] === '-' ? -1n : 1n);
  let den = 10n ** BigInt(frac.length);
  const suf = m[4] ?? '';
  if (suf in BIN) num *= BIN[suf];
  else {
    const e = suf in DEC ? DEC[suf] : Number(suf.slice(1));
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  }
  return { num, den };
}
const ceilDiv = (a: bigint, b: bigint) => (a >= 0n ? (a + b - 1n) / b : a / b);
/** Quantity.Value(): the integer value, rounded up (so 0.5 bytes is 1). */
export const quantityValue = (s: string | number): bigint => {
  const q = parseQuantity(s);
  return ceilDiv(q.num, q.den);
};
/** Quantity.MilliValue(): for cpu ("100m" = 100, "1" = 1000). */
export const quantityMilli = (s: string | number): bigint => {
  const q = parseQuantity(s);
  return ceilDiv(q.num * 1000n, q.den);
};

const DUR_UNIT: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
/** time.ParseDuration ("1m30s", "5m", "300ms"), as ns. */
export function parseGoDuration(s: string): bigint {
  if (s === '0') return 0n;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0, m: RegExpExecArray | null, end = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * DUR_UNIT[m[2]];
    end = re.lastIndex;
  }
  if (end === 0 || end !== s.length) throw new Error(`time: invalid duration "${s}"`);
  return BigInt(Math.round(total));
}

// ---------------------------------------------------------------------------------------------------------------
// The pod model: what the kubelet reads of a v1.Pod

export interface ResourceList {
  /** Bytes. */
  memory?: bigint;
  /** Millicores. */
  cpu?: bigint;
}
export interface Resources {
  requests: ResourceList;
  limits: ResourceList;
}
export interface Container {
  name: string;
  resources: Resources;
  /** `restartPolicy: Always` on an init container makes it a sidecar. */
  restartPolicy?: 'Always';
}
/** pod.status.nodeAllocatableResourceClaimStatuses[] (DRA node-allocatable memory), memory only. */
export interface DraClaim {
  containers: string[];
  mapping?: bigint;
  perContainerOverhead?: bigint;
  perPodOverhead?: bigint;
}
export interface Pod {
  containers: Container[];
  initContainers: Container[];
  /** spec.resources (pod-level resources), or undefined. */
  resources?: Resources;
  /** spec.priority (0 when unset). */
  priority: number;
  priorityClassName?: string;
  /** A static or mirror pod (the kubelet treats it as critical). */
  static?: boolean;
  draClaims: DraClaim[];
}
/** The feature gates these rules read, with their defaults on the version we follow. */
export interface FeatureGates {
  /** Beta, on by default since v1.34 (pkg/features/kube_features.go). */
  PodLevelResources: boolean;
  /** Alpha since v1.36, off by default. */
  DRANodeAllocatableResources: boolean;
  /** Gated in pkg/kubelet/qos/policy.go; treated as alpha (off) here. */
  KubeletOOMScoreAdjTieBreak: boolean;
}
export const DEFAULT_GATES: FeatureGates = Object.freeze({ PodLevelResources: true, DRANodeAllocatableResources: false, KubeletOOMScoreAdjTieBreak: false });

export type Qos = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** pkg/apis/core/v1/helper/qos/qos.go:resourceQOS: the class of one set of requests and limits (cpu and memory only). */
export function resourceQos(r: Resources): Qos {
  const keys = (l: ResourceList) => Object.keys(l).filter((k) => l[k as keyof ResourceList] !== undefined);
  if (keys(r.requests).length === 0 && keys(r.limits).length === 0) return 'BestEffort';
  let qos: Qos | null = null;
  for (const res of ['cpu', 'memory'] as const) {
    const req = r.requests[res] ?? 0n, lim = r.limits[res] ?? 0n;
    if (req !== lim) return 'Burstable';
    const be = req === 0n;
    if (qos === null) qos = be ? 'BestEffort' : 'Guaranteed';
    else if (be !== (qos === 'BestEffort')) return 'Burstable';
  }
  return qos ?? 'BestEffort';
}

/**
 * pkg/apis/core/v1/helper/qos/qos.go:ComputePodQOS: pod-level resources decide alone when set (and the gate is on);
 * otherwise every container and init container: any Burstable, or a mix of BestEffort and Guaranteed, is Burstable.
 */
export function podQos(pod: Pod, gates: FeatureGates = DEFAULT_GATES): Qos {
  if (gates.PodLevelResources && pod.resources) return resourceQos(pod.resources);
  let q: Qos | null = null;
  for (const c of [...pod.initContainers, ...pod.containers]) {
    const cq = resourceQos(c.resources);
    if (cq === 'Burstable') return cq;
    if (q === null) q = cq;
    else if (q !== cq) return 'Burstable';
  }
  return q ?? 'BestEffort';
}

/** scheduling.SystemCriticalPriority (2 * 10^9) and the node-critical class name. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;
/** pkg/kubelet/types/pod_update.go:IsNodeCriticalPod: critical (static, or priority >= system-critical) and class system-node-critical. */
export const isNodeCriticalPod = (p: Pod) => (p.static === true || p.priority >= SYSTEM_CRITICAL_PRIORITY) && p.priorityClassName === 'system-node-critical';

const isSidecar = (pod: Pod, c: Container) => c.restartPolicy === 'Always' && pod.initContainers.some((i) => i.name === c.name);

/** policy.go:getEffectiveContainerMemoryRequest: the memory request plus its share of DRA memory claims (gate on). */
export function effectiveMemoryRequest(pod: Pod, c: Container, gates: FeatureGates = DEFAULT_GATES): bigint {
  const req = c.resources.requests.memory ?? 0n;
  if (!gates.DRANodeAllocatableResources) return req;
  let share = 0n;
  for (const cl of pod.draClaims) {
    if (!cl.containers.includes(c.name)) continue;
    const n = BigInt(cl.containers.length);
    if (cl.mapping !== undefined) share += cl.mapping / n;
    if (cl.perPodOverhead !== undefined) share += cl.perPodOverhead / n;
    if (cl.perContainerOverhead !== undefined) share += cl.perContainerOverhead;
  }
  return req + share;
}

/**
 * component-helpers/resource/helpers.go:AggregateContainerRequests for memory: regular containers and sidecars add
 * up; each plain init container needs its own request plus the sidecars started before it; the pod needs the larger.
 */
export function aggregateMemoryRequests(pod: Pod, gates: FeatureGates = DEFAULT_GATES): bigint {
  let sum = pod.containers.reduce((s, c) => s + effectiveMemoryRequest(pod, c, gates), 0n);
  let sidecars = 0n, initPeak = 0n;
  for (const c of pod.initContainers) {
    const r = effectiveMemoryRequest(pod, c, gates);
    let need: bigint;
    if (c.restartPolicy === 'Always') {
      sum += r;
      sidecars += r;
      need = sidecars;
    } else need = r + sidecars;
    if (need > initPeak) initPeak = need;
  }
  return sum > initPeak ? sum : initPeak;
}

/** The memory request the pod as a whole holds: pod-level when set (gate on), else the aggregate of its containers. */
export function podMemoryRequest(pod: Pod, gates: FeatureGates = DEFAULT_GATES): bigint {
  if (gates.PodLevelResources && pod.resources?.requests.memory !== undefined) return pod.resources.requests.memory;
  return aggregateMemoryRequests(pod, gates);
}

const podLevelRequestsSet = (pod: Pod) => pod.resources !== undefined && Object.values(pod.resources.requests).some((v) => v !== undefined);

/** pkg/kubelet/qos/helpers.go:remainingPodMemReqPerContainer: pod request not given to any container, split over all containers. */
export function remainingPodMemReqPerContainer(pod: Pod, gates: FeatureGates = DEFAULT_GATES): bigint {
  const podReq = pod.resources?.requests.memory ?? 0n;
  if (podReq === 0n) return 0n;
  const n = BigInt(pod.containers.length + pod.initContainers.length);
  return (podReq - aggregateMemoryRequests(pod, gates)) / n;
}

const log2Floor = (x: bigint): bigint => (x < 1n ? 0n : BigInt(x.toString(2).length - 1));
const TIE_BREAK_FLOOR = 64n << 20n;
/** The limit the kubelet puts on the container's cgroup: its own, else the pod-level one; plus its DRA memory in full. */
function enforcedMemoryLimit(pod: Pod, c: Container, gates: FeatureGates): bigint {
  let lim = c.resources.limits.memory ?? 0n;
  if (lim === 0n && gates.PodLevelResources && pod.resources) lim = pod.resources.limits.memory ?? 0n;
  if (lim > 0n && gates.DRANodeAllocatableResources) {
    for (const cl of pod.draClaims) if (cl.containers.includes(c.name)) lim += (cl.mapping ?? 0n) + (cl.perContainerOverhead ?? 0n) + (cl.perPodOverhead ?? 0n);
  }
  return lim;
}
/** policy.go:tieBreakOOMScoreAdjust: one point per doubling of the request above 64 MiB (capped), more when limit <= request. */
function tieBreak(linear: bigint, request: bigint, limit: bigint, capacity: bigint): bigint {
  const maxNudge = log2Floor(capacity / 1000n / TIE_BREAK_FLOOR);
  const n = log2Floor(request / TIE_BREAK_FLOOR);
  let adj = linear - (n < maxNudge ? n : maxNudge);
  if (limit > 0n && limit <= request) adj -= maxNudge + 1n;
  return adj;
}

/** The Burstable formula and its clamps alone (policy.go: `1000 - 1000*req/capacity` in int64, then [3, 999]). */
export function qosOomScoreAdj(qos: Qos, requestBytes: bigint, capacityBytes: bigint): number {
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  return clampBurstable(1000n - (1000n * requestBytes) / capacityBytes);
}
const clampBurstable = (adj: bigint) => (adj < 3n ? 3 : adj === 1000n ? 999 : Number(adj));

/**
 * pkg/kubelet/qos/policy.go:GetContainerOOMScoreAdjust. Node-critical pods and Guaranteed pods -997, BestEffort
 * 1000; Burstable: 1000 - 1000 * (effective request + the pod-level remainder) / capacity, truncating int64; a
 * sidecar is capped at the score of the smallest regular container (tie-break gate: the highest regular score);
 * then clamped to [1000 + (-997), 999].
 */
export function containerOomScoreAdj(pod: Pod, c: Container, capacity: bigint, gates: FeatureGates = DEFAULT_GATES): number {
  if (isNodeCriticalPod(pod)) return -997;
  const qos = podQos(pod, gates);
  if (qos !== 'Burstable') return qosOomScoreAdj(qos, 0n, capacity);
  const plr = gates.PodLevelResources && podLevelRequestsSet(pod);
  const rem = plr ? remainingPodMemReqPerContainer(pod, gates) : 0n;
  const req = effectiveMemoryRequest(pod, c, gates);
  let adj = 1000n - (1000n * (req + rem)) / capacity;
  const tb = gates.KubeletOOMScoreAdjTieBreak;
  if (tb) adj = tieBreak(adj, req + rem, enforcedMemoryLimit(pod, c, gates), capacity);
  if (isSidecar(pod, c) && pod.containers.length) {
    let cap: bigint;
    if (tb) {
      cap = pod.containers
        .map((r) => {
          const q = effectiveMemoryRequest(pod, r, gates) + rem;
          return tieBreak(1000n - (1000n * q) / capacity, q, enforcedMemoryLimit(pod, r, gates), capacity);
        })
        .reduce((a, b) => (b > a ? b : a));
    } else {
      const min = pod.containers.map((r) => effectiveMemoryRequest(pod, r, gates)).reduce((a, b) => (b < a ? b : a));
      cap = 1000n - (1000n * (min + (plr ? rem : 0n))) / capacity;
    }
    if (adj > cap) adj = cap;
  }
  return clampBurstable(adj);
}

// ---------------------------------------------------------------------------------------------------------------
// Eviction thresholds (pkg/kubelet/eviction/helpers.go)

export interface ThresholdValue {
  quantity?: bigint;
  /** A fraction (0.1 for 10%), float32 as the kubelet stores it. */
  percentage?: number;
}
export interface Threshold {
  signal: 'memory.available' | 'allocatableMemory.available';
  value: ThresholdValue;
  gracePeriodNs: bigint;
  minReclaim?: ThresholdValue;
  hard: boolean;
}
const SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'containerfs.available', 'containerfs.inodesFree', 'pid.available', 'allocatableMemory.available'];

/** helpers.go:parsePercentage: the number before % over 100, as float32. */
const parsePercentage = (v: string): number => {
  const n = Number(v.replace(/%+$/, ''));
  if (!Number.isFinite(n) || v.replace(/%+$/, '').trim() === '') throw new Error(`strconv.ParseFloat: parsing "${v.replace(/%+$/, '')}": invalid syntax`);
  return Math.fround(Math.fround(n) / 100);
};

/**
 * helpers.go:parseThresholdStatement: null for "0%" and "100%" (ignored); percentages must lie in [0%, 100%];
 * quantities must be positive. Signals other than memory ones are accepted and then not simulated.
 */
export function parseThresholdStatement(signal: string, val: string): ThresholdValue | null {
  if (!SIGNALS.includes(signal)) throw new Error(`unsupported eviction signal ${signal}`);
  if (val.endsWith('%')) {
    if (val === '0%' || val === '100%') return null;
    const p = parsePercentage(val);
    if (p < 0) throw new Error(`eviction percentage threshold ${signal} must be >= 0%: ${val}`);
    if (p > 1) throw new Error(`eviction percentage threshold ${signal} must be <= 100%: ${val}`);
    return { percentage: p };
  }
  const q = quantityValue(val);
  if (q <= 0n) throw new Error(`eviction threshold ${signal} must be positive: ${val}`);
  return { quantity: q };
}

/** A `--eviction-hard` style string ("memory.available<100Mi,nodefs.available<10%") as signal -> value. */
export function parseMapFlag(s: string, sep: '<' | '='): Record<string, string> {
  const out: Record<string, string> = {};
  if (s.trim() === '') return out;
  for (const part of s.split(',')) {
    const i = part.indexOf(sep);
    if (i <= 0) throw new Error(sep === '<' ? `invalid eviction threshold syntax ${part}, expected <signal><operator><value>` : `invalid key=value "${part}"`);
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export interface EvictionConfig {
  evictionHard: Record<string, string>;
  evictionSoft: Record<string, string>;
  evictionSoftGracePeriod: Record<string, string>;
  evictionMinimumReclaim: Record<string, string>;
  /** KubeletConfiguration enforceNodeAllocatable (the allocatableConfig argument); "pods" adds allocatable thresholds. */
  enforceNodeAllocatable?: readonly string[];
}
/**
 * helpers.go:ParseThresholdConfig: hard thresholds (grace 0), soft ones (each must have a grace period, else the
 * kubelet refuses to start), minimum reclaim attached by signal; then, when enforceNodeAllocatable has "pods",
 * addAllocatableThresholds: every hard memory.available threshold is copied as an allocatableMemory.available one
 * (same value and minimum reclaim, grace 0), appended after the others. Only memory signals are returned.
 */
export function parseThresholdConfig(c: EvictionConfig): Threshold[] {
  const out: Threshold[] = [];
  for (const [hard, map] of [[true, c.evictionHard], [false, c.evictionSoft]] as const) {
    for (const [sig, val] of Object.entries(map)) {
      const v = parseThresholdStatement(sig, val);
      if (v === null) continue;
      let grace = 0n;
      if (!hard) {
        const g = c.evictionSoftGracePeriod[sig];
        if (g === undefined) throw new Error(`grace period must be specified for the soft eviction threshold ${sig}`);
        grace = parseGoDuration(g);
        if (grace < 0n) throw new Error(`invalid eviction grace period for ${sig}: ${g}`);
      }
      if (sig !== 'memory.available' && sig !== 'allocatableMemory.available') continue;
      const t: Threshold = { signal: sig, value: v, gracePeriodNs: grace, hard };
      const mr = c.evictionMinimumReclaim[sig];
      if (mr !== undefined) t.minReclaim = mr.endsWith('%') ? { percentage: parsePercentage(mr) } : { quantity: quantityValue(mr) };
      out.push(t);
    }
  }
  if (c.enforceNodeAllocatable?.includes('pods')) {
    for (const t of [...out]) {
      if (t.signal === 'memory.available' && t.gracePeriodNs === 0n) out.push({ signal: 'allocatableMemory.available', value: t.value, gracePeriodNs: 0n, minReclaim: t.minReclaim, hard: true });
    }
  }
  return out;
}

/** helpers.go:GetThresholdQuantity: the quantity, or int64(capacity * percentage) with the float32 fraction. */
export function thresholdQuantity(v: ThresholdValue, capacity: bigint): bigint {
  if (v.quantity !== undefined) return v.quantity;
  return BigInt(Math.trunc(Number(capacity) * (v.percentage ?? 0)));
}

/** A signal's observation (helpers.go signalObservation): available and capacity, bytes. */
export interface SignalObservation {
  available: bigint;
  capacity: bigint;
}
export type Observations = Partial<Record<Threshold['signal'], SignalObservation>>;
/** One availability for every memory signal (the form the earlier API took). */
const observationsOf = (a: bigint | Observations, capacity: bigint): Observations =>
  typeof a === 'bigint' ? { 'memory.available': { available: a, capacity }, 'allocatableMemory.available': { available: a, capacity } } : a;

/**
 * helpers.go:thresholdsMet: a threshold whose signal has no observation is skipped; else it is met when the
 * observed available < its quantity against the observation's capacity (plus its minimum reclaim when
 * `enforceMinReclaim`: so a met threshold stays met until that much more is free). `available` is either the
 * observations by signal or one value for all (with `capacityBytes`).
 */
export function thresholdsMet(ts: readonly Threshold[], available: bigint | Observations, capacityBytes: bigint, enforceMinReclaim: boolean): Threshold[] {
  const obs = observationsOf(available, capacityBytes);
  return ts.filter((t) => {
    const o = obs[t.signal];
    if (!o) return false;
    let q = thresholdQuantity(t.value, o.capacity);
    if (enforceMinReclaim && t.minReclaim) q += thresholdQuantity(t.minReclaim, o.capacity);
    return q > o.available;
  });
}
/** helpers.go:thresholdsMetGracePeriod: only thresholds first observed at least their grace period ago. */
export function thresholdsMetGracePeriod(ts: readonly Threshold[], firstObservedNs: ReadonlyMap<Threshold, bigint>, nowNs: bigint): Threshold[] {
  return ts.filter((t) => {
    const at = firstObservedNs.get(t);
    return at !== undefined && nowNs - at >= t.gracePeriodNs;
  });
}
/** helpers.go:nodeConditionsObservedSince: a condition stays set while its last observation is within the transition period. */
export function nodeConditionObservedSince(lastObservedNs: bigint | null, periodNs: bigint, nowNs: bigint): boolean {
  return lastObservedNs !== null && nowNs - lastObservedNs < periodNs;
}

/** What the eviction manager keeps between synchronize calls. */
export interface EvictionState {
  /** Thresholds met after their grace period at the last call (managerImpl.thresholdsMet). */
  thresholdsMet: Threshold[];
  firstObservedNs: ReadonlyMap<Threshold, bigint>;
  memoryPressureLastObservedNs: bigint | null;
  /** The MemoryPressure node condition. */
  memoryPressure: boolean;
}
export const EVICTION_START: EvictionState = Object.freeze({ thresholdsMet: [], firstObservedNs: new Map(), memoryPressureLastObservedNs: null, memoryPressure: false });

/**
 * eviction_manager.go:synchronize, the threshold part: thresholds met now, merged with those met (after grace) last
 * time that are not resolved by their minimum reclaim; first-observed times kept for those still met
 * (thresholdsFirstObservedAt); MemoryPressure while an observation is within the transition period; then only
 * thresholds past their grace period count. One pod is evicted per call when that list is not empty.
 */
export function evictionSync(prev: EvictionState, thresholds: readonly Threshold[], availableBytes: bigint | Observations, capacityBytes: bigint, nowNs: bigint, transitionNs: bigint): EvictionState {
  const merged = [...new Set([...thresholdsMet(thresholds, availableBytes, capacityBytes, false), ...thresholdsMet(prev.thresholdsMet, availableBytes, capacityBytes, true)])];
  const first = new Map<Threshold, bigint>(merged.map((t) => [t, prev.firstObservedNs.get(t) ?? nowNs]));
  const last = merged.length ? nowNs : prev.memoryPressureLastObservedNs;
  return { thresholdsMet: thresholdsMetGracePeriod(merged, first, nowNs), firstObservedNs: first, memoryPressureLastObservedNs: last, memoryPressure: nodeConditionObservedSince(last, transitionNs, nowNs) };
}

/** memory.available as the kubelet computes it on the node: capacity - working set (MemTotal - MemFree - Inactive(file)). */
export function memoryAvailableBytes(v: PolicyView): number {
  const ws = kubeletWorkingSetKb({ MemTotal: kb(v, 'MemTotal'), MemFree: kb(v, 'MemFree'), 'Inactive(file)': kb(v, 'Inactive(file)') });
  return (kb(v, 'MemTotal') - ws) * 1024;
}
export { kubeletWorkingSetKb };

/** cadvisor's isMemoryUnlimited: a limit above 2^62 bytes (v1's page-rounded max, v2's "max"). */
export const isMemoryUnlimited = (limit: bigint) => limit > 1n << 62n;
/**
 * The allocatableMemory.available observation (helpers.go makeSignalObservations on the "pods" system container,
 * whose stats come from cadvisor via pkg/kubelet/stats): working set = usage - inactive_file (0 if below); available
 * = limit - working set, capacity = available + working set. No limit: no AvailableBytes, so no observation (the
 * allocatable threshold is then never met).
 */
export function allocatableMemoryObservation(c: { limitBytes: bigint | null; usageBytes: bigint; inactiveFileBytes: bigint }): SignalObservation | null {
  if (c.limitBytes === null || isMemoryUnlimited(c.limitBytes)) return null;
  const ws = c.usageBytes < c.inactiveFileBytes ? 0n : c.usageBytes - c.inactiveFileBytes;
  const available = c.limitBytes - ws;
  return { available, capacity: available + ws };
}
/** The pod cgroup root the kubelet creates (cm.NodeAllocatableRoot): cgroupRoot + kubepods (cgroupfs) or kubepods.slice (systemd). */
export const podCgroupRoot = (cgroupRoot: string, driver: 'cgroupfs' | 'systemd') => `${cgroupRoot.replace(/\/+$/, '')}/${driver === 'systemd' ? 'kubepods.slice' : 'kubepods'}`;
/** The kubepods cgroup as read from cgroupfs (v2 memory.max/current/stat inactive_file, else v1 limit_in_bytes/usage_in_bytes/total_inactive_file). */
export function podsContainerStats(v: PolicyView, root: string): { limitBytes: bigint | null; usageBytes: bigint; inactiveFileBytes: bigint } | null {
  const read = (f: string) => v.cgroupRead(root, f)?.trim() ?? null;
  const stat = (k: string) => {
    const m = new RegExp(`^${k} (\\d+)$`, 'm').exec(v.cgroupRead(root, 'memory.stat') ?? '');
    return m ? BigInt(m[1]) : 0n;
  };
  const max = read('memory.max');
  if (max !== null) return { limitBytes: max === 'max' ? null : BigInt(max), usageBytes: BigInt(read('memory.current') ?? '0'), inactiveFileBytes: stat('inactive_file') };
  const lim = read('memory.limit_in_bytes');
  if (lim !== null) return { limitBytes: BigInt(lim), usageBytes: BigInt(read('memory.usage_in_bytes') ?? '0'), inactiveFileBytes: stat('total_inactive_file') };
  return null;
}

/** memory_threshold_notifier.go notifierRefreshInterval: thresholds are re-armed at most every 10 s. */
export const NOTIFIER_REFRESH_INTERVAL_NS = 10_000_000_000n;
/**
 * memory_threshold_notifier.go UpdateThreshold: the threshold armed on memory.usage_in_bytes is capacity - the
 * eviction threshold + inactive_file (so it fires when the working set reaches capacity - threshold), where
 * inactive_file = usage - working set and capacity = available + working set, from the node's (or, for
 * allocatableMemory.available, the pods container's) memory stats.
 */
export function memcgThreshold(t: Threshold, m: { usageBytes: bigint; workingSetBytes: bigint; availableBytes: bigint }): bigint {
  const inactive = m.usageBytes - m.workingSetBytes, capacity = m.availableBytes + m.workingSetBytes;
  return capacity - thresholdQuantity(t.value, capacity) + inactive;
}
/**
 * The cgroup v1 usage threshold event (cgroup.event_control; mm/memcontrol-v1.c __mem_cgroup_threshold): signalled
 * when usage moves past the threshold in either direction between two checks.
 */
export const memcgThresholdCrossed = (prevUsage: bigint, usage: bigint, threshold: bigint) => prevUsage >= threshold !== usage >= threshold;
/** Which thresholds get a notifier (eviction_manager.go Start): memory signals, only with cgroup v1. */
export const notifierThresholds = (ts: readonly Threshold[], cgroupV1: boolean) => (cgroupV1 ? ts.filter((t) => t.signal === 'memory.available' || t.signal === 'allocatableMemory.available') : []);

/**
 * resource.Quantity.String() of a BinarySI quantity in bytes: the largest binary suffix (Ki..Ei) that divides the
 * value exactly, else the plain number (1.5Gi prints as 1536Mi, 1000 as 1000).
 */
export function formatBinaryQuantity(bytes: bigint): string {
  if (bytes === 0n) return '0';
  const neg = bytes < 0n, a = neg ? -bytes : bytes;
  for (const [suf, e] of [['Ei', 60n], ['Pi', 50n], ['Ti', 40n], ['Gi', 30n], ['Mi', 20n], ['Ki', 10n]] as const) {
    if (a % (1n << e) === 0n) return `${neg ? '-' : ''}${a >> e}${suf}`;
  }
  return `${neg ? '-' : ''}${a}`;
}
/**
 * helpers.go:evictionMessage, the node part: "The node was low on resource: memory. Threshold quantity: Q,
 * available: A. " (both memory signals reclaim `memory`; the per-container part needs container stats, which the
 * engine's one-cgroup-per-pod model does not have). Q is the threshold against the observation's capacity.
 */
export function evictionMessage(t: Threshold, obs: SignalObservation): string {
  return `The node was low on resource: memory. Threshold quantity: ${formatBinaryQuantity(thresholdQuantity(t.value, obs.capacity))}, available: ${formatBinaryQuantity(obs.available)}. `;
}

/**
 * helpers.go:rankMemoryPressure = orderedBy(exceedMemoryRequests, priority, memory): pods whose usage exceeds their
 * request first, then lower priority, then larger usage - request. sort.Sort is not stable; ties here keep input order.
 */
export function rankMemoryPressure<T extends { usage: bigint; request: bigint; priority: number }>(pods: readonly T[]): T[] {
  return pods
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const ea = a.p.usage > a.p.request, eb = b.p.usage > b.p.request;
      if (ea !== eb) return ea ? -1 : 1;
      if (a.p.priority !== b.p.priority) return a.p.priority - b.p.priority;
      const da = a.p.usage - a.p.request, db = b.p.usage - b.p.request;
      return da > db ? -1 : da < db ? 1 : a.i - b.i;
    })
    .map((x) => x.p);
}

/** eviction_manager.go: immediateEvictionGracePeriodSeconds (hard thresholds), then the runtime's 2 s minimum (kuberuntime_container.go:minimumGracePeriodInSeconds). */
export const IMMEDIATE_EVICTION_GRACE_S = 1;
export const MINIMUM_GRACE_PERIOD_S = 2;
/** eviction_manager.go:synchronize: the grace a pod gets; soft: min(evictionMaxPodGracePeriod, the pod's own). The runtime raises it to 2 s. */
export function evictionGraceS(hard: boolean, maxPodGraceS: number, podTerminationGraceS: number | null): number {
  let g = IMMEDIATE_EVICTION_GRACE_S;
  if (!hard) g = podTerminationGraceS === null ? maxPodGraceS : Math.min(maxPodGraceS, podTerminationGraceS);
  return Math.max(g, MINIMUM_GRACE_PERIOD_S);
}

// ---------------------------------------------------------------------------------------------------------------
// Scenario-facing schema

const qty = z.union([z.number().nonnegative(), z.string()]);
const resList = z.object({ memory: qty.optional(), cpu: qty.optional() }).strict();
const resources = z.object({ requests: resList.default({}), limits: resList.default({}) }).strict();
const container = z.object({ name: z.string(), resources: resources.default({ requests: {}, limits: {} }), restartPolicy: z.literal('Always').optional() }).strict();
const podSchema = z
  .object({
    cgroup: z.string(),
    /** Shorthand for one container with this memory request / limit (no cpu): not a QoS Guaranteed pod by itself. */
    requestBytes: z.number().nonnegative().optional(),
    limitBytes: z.number().nonnegative().nullable().optional(),
    containers: z.array(container).optional(),
    initContainers: z.array(container).default([]),
    resources: resources.optional(),
    priority: z.number().int().default(0),
    priorityClassName: z.string().optional(),
    static: z.boolean().default(false),
    terminationGracePeriodS: z.number().nonnegative().default(30),
    draClaims: z.array(z.object({ containers: z.array(z.string()), mapping: qty.optional(), perContainerOverhead: qty.optional(), perPodOverhead: qty.optional() }).strict()).default([]),
  })
  .strict();
export type PodSpec = z.output<typeof podSchema>;

const toList = (l: { memory?: string | number; cpu?: string | number }): ResourceList => ({
  ...(l.memory !== undefined ? { memory: quantityValue(l.memory) } : {}),
  ...(l.cpu !== undefined ? { cpu: quantityMilli(l.cpu) } : {}),
});
const toRes = (r: { requests: object; limits: object }): Resources => ({ requests: toList(r.requests), limits: toList(r.limits) });
/** The kubelet's view of a scenario pod. */
export function toPod(s: PodSpec): Pod {
  const containers: Container[] = s.containers
    ? s.containers.map((c) => ({ name: c.name, resources: toRes(c.resources), restartPolicy: c.restartPolicy }))
    : [{ name: 'main', resources: { requests: s.requestBytes ? { memory: BigInt(Math.trunc(s.requestBytes)) } : {}, limits: s.limitBytes ? { memory: BigInt(Math.trunc(s.limitBytes)) } : {} } }];
  const opt = (x: string | number | undefined) => (x === undefined ? undefined : quantityValue(x));
  return {
    containers,
    initContainers: s.initContainers.map((c) => ({ name: c.name, resources: toRes(c.resources), restartPolicy: c.restartPolicy })),
    resources: s.resources ? toRes(s.resources) : undefined,
    priority: s.priority,
    priorityClassName: s.priorityClassName,
    static: s.static,
    draClaims: s.draClaims.map((d) => ({ containers: d.containers, mapping: opt(d.mapping), perContainerOverhead: opt(d.perContainerOverhead), perPodOverhead: opt(d.perPodOverhead) })),
  };
}

const flagMap = (sep: '<' | '=') => z.union([z.string(), z.record(z.string(), z.string())]).transform((v, ctx) => {
  try {
    return typeof v === 'string' ? parseMapFlag(v, sep) : v;
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const durationStr = z.string().refine((s) => {
  try {
    parseGoDuration(s);
    return true;
  } catch {
    return false;
  }
}, { message: 'expected a Go duration like 5m, 1m30s, 10s' });

export const kubeletParams = z
  .object({
    /** KubeletConfiguration evictionHard (or the --eviction-hard string); default memory.available<100Mi (defaults_linux.go). */
    evictionHard: flagMap('<').default({ 'memory.available': '100Mi' }),
    evictionSoft: flagMap('<').default({}),
    evictionSoftGracePeriod: flagMap('=').default({}),
    evictionMinimumReclaim: flagMap('=').default({}),
    /** KubeletConfiguration enforceNodeAllocatable, default ["pods"] (v1beta1/defaults.go). */
    enforceNodeAllocatable: z.array(z.enum(['pods', 'system-reserved', 'kube-reserved', 'none'])).default(['pods']),
    /** cgroupRoot and cgroupDriver: where the kubelet puts kubepods (the allocatableMemory.available signal's cgroup). */
    cgroupRoot: z.string().default('/'),
    cgroupDriver: z.enum(['cgroupfs', 'systemd']).default('cgroupfs'),
    /** KubeletConfiguration kernelMemcgNotification (default false): memcg usage thresholds trigger synchronize at once (cgroup v1 only). */
    kernelMemcgNotification: z.boolean().default(false),
    /** Seconds; 0 as in the kubelet's defaults. */
    evictionMaxPodGracePeriod: z.number().int().nonnegative().default(0),
    /** How long MemoryPressure stays true after the last observation (default 5m, v1beta1/defaults.go). */
    evictionPressureTransitionPeriod: durationStr.default('5m'),
    featureGates: z.object({ PodLevelResources: z.boolean(), DRANodeAllocatableResources: z.boolean(), KubeletOOMScoreAdjTieBreak: z.boolean() }).partial().strict().default({}),
    /** Simulation knob (not a kubelet setting): the eviction manager's monitoring period, 10 s in kubelet.go (evictionMonitoringPeriod). */
    housekeepingIntervalS: z.number().positive().default(10),
    /** The pods (API objects, not config); when empty, every leaf cgroup with tasks is a BestEffort pod. */
    pods: z.array(podSchema).default([]),
    /** Simulation knob: set the containers' oom_score_adj as the runtime does at container start. */
    setQosAdj: z.boolean().default(true),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      parseThresholdConfig(p);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['evictionHard'], message: (e as Error).message });
    }
    p.pods.forEach((pd, i) => {
      try {
        toPod(pd);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['pods', i], message: (e as Error).message });
      }
    });
  });
export type KubeletParams = z.output<typeof kubeletParams>;

/** The ranking input of a pod in a run: its cgroup's memory.current against its pod request. */
export function rankPods(v: PolicyView, pods: PodSpec[], gates: FeatureGates = DEFAULT_GATES): { pod: PodSpec; usage: number }[] {
  const rows = pods.map((pod) => ({ pod, usage: BigInt(Math.trunc(cgroupUsageBytes(v, pod.cgroup))), request: podMemoryRequest(toPod(pod), gates), priority: pod.priority }));
  return rankMemoryPressure(rows).map((r) => ({ pod: r.pod, usage: Number(r.usage) }));
}

export const kubelet: PolicyDefinition<typeof kubeletParams> = {
  name: 'kubelet',
  summary: 'node-pressure eviction on memory.available (hard/soft, min reclaim, 10 s monitoring), pod ranking, QoS oom_score_adj',
  source: 'kubernetes/kubernetes master (v1.37 dev): pkg/kubelet/eviction (eviction_manager.go synchronize, helpers.go), pkg/kubelet/qos/policy.go, pkg/apis/core/v1/helper/qos/qos.go',
  params: kubeletParams,
  create(p) {
    const gates: FeatureGates = { ...DEFAULT_GATES, ...p.featureGates };
    const thresholds = parseThresholdConfig(p);
    const transitionNs = parseGoDuration(p.evictionPressureTransitionPeriod);
    let state: EvictionState = EVICTION_START;
    const adjDone = new Set<number>();
    const podRoot = podCgroupRoot(p.cgroupRoot, p.cgroupDriver);
    // The memcg threshold notifiers: armed thresholds with the usage last seen on their cgroup.
    let notifiers: { t: Threshold; cgroup: string; value: bigint; lastUsage: bigint }[] = [];
    let notifiersUpdatedNs: bigint | null = null, nextSyncNs = 0n;
    const NOTIFIER_POLL_NS = 100_000_000n; // how often the simulation looks for an event (a tick)
    const usageOf = (v: PolicyView, cg: string) => {
      const t = v.cgroupRead(cg, 'memory.usage_in_bytes');
      return t === null ? null : BigInt(t.trim());
    };
    const memStatsOf = (v: PolicyView, cg: string) => {
      const usage = usageOf(v, cg);
      if (usage === null) return null;
      const m = /^total_inactive_file (\d+)$/m.exec(v.cgroupRead(cg, 'memory.stat') ?? '');
      const inactive = m ? BigInt(m[1]) : 0n;
      const ws = usage < inactive ? 0n : usage - inactive;
      if (cg === '/') return { usageBytes: usage, workingSetBytes: ws, availableBytes: BigInt(kb(v, 'MemTotal')) * 1024n - ws };
      const lim = v.cgroupRead(cg, 'memory.limit_in_bytes');
      if (lim === null || isMemoryUnlimited(BigInt(lim.trim()))) return null;
      return { usageBytes: usage, workingSetBytes: ws, availableBytes: BigInt(lim.trim()) - ws };
    };
    return {
      name: 'kubelet',
      params: p,
      // Thresholds are saved by value and resolved to this instance's own objects (identity is what
      // evictionSync's merge and first-observed map go by); one the parameters no longer have stays as saved.
      state: () => {
        const ix = (t: Threshold) => thresholds.indexOf(t);
        const ref = (t: Threshold) => (ix(t) >= 0 ? { i: ix(t) } : { t });
        return {
          thresholds,
          eviction: { thresholdsMet: state.thresholdsMet.map(ref), firstObservedNs: [...state.firstObservedNs].map(([t, ns]) => [ref(t), ns]), memoryPressureLastObservedNs: state.memoryPressureLastObservedNs, memoryPressure: state.memoryPressure },
          adjDone: [...adjDone],
          notifiers: notifiers.map((n) => ({ ...n, t: ref(n.t) })),
          notifiersUpdatedNs,
          nextSyncNs,
        };
      },
      fromState(x) {
        type Ref = { i: number } | { t: Threshold };
        const s = x as { thresholds: Threshold[]; eviction: { thresholdsMet: Ref[]; firstObservedNs: [Ref, bigint][]; memoryPressureLastObservedNs: bigint | null; memoryPressure: boolean }; adjDone: number[]; notifiers: { t: Ref; cgroup: string; value: bigint; lastUsage: bigint }[]; notifiersUpdatedNs: bigint | null; nextSyncNs: bigint };
        const key = (t: Threshold) => JSON.stringify(t, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
        const mine = new Map(thresholds.map((t) => [key(t), t]));
        const kept = new Map<string, Threshold>();
        const resolve = (r: Ref): Threshold => {
          const t = 'i' in r ? s.thresholds[r.i] : r.t;
          return mine.get(key(t)) ?? kept.get(key(t)) ?? (kept.set(key(t), t), t);
        };
        state = { thresholdsMet: s.eviction.thresholdsMet.map(resolve), firstObservedNs: new Map(s.eviction.firstObservedNs.map(([r, ns]) => [resolve(r), ns])), memoryPressureLastObservedNs: s.eviction.memoryPressureLastObservedNs, memoryPressure: s.eviction.memoryPressure };
        adjDone.clear();
        for (const pid of s.adjDone) adjDone.add(pid);
        notifiers = s.notifiers.map((n) => ({ ...n, t: resolve(n.t) }));
        ({ notifiersUpdatedNs, nextSyncNs } = s);
      },
      intervalNs: () => (notifiers.length ? NOTIFIER_POLL_NS : secNs(p.housekeepingIntervalS)),
      tick(v): PolicyAction[] {
        if (p.kernelMemcgNotification) {
          // Between housekeeping syncs, only a crossed threshold runs synchronize (thresholdHandler).
          let crossed = false;
          for (const n of notifiers) {
            const u = usageOf(v, n.cgroup);
            if (u === null) continue;
            if (memcgThresholdCrossed(n.lastUsage, u, n.value)) crossed = true;
            n.lastUsage = u;
          }
          if (v.nowNs < nextSyncNs && !crossed) return [];
          if (v.nowNs >= nextSyncNs) nextSyncNs = v.nowNs + secNs(p.housekeepingIntervalS);
          if (notifiersUpdatedNs === null || v.nowNs - notifiersUpdatedNs > NOTIFIER_REFRESH_INTERVAL_NS) {
            notifiersUpdatedNs = v.nowNs;
            const v1 = usageOf(v, '/') !== null;
            notifiers = notifierThresholds(thresholds, v1).flatMap((t) => {
              const cg = t.signal === 'memory.available' ? '/' : podRoot;
              const m = memStatsOf(v, cg);
              return m ? [{ t, cgroup: cg, value: memcgThreshold(t, m), lastUsage: m.usageBytes }] : [];
            });
          }
        }
        const specs: PodSpec[] = p.pods.length
          ? p.pods
          : leaves(v, '/').filter((c) => c !== '/' && v.tasks.some((t) => t.cgroup === c)).map((cgroup) => podSchema.parse({ cgroup }));
        const out: PolicyAction[] = [];
        const cap = BigInt(kb(v, 'MemTotal')) * 1024n;
        if (p.setQosAdj) {
          for (const s of specs) {
            const pod = toPod(s);
            // The engine has one cgroup per pod, so every process gets the first regular container's value.
            const adj = containerOomScoreAdj(pod, pod.containers[0], cap, gates);
            for (const t of v.tasks) if (inCgroup(s.cgroup, t.cgroup) && !adjDone.has(t.pid) && t.oomScoreAdj !== adj) {
              adjDone.add(t.pid);
              out.push({ type: 'set_oom_score_adj', pid: t.pid, value: adj, reason: `${podQos(pod, gates)} pod ${s.cgroup}` });
            }
          }
        }
        const avail = BigInt(memoryAvailableBytes(v));
        const obs: Observations = { 'memory.available': { available: avail, capacity: cap } };
        const pods = podsContainerStats(v, podCgroupRoot(p.cgroupRoot, p.cgroupDriver));
        const alloc = pods && allocatableMemoryObservation(pods);
        if (alloc) obs['allocatableMemory.available'] = alloc;
        state = evictionSync(state, thresholds, obs, cap, v.nowNs, transitionNs);
        const due = state.thresholdsMet;
        if (v.pending.length || !due.length) return out;
        const ranked = rankPods(v, specs, gates).filter((r) => v.tasks.some((t) => inCgroup(r.pod.cgroup, t.cgroup)));
        if (!ranked.length) return out;
        const victim = ranked[0].pod;
        const hard = due.some((t) => t.hard);
        const graceS = evictionGraceS(hard, p.evictionMaxPodGracePeriod, victim.terminationGracePeriodS);
        // byEvictionPriority puts the memory signals first; the first due threshold is the one reclaimed for.
        out.push({ type: 'kill_cgroup', cgroup: victim.cgroup, signal: 'SIGTERM', graceNs: secNs(graceS), reason: evictionMessage(due[0], obs[due[0].signal]!) });
        return out;
      },
    };
  },
};
