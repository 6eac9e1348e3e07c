/**
 * The `capture:` section of a scenario file: what `oomsim capture` read from a live machine, kept beside the
 * scenario it derived (docs/capture-format.md). `run`, `explain` and `compare` ignore it; `oomsim predict` reads it.
 * Numbers are as the kernel printed them (kB, pages, bytes as named); limits are kept as the text read
 * (`9223372036854771712`, `max`), which is not a safe JS number.
 */
import { z } from 'zod';

const int = (what = 'an integer') => z.int({ error: `expected ${what}` });
const nonneg = (what = 'an integer >= 0') => z.int({ error: `expected ${what}` }).min(0, { error: `expected ${what}` });
const text = (what = 'text') => z.string({ error: `expected ${what}` });
/** A file value: a safe integer, or the text as read. */
const value = z.union([z.number(), z.string()], { error: 'expected a number or the text as read' });
const counters = (what: string) => z.record(z.string(), value, { error: `expected a mapping of ${what}` });
const limit = () => text('a limit as read, in bytes (e.g. 268435456, 9223372036854771712 or max)').regex(/^(max|-?[0-9]+)$/, { error: 'expected a limit as read: bytes or max' });

const psiLine = z.strictObject({ avg10: z.number(), avg60: z.number(), avg300: z.number(), total: z.number() }, { error: 'expected {avg10, avg60, avg300, total}' });
const pressure = z.strictObject({ some: psiLine.optional(), full: psiLine.optional() }, { error: 'expected {some, full}' });

export const captureTask = z.strictObject(
  {
    pid: int('a pid').min(1),
    comm: text('the comm'),
    uid: nonneg('a uid'),
    oom_score_adj: int('an oom_score_adj -1000..1000').min(-1000).max(1000),
    memcg: text('the memcg path from /proc/PID/cgroup'),
    rss_pages: nonneg('rss in pages (/proc/PID/stat field 24)'),
    start_time: nonneg('the start time in clock ticks (/proc/PID/stat field 22)'),
    rss_anon_kb: nonneg(),
    rss_file_kb: nonneg(),
    rss_shmem_kb: nonneg(),
    vm_swap_kb: nonneg(),
    vm_pte_kb: nonneg(),
    vm_size_kb: nonneg(),
    vm_data_kb: nonneg(),
    vm_lck_kb: nonneg(),
    committed_kb: nonneg('kB of VM_ACCOUNT mappings (smaps VmFlags ac), or null').nullable(),
    oom_score: nonneg('the kernel\'s /proc/PID/oom_score'),
  },
  { error: 'expected a task {pid, comm, uid, oom_score_adj, memcg, rss_pages, ..., oom_score}' },
);

const memcgGroup = z.strictObject(
  {
    // v1
    limit_in_bytes: limit().optional(),
    memsw_limit_in_bytes: limit().optional(),
    soft_limit_in_bytes: limit().optional(),
    usage_in_bytes: nonneg().optional(),
    max_usage_in_bytes: nonneg().optional(),
    failcnt: nonneg().optional(),
    swappiness: nonneg().optional(),
    oom_control: z.strictObject({ oom_kill_disable: nonneg(), under_oom: nonneg(), oom_kill: nonneg() }).optional(),
    // v2
    max: limit().optional(),
    high: limit().optional(),
    low: limit().optional(),
    min: limit().optional(),
    swap_max: limit().optional(),
    oom_group: nonneg().optional(),
    current: nonneg().optional(),
    events: counters('event names to counts').optional(),
    pressure: pressure.optional(),
    // both
    stat: counters('memory.stat keys to values').optional(),
  },
  { error: 'expected a memcg {limit_in_bytes, usage_in_bytes, ...} (v1) or {max, current, ...} (v2)' },
);

export const captureSection = z.strictObject(
  {
    format: z.literal(1, { error: 'expected format 1 (the only capture format so far)' }),
    tool: text(),
    taken_at: text('an ISO 8601 time'),
    host: text(),
    kernel: text('the kernel release (uname -r)'),
    page_size: z.literal(4096, { error: 'expected 4096 (the only page size modelled)' }),
    redacted: z.boolean({ error: 'expected true or false' }),
    init_pid_ns: z.boolean({ error: 'expected true or false (read in the initial pid namespace: pid 1 is the global init)' }),
    skipped: z.strictObject(
      {
        kernel_threads: nonneg(),
        zombies: nonneg(),
        vanished: nonneg(),
        unreadable: nonneg(),
        files: z.array(z.strictObject({ path: text(), reason: text() }), { error: 'expected a list of {path, reason}' }),
      },
      { error: 'expected {kernel_threads, zombies, vanished, unreadable, files}' },
    ),
    meminfo: z.record(z.string(), nonneg(), { error: 'expected /proc/meminfo as a mapping of names to kB' }).refine((m) => (m.MemTotal ?? 0) > 0, { error: 'needs MemTotal > 0' }),
    vmstat: z.record(z.string(), int(), { error: 'expected /proc/vmstat as a mapping' }),
    swaps: z.array(
      z.strictObject({ filename: text(), type: text(), size_kb: nonneg(), used_kb: nonneg(), priority: int() }),
      { error: 'expected /proc/swaps as a list of {filename, type, size_kb, used_kb, priority}' },
    ),
    pressure: pressure.nullable(),
    sysctl: z.record(z.string(), int(), { error: 'expected the vm.* sysctls as read' }),
    memcg: z
      .strictObject(
        {
          version: z.enum(['v1', 'v2'], { error: 'expected v1 or v2' }),
          mount: text(),
          groups: z.record(z.string(), memcgGroup, { error: 'expected a mapping of memcg paths to files' }),
        },
        { error: 'expected {version, mount, groups}' },
      )
      .nullable(),
    /** How many tasks were written: a file cut short between two tasks still parses, this catches it. */
    task_count: nonneg('the number of tasks written'),
    tasks: z.array(captureTask, { error: 'expected a list of tasks' }),
  },
  { error: 'expected a capture section {format, tool, taken_at, host, kernel, ..., tasks} (written by oomsim capture)' },
).superRefine((c, ctx) => {
  if (c.tasks.length !== c.task_count) {
    ctx.addIssue({ code: 'custom', path: ['tasks'], message: `the file holds ${c.tasks.length} tasks but task_count says ${c.task_count}: the snapshot is truncated or was edited` });
  }
});

export type CaptureSection = z.output<typeof captureSection>;
export type CaptureTask = z.output<typeof captureTask>;
export type CaptureMemcg = z.output<typeof memcgGroup>;
