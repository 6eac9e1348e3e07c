/**
 * Several recordings of one machine, made at the same time by different tools (oomsim record, below, psi2log,
 * vmstat -t, the kubelet's summary), merged by wall-clock time into one trace stream (docs/decisions/0016-replay.md
 * §4c). Each field of the merged view comes from one input for the whole replay (`provenance` in the header), so a
 * daemon never sees a value jump between two tools' readings of it:
 *
 * - **Owner of a field**: the first input, in the order given, that records it (has it, and its header does not
 *   list it in `lacks`); else the first that has a placeholder for it. Fields: `meminfo.<key>`, `vmstat.<key>`,
 *   `pressure.<some|full>.<avg10|avg60|avg300|total>`, `tasks` (the whole table, with its owner's columns),
 *   `memcg.<file>` (that file of every memcg). A field first seen after the start gets its owner then, by the same
 *   rule, and keeps it.
 * - **Time**: each input's `started` (the wall clock at its t=0) plus its `t_ms`. The merged view covers the time
 *   every input has data for: from the latest first sample to the earliest last one. A merged sample is made at each
 *   input sample's time in that range (samples at the same time are one), from every input's latest sample at or
 *   before it, as the replay itself reads a recording. Kernel log lines in the range are kept.
 * - **`lacks`**: what some input lacks and no input records (for one input, its own `lacks`).
 * - **One machine**: inputs that name different hosts (compared by their first name label, so `web1` and
 *   `web1.example.com` are one), kernels, page sizes, memcg versions or sysctl values, or
 *   MemTotal values more than 1 % apart, are an error naming both files; so are inputs with no time in common.
 *
 * Memory: one pending record and one latest sample per input.
 */
import { TRACE_FORMAT, TRACE_VERSION, type TraceHeader, type TraceRecord, type TraceSample } from './format.js';
import { TraceError } from './lines.js';
import type { LocatedRecord, TraceStream } from './reader.js';

export interface MergeInput {
  /** What the input is called in errors and in the header's `sources` (a file, or below's files joined by +). */
  file: string;
  stream: TraceStream;
}
export interface MergeOptions {
  warn?(message: string): void;
}

const PSI_LEAVES = ['avg10', 'avg60', 'avg300', 'total'] as const;
const iso = (ms: number) => new Date(ms).toISOString();

interface Input {
  file: string;
  header: TraceHeader;
  it: AsyncIterator<LocatedRecord>;
  head: LocatedRecord | null;
  startedMs: number;
  firstMs: number;
  lastMs: number;
  latest: TraceSample | null;
  ended: boolean;
  dropped: number;
}

/** The fields a sample has, as provenance keys, each with whether the input records it (false: a placeholder). */
function fields(h: TraceHeader, s: TraceSample): Map<string, boolean> {
  const lacks = new Set(h.lacks ?? []);
  const out = new Map<string, boolean>();
  for (const k of Object.keys(s.meminfo ?? {})) out.set(`meminfo.${k}`, true);
  for (const k of Object.keys(s.vmstat ?? {})) out.set(`vmstat.${k}`, true);
  for (const line of ['some', 'full'] as const) if (s.pressure?.[line]) for (const f of PSI_LEAVES) out.set(`pressure.${line}.${f}`, !lacks.has(`pressure.${line}.${f}`));
  if (s.tasks !== undefined) out.set('tasks', !lacks.has('processes'));
  for (const files of Object.values(s.memcg ?? {})) {
    for (const f of Object.keys(files)) if (!out.has(`memcg.${f}`)) out.set(`memcg.${f}`, !(f === 'memory.stat' && lacks.has('memcg.pgscan')));
  }
  return out;
}

/** Which lacks name a field stands for (pressure leaves, the process table, memory.stat's pgscan). */
function lackName(field: string): string | null {
  if (field.startsWith('pressure.')) return field;
  if (field === 'tasks') return 'processes';
  if (field === 'memcg.memory.stat') return 'memcg.pgscan';
  return null;
}

async function pull(x: Input): Promise<void> {
  const n = await x.it.next();
  x.head = n.done ? null : n.value;
}

