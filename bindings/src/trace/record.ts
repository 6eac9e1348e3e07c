/**
 * `oomsim record`: samples the live machine at a fixed interval into an oomsim-trace file (format.ts). Samples are
 * taken on a schedule anchored at the start (no drift: sample k is due at k * interval), written as they are
 * taken (nothing is kept in memory), and the file is renamed into place when the recording stops: at the duration,
 * or when `signal` aborts (SIGINT in the CLI), with an `end` record either way.
 */
import { hostname } from 'node:os';
import { fsio } from '../capture/fsio.js';
import { inInitPidNs } from '../capture/proc.js';
import { CAPTURED_SYSCTLS } from '../capture/system.js';
import { TASK_COLUMNS, TRACE_FORMAT, TRACE_VERSION, type TraceHeader } from './format.js';
import { KmsgReader, LiveSampler, type LiveOptions } from './live.js';
import { TraceWriter } from './writer.js';

export interface RecordOptions extends LiveOptions {
  output: string;
  intervalMs: number;
  /** Stop after this long (ms); null: until aborted. */
  durationMs: number | null;
  signal?: AbortSignal;
  tool?: string;
  /** Read /dev/kmsg for OOM report lines (default true). */
  kmsg?: string | false;
  onSample?(p: RecordProgress): void;
}
export interface RecordProgress {
  samples: number;
  tMs: number;
  textBytes: number;
  fileBytes: number;
  tasks: number;
  memAvailableKb: number;
  kmsgLines: number;
}
export interface RecordResult extends RecordProgress {
  reason: 'duration' | 'interrupted';
  kmsg: string;
  droppedCgroups: number;
}

const readOr = (p: string, d: string) => {
  try {
    return fsio.readText(p).trim();
  } catch {
    return d;
  }
};

export function liveHeader(sampler: LiveSampler, intervalMs: number, tool: string, now = new Date()): TraceHeader {
  const sysctl: Record<string, number> = {};
  for (const name of CAPTURED_SYSCTLS) {
    const n = Number.parseInt(readOr(`${sampler.proc}/sys/${name.replace(/\./g, '/')}`, ''), 10);
    if (Number.isFinite(n)) sysctl[name] = n;
  }
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    source: 'record',
    tool,
    host: hostname(),
    kernel: readOr(`${sampler.proc}/sys/kernel/osrelease`, 'unknown'),
    started: now.toISOString(),
    interval_ms: intervalMs,
    page_size: 4096,
    memcg: sampler.memcg,
    init_pid_ns: inInitPidNs(sampler.proc),
    sysctl,
    task_columns: [...TASK_COLUMNS],
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    if (signal?.aborted) return res();
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function recordMachine(o: RecordOptions): Promise<RecordResult> {
  const sampler = new LiveSampler(o);
  const writer = await TraceWriter.open(o.output);
  const t0 = process.hrtime.bigint();
  const kmsg = o.kmsg === false ? null : new KmsgReader(t0 / 1000n, o.kmsg);
  const p: RecordProgress = { samples: 0, tMs: 0, textBytes: 0, fileBytes: 0, tasks: 0, memAvailableKb: 0, kmsgLines: 0 };
  let reason: RecordResult['reason'] = 'duration';
  try {
    writer.write(liveHeader(sampler, o.intervalMs, o.tool ?? 'oomsim'));
    kmsg?.drain(); // skip what the log held before t=0 (drain keeps only lines at or after t0 anyway)
    for (let k = 0; ; k++) {
      const dueMs = k * o.intervalMs;
      if (o.durationMs !== null && dueMs > o.durationMs) break;
      // Timers may fire a little early: sleep until the due time has really passed.
      for (let w = dueMs - Number(process.hrtime.bigint() - t0) / 1e6; w > 0 && !o.signal?.aborted; w = dueMs - Number(process.hrtime.bigint() - t0) / 1e6) await sleep(Math.ceil(w), o.signal);
      if (o.signal?.aborted) {
        reason = 'interrupted';
        break;
      }
      const tMs = Math.max(dueMs, Math.round(Number(process.hrtime.bigint() - t0) / 1e6));
      const s = sampler.sample(tMs);
      for (const l of kmsg?.drain() ?? []) {
        writer.write({ type: 'kmsg', t_ms: Math.max(0, Number(l.us - t0 / 1000n) / 1000), text: l.text });
        p.kmsgLines++;
      }
      writer.write(s);
      Object.assign(p, { samples: p.samples + 1, tMs, textBytes: writer.textBytes, fileBytes: writer.fileBytes, tasks: s.tasks?.length ?? 0, memAvailableKb: s.meminfo?.MemAvailable ?? 0 });
      o.onSample?.(p);
    }
    writer.write({ type: 'end', t_ms: p.tMs, samples: p.samples, reason });
    await writer.close();
  } catch (e) {
    writer.abort();
    throw e;
  } finally {
    kmsg?.close();
  }
  return { ...p, textBytes: writer.textBytes, fileBytes: writer.fileBytes, reason, kmsg: kmsg === null ? 'off' : kmsg.available ? 'read' : `unreadable (${kmsg.reason})`, droppedCgroups: sampler.droppedCgroups };
}
