/**
 * `--from kubelet`: the kubelet's summary API (`/stats/summary`, types in kubernetes/kubernetes
 * staging/src/k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go: `Summary{node, pods}`, `MemoryStats{time,
 * availableBytes, usageBytes, workingSetBytes, rssBytes, pageFaults, majorPageFaults}`, and `psi` from KEP-4205
 * where the kubelet has it), as **JSON lines: one summary per line**, in time order, e.g.
 * `while sleep 10; do kubectl get --raw /api/v1/nodes/$N/proxy/stats/summary | jq -c .; done > node.jsonl`.
 *
 * What the kubelet policy needs and how it is derived (the summary has no /proc/meminfo and no process table):
 * - Node capacity. The kubelet's own eviction signal is memory.available = capacity - workingSet with the
 *   capacity it reports as availableBytes + workingSetBytes (pkg/kubelet/eviction/helpers.go
 *   makeSignalObservations), so MemTotal = availableBytes + workingSetBytes. MemFree = MemTotal - usageBytes and
 *   Inactive(file) = usageBytes - workingSetBytes are chosen so that the policy's working set (MemTotal - MemFree
 *   - Inactive(file), the kubelet's usage - inactive_file) is exactly workingSetBytes: they are not the kernel's
 *   MemFree and Inactive(file), and no MemAvailable is made up.
 * - Pods. Each pod is a memcg `/kubepods/pod<uid>` (the summary gives no QoS class, so no besteffort/burstable
 *   level) with memory.current = usageBytes and memory.stat inactive_file = usage - workingSet; the `pods` system
 *   container is `/kubepods` with memory.max = its availableBytes + workingSetBytes (the allocatable signal).
 * - Task rows are the pods' containers (pid: a number given in first-seen order from 100000, comm: the container
 *   name, rss_kb: rssBytes, else workingSetBytes), so the header says `lacks: processes`: the daemons that pick a
 *   process (earlyoom, nohang, lmkd) cannot replay; systemd-oomd and oomd lack MemAvailable (and PSI unless the
 *   kubelet reports it). Node `psi` becomes /proc/pressure/memory, a pod's its memory.pressure.
 */
import { z } from 'zod';
import { formatPath } from '../scenario/load.js';
import { TRACE_FORMAT, TRACE_VERSION, type TraceHeader, type TraceSample } from './format.js';
import { readLines, TraceError } from './lines.js';
import type { LocatedRecord, TraceStream } from './reader.js';
import type { ImportOptions } from './import-options.js';

const bytes = z.number().int().nonnegative();
const psiData = z.object({ total: z.number().nonnegative(), avg10: z.number().nonnegative(), avg60: z.number().nonnegative(), avg300: z.number().nonnegative() }).passthrough();
const memoryStats = z
  .object({
    time: z.string().optional(),
    availableBytes: bytes.optional(),
    usageBytes: bytes.optional(),
    workingSetBytes: bytes.optional(),
    rssBytes: bytes.optional(),
    pageFaults: bytes.optional(),
    majorPageFaults: bytes.optional(),
    psi: z.object({ some: psiData.optional(), full: psiData.optional() }).passthrough().optional(),
  })
  .passthrough();
const container = z.object({ name: z.string(), memory: memoryStats.optional() }).passthrough();
const summarySchema = z
  .object({
    node: z.object({ nodeName: z.string().optional(), memory: memoryStats.optional(), systemContainers: z.array(container).optional() }).passthrough(),
    pods: z.array(z.object({ podRef: z.object({ name: z.string(), namespace: z.string().optional(), uid: z.string().min(1) }).passthrough(), memory: memoryStats.optional(), containers: z.array(container).optional() }).passthrough()).optional(),
  })
  .passthrough();
type MemoryStats = z.output<typeof memoryStats>;

/** The fields types.go defines (v1alpha1, plus KEP-4205's psi and io); others are warned about once. */
const KNOWN: Record<string, Set<string>> = {
  summary: new Set(['node', 'pods']),
  node: new Set(['nodeName', 'systemContainers', 'startTime', 'cpu', 'memory', 'network', 'fs', 'runtime', 'rlimit', 'io', 'swap']),
  pod: new Set(['podRef', 'startTime', 'containers', 'cpu', 'memory', 'network', 'volume', 'ephemeral-storage', 'process_stats', 'io', 'swap']),
  memory: new Set(['time', 'availableBytes', 'usageBytes', 'workingSetBytes', 'rssBytes', 'pageFaults', 'majorPageFaults', 'psi']),
};

const kb = (b: number) => Math.round(b / 1024);
const CONTAINER_PID0 = 100000;

function pressureText(p: MemoryStats['psi']): string | null {
  if (!p?.some && !p?.full) return null;
  const line = (k: 'some' | 'full') => {
    const d = p[k] ?? { avg10: 0, avg60: 0, avg300: 0, total: 0 };
    return `${k} avg10=${d.avg10.toFixed(2)} avg60=${d.avg60.toFixed(2)} avg300=${d.avg300.toFixed(2)} total=${Math.trunc(d.total)}`;
  };
  return `${line('some')}\n${line('full')}`;
}