function identity(inputs: Input[]): void {
  const first = new Map<string, { file: string; value: string }>();
  const same = (what: string, file: string, value: unknown, key: (v: string) => string = (v) => v) => {
    if (value === undefined || value === null || value === '') return;
    const v = String(value);
    const f = first.get(what);
    if (!f) first.set(what, { file, value: v });
    else if (key(f.value) !== key(v)) throw new TraceError(file, 0, `${what} ${JSON.stringify(v)}, but ${f.file} says ${JSON.stringify(f.value)}: merged recordings must be of one machine`);
  };
  for (const x of inputs) {
    const h = x.header;
    // A host by its first name label, any case (the kubelet's nodeName may be the FQDN of the hostname).
    same('host', x.file, h.host, (v) => v.split('.')[0].toLowerCase());
    same('kernel', x.file, h.kernel);
    same('page size', x.file, h.page_size);
    same('memcg version', x.file, h.memcg?.version);
    for (const [k, v] of Object.entries(h.sysctl ?? {})) same(k, x.file, v);
  }
}

/** Merges the inputs (each opened, nothing read yet) into one stream; reads each up to its first sample first. */
export async function mergeTraces(list: MergeInput[], o: MergeOptions = {}): Promise<TraceStream> {
  if (list.length < 2) throw new TraceError(list[0]?.file ?? '-', 0, 'merging needs two recordings or more');
  const inputs: Input[] = list.map((m) => ({ file: m.file, header: m.stream.header, it: m.stream.records[Symbol.asyncIterator](), head: null, startedMs: NaN, firstMs: NaN, lastMs: NaN, latest: null, ended: false, dropped: 0 }));
  // Each input up to its first sample (kernel log lines before it stay queued: at most a few).
  const early: { x: Input; r: LocatedRecord }[] = [];
  for (const x of inputs) {
    for (;;) {
      await pull(x);
      if (x.head === null) throw new TraceError(x.file, 0, 'no samples to merge');
      if (x.head.record.type === 'sample') break;
      if (x.head.record.type === 'end') x.ended = true;
      else early.push({ x, r: x.head });
    }
    // Importers fill `started` from the first timestamp they read (vmstat -t, psi2log -l, below, kubelet).
    const ms = x.header.started === undefined ? NaN : Date.parse(x.header.started);
    if (!Number.isFinite(ms)) {
      throw new TraceError(x.file, x.head.line, `this ${x.header.source} recording has no wall-clock time, so it cannot be lined up with the others (record vmstat with -t, psi2log with -l; below, kubelet summaries and oomsim record have it)`);
    }
    x.startedMs = ms;
    x.firstMs = ms + x.head.record.t_ms;
  }
  identity(inputs);
  const startMs = Math.max(...inputs.map((x) => x.firstMs));

  // Owners of the fields the first samples have.
  const owner = new Map<string, number>();
  const assign = (key: string, cands: { i: number; records: boolean }[]) => {
    if (owner.has(key) || !cands.length) return;
    owner.set(key, (cands.find((c) => c.records) ?? cands[0]).i);
  };
  const firstFields = inputs.map((x) => fields(x.header, x.head!.record as TraceSample));
  const keys = [...new Set(firstFields.flatMap((f) => [...f.keys()]))];
  for (const k of keys) assign(k, firstFields.flatMap((f, i) => (f.has(k) ? [{ i, records: f.get(k)! }] : [])));
  // lacks: what some input lacks and no input records.
  const recorded = new Set(firstFields.flatMap((f) => [...f.entries()].filter(([, r]) => r).map(([k]) => lackName(k)).filter((k): k is string => k !== null)));
  const lacks = [...new Set(inputs.flatMap((x) => x.header.lacks ?? []))].filter((k) => !recorded.has(k));
  const tasksOwner = owner.get('tasks');

  const provenance: Record<string, number> = {};
  const h0 = inputs.map((x) => x.header);
  const pick = <K extends keyof TraceHeader>(k: K) => h0.find((h) => h[k] !== undefined)?.[k];
  const header: TraceHeader = {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    source: 'merge',
    tool: `oomsim merge of ${inputs.map((x) => x.header.source).join(', ')}`,
    host: pick('host'),
    kernel: pick('kernel'),
    started: iso(startMs),
    interval_ms: Math.min(...h0.map((h) => h.interval_ms ?? Infinity)),
    page_size: pick('page_size'),
    memcg: pick('memcg'),
    init_pid_ns: pick('init_pid_ns'),
    sysctl: Object.assign({}, ...h0.map((h) => h.sysctl ?? {})),
    task_columns: tasksOwner === undefined ? undefined : h0[tasksOwner].task_columns,
    lacks,
    sources: inputs.map((x) => ({ file: x.file, source: x.header.source, ...(x.header.tool ? { tool: x.header.tool } : {}), started: iso(x.startedMs), ...(x.header.lacks?.length ? { lacks: x.header.lacks } : {}) })),
    provenance,
  };
  if (!Number.isFinite(header.interval_ms!)) delete header.interval_ms;
  for (const k of Object.keys(header) as (keyof TraceHeader)[]) if (header[k] === undefined) delete header[k];
  for (const [k, i] of owner) provenance[k] = i;

  let memTotalChecked = false;
  function checkMemTotal(): void {
    memTotalChecked = true;
    const seen = inputs.flatMap((x) => (x.latest?.meminfo?.MemTotal !== undefined ? [{ file: x.file, kb: x.latest.meminfo.MemTotal }] : []));
    for (const b of seen.slice(1)) {
      const a = seen[0];
      if (Math.abs(a.kb - b.kb) * 100 > Math.max(a.kb, b.kb)) throw new TraceError(b.file, 0, `MemTotal ${b.kb} kB, but ${a.file} says ${a.kb} kB (more than 1 % apart): merged recordings must be of one machine`);
    }
  }

  /** The merged sample at `t` (ms since the merged start) from each input's latest sample. */
  function build(t: number): TraceSample {
    // Fields not seen before get their owner now (first in the order given that records them).
    for (let i = 0; i < inputs.length; i++) {
      for (const [k, rec] of fields(inputs[i].header, inputs[i].latest!)) {
        if (owner.has(k)) continue;
        const cands = inputs.flatMap((x, j) => {
          const f = x.latest ? fields(x.header, x.latest) : null;
          return f?.has(k) ? [{ i: j, records: f.get(k)! }] : [];
        });
        assign(k, cands.length ? cands : [{ i, records: rec }]);
        provenance[k] = owner.get(k)!;
      }
    }
    const s: TraceSample = { type: 'sample', t_ms: t };
    const from = (k: string) => inputs[owner.get(k)!].latest!;
    const pressure: { some?: Record<string, number>; full?: Record<string, number> } = {};
    for (const [k, i] of owner) {
      const src = inputs[i].latest!;
      const dot = k.indexOf('.');
      const group = k.slice(0, dot), rest = k.slice(dot + 1);
      if (group === 'meminfo' && src.meminfo?.[rest] !== undefined) (s.meminfo ??= {})[rest] = src.meminfo[rest];
      else if (group === 'vmstat' && src.vmstat?.[rest] !== undefined) (s.vmstat ??= {})[rest] = src.vmstat[rest];
      else if (group === 'pressure') {
        const [line, leaf] = rest.split('.') as ['some' | 'full', string];
        const v = src.pressure?.[line]?.[leaf as 'avg10'];
        if (v !== undefined) (pressure[line] ??= {})[leaf] = v;
      } else if (group === 'memcg') {
        for (const [path, files] of Object.entries(src.memcg ?? {})) if (files[rest] !== undefined) ((s.memcg ??= {})[path] ??= {})[rest] = files[rest];
      }
    }
    for (const line of ['some', 'full'] as const) {
      const p = pressure[line];
      if (p) (s.pressure ??= {})[line] = { avg10: p.avg10 ?? 0, avg60: p.avg60 ?? 0, avg300: p.avg300 ?? 0, total: p.total ?? 0 };
    }
    if (owner.has('tasks')) {
      const tasks = from('tasks').tasks;
      if (tasks !== undefined) s.tasks = tasks;
    }
    return s;
  }

  async function* records(): AsyncGenerator<LocatedRecord> {
    let emitted = 0, lastT = -1, stoppedBy: Input | null = null;
    const located = (record: TraceRecord, x: Input, line: number): LocatedRecord => ({ record, line, file: x.file });
    for (const { x, r } of early) {
      const t = x.startedMs + r.record.t_ms - startMs;
      if (t >= 0) yield located({ ...r.record, t_ms: t } as TraceRecord, x, r.line);
    }
    const abs = (x: Input) => x.startedMs + x.head!.record.t_ms;
    for (;;) {
      const live = inputs.filter((x) => x.head !== null);
      if (live.length < inputs.length) {
        stoppedBy = inputs.find((x) => x.head === null)!;
        break;
      }
      // The earliest pending record (ties: the order given).
      let x = live[0];
      for (const y of live) if (abs(y) < abs(x)) x = y;
      const at = abs(x);
      const r = x.head!;
      if (r.record.type === 'end') {
        x.ended = true;
        await pull(x);
        continue;
      }
      if (r.record.type === 'kmsg') {
        if (at >= startMs) yield located({ ...r.record, t_ms: at - startMs }, x, r.line);
        await pull(x);
        continue;
      }
      // A sample: take every input's sample at this same time, then make one merged sample.
      for (const y of live) {
        while (y.head && y.head.record.type === 'sample' && abs(y) === at) {
          y.latest = y.head.record;
          y.lastMs = at;
          await pull(y);
          if ((y.head as LocatedRecord | null)?.record.type === 'end') {
            y.ended = true;
            await pull(y);
          }
        }
      }
      if (at < startMs) continue;
      if (!memTotalChecked) checkMemTotal();
      const t = at - startMs;
      if (t === lastT) continue;
      lastT = t;
      emitted++;
      yield located(build(t), x, r.line);
    }
    // The rest of every input is read (so a malformed line is still an error) and counted, not merged.
    for (const y of inputs) {
      while (y.head !== null) {
        if (y.head.record.type === 'sample') y.dropped++;
        else if (y.head.record.type === 'end') y.ended = true;
        await pull(y);
      }
    }
    if (emitted === 0) {
      const late = inputs.reduce((a, b) => (b.firstMs > a.firstMs ? b : a));
      throw new TraceError(stoppedBy!.file, 0, `its samples end at ${iso(stoppedBy!.lastMs)}, before ${late.file} starts at ${iso(late.firstMs)}: the recordings have no time in common`);
    }
    const cut = inputs.filter((y) => y.dropped > 0);
    if (cut.length) o.warn?.(`merged view ends at ${iso(stoppedBy!.lastMs)}, where ${stoppedBy!.file} ends; samples after it not merged: ${cut.map((y) => `${y.file} ${y.dropped}`).join(', ')}`);
    const before = inputs.filter((y) => y.firstMs < startMs);
    if (before.length) o.warn?.(`merged view starts at ${iso(startMs)}, where the last input starts; ${before.map((y) => `${y.file} from ${iso(y.firstMs)}`).join(', ')} read but not merged before it`);
    // Complete when every oomsim recording among the inputs has its end record (importers' files have none).
    if (inputs.every((y) => y.ended || (y.header.source !== 'record' && y.header.source !== 'merge'))) {
      yield { record: { type: 'end', t_ms: Math.max(0, lastT), samples: emitted, reason: 'merged' }, line: 0, file: inputs.map((y) => y.file).join(' + ') };
    }
  }
  return { header, records: records() };
}

