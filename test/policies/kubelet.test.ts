/**
 * kubelet rules against the kubelet's own test cases, restated (inputs -> expected) with the upstream file and test
 * name. kubernetes/kubernetes master (v1.37 development line).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GATES, EVICTION_START, containerOomScoreAdj, evictionGraceS, evictionSync, parseGoDuration, parseQuantity, parseThresholdConfig,
  parseThresholdStatement, podQos, quantityMilli, quantityValue, rankMemoryPressure, thresholdQuantity, thresholdsMet, thresholdsMetGracePeriod,
  nodeConditionObservedSince, kubeletParams, allocatableMemoryObservation, evictionMessage, formatBinaryQuantity, memcgThreshold, memcgThresholdCrossed, notifierThresholds, isMemoryUnlimited, podCgroupRoot, podsContainerStats,
  type Container, type FeatureGates, type Pod, type Resources,
} from '../../bindings/src/policy/builtin/kubelet.js';
import { createPolicy, parsePolicyParams } from '../../bindings/src/policy/index.js';
import { task, view } from '../policy-helpers.js';

const q = (s: string) => quantityValue(s);
const res = (req: { cpu?: string; memory?: string } = {}, lim: { cpu?: string; memory?: string } = {}): Resources => ({
  requests: { ...(req.cpu !== undefined ? { cpu: quantityMilli(req.cpu) } : {}), ...(req.memory !== undefined ? { memory: q(req.memory) } : {}) },
  limits: { ...(lim.cpu !== undefined ? { cpu: quantityMilli(lim.cpu) } : {}), ...(lim.memory !== undefined ? { memory: q(lim.memory) } : {}) },
});
const ctr = (name: string, r: Resources, sidecar = false): Container => ({ name, resources: r, ...(sidecar ? { restartPolicy: 'Always' as const } : {}) });
const pod = (containers: Container[], o: Partial<Pod> = {}): Pod => ({ containers, initContainers: [], priority: 0, draClaims: [], ...o });
const gates = (o: Partial<FeatureGates>): FeatureGates => ({ ...DEFAULT_GATES, ...o });

describe('resource quantities (apimachinery resource.ParseQuantity, Value rounds up)', () => {
  it.each([
    ['100Mi', 104857600n], ['1Gi', 1073741824n], ['10G', 10_000_000_000n], ['1k', 1000n], ['1.5Gi', 1610612736n], ['1e3', 1000n], ['0.5', 1n], ['0', 0n], ['8000000000', 8_000_000_000n],
  ])('%s = %s bytes', (s, v) => expect(quantityValue(s)).toBe(v));
  it('cpu in millicores', () => {
    expect(quantityMilli('5m')).toBe(5n);
    expect(quantityMilli('10')).toBe(10000n);
    expect(quantityMilli('0.1')).toBe(100n);
  });
  it('rejects what ParseQuantity rejects', () => {
    for (const s of ['', 'Mi', '1Xi', '1 Gi', 'abc']) expect(() => parseQuantity(s), s).toThrow(/quantities must match/);
  });
  it('Go durations', () => {
    expect(parseGoDuration('1m30s')).toBe(90_000_000_000n);
    expect(parseGoDuration('5m')).toBe(300_000_000_000n);
    expect(parseGoDuration('300ms')).toBe(300_000_000n);
    expect(() => parseGoDuration('5 minutes')).toThrow(/invalid duration/);
  });
});

// pkg/apis/core/v1/helper/qos/qos_test.go: TestComputePodQOS
describe('QoS class (qos_test.go TestComputePodQOS)', () => {
  // "Ephemeral storage request should not affect QOS": our model has only cpu and memory, so that case is the plain one.
  const guaranteed = res({ cpu: '100m', memory: '100Mi' }, { cpu: '100m', memory: '100Mi' });
  const bestEffort = [res(), res({ cpu: '0', memory: '0' })];
  const burstable = [
    res({ cpu: '100m', memory: '100Mi' }, { cpu: '200m', memory: '200Mi' }),
    res({ cpu: '100m', memory: '100Mi' }, { cpu: '100m', memory: '200Mi' }),
    res({ cpu: '100m', memory: '100Mi' }, { cpu: '200m', memory: '100Mi' }),
    res({ cpu: '100m', memory: '100Mi' }),
    res({ cpu: '100m', memory: '100Mi' }, { cpu: '100m' }),
  ];
  const single: [string, Resources, string][] = [
    ['guaranteed', guaranteed, 'Guaranteed'],
    ...bestEffort.map((r, i): [string, Resources, string] => [`best-effort-${i}`, r, 'BestEffort']),
    ...burstable.map((r, i): [string, Resources, string] => [`burstable-${i}`, r, 'Burstable']),
  ];
  it.each(single)('%s', (_n, r, want) => expect(podQos(pod([ctr('c', r)]))).toBe(want));
  const two: [string, Resources, Resources, string][] = [
    ['2c-guaranteed', guaranteed, guaranteed, 'Guaranteed'],
    ['2c-best-effort', bestEffort[0], bestEffort[1], 'BestEffort'],
    ['2c-burstable', burstable[0], burstable[1], 'Burstable'],
  ];
  const a = [guaranteed, bestEffort[0], burstable[0]], b = [guaranteed, bestEffort[1], burstable[1]];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j) two.push([`2c-mixed-burstable-${i}-${j}`, a[i], b[j], 'Burstable']);
  it.each(two)('%s', (_n, r1, r2, want) => expect(podQos(pod([ctr('a', r1), ctr('b', r2)]))).toBe(want));
  it.each(two)('%s-init (the second container as an init container)', (_n, r1, r2, want) => expect(podQos(pod([ctr('a', r1)], { initContainers: [ctr('b', r2)] }))).toBe(want));
  it.each(single)('pod-%s-plr: pod-level resources decide, containers Guaranteed', (_n, r, want) => {
    expect(podQos(pod([ctr('c', guaranteed)], { resources: r }), gates({ PodLevelResources: true }))).toBe(want);
  });
  it.each(single)('%s-pod-no-plr: gate off, pod-level resources ignored', (_n, r, want) => {
    expect(podQos(pod([ctr('c', r)], { resources: guaranteed }), gates({ PodLevelResources: false }))).toBe(want);
  });
});

// pkg/kubelet/qos/policy_test.go: TestGetContainerOOMScoreAdjust (the tests give [low, high] ranges; exact values here
// are inside them and follow from the int64 arithmetic).
describe('container oom_score_adj (policy_test.go TestGetContainerOOMScoreAdjust)', () => {
  const std = 8_000_000_000n;
  const memReq = String(std / 8n), memLim = String(1000n + std / 8n), podReq = String(std / 4n), podLim = String(1000n + std / 4n);
  const main1 = ctr('main-1', res({ memory: memReq }, { memory: memLim }));
  const init = ctr('init-container', res({ memory: memReq }, { memory: memLim }));
  const sidecar = (name: string, m: string) => ctr(name, res({ memory: m }, { memory: memLim }), true);
  type Row = [string, Pod, bigint, Record<string, [number, number]>, Partial<FeatureGates>?];
  const rows: Row[] = [
    ['cpu-limit', pod([ctr('cpu-limit', res({}, { cpu: '10' }))]), 4_000_000_000n, { 'cpu-limit': [999, 999] }],
    ['memory-limit-cpu-request', pod([ctr('m', res({ cpu: '0' }, { memory: '10G' }))]), std, { m: [999, 999] }],
    ['zero-memory-limit', pod([ctr('z', res({}, { memory: '0' }))]), 7_230_457_451n, { z: [1000, 1000] }],
    ['no-request-limit', pod([ctr('n', res())]), 4_000_000_000n, { n: [1000, 1000] }],
    ['equal-request-limit-cpu-memory', pod([ctr('e', res({ memory: '10G', cpu: '5m' }, { cpu: '5m', memory: '10G' }))]), 123_456_789n, { e: [-997, -997] }],
    ['cpu-unlimited-memory-limited-with-requests', pod([ctr('c', res({ memory: String(std / 2n), cpu: '5m' }, { memory: '10G' }))]), std, { c: [495, 505] }],
    ['request-no-limit', pod([ctr('r', res({ memory: String(std - 1n), cpu: '5m' }))]), std, { r: [3, 3] }],
    ['cluster-critical', pod([ctr('cc', res())], { priority: 2_000_000_000, priorityClassName: 'system-cluster-critical' }), 4_000_000_000n, { cc: [1000, 1000] }],
    ['node-critical', pod([ctr('nc', res())], { priority: 2_000_001_000, priorityClassName: 'system-node-critical' }), 4_000_000_000n, { nc: [-997, -997] }],
    ['burstable-unique-container-pod', pod([ctr('b', res({ memory: memReq }, { memory: memLim }))]), std, { b: [875, 880] }],
    ['burstable-mixed-unique-main-container-pod', pod([main1], { initContainers: [init] }), std, { 'init-container': [875, 880], 'main-1': [875, 880] }],
    ['burstable-mixed-multi-container-small-sidecar-pod', pod([main1], { initContainers: [init, sidecar('sidecar-small-container', String(std / 20n))] }), std,
      { 'init-container': [875, 880], 'sidecar-small-container': [875, 875], 'main-1': [875, 875] }],
    ['burstable-mixed-multi-container-sample-request-pod', pod([main1], { initContainers: [init, sidecar('sidecar-container', memReq)] }), std,
      { 'init-container': [875, 880], 'sidecar-container': [875, 875], 'main-1': [875, 875] }],
    ['burstable-mixed-multi-container-big-sidecar-container-pod', pod([main1], { initContainers: [init, sidecar('sidecar-big-container', String(std / 2n))] }), std,
      { 'init-container': [875, 880], 'sidecar-big-container': [500, 500], 'main-1': [875, 875] }],
  ];
  const plrG = res({ cpu: '5m', memory: podReq }, { cpu: '5m', memory: podReq });
  const plrB = res({ cpu: '5m', memory: podReq }, { cpu: '5m', memory: podLim });
  const g5 = res({ cpu: '5m', memory: memReq }, { cpu: '5m', memory: memReq });
  rows.push(
    ['guaranteed-pod-resources-no-container-resources', pod([ctr('n1', res()), ctr('n2', res())], { resources: plrG }), 4_000_000_000n, { n1: [-997, -997], n2: [-997, -997] }],
    ['guaranteed-pod-resources-equal-container-resources', pod([ctr('g1', g5), ctr('g2', g5)], { resources: plrG }), 4_000_000_000n, { g1: [-997, -997], g2: [-997, -997] }],
    ['guaranteed-pod-resources-unequal-container-requests', pod([ctr('b', res({ cpu: '3m', memory: memReq }, { cpu: '5m', memory: memLim })), ctr('be', res())], { resources: plrG }), 4_000_000_000n, { b: [-997, -997], be: [-997, -997] }],
    ['burstable-pod-resources-no-container-resources', pod([ctr('n1', res()), ctr('n2', res())], { resources: plrB }), 4_000_000_000n, { n1: [750, 750], n2: [750, 750] }],
    ['burstable-pod-resources-equal-container-requests', pod([ctr('g1', g5), ctr('g2', g5)], { resources: plrB }), 4_000_000_000n, { g1: [750, 750], g2: [750, 750] }],
    ['burstable-pod-resources-unequal-container-requests', pod([ctr('b', res({ cpu: '3m', memory: memReq }, { cpu: '5m', memory: memReq })), ctr('be', res())], { resources: plrB }), 4_000_000_000n, { b: [625, 625], be: [875, 875] }],
    ['burstable-pod-resources-no-container-resources-with-sidecar', pod([ctr('n', res())], { resources: plrB, initContainers: [ctr('s', res(), true)] }), 4_000_000_000n, { n: [750, 750], s: [750, 750] }],
    ['burstable-pod-resources-equal-container-requests-with-sidecar',
      pod([ctr('b', res({ cpu: '5m', memory: memReq }, { cpu: '5m', memory: memLim }))], { resources: plrB, initContainers: [ctr('s', res({ cpu: '5m', memory: memReq }, { cpu: '5m', memory: memLim }), true)] }),
      4_000_000_000n, { b: [750, 750], s: [750, 750] }],
    ['burstable-pod-resources-unequal-container-requests-with-sidecar',
      pod([ctr('b1', res({ cpu: '5m', memory: '1000000000' }, { cpu: '5m', memory: podLim })), ctr('b2', res({ cpu: '5m', memory: '500000000' }, { cpu: '5m', memory: podLim }))],
        { resources: res({ cpu: '5m', memory: '2000000000' }, { cpu: '5m', memory: podLim }), initContainers: [ctr('s', res({ cpu: '5m', memory: '200000000' }, { cpu: '5m', memory: podLim }), true)] }),
      4_000_000_000n, { b1: [725, 725], b2: [850, 850], s: [850, 850] }],
  );
  // The DRA cases (makeTestPodForDRA): memory requests only, claims from pod.status.
  const dra = (o: { c1: string; c2?: string; side?: string; podMem?: string; claim: { containers: string[]; mapping?: string; perContainerOverhead?: string; perPodOverhead?: string } }): Pod =>
    pod([ctr('c1', res({ memory: o.c1 })), ...(o.c2 ? [ctr('c2', res({ memory: o.c2 }))] : [])], {
      initContainers: o.side ? [ctr('s1', res({ memory: o.side }), true)] : [],
      resources: o.podMem ? res({ memory: o.podMem }) : undefined,
      draClaims: [{ containers: o.claim.containers, mapping: o.claim.mapping ? q(o.claim.mapping) : undefined, perContainerOverhead: o.claim.perContainerOverhead ? q(o.claim.perContainerOverhead) : undefined, perPodOverhead: o.claim.perPodOverhead ? q(o.claim.perPodOverhead) : undefined }],
    });
  const on = { DRANodeAllocatableResources: true };
  rows.push(
    ['burstable-pod-with-dra-disabled', dra({ c1: '500Mi', claim: { containers: ['c1'], perContainerOverhead: '500Mi' } }), 4_000_000_000n, { c1: [869, 869] }, { DRANodeAllocatableResources: false }],
    ['burstable-pod-with-dra-enabled', dra({ c1: '500Mi', claim: { containers: ['c1'], perContainerOverhead: '500Mi' } }), 4_000_000_000n, { c1: [738, 738] }, on],
    ['burstable-pod-with-shared-dra-claim', dra({ c1: '500Mi', c2: '500Mi', claim: { containers: ['c1', 'c2'], perPodOverhead: '1000Mi' } }), 4_000_000_000n, { c1: [738, 738], c2: [738, 738] }, on],
    ['burstable-pod-with-plr-and-dra-claim', dra({ c1: '1Gi', podMem: '5Gi', claim: { containers: ['c1'], perContainerOverhead: '2Gi' } }), 8_000_000_000n, { c1: [329, 329] }, on],
    ['burstable-pod-with-plr-and-shared-dra-claim', dra({ c1: '1Gi', c2: '1Gi', podMem: '6Gi', claim: { containers: ['c1', 'c2'], perPodOverhead: '2Gi' } }), 8_000_000_000n, { c1: [598, 598], c2: [598, 598] }, on],
    ['burstable-pod-with-dra-direct-device', dra({ c1: '500Mi', claim: { containers: ['c1'], mapping: '500Mi' } }), 4_000_000_000n, { c1: [738, 738] }, on],
    ['burstable-pod-with-combined-dra-direct-and-overhead-device', dra({ c1: '500Mi', claim: { containers: ['c1'], mapping: '500Mi', perContainerOverhead: '300Mi', perPodOverhead: '200Mi' } }), 4_000_000_000n, { c1: [607, 607] }, on],
    ['burstable-pod-with-sidecar-and-dra-enabled', dra({ c1: '500Mi', side: '200Mi', claim: { containers: ['c1'], perContainerOverhead: '500Mi' } }), 4_000_000_000n, { c1: [738, 738], s1: [738, 738] }, on],
  );
  it.each(rows)('%s', (_n, p, cap, want, g) => {
    for (const c of [...p.initContainers, ...p.containers]) {
      const adj = containerOomScoreAdj(p, c, cap, gates(g ?? {}));
      const [lo, hi] = want[c.name];
      expect(adj, c.name).toBeGreaterThanOrEqual(lo);
      expect(adj, c.name).toBeLessThanOrEqual(hi);
    }
  });
});

// pkg/kubelet/qos/policy_test.go: TestGetContainerOOMScoreAdjustTieBreak (gate off / gate on)
describe('oom_score_adj tie-break (policy_test.go TestGetContainerOOMScoreAdjustTieBreak)', () => {
  const Mi = 1n << 20n, Gi = 1n << 30n, Ti = 1n << 40n;
  const c = (name: string, req: bigint, lim: bigint): Container => ({ name, resources: { requests: { memory: req }, limits: lim > 0n ? { memory: lim } : {} } });
  const one = (x: Container) => pod([x]);
  const sidecarPod = pod([c('small-bounded', 50n * Mi, 50n * Mi), c('large-unbounded', 16n * Gi, 0n)], { initContainers: [{ ...c('sidecar', 50n * Mi, 0n), restartPolicy: 'Always' }] });
  const plrPod = (limit: bigint) => pod([{ name: 'c', resources: { requests: { cpu: 100n }, limits: {} } }], { resources: { requests: { memory: 2n * Gi }, limits: { memory: limit } } });
  const shared = pod([c('c', 500n * Mi, 500n * Mi), c('other', 500n * Mi, 0n)], { draClaims: [{ containers: ['c', 'other'], mapping: 500n * Mi }] });
  const rows: [string, bigint, Pod, Container | null, number, number][] = [
    ['16Gi node, 500Mi unlimited', 16n * Gi, one(c('c', 500n * Mi, 0n)), null, 970, 970],
    ['16Gi node, 500Mi request equals limit', 16n * Gi, one(c('c', 500n * Mi, 500n * Mi)), null, 970, 969],
    ['1Ti node, 50Mi unlimited is below the floor', Ti, one(c('c', 50n * Mi, 0n)), null, 999, 999],
    ['1Ti node, 500Mi unlimited', Ti, one(c('c', 500n * Mi, 0n)), null, 999, 998],
    ['1Ti node, 4Gi unlimited hits the nudge cap', Ti, one(c('c', 4n * Gi, 0n)), null, 997, 993],
    ['1Ti node, 16Gi unlimited', Ti, one(c('c', 16n * Gi, 0n)), null, 985, 981],
    ['1Ti node, 500Mi request equals limit', Ti, one(c('c', 500n * Mi, 500n * Mi)), null, 999, 993],
    ['1Ti node, shared DRA memory claim loses the bonus', Ti, shared, null, 999, 997],
    ['4Ti node, 500Mi unlimited', 4n * Ti, one(c('c', 500n * Mi, 0n)), null, 999, 998],
    ['4Ti node, 64Gi unlimited', 4n * Ti, one(c('c', 64n * Gi, 0n)), null, 985, 979],
    ['1Ti node, sidecar capped at the highest regular container', Ti, sidecarPod, sidecarPod.initContainers[0], 999, 995],
    ['1Ti node, pod-level limit above the container share', Ti, plrPod(4n * Gi), null, 999, 995],
    ['1Ti node, pod-level limit equal to the container share', Ti, plrPod(2n * Gi), null, 999, 990],
  ];
  it.each(rows)('%s', (_n, cap, p, cont, off, onv) => {
    const x = cont ?? p.containers[0];
    const g = { PodLevelResources: true, DRANodeAllocatableResources: true };
    expect(containerOomScoreAdj(p, x, cap, gates({ ...g, KubeletOOMScoreAdjTieBreak: false }))).toBe(off);
    expect(containerOomScoreAdj(p, x, cap, gates({ ...g, KubeletOOMScoreAdjTieBreak: true }))).toBe(onv);
  });
});

// pkg/kubelet/eviction/helpers_test.go: TestParseThresholdConfig and parseThresholdStatement's rules
describe('eviction thresholds (helpers.go parseThresholdStatement / ParseThresholdConfig)', () => {
  const none = { evictionHard: {}, evictionSoft: {}, evictionSoftGracePeriod: {}, evictionMinimumReclaim: {} };
  it('quantities and percentages (fraction kept as float32)', () => {
    expect(parseThresholdStatement('memory.available', '150Mi')).toEqual({ quantity: 150n * 1048576n });
    expect(parseThresholdStatement('memory.available', '10%')).toEqual({ percentage: Math.fround(0.1) });
    expect(parseThresholdStatement('memory.available', '0%')).toBe(null);
    expect(parseThresholdStatement('memory.available', '100%')).toBe(null);
  });
  it.each([
    ['memory.available', '-150Mi', /must be positive/], ['memory.available', '0', /must be positive/], ['memory.available', '-15%', />= 0%/],
    ['memory.available', '150%', /<= 100%/], ['mem.avail', '150Mi', /unsupported eviction signal mem.avail/], ['memory.available', 'abc', /quantities must match/],
  ])('%s<%s is rejected', (sig, val, re) => expect(() => parseThresholdStatement(sig, val)).toThrow(re));
  it('soft thresholds need a grace period (soft-no-grace-period)', () => {
    expect(() => parseThresholdConfig({ ...none, evictionSoft: { 'memory.available': '150Mi' } })).toThrow(/grace period must be specified for the soft eviction threshold memory.available/);
  });
  it('all memory eviction values: hard, soft with grace, minimum reclaim', () => {
    const ts = parseThresholdConfig({ evictionHard: { 'memory.available': '150Mi' }, evictionSoft: { 'memory.available': '300Mi' }, evictionSoftGracePeriod: { 'memory.available': '30s' }, evictionMinimumReclaim: { 'memory.available': '0' } });
    expect(ts).toEqual([
      { signal: 'memory.available', value: { quantity: 157286400n }, gracePeriodNs: 0n, hard: true, minReclaim: { quantity: 0n } },
      { signal: 'memory.available', value: { quantity: 314572800n }, gracePeriodNs: 30_000_000_000n, hard: false, minReclaim: { quantity: 0n } },
    ]);
  });
  it('percentage threshold quantity = int64(capacity * float32 fraction) (GetThresholdQuantity)', () => {
    expect(thresholdQuantity({ percentage: Math.fround(0.1) }, 1000n)).toBe(100n);
    // float32(0.1) is slightly above 0.1, so 10% of 10^10 bytes is 1000000014, not 10^9: the kubelet's own rounding
    expect(thresholdQuantity({ percentage: Math.fround(0.1) }, 10_000_000_000n)).toBe(1_000_000_014n);
  });
  it('the CLI string form and the default hard threshold', () => {
    const p = kubeletParams.parse({ evictionHard: 'memory.available<200Mi,nodefs.available<10%', evictionSoft: 'memory.available<1Gi', evictionSoftGracePeriod: 'memory.available=1m30s' });
    expect(parseThresholdConfig(p).map((t) => [t.signal, t.hard, t.value.quantity, t.gracePeriodNs])).toEqual([
      ['memory.available', true, 200n << 20n, 0n], ['memory.available', false, 1n << 30n, 90_000_000_000n], ['allocatableMemory.available', true, 200n << 20n, 0n], // enforceNodeAllocatable [pods] by default
    ]);
    expect(parseThresholdConfig(kubeletParams.parse({}))[0].value.quantity).toBe(100n << 20n);
    expect(() => parsePolicyParams('kubelet', { evictionSoft: 'memory.available<1Gi' })).toThrow(/grace period must be specified/);
    expect(() => parsePolicyParams('kubelet', { evictionHard: 'memory.available>1Gi' })).toThrow(/invalid eviction threshold syntax/);
  });
});

// helpers_test.go: TestThresholdsMet, TestThresholdsMetGracePeriod, TestNodeConditionsObservedSince
describe('thresholds met, grace periods, min reclaim, node conditions', () => {
  const hard = { signal: 'memory.available' as const, value: { quantity: q('1Gi') }, gracePeriodNs: 0n, hard: true, minReclaim: { quantity: q('500Mi') } };
  it('TestThresholdsMet: threshold-met / threshold-not-met / min reclaim', () => {
    expect(thresholdsMet([hard], q('500Mi'), q('10Gi'), false)).toEqual([hard]); // threshold-met-memory
    expect(thresholdsMet([hard], q('2Gi'), q('10Gi'), false)).toEqual([]); // threshold-not-met
    expect(thresholdsMet([hard], q('1.25Gi'), q('10Gi'), true)).toEqual([hard]); // threshold-met-with-min-reclaim
    expect(thresholdsMet([hard], q('2Gi'), q('10Gi'), true)).toEqual([]); // threshold-not-met-with-min-reclaim
  });
  it('TestThresholdsMetGracePeriod: in-grace-period / out-of-grace-period', () => {
    const soft = { ...hard, gracePeriodNs: 120_000_000_000n, hard: false };
    const at = new Map([[soft, 0n]]);
    expect(thresholdsMetGracePeriod([soft], at, 60_000_000_000n)).toEqual([]);
    expect(thresholdsMetGracePeriod([soft], at, 120_000_000_000n)).toEqual([soft]);
  });
  it('TestNodeConditionsObservedSince: in-period / out-of-period', () => {
    expect(nodeConditionObservedSince(0n, 120_000_000_000n, 60_000_000_000n)).toBe(true);
    expect(nodeConditionObservedSince(0n, 30_000_000_000n, 60_000_000_000n)).toBe(false);
  });
  it('synchronize: a met hard threshold stays met until min reclaim is freed; MemoryPressure outlasts it by the transition period', () => {
    const cap = q('10Gi'), tr = 300_000_000_000n;
    let s = evictionSync(EVICTION_START, [hard], q('900Mi'), cap, 0n, tr);
    expect(s.thresholdsMet).toEqual([hard]);
    s = evictionSync(s, [hard], q('1.2Gi'), cap, 10_000_000_000n, tr); // above 1Gi, below 1Gi + 500Mi
    expect(s.thresholdsMet).toEqual([hard]);
    s = evictionSync(s, [hard], q('1.6Gi'), cap, 20_000_000_000n, tr);
    expect(s.thresholdsMet).toEqual([]);
    expect(s.memoryPressure).toBe(true);
    s = evictionSync(s, [hard], q('2Gi'), cap, 320_000_000_000n, tr);
    expect(s.memoryPressure).toBe(false);
  });
  it('soft threshold: evicts only after its grace period, and the clock restarts when it clears', () => {
    const soft = { signal: 'memory.available' as const, value: { quantity: q('2Gi') }, gracePeriodNs: 30_000_000_000n, hard: false };
    let s = evictionSync(EVICTION_START, [soft], q('1Gi'), q('10Gi'), 0n, 0n);
    expect(s.thresholdsMet).toEqual([]);
    s = evictionSync(s, [soft], q('1Gi'), q('10Gi'), 20_000_000_000n, 0n);
    expect(s.thresholdsMet).toEqual([]);
    s = evictionSync(s, [soft], q('3Gi'), q('10Gi'), 25_000_000_000n, 0n);
    s = evictionSync(s, [soft], q('1Gi'), q('10Gi'), 40_000_000_000n, 0n);
    expect(s.thresholdsMet).toEqual([]);
    s = evictionSync(s, [soft], q('1Gi'), q('10Gi'), 70_000_000_000n, 0n);
    expect(s.thresholdsMet).toEqual([soft]);
  });
});

// helpers_test.go: TestOrderedByExceedsRequestMemory, TestOrderedByPriority, TestOrderedByPriorityMemory
describe('eviction ranking (rankMemoryPressure)', () => {
  const p = (name: string, usage: string, request: string, priority = 0) => ({ name, usage: q(usage), request: q(request), priority });
  it('TestOrderedByExceedsRequestMemory: below-requests is evicted after exceeds-requests', () => {
    expect(rankMemoryPressure([p('below', '99Mi', '100Mi'), p('above', '101Mi', '100Mi')]).map((x) => x.name)).toEqual(['above', 'below']);
  });
  it('TestOrderedByPriority: low, medium, high', () => {
    expect(rankMemoryPressure([p('high', '1Gi', '1Gi', 2), p('low', '1Gi', '1Gi', 0), p('med', '1Gi', '1Gi', 1)]).map((x) => x.name)).toEqual(['low', 'med', 'high']);
  });
  it('TestOrderedByPriorityMemory: exceeds requests, then priority, then usage over request', () => {
    const lo = -1, hi = 1;
    const pods = [
      p('above-low-high', '500Mi', '0', lo), p('above-low-low', '50Mi', '0', lo), p('above-high-high', '600Mi', '100Mi', hi), p('above-high-low', '150Mi', '100Mi', hi),
      p('below-low-high', '800Mi', '1Gi', lo), p('below-low-low', '200Mi', '1Gi', lo), p('below-high-high', '800Mi', '1Gi', hi), p('below-high-low', '200Mi', '1Gi', hi),
    ];
    expect(rankMemoryPressure([...pods].reverse()).map((x) => x.name)).toEqual(pods.map((x) => x.name));
  });
  it('exceeds-request beats priority: a high-priority overuser goes before a low-priority pod within its request', () => {
    expect(rankMemoryPressure([p('lowWithin', '50Mi', '100Mi', 0), p('highOver', '200Mi', '100Mi', 1000)]).map((x) => x.name)).toEqual(['highOver', 'lowWithin']);
  });
});

describe('eviction grace (eviction_manager.go synchronize, kuberuntime minimum)', () => {
  it('hard: 1 s override raised to the runtime minimum of 2 s; soft: min(max pod grace, pod grace), at least 2 s', () => {
    expect(evictionGraceS(true, 30, 600)).toBe(2);
    expect(evictionGraceS(false, 30, 600)).toBe(30);
    expect(evictionGraceS(false, 30, 10)).toBe(10);
    expect(evictionGraceS(false, 0, 30)).toBe(2);
  });
});

// helpers_test.go: TestParseThresholdConfig ("allocatable memory eviction values"), TestMakeSignalObservations
// (the "pods" system container), TestThresholdsMet (a signal without an observation)
describe('allocatableMemory.available (addAllocatableThresholds, makeSignalObservations)', () => {
  const none = { evictionHard: {}, evictionSoft: {}, evictionSoftGracePeriod: {}, evictionMinimumReclaim: {} };
  it('with enforceNodeAllocatable [pods], each hard memory.available threshold is copied (value and min reclaim); soft ones are not', () => {
    const ts = parseThresholdConfig({ ...none, enforceNodeAllocatable: ['pods'], evictionHard: { 'memory.available': '150Mi' }, evictionSoft: { 'memory.available': '300Mi' }, evictionSoftGracePeriod: { 'memory.available': '30s' }, evictionMinimumReclaim: { 'memory.available': '0' } });
    expect(ts.map((t) => [t.signal, t.value.quantity, t.gracePeriodNs, t.minReclaim?.quantity])).toEqual([
      ['memory.available', 157286400n, 0n, 0n], ['memory.available', 314572800n, 30_000_000_000n, 0n], ['allocatableMemory.available', 157286400n, 0n, 0n],
    ]);
    expect(parseThresholdConfig({ ...none, evictionHard: { 'memory.available': '150Mi' } }).map((t) => t.signal)).toEqual(['memory.available']);
    expect(parseThresholdConfig({ ...none, enforceNodeAllocatable: ['system-reserved'], evictionHard: { 'memory.available': '150Mi' } })).toHaveLength(1);
    expect(parseThresholdConfig({ ...none, enforceNodeAllocatable: ['pods'], evictionHard: { 'memory.available': '10%' } })[1]).toMatchObject({ signal: 'allocatableMemory.available', value: { percentage: Math.fround(0.1) } });
  });
  it('observation of the pods container: available = limit - working set, capacity = available + working set', () => {
    expect(allocatableMemoryObservation({ limitBytes: q('4Gi'), usageBytes: q('3Gi'), inactiveFileBytes: q('1Gi') })).toEqual({ available: q('2Gi'), capacity: q('4Gi') });
    expect(allocatableMemoryObservation({ limitBytes: q('4Gi'), usageBytes: q('1Gi'), inactiveFileBytes: q('2Gi') })).toEqual({ available: q('4Gi'), capacity: q('4Gi') }); // working set floors at 0
    expect(allocatableMemoryObservation({ limitBytes: null, usageBytes: 1n, inactiveFileBytes: 0n })).toBe(null);
    expect(allocatableMemoryObservation({ limitBytes: 9223372036854771712n, usageBytes: 1n, inactiveFileBytes: 0n })).toBe(null); // v1 "unlimited"
    expect([isMemoryUnlimited(1n << 62n), isMemoryUnlimited((1n << 62n) + 1n)]).toEqual([false, true]);
  });
  it('a threshold met on its own signal only; percentages against the observation\'s capacity; no observation: never met', () => {
    const [mem, alloc] = parseThresholdConfig({ ...none, enforceNodeAllocatable: ['pods'], evictionHard: { 'memory.available': '10%' } });
    const obs = { 'memory.available': { available: q('5Gi'), capacity: q('16Gi') }, 'allocatableMemory.available': { available: q('500Mi'), capacity: q('4Gi') } };
    expect(thresholdsMet([mem, alloc], obs, 0n, false)).toEqual([]); // 10 % of 4Gi is 409.6Mi < 500Mi; 10 % of 16Gi < 5Gi
    expect(thresholdsMet([mem, alloc], { ...obs, 'allocatableMemory.available': { available: q('400Mi'), capacity: q('4Gi') } }, 0n, false)).toEqual([alloc]);
    expect(thresholdsMet([mem, alloc], { 'memory.available': obs['memory.available'] }, 0n, false)).toEqual([]);
  });
  it('kubepods cgroup: cgroupRoot + kubepods (cgroupfs) or kubepods.slice (systemd); read from v2 or v1 files', () => {
    expect([podCgroupRoot('/', 'cgroupfs'), podCgroupRoot('/', 'systemd'), podCgroupRoot('/k8s/', 'cgroupfs')]).toEqual(['/kubepods', '/kubepods.slice', '/k8s/kubepods']);
    const v2 = view({ files: { '/kubepods:memory.max': '4294967296', '/kubepods:memory.current': '3221225472', '/kubepods:memory.stat': 'anon 1\ninactive_file 1073741824\n' } });
    expect(podsContainerStats(v2, '/kubepods')).toEqual({ limitBytes: q('4Gi'), usageBytes: q('3Gi'), inactiveFileBytes: q('1Gi') });
    const v1 = view({ files: { '/kubepods:memory.limit_in_bytes': '4294967296', '/kubepods:memory.usage_in_bytes': '1073741824', '/kubepods:memory.stat': 'total_inactive_file 0\n' } });
    expect(podsContainerStats(v1, '/kubepods')).toEqual({ limitBytes: q('4Gi'), usageBytes: q('1Gi'), inactiveFileBytes: 0n });
    expect(podsContainerStats(view({ files: { '/kubepods:memory.max': 'max', '/kubepods:memory.current': '5' } }), '/kubepods')?.limitBytes).toBe(null);
  });
  it('the daemon: pods near the kubepods limit are evicted on allocatableMemory.available with node memory plentiful', () => {
    const files = {
      '/kubepods:memory.max': String(1024 ** 3), '/kubepods:memory.current': String(1000 * 1024 ** 2), '/kubepods:memory.stat': 'inactive_file 0\n',
      '/kubepods/a:memory.current': String(900 * 1024 ** 2), '/kubepods/b:memory.current': String(100 * 1024 ** 2),
    };
    const v = view({ files, cgroups: ['/', '/kubepods', '/kubepods/a', '/kubepods/b'], tasks: [task(10, { cgroup: '/kubepods/a' }), task(11, { cgroup: '/kubepods/b' })] });
    const acts = createPolicy('kubelet', { setQosAdj: false }).tick(v);
    expect(acts).toMatchObject([{ type: 'kill_cgroup', cgroup: '/kubepods/a', reason: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 24Mi. ' }]);
    expect(createPolicy('kubelet', { setQosAdj: false, enforceNodeAllocatable: ['none'] }).tick(v)).toEqual([]);
    expect(createPolicy('kubelet', { setQosAdj: false, cgroupDriver: 'systemd' }).tick(v)).toEqual([]); // kubepods.slice has no limit here
  });
});

// eviction_manager_test.go TestMemoryPressure_VerifyPodStatus (the eviction message), helpers.go evictionMessage
describe('the eviction message (evictionMessage, resource.Quantity.String)', () => {
  it.each([
    [q('2Gi'), '2Gi'], [q('1500Mi'), '1500Mi'], [q('1.5Gi'), '1536Mi'], [1000n, '1000'], [1536n, '1536'], [0n, '0'], [1_000_000_014n, '1000000014'], [-q('500Mi'), '-500Mi'],
  ])('%d bytes print as %s', (b, want) => expect(formatBinaryQuantity(b)).toBe(want));
  it('TestMemoryPressure_VerifyPodStatus: hard memory.available<2Gi at 1500Mi evicts above-requests with the node message', () => {
    const [t] = parseThresholdConfig({ evictionHard: { 'memory.available': '2Gi' }, evictionSoft: {}, evictionSoftGracePeriod: {}, evictionMinimumReclaim: {} });
    expect(evictionMessage(t, { available: q('1500Mi'), capacity: q('3Gi') })).toBe('The node was low on resource: memory. Threshold quantity: 2Gi, available: 1500Mi. ');
    const pods = [{ name: 'below-requests', usage: q('900Mi'), request: q('1Gi'), priority: 0 }, { name: 'above-requests', usage: q('700Mi'), request: q('100Mi'), priority: 0 }];
    expect(rankMemoryPressure(pods)[0].name).toBe('above-requests');
    // Through the daemon: the same pods as cgroups, node memory.available 1500Mi (working set = MemTotal - MemFree - Inactive(file)).
    const files = { '/below:memory.current': String(q('900Mi')), '/above:memory.current': String(q('700Mi')) };
    const v = view({
      meminfo: { MemTotal: 3 * 1024 * 1024, MemFree: 1500 * 1024, 'Inactive(file)': 0 }, files, cgroups: ['/', '/below', '/above'],
      tasks: [task(10, { cgroup: '/below' }), task(11, { cgroup: '/above' })],
    });
    const pol = createPolicy('kubelet', { evictionHard: 'memory.available<2Gi', setQosAdj: false, pods: [{ cgroup: '/below', requestBytes: Number(q('1Gi')), limitBytes: Number(q('1Gi')) }, { cgroup: '/above', requestBytes: Number(q('100Mi')), limitBytes: Number(q('1Gi')) }] });
    expect(pol.tick(v)).toMatchObject([{ type: 'kill_cgroup', cgroup: '/above', reason: 'The node was low on resource: memory. Threshold quantity: 2Gi, available: 1500Mi. ' }]);
  });
  it('a percentage threshold prints its quantity against the capacity', () => {
    const [t] = parseThresholdConfig({ evictionHard: { 'memory.available': '10%' }, evictionSoft: {}, evictionSoftGracePeriod: {}, evictionMinimumReclaim: {} });
    expect(evictionMessage(t, { available: q('500Mi'), capacity: q('10Gi') })).toBe('The node was low on resource: memory. Threshold quantity: 1073741840, available: 500Mi. ');
  });
});

// memory_threshold_notifier.go (UpdateThreshold), eviction_manager.go Start (notifiers for memory signals on cgroup v1);
// restated from the code, not from memory_threshold_notifier_test.go (which mocks the notifier factory)
describe('the memcg threshold notifier (kernelMemcgNotification)', () => {
  const none = { evictionHard: {}, evictionSoft: {}, evictionSoftGracePeriod: {}, evictionMinimumReclaim: {} };
  const [hard] = parseThresholdConfig({ ...none, evictionHard: { 'memory.available': '1Gi' } });
  it('armed at capacity - threshold + inactive_file on memory.usage_in_bytes', () => {
    // usage 4Gi, working set 3Gi (1Gi inactive file), available 5Gi -> capacity 8Gi; 8Gi - 1Gi + 1Gi = 8Gi
    expect(memcgThreshold(hard, { usageBytes: q('4Gi'), workingSetBytes: q('3Gi'), availableBytes: q('5Gi') })).toBe(q('8Gi'));
    const [pct] = parseThresholdConfig({ ...none, evictionHard: { 'memory.available': '25%' } });
    expect(memcgThreshold(pct, { usageBytes: q('4Gi'), workingSetBytes: q('4Gi'), availableBytes: q('4Gi') })).toBe(q('6Gi'));
  });
  it('an event when usage moves past the threshold, up or down; none while it stays on one side', () => {
    expect([memcgThresholdCrossed(10n, 20n, 15n), memcgThresholdCrossed(20n, 10n, 15n), memcgThresholdCrossed(10n, 14n, 15n), memcgThresholdCrossed(15n, 16n, 15n), memcgThresholdCrossed(14n, 15n, 15n)]).toEqual([true, true, false, false, true]);
  });
  it('notifiers only for memory signals and only on cgroup v1', () => {
    const ts = parseThresholdConfig({ ...none, enforceNodeAllocatable: ['pods'], evictionHard: { 'memory.available': '1Gi', 'nodefs.available': '10%' } });
    expect(notifierThresholds(ts, true).map((t) => t.signal)).toEqual(['memory.available', 'allocatableMemory.available']);
    expect(notifierThresholds(ts, false)).toEqual([]);
  });
  it('the daemon: a crossing between housekeeping syncs evicts at once; without the notifier it waits for the 10 s sync', () => {
    const MiB = 1024 ** 2;
    // 4 GiB node, cgroup v1 root usage; threshold 1Gi: armed at 4Gi - 1Gi + 0 = 3Gi of usage.
    const at = (s: number, usedMiB: number) => view({
      nowNs: BigInt(s * 1e9), meminfo: { MemTotal: 4 * 1024 * 1024, MemFree: (4 * 1024 - usedMiB) * 1024, 'Inactive(file)': 0 },
      files: { '/:memory.usage_in_bytes': String(usedMiB * MiB), '/:memory.stat': 'total_inactive_file 0\n', '/pod:memory.current': String(usedMiB * MiB) },
      cgroups: ['/', '/pod'], tasks: [task(10, { cgroup: '/pod' })],
    });
    const on = createPolicy('kubelet', { evictionHard: 'memory.available<1Gi', kernelMemcgNotification: true, setQosAdj: false });
    expect(on.tick(at(0, 2048))).toEqual([]);
    expect(on.intervalNs(at(0, 2048))).toBe(100_000_000n);
    expect(on.tick(at(1, 2900))).toEqual([]);
    expect(on.tick(at(1.1, 3200))).toMatchObject([{ type: 'kill_cgroup', cgroup: '/pod' }]);
    const off = createPolicy('kubelet', { evictionHard: 'memory.available<1Gi', setQosAdj: false });
    expect(off.tick(at(0, 2048))).toEqual([]);
    expect(off.intervalNs(at(0, 2048))).toBe(10_000_000_000n);
  });
});
