/**
 * The `oomsim-trace` format, version 1 (docs/decisions/0016-replay.md §1, docs/trace-format.md): line-delimited
 * JSON, a header line then `sample`, `kmsg` and `end` records. Schemas are strict zod objects where the field set
 * is ours and loose (passthrough) where it mirrors a kernel file whose keys vary by kernel (meminfo, vmstat).
 */
import { z } from 'zod';

export const TRACE_FORMAT = 'oomsim-trace';
export const TRACE_VERSION = 1;

/** The task-row columns `oomsim record` writes, in order. Readers pick columns by name (unknown ones are ignored). */
export const TASK_COLUMNS = ['pid', 'ppid', 'comm', 'uid', 'state', 'oom_score', 'oom_score_adj', 'rss_pages', 'rss_kb', 'swap_kb', 'memcg'] as const;
export type TaskColumn = (typeof TASK_COLUMNS)[number];

/** memory.stat keys kept in a trace (what the policies and the report read; the rest of the file is dropped). */
export const MEMCG_STAT_KEYS = [
  // v2
  'anon', 'file', 'shmem', 'pgscan', 'pgsteal', 'pgmajfault', 'workingset_refault_anon', 'workingset_refault_file',
  'active_anon', 'inactive_anon', 'active_file', 'inactive_file',
  // v1 (own and hierarchical)
  'cache', 'rss', 'swap', 'total_cache', 'total_rss', 'total_swap', 'total_inactive_file', 'total_active_file',
] as const;

const psiLine = z.object({ avg10: z.number(), avg60: z.number(), avg300: z.number(), total: z.number() }).strict();
export const pressureSchema = z.object({ some: psiLine.optional(), full: psiLine.optional() }).strict();

export const headerSchema = z
  .object({
    format: z.literal(TRACE_FORMAT),
    version: z.number().int(),
    source: z.enum(['record', 'vmstat', 'psi2log', 'below', 'kubelet']),
    tool: z.string().optional(),
    host: z.string().optional(),
    kernel: z.string().optional(),
    started: z.string().optional(),
    interval_ms: z.number().positive().optional(),
    page_size: z.number().int().positive().optional(),
    memcg: z.object({ version: z.enum(['v1', 'v2']), mount: z.string() }).strict().nullable().optional(),
    init_pid_ns: z.boolean().optional(),
    sysctl: z.record(z.string(), z.number()).optional(),
    task_columns: z.array(z.string()).optional(),
    /**
     * What the source tool does not record although the sample has a place for it, so that a replay names it
     * instead of reading a made-up value: `pressure.<some|full>.<avg10|avg60|avg300|total>` (system and memcg
     * PSI alike), `processes` (the task rows are containers, not processes).
     */
    lacks: z.array(z.string()).optional(),
  })
  .strict();
export type TraceHeader = z.output<typeof headerSchema>;

const num = z.number().finite();
export const sampleSchema = z
  .object({
    type: z.literal('sample'),
    t_ms: z.number().nonnegative(),
    meminfo: z.record(z.string(), num).optional(),
    vmstat: z.record(z.string(), num).optional(),
    pressure: pressureSchema.nullable().optional(),
    tasks: z.array(z.array(z.union([z.number(), z.string()]))).optional(),
    memcg: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  })
  .strict();
export type TraceSample = z.output<typeof sampleSchema>;

export const kmsgSchema = z.object({ type: z.literal('kmsg'), t_ms: z.number(), text: z.string() }).strict();
export type TraceKmsg = z.output<typeof kmsgSchema>;
export const endSchema = z
  .object({ type: z.literal('end'), t_ms: z.number().nonnegative(), samples: z.number().int().nonnegative(), reason: z.string() })
  .strict();
export type TraceEnd = z.output<typeof endSchema>;

export const recordSchema = z.discriminatedUnion('type', [sampleSchema, kmsgSchema, endSchema]);
export type TraceRecord = z.output<typeof recordSchema>;

/** One task of a sample, by column name (missing columns: undefined). */
export interface TraceTask {
  pid: number;
  ppid?: number;
  comm?: string;
  uid?: number;
  state?: string;
  oom_score?: number;
  oom_score_adj?: number;
  rss_pages?: number;
  rss_kb?: number;
  swap_kb?: number;
  memcg?: string;
}

/** The rows of a sample as objects, using the header's column names. */
export function taskRows(h: TraceHeader, s: TraceSample): TraceTask[] {
  const cols = h.task_columns ?? [...TASK_COLUMNS];
  const out: TraceTask[] = [];
  for (const row of s.tasks ?? []) {
    const t: Record<string, number | string> = {};
    for (let i = 0; i < cols.length && i < row.length; i++) t[cols[i]] = row[i];
    if (typeof t.pid === 'number') out.push(t as unknown as TraceTask);
  }
  return out;
}

/** Kernel log lines that belong to an OOM report (kept by `record`; read by the replay's kernel column). */
export const OOM_KMSG = /invoked oom-killer|oom-kill:|Killed process \d+|oom_reaper: reaped process|Out of memory|Memory cgroup out of memory/;

/** The victim of a "... Killed process PID (comm) ..." line (mm/oom_kill.c:__oom_kill_process), or null. */
export function killedProcess(text: string): { pid: number; comm: string; memcg: boolean } | null {
  const m = /Killed process (\d+) \((.*?)\)/.exec(text);
  if (!m) return null;
  return { pid: Number(m[1]), comm: m[2], memcg: text.includes('Memory cgroup out of memory') };
}