/** The header's sources and provenance in a few lines (which input each group of fields comes from). */
export function provenanceText(h: TraceHeader): string[] {
  if (!h.sources?.length) return [];
  const groups = h.sources.map(() => new Map<string, string[]>());
  for (const [k, i] of Object.entries(h.provenance ?? {})) {
    const dot = k.indexOf('.');
    const g = dot < 0 ? k : k.slice(0, dot);
    const m = groups[i];
    if (!m) continue;
    m.set(g, [...(m.get(g) ?? []), dot < 0 ? '' : k.slice(dot + 1)]);
  }
  const what = (g: string, names: string[]) => {
    if (g === 'tasks') return 'the process table';
    if (g === 'pressure') return `PSI ${names.join(' ')}`;
    if (g === 'memcg') return `memcg ${names.join(' ')}`;
    return names.length > 4 ? `${g} (${names.length} fields)` : `${g} ${names.join(' ')}`;
  };
  return [
    `merged by time from ${h.sources.length} recordings${h.lacks?.length ? `; no input records ${h.lacks.join(', ')}` : ''}:`,
    ...h.sources.map((s, i) => {
      const parts = [...groups[i]].map(([g, n]) => what(g, n));
      return `  ${s.file} (${s.source}, from ${s.started ?? '?'}): ${parts.length ? parts.join('; ') : 'nothing the others did not have'}`;
    }),
  ];
}