function memcgFiles(m: MemoryStats | undefined, limit: boolean): Record<string, string> {
  const f: Record<string, string> = {};
  if (!m) return f;
  if (m.usageBytes !== undefined) f['memory.current'] = String(m.usageBytes);
  if (m.usageBytes !== undefined && m.workingSetBytes !== undefined) f['memory.stat'] = `inactive_file ${Math.max(0, m.usageBytes - m.workingSetBytes)}`;
  if (limit && m.availableBytes !== undefined && m.workingSetBytes !== undefined) f['memory.max'] = String(m.availableBytes + m.workingSetBytes);
  const p = pressureText(m.psi);
  if (p) f['memory.pressure'] = p;
  return f;
}

export function importKubelet(file: string, o: ImportOptions = {}): TraceStream {
  const h: TraceHeader = { format: TRACE_FORMAT, version: TRACE_VERSION, source: 'kubelet', tool: 'kubelet /stats/summary', task_columns: ['pid', 'comm', 'rss_kb', 'memcg'], lacks: ['processes'] };
  async function* records(): AsyncGenerator<LocatedRecord> {
    const pids = new Map<string, number>();
    const warned = new Set<string>();
    let t0: number | null = null, last = -Infinity, prevMs: number | null = null, n = 0;
    for await (const l of readLines(file)) {
      const text = l.text.trim();
      if (text === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (e) {
        const hint = text === '{' ? '; this looks pretty-printed: put each summary on one line (jq -c .)' : '';
        throw new TraceError(file, l.no, `not a JSON line (${(e as Error).message}); --from kubelet reads one /stats/summary JSON object per line${hint}`);
      }
      const r = summarySchema.safeParse(v);
      if (!r.success) {
        const i = r.error.issues[0];
        throw new TraceError(file, l.no, `${formatPath(i.path as (string | number)[]) || 'the line'}: ${i.message} (a kubelet /stats/summary object: {"node":{...},"pods":[...]})`);
      }
      const sm = r.data;
      const unknown = (where: string, obj: object) => {
        for (const k of Object.keys(obj)) if (!KNOWN[where].has(k) && !warned.has(`${where}.${k}`)) {
          warned.add(`${where}.${k}`);
          o.warn?.(`${file}:${l.no}: summary field ${where === 'summary' ? '' : `${where}.`}${k} is not in the kubelet stats API this importer knows; ignored`);
        }
      };
      unknown('summary', sm);
      unknown('node', sm.node);
      const node = sm.node.memory;
      if (!node) throw new TraceError(file, l.no, 'node.memory is missing; the kubelet reports the node\'s memory stats there');
      unknown('memory', node);
      const ms = node.time !== undefined ? Date.parse(node.time) : NaN;
      if (node.time !== undefined && !Number.isFinite(ms)) throw new TraceError(file, l.no, `node.memory.time: ${JSON.stringify(node.time)} is not an RFC 3339 time`);
      const at = Number.isFinite(ms) ? ms : n * (o.intervalMs ?? 10000);
      if (at < last) throw new TraceError(file, l.no, `node.memory.time ${node.time} is before the previous summary's; summaries must be in time order`);
      last = at;
      t0 ??= at;
      if (n === 0) h.host = sm.node.nodeName;
      const s: TraceSample = { type: 'sample', t_ms: at - t0, meminfo: {}, vmstat: {}, tasks: [], memcg: {} };
      if (node.availableBytes !== undefined && node.workingSetBytes !== undefined) {
        const cap = node.availableBytes + node.workingSetBytes;
        s.meminfo!.MemTotal = kb(cap);
        if (node.usageBytes !== undefined) {
          s.meminfo!.MemFree = kb(cap - node.usageBytes);
          s.meminfo!['Inactive(file)'] = kb(Math.max(0, node.usageBytes - node.workingSetBytes));
        }
      }
      if (node.pageFaults !== undefined) s.vmstat!.pgfault = node.pageFaults;
      if (node.majorPageFaults !== undefined) s.vmstat!.pgmajfault = node.majorPageFaults;
      if (node.psi?.some || node.psi?.full) {
        const z0 = { avg10: 0, avg60: 0, avg300: 0, total: 0 };
        const line = (d: z.output<typeof psiData> | undefined) => (d ? { avg10: d.avg10, avg60: d.avg60, avg300: d.avg300, total: d.total } : z0);
        s.pressure = { some: line(node.psi.some), full: line(node.psi.full) };
      }
      const podsRoot = sm.node.systemContainers?.find((c) => c.name === 'pods');
      s.memcg!['/kubepods'] = memcgFiles(podsRoot?.memory, true);
      for (const pod of sm.pods ?? []) {
        unknown('pod', pod);
        const path = `/kubepods/pod${pod.podRef.uid}`;
        s.memcg![path] = memcgFiles(pod.memory, false);
        for (const c of pod.containers ?? []) {
          const key = `${pod.podRef.uid}/${c.name}`;
          let pid = pids.get(key);
          if (pid === undefined) pids.set(key, (pid = CONTAINER_PID0 + pids.size));
          s.tasks!.push([pid, c.name, kb(c.memory?.rssBytes ?? c.memory?.workingSetBytes ?? 0), path]);
        }
      }
      if (prevMs !== null && h.interval_ms === undefined && at > prevMs) h.interval_ms = at - prevMs;
      prevMs = at;
      n++;
      yield { record: s, line: l.no };
    }
    if (n === 0) throw new TraceError(file, 0, 'no summaries; --from kubelet reads one /stats/summary JSON object per line');
  }
  return { header: h, records: records() };
}
