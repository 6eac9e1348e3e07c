/**
 * The oomsim scenario schema (zod 4). It is the single source of truth for validation, the TS types and the
 * published JSON Schema (scenarios/oomsim-scenario.schema.json, see jsonschema.ts).
 *
 * Kernel names are used verbatim: sysctls under their real names (`vm.overcommit_memory`), cgroup files under their
 * real names (`memory.limit_in_bytes`, `memory.max`). Ranges are the kernel's: each cites where the kernel checks it.
 * The schema keeps values as written (sizes stay `"4G"`); normalize.ts converts to pages and nanoseconds.
 */
import { z } from 'zod';
import {
  DURATION_HINT,
  RATE_HINT,
  SIZE_HINT,
  limitHint,
  parseCgroupLimit,
  parseDuration,
  parseKernelInt,
  parseRate,
  parseSize,
  type CgroupVersion,
} from './size.js';
import { MAX_PROCESSES, ramLimit, swapLimit } from './limits.js';
import { suggest } from './suggest.js';
import { captureSection } from './capture.js';

// ---------------------------------------------------------------------------------------------------------------
// Scalar building blocks

const SIZE_RE = /^\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[KMGTPEkmgtpe]?\s*$/;
const KINT_RE = /^\s*-?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\s*$/;
const DURATION_RE = /^\s*(0|(\d+(\.\d+)?\s*(ns|us|µs|ms|min|s|m|h|d))+)\s*$/;
const RATE_RE = /^\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[KMGTPEkmgtpe]?\s*\/\s*(\d+(\.\d+)?)?\s*(ns|us|µs|ms|min|s|m|h|d)\s*$/;

/** A number that is not an exact integer (1e30, 1.5): say how to write it instead of zod's int bounds. */
function sizeNumberError(iss: { code?: string; input?: unknown }): string {
  if (typeof iss.input === 'number' && (iss.code === 'too_big' || iss.code === 'too_small' || !Number.isSafeInteger(iss.input))) {
    return `${String(iss.input)} is not an exact byte count (plain numbers must be integers below 2^53); write ${SIZE_HINT}`;
  }
  return `expected ${SIZE_HINT}`;
}

/** A size in bytes (`4G`, `512M`, `100k`, `0x1000`, `4096`), parsed like the kernel's memparse. */
export const size = () =>
  z
    .union([z.int({ error: sizeNumberError }).meta({ minimum: 0 }), z.string().meta({ pattern: SIZE_RE.source })], { error: `expected ${SIZE_HINT}` })
    .superRefine((v, ctx) => {
      const r = parseSize(v);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
    })
    .meta({ description: `Bytes: ${SIZE_HINT}. K/M/G/T/P/E are binary (1K = 1024), as memparse reads them.` });

/** A positive size. */
export const positiveSize = () =>
  size().superRefine((v, ctx) => {
    const r = parseSize(v);
    if (r.ok && r.value === 0n) ctx.addIssue({ code: 'custom', message: `expected a size greater than 0, ${SIZE_HINT}` });
  });

export const duration = () =>
  z
    .union([z.literal(0), z.string().regex(DURATION_RE)], { error: `expected ${DURATION_HINT}` })
    .superRefine((v, ctx) => {
      const r = parseDuration(v);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
    })
    .meta({ description: `Simulated time: ${DURATION_HINT}.` });

export const positiveDuration = () =>
  duration().superRefine((v, ctx) => {
    const r = parseDuration(v);
    if (r.ok && r.value === 0n) ctx.addIssue({ code: 'custom', message: `expected a duration greater than 0, ${DURATION_HINT}` });
  });

export const rate = () =>
  z
    .string({ error: `expected ${RATE_HINT}` })
    .meta({ pattern: RATE_RE.source })
    .superRefine((v, ctx) => {
      const r = parseRate(v);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
    })
    .meta({ description: `Bytes per unit of time: ${RATE_HINT}.` });

/** A kernel integer in [min, max] (numbers, or strings in the kernel's base-0 syntax such as `0x10`). */
export const kint = (min: bigint, max: bigint, what: string) => {
  const msg = `expected ${what}`;
  // The range lives in the refinement (one message, also for strings); the JSON Schema gets it as metadata.
  const num = z.int({ error: msg }).meta({
    ...(min >= BigInt(Number.MIN_SAFE_INTEGER) ? { minimum: Number(min) } : {}),
    ...(max <= BigInt(Number.MAX_SAFE_INTEGER) ? { maximum: Number(max) } : {}),
  });
  return z
    .union([num, z.string().meta({ pattern: KINT_RE.source })], { error: msg })
    .superRefine((v, ctx) => {
      const r = parseKernelInt(v);
      if (!r.ok || r.value < min || r.value > max) ctx.addIssue({ code: 'custom', message: msg });
    });
};

const INT_MAX = 2147483647n;
const INT_MIN = -2147483648n;
const ULONG_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------------------------
// Objects whose unknown keys are reported with a "did you mean" suggestion.

function unknownKeyMessage(key: string, allowed: readonly string[], extra?: Record<string, string>): string {
  if (extra && extra[key]) return extra[key]!;
  const s = suggest(key, allowed);
  return `unknown key "${key}"${s ? ` (did you mean "${s}"?)` : ''}; allowed: ${allowed.join(', ')}`;
}

/** Keys that are not part of `allowed` are reported (with a suggestion) and dropped before the strict parse. */
function dropUnknown(v: unknown, allowed: readonly string[], ctx: z.RefinementCtx, extra?: Record<string, string>, known?: ReadonlySet<string>): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  const set = known ?? new Set(allowed);
  // The common case, every key known: hand the object on as it is (the strict object copies it anyway).
  if (keys.every((k) => set.has(k))) return v;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const val = (v as Record<string, unknown>)[k];
    if (set.has(k)) out[k] = val;
    // Reported as unrecognized_keys (path = the key itself) so that the pipe goes on validating the known keys.
    else ctx.addIssue({ code: 'unrecognized_keys', keys: [k], path: [k], message: unknownKeyMessage(k, allowed, extra) });
  }
  return out;
}

/** A strict object whose unknown keys get "did you mean" messages. */
export function obj<S extends z.ZodRawShape>(shape: S, what: string, extra?: Record<string, string>) {
  const allowed = Object.keys(shape);
  const known = new Set(allowed);
  return z.preprocess(
    (v, ctx) => dropUnknown(v, allowed, ctx, extra, known),
    z.strictObject(shape, { error: (iss) => (iss.code === 'invalid_type' ? `expected ${what}` : undefined) }),
  );
}

/** A union of strict objects discriminated by `key`, with unknown keys reported against the chosen variant. */
type Variant<K extends string, D extends string, S extends z.ZodRawShape> = z.ZodObject<{ [P in K]: z.ZodLiteral<D> } & S, z.core.$strict>;
type Variants<K extends string, O extends Record<string, z.ZodRawShape>> = { [D in keyof O & string]: Variant<K, D, O[D]> }[keyof O & string];

function keyed<K extends string, O extends Record<string, z.ZodRawShape>>(
  key: K,
  variants: O,
  what: string,
): z.ZodPreprocess<z.ZodDiscriminatedUnion<Variants<K, O>[], K>> {
  const kinds = Object.keys(variants);
  const allowedOf = new Map(kinds.map((k) => [k, [key, ...Object.keys(variants[k]!)]] as const));
  const knownOf = new Map(kinds.map((k) => [k, new Set(allowedOf.get(k))] as const));
  const options = kinds.map((k) => z.strictObject({ [key]: z.literal(k), ...variants[k] } as { [P in K]: z.ZodLiteral<string> } & z.ZodRawShape));
  return z.preprocess(
    (v, ctx) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      const kind = (v as Record<string, unknown>)[key];
      if (typeof kind !== 'string' || !kinds.includes(kind)) {
        const s = typeof kind === 'string' ? suggest(kind, kinds) : undefined;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message:
            kind === undefined
              ? `missing "${key}": expected one of ${kinds.join(', ')}`
              : `unknown ${what} ${JSON.stringify(kind)}${s ? ` (did you mean "${s}"?)` : ''}; expected one of ${kinds.join(', ')}`,
          input: kind,
        });
        return z.NEVER;
      }
      return dropUnknown(v, allowedOf.get(kind)!, ctx, undefined, knownOf.get(kind));
    },
    z.discriminatedUnion(key, options as unknown as [z.ZodObject, ...z.ZodObject[]], { error: `expected ${what}` }),
  ) as unknown as z.ZodPreprocess<z.ZodDiscriminatedUnion<Variants<K, O>[], K>>;
}

// ---------------------------------------------------------------------------------------------------------------
// Machine and sysctls

/**
 * The sysctls a scenario may set, under their real names, with the kernel's ranges. Boot-computed defaults
 * (reserves, min_free_kbytes) are left to the engine when absent.
 */
export const SYSCTLS = {
  'vm.overcommit_memory': kint(0n, 2n, 'an integer 0..2 (0 heuristic, the default; 1 always; 2 strict)').meta({
    description: '0 OVERCOMMIT_GUESS (default), 1 OVERCOMMIT_ALWAYS, 2 OVERCOMMIT_NEVER. mm/util.c: proc_dointvec_minmax 0..2.',
  }),
  'vm.overcommit_ratio': kint(INT_MIN, INT_MAX, 'an integer (percent of RAM, default 50; an int with no range check)').meta({
    description: 'Percent of RAM in CommitLimit when vm.overcommit_kbytes is 0. Default 50. mm/util.c: plain int.',
  }),
  'vm.overcommit_kbytes': kint(0n, ULONG_MAX, 'a non-negative integer of kB (default 0)').meta({
    description: 'CommitLimit RAM part in kB; replaces overcommit_ratio when non-zero. Default 0. mm/util.c: unsigned long.',
  }),
  'vm.admin_reserve_kbytes': kint(0n, ULONG_MAX, 'a non-negative integer of kB').meta({
    description: 'Mode-2 reserve for non-CAP_SYS_ADMIN callers. Default computed at boot: min(free_kb/32, 8192). mm/util.c.',
  }),
  'vm.user_reserve_kbytes': kint(0n, ULONG_MAX, 'a non-negative integer of kB').meta({
    description: 'Mode-2 per-process reserve cap. Default computed at boot: min(free_kb/32, 131072). mm/util.c.',
  }),
  'vm.panic_on_oom': kint(0n, 2n, 'an integer 0..2 (0 kill, 1 panic on global OOM, 2 panic on every OOM)').meta({
    description: '0 never panic (default), 1 panic on global OOM, 2 panic on every OOM incl. memcg. mm/oom_kill.c 0..2.',
  }),
  'vm.oom_kill_allocating_task': kint(INT_MIN, INT_MAX, 'an integer (0 off, the default; any other value on)').meta({
    description: 'Non-zero: a global OOM kills the allocating task when it is killable. Default 0. mm/oom_kill.c.',
  }),
  'vm.oom_dump_tasks': kint(INT_MIN, INT_MAX, 'an integer (1 on, the default; 0 off)').meta({
    description: 'Non-zero: the OOM report includes the "Tasks state" table. Default 1. mm/oom_kill.c.',
  }),
  'vm.swappiness': kint(0n, 200n, 'an integer 0..200 (default 60)').meta({
    description: 'Relative IO cost of anon vs file reclaim, 0..200 (since v5.8), default 60. mm/vmscan.c.',
  }),
  'vm.min_free_kbytes': kint(0n, INT_MAX, 'an integer 0..2147483647 of kB').meta({
    description: 'Min watermark in kB. Default computed at boot: clamp(isqrt(lowmem_kb*16), 128, 262144). mm/page_alloc.c.',
  }),
  'vm.watermark_scale_factor': kint(1n, 3000n, 'an integer 1..3000 (default 10)').meta({
    description: 'Watermark spacing in 1/10000 of memory, 1..3000, default 10. mm/page_alloc.c.',
  }),
} as const;
export type SysctlName = keyof typeof SYSCTLS;
export const SYSCTL_NAMES = Object.keys(SYSCTLS) as SysctlName[];

const NOT_A_SYSCTL: Record<string, string> = {
  'vm.oom_kill':
    'vm.oom_kill does not exist in mainline Linux (the seed article\'s claim; dossier §9): use machine.oom_killer_disabled (a simulation switch modelling oom_killer_disable()), oom_score_adj: -1000, or memory.oom_control',
  'vm.oom-kill':
    'vm.oom-kill was a RHEL 4 vendor patch, not a mainline sysctl (dossier §9): use machine.oom_killer_disabled (a simulation switch), oom_score_adj: -1000, or memory.oom_control',
};

/** Every key optional (sysctl and cgroup-file mappings set only what they name). */
function optionalShape<S extends Record<string, z.ZodType>>(shape: S): { [K in keyof S]: z.ZodOptional<S[K]> } {
  const out: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(shape)) out[k] = v.optional();
  return out as { [K in keyof S]: z.ZodOptional<S[K]> };
}

export const sysctls = () => obj(optionalShape(SYSCTLS), 'a mapping of sysctl names to values', NOT_A_SYSCTL);

export const swapDevice = obj(
  {
    size: positiveSize().meta({ description: 'Device size.' }),
    type: z
      .enum(['disk', 'ssd', 'zram'], { error: 'expected one of disk, ssd, zram' })
      .default('ssd')
      .meta({ description: 'Device model (latency; zram also consumes RAM). Default ssd.' }),
    priority: kint(0n, 32767n, 'an integer 0..32767 (swapon -p; omit for the kernel default -2, -3, ...)')
      .optional()
      .meta({ description: 'swapon priority 0..32767. Omitted: the kernel assigns -2, -3, ... in order (mm/swapfile.c).' }),
    compression_ratio: z
      .number({ error: 'expected a number >= 1 (zram only; default 3)' })
      .min(1, { error: 'expected a number >= 1 (zram only; default 3)' })
      .optional()
      .meta({ description: 'zram only: uncompressed/compressed size. Default 3.' }),
  },
  'a swap device {size, type, priority, compression_ratio}',
);

export const machine = obj(
  {
    ram: positiveSize().meta({ description: 'Managed RAM (MemTotal).' }),
    swap: z.array(swapDevice, { error: 'expected a list of swap devices' }).default([]).meta({ description: 'Swap devices. Default none.' }),
    page_size: z.literal(4096, { error: 'expected 4096 (the only page size modelled)' }).default(4096),
    sysctl: sysctls().default({}).meta({ description: 'Sysctls under their real names.' }),
    oom_killer_disabled: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .meta({
        description:
          'SIMULATION SWITCH, not a sysctl: the kernel\'s oom_killer_disable() state (used during suspend). Allocations that would need the OOM killer fail instead.',
      }),
  },
  'a machine {ram, swap, page_size, sysctl}',
);

// ---------------------------------------------------------------------------------------------------------------
// Cgroups

const limitV1 = () =>
  z
    .union([z.int().meta({ minimum: -1 }), z.string().meta({ pattern: /^\s*(-1|(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[KMGTPEkmgtpe]?)\s*$/.source })], {
      error: `expected ${limitHint('v1')}`,
    })
    .superRefine((v, ctx) => checkLimit(v, 'v1', ctx));
const limitV2 = () =>
  z
    .union([z.int().meta({ minimum: 0 }), z.string().meta({ pattern: /^\s*(max|(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[KMGTPEkmgtpe]?)\s*$/.source })], {
      error: `expected ${limitHint('v2')}`,
    })
    .superRefine((v, ctx) => checkLimit(v, 'v2', ctx));
function checkLimit(v: string | number, version: CgroupVersion, ctx: z.RefinementCtx): void {
  const r = parseCgroupLimit(v, version);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
}
const zeroOne = (what: string) => kint(0n, 1n, what);

export const CGROUP_V1_FILES = {
  'memory.limit_in_bytes': limitV1().meta({ description: 'v1 memory limit; floored to pages; -1 unlimited.' }),
  'memory.memsw.limit_in_bytes': limitV1().meta({ description: 'v1 memory+swap limit; must be >= memory.limit_in_bytes (EINVAL).' }),
  'memory.soft_limit_in_bytes': limitV1().meta({ description: 'v1 soft limit: reclaim priority under global pressure.' }),
  'memory.oom_control': z
    .union([zeroOne('0 or 1 (oom_kill_disable)'), obj({ oom_kill_disable: zeroOne('0 or 1') }, 'a mapping {oom_kill_disable: 0|1}')], {
      error: 'expected 0 or 1, or {oom_kill_disable: 0|1}',
    })
    .meta({ description: 'v1: writing 1 sets oom_kill_disable (tasks sleep at the limit instead of being killed).' }),
  'memory.swappiness': kint(0n, 200n, 'an integer 0..200').meta({ description: 'v1 per-memcg swappiness 0..200.' }),
  'memory.kmem.limit_in_bytes': limitV1().meta({ description: 'v1: accepted and has no effect (deprecated).' }),
  'memory.use_hierarchy': z.literal(1, { error: 'expected 1 (use_hierarchy is always 1; writing 0 gives EINVAL)' }).meta({
    description: 'Always 1; writing 0 gives EINVAL.',
  }),
} as const;

export const CGROUP_V2_FILES = {
  'memory.max': limitV2().meta({ description: 'v2 hard limit; floored to pages; max unlimited (default).' }),
  'memory.high': limitV2().meta({ description: 'v2 throttle limit (default max).' }),
  'memory.low': limitV2().meta({ description: 'v2 best-effort protection (default 0).' }),
  'memory.min': limitV2().meta({ description: 'v2 hard protection (default 0).' }),
  'memory.swap.max': limitV2().meta({ description: 'v2 swap limit (default max).' }),
  'memory.oom.group': zeroOne('0 or 1').meta({ description: 'v2: 1 kills the whole group on an OOM.' }),
} as const;

export type CgroupV1File = keyof typeof CGROUP_V1_FILES;
export type CgroupV2File = keyof typeof CGROUP_V2_FILES;
export type CgroupFile = CgroupV1File | CgroupV2File;

/** The counterpart to suggest when a file of the other version is used. */
export const FILE_COUNTERPART: Record<string, string> = {
  'memory.limit_in_bytes': 'memory.max',
  'memory.memsw.limit_in_bytes': 'memory.swap.max (note: v2 limits swap alone, not memory+swap)',
  'memory.soft_limit_in_bytes': 'memory.low or memory.high (v2 has no soft limit)',
  'memory.oom_control': 'nothing: v2 has no oom_kill_disable (use oom_score_adj -1000 or memory.oom.group)',
  'memory.swappiness': 'the global vm.swappiness (v2 has no per-cgroup swappiness)',
  'memory.kmem.limit_in_bytes': 'nothing: kernel memory is part of memory.max in v2',
  'memory.use_hierarchy': 'nothing: v2 is always hierarchical',
  'memory.max': 'memory.limit_in_bytes',
  'memory.high': 'memory.soft_limit_in_bytes (closest, not the same) or nothing',
  'memory.low': 'memory.soft_limit_in_bytes (closest, not the same)',
  'memory.min': 'nothing: v1 has no hard protection',
  'memory.swap.max': 'memory.memsw.limit_in_bytes (note: v1 limits memory+swap)',
  'memory.oom.group': 'nothing: v1 has no group kill',
};

export const cgroupFiles = () => obj(optionalShape({ ...CGROUP_V1_FILES, ...CGROUP_V2_FILES }), 'a mapping of cgroup file names to values');

export const cgroups = obj(
  {
    version: z.enum(['v1', 'v2'], { error: 'expected v1 or v2' }).default('v2').meta({ description: 'Cgroup version. Default v2.' }),
    groups: z
      .record(
        z.string().regex(/^\/([A-Za-z0-9_.:@-]+(\/[A-Za-z0-9_.:@-]+)*)?$/, {
          error: 'expected a cgroup path like /web or /web/api (absolute, no trailing slash)',
        }),
        cgroupFiles(),
        { error: (iss) => (iss.code === 'invalid_type' ? 'expected a mapping of cgroup paths to files' : undefined) },
      )
      .default({})
      .meta({ description: 'Cgroups by absolute path, with their files. Ancestors are created implicitly (mkdir -p).' }),
  },
  'a cgroup tree {version, groups}',
);

// ---------------------------------------------------------------------------------------------------------------
// Workloads

/** Workload kinds, their parameters and defaults. docs/scenario-format.md documents each. */
export const WORKLOADS = {
  idle: {},
  steady: {
    working_set: size().meta({ description: 'Anonymous memory written and kept.' }),
    ramp: duration().default('0').meta({ description: 'Time to reach the working set (linear). Default 0.' }),
  },
  leak: {
    rate: rate().meta({ description: 'Growth of never-freed anonymous memory.' }),
    initial: size().default(0).meta({ description: 'Anonymous memory at start. Default 0.' }),
    limit: size().optional().meta({ description: 'Stop growing at this size. Default: grow forever.' }),
  },
  spike: {
    baseline: size().default(0).meta({ description: 'Memory held outside the spike. Default 0.' }),
    size: positiveSize().meta({ description: 'Extra memory allocated and written during the spike.' }),
    at: duration().meta({ description: 'Spike start, relative to process start.' }),
    duration: positiveDuration().default('1s').meta({ description: 'How long the spike memory is held. Default 1s.' }),
  },
  periodic: {
    baseline: size().default(0).meta({ description: 'Memory held all the time. Default 0.' }),
    size: positiveSize().meta({ description: 'Extra memory held during the busy part of each period.' }),
    period: positiveDuration().meta({ description: 'Cycle length.' }),
    duty: z
      .number({ error: 'expected a number in (0, 1]' })
      .gt(0, { error: 'expected a number in (0, 1]' })
      .max(1, { error: 'expected a number in (0, 1]' })
      .default(0.5)
      .meta({ description: 'Fraction of each period the extra memory is held. Default 0.5.' }),
  },
  file_scan: {
    file_size: positiveSize().meta({ description: 'Size of the file read sequentially (page cache).' }),
    rate: rate().default('100M/s').meta({ description: 'Read throughput. Default 100M/s.' }),
    loops: z.int({ error: 'expected an integer >= 0 (0 = forever)' }).min(0, { error: 'expected an integer >= 0 (0 = forever)' }).default(0).meta({ description: 'Passes over the file; 0 = forever. Default 0.' }),
    mapped: z.boolean({ error: 'expected true or false' }).default(false).meta({ description: 'mmap the file (mapped file pages) instead of read(2). Default false.' }),
  },
  zipf: {
    working_set: positiveSize().meta({ description: 'Anonymous memory the touches are spread over.' }),
    skew: z.number({ error: 'expected a number > 0 (zipf exponent, default 1.0)' }).gt(0, { error: 'expected a number > 0 (zipf exponent, default 1.0)' }).default(1.0).meta({ description: 'Zipf exponent s: page k is touched with weight 1/k^s. Default 1.0.' }),
    touch_rate: z.int({ error: 'expected a positive integer (page touches per second)' }).min(1, { error: 'expected a positive integer (page touches per second)' }).default(100000).meta({ description: 'Page touches per second. Default 100000.' }),
    write_fraction: z.number({ error: 'expected a number in [0, 1]' }).min(0, { error: 'expected a number in [0, 1]' }).max(1, { error: 'expected a number in [0, 1]' }).default(0.3).meta({ description: 'Share of touches that write. Default 0.3.' }),
  },
  fork_exec: {
    interval: positiveDuration().default('1s').meta({ description: 'Time between fork+exec rounds. Default 1s.' }),
    child_comm: z.string({ error: 'expected a command name' }).min(1).max(15, { error: 'expected at most 15 characters (TASK_COMM_LEN)' }).default('sh').meta({ description: 'The exec\'d program. Default sh.' }),
    child_size: size().default('8M').meta({ description: 'Memory the exec\'d child writes. Default 8M.' }),
    child_lifetime: duration().default('500ms').meta({ description: 'How long each child lives. Default 500ms.' }),
  },
  fork_bomb: {
    interval: positiveDuration().default('10ms').meta({ description: 'Time between forks of each process. Default 10ms.' }),
    child_size: size().default('1M').meta({ description: 'Memory each child writes. Default 1M.' }),
    max_tasks: z.int({ error: 'expected a positive integer' }).min(1, { error: 'expected a positive integer' }).optional().meta({ description: 'Stop at this many tasks. Default: until fork fails or OOM.' }),
  },
  jvm: {
    reserve: positiveSize().meta({ description: 'Heap reservation (-Xmx): PROT_NONE + MAP_NORESERVE, no commit charge.' }),
    initial: size().default(0).meta({ description: 'Heap committed (mmap RW, charged to Committed_AS) and touched at start (-Xms). Default 0.' }),
    growth: rate().default('10M/s').meta({ description: 'Rate at which the heap is committed and touched up to reserve. Default 10M/s.' }),
    gc_every: duration().default('0').meta({ description: 'Period of a GC that frees young garbage (RSS drops back to the live set, commitment stays). 0 = never. Default 0.' }),
    live_fraction: z.number({ error: 'expected a number in (0, 1]' }).gt(0, { error: 'expected a number in (0, 1]' }).max(1, { error: 'expected a number in (0, 1]' }).default(1).meta({ description: 'Share of the heap still live after a GC. Default 1 (no garbage).' }),
  },
  rss_curve: {
    points: z
      .array(obj({ at: duration().meta({ description: 'Time since the process started.' }), rss: size().meta({ description: 'Anonymous memory written and held at that time.' }) }, 'a point {at, rss}'), { error: 'expected a list of points {at, rss}' })
      .min(1, { error: 'expected at least one point' })
      .meta({ description: 'The resident-memory curve, in time order: linear between points, the last held after it (oomsim replay --simulate makes these from a recording).' }),
  },
} as const;
export type WorkloadKind = keyof typeof WORKLOADS;
export const WORKLOAD_KINDS = Object.keys(WORKLOADS) as WorkloadKind[];

export const workload = keyed('kind', WORKLOADS, 'workload kind').meta({ description: 'What the process does with memory.' });

// ---------------------------------------------------------------------------------------------------------------
// Processes

export const supervisor = keyed(
  'kind',
  {
    systemd: {
      restart: z
        .enum(['no', 'on-success', 'on-failure', 'on-abnormal', 'on-abort', 'always'], {
          error: 'expected one of no, on-success, on-failure, on-abnormal, on-abort, always',
        })
        .default('on-failure')
        .meta({ description: 'systemd Restart=. An OOM kill (SIGKILL) counts as a failure. Default on-failure.' }),
      restart_sec: duration().default('100ms').meta({ description: 'systemd RestartSec=. Default 100ms (systemd\'s default).' }),
      start_limit_burst: z.int({ error: 'expected an integer >= 0' }).min(0, { error: 'expected an integer >= 0' }).default(5).meta({ description: 'StartLimitBurst=. Default 5.' }),
      start_limit_interval: duration().default('10s').meta({ description: 'StartLimitIntervalSec=. Default 10s.' }),
    },
    kubernetes: {
      restart_policy: z
        .enum(['Always', 'OnFailure', 'Never'], { error: 'expected one of Always, OnFailure, Never' })
        .default('Always')
        .meta({ description: 'Pod restartPolicy. Default Always.' }),
      backoff_initial: duration().default('10s').meta({ description: 'CrashLoopBackOff first delay. Default 10s.' }),
      backoff_max: duration().default('5m').meta({ description: 'CrashLoopBackOff cap. Default 5m.' }),
    },
  },
  'supervisor kind',
).meta({ description: 'Restart the process when it dies (self-healing).' });

const comm = () =>
  z
    .string({ error: 'expected a command name (1..15 characters)' })
    .min(1, { error: 'expected a command name (1..15 characters)' })
    .max(15, { error: 'expected at most 15 characters (TASK_COMM_LEN is 16 with the NUL)' });
const pid = () => z.int({ error: 'expected a pid 1..4194304 (PID_MAX_LIMIT)' }).min(1, { error: 'expected a pid 1..4194304 (PID_MAX_LIMIT)' }).max(4194304, { error: 'expected a pid 1..4194304 (PID_MAX_LIMIT)' });
const adj = () => kint(-1000n, 1000n, 'an integer -1000..1000 (OOM_SCORE_ADJ_MIN..MAX)');
/** A process reference in actions: its pid, or its comm when that is unique. */
const target = () =>
  z.union([pid(), comm()], { error: 'expected a pid or the comm of a declared process' }).meta({
    description: 'A process: its pid, or its comm when that is unique.',
  });

export const process_ = obj(
  {
    comm: comm().meta({ description: 'Command name (task->comm, at most 15 characters).' }),
    pid: pid().optional().meta({ description: 'Fixed pid. Default: assigned in order from 1000.' }),
    uid: z.int({ error: 'expected a uid 0..4294967294' }).min(0, { error: 'expected a uid 0..4294967294' }).max(4294967294, { error: 'expected a uid 0..4294967294' }).default(1000).meta({ description: 'Real uid. Default 1000.' }),
    cap_sys_admin: z.boolean({ error: 'expected true or false' }).optional().meta({ description: 'Has CAP_SYS_ADMIN (skips the mode-2 admin reserve). Default: uid == 0.' }),
    cgroup: z.string({ error: 'expected a cgroup path like /web' }).default('/').meta({ description: 'Cgroup path. Default /.' }),
    oom_score_adj: adj().default(0).meta({ description: '-1000..1000; -1000 makes it unkillable. Default 0.' }),
    start: duration().default('0').meta({ description: 'Start time. Default 0.' }),
    workload: workload.default({ kind: 'idle' }),
    supervisor: supervisor.optional(),
  },
  'a process {comm, pid, uid, cgroup, oom_score_adj, workload}',
);

// ---------------------------------------------------------------------------------------------------------------
// Actions

export const ACTIONS = {
  fork: {
    at: duration(),
    target: target(),
    child: obj(
      {
        pid: pid().optional(),
        comm: comm().optional().meta({ description: 'Default: the parent\'s comm.' }),
        workload: workload.optional().meta({ description: 'What the child does after fork. Default: idle (holds the COW copy).' }),
      },
      'a child {pid, comm, workload}',
    )
      .default({})
      .meta({ description: 'The child. It inherits oom_score_adj, cgroup and (COW) memory.' }),
  },
  exec: {
    at: duration(),
    target: target(),
    comm: comm().meta({ description: 'The new comm.' }),
    workload: workload.optional().meta({ description: 'The new program\'s workload. Default idle.' }),
  },
  kill: {
    at: duration(),
    target: target(),
    signal: z.enum(['SIGKILL', 'SIGTERM'], { error: 'expected SIGKILL or SIGTERM' }).default('SIGKILL'),
  },
  exit: { at: duration(), target: target(), code: z.int({ error: 'expected an exit code 0..255' }).min(0, { error: 'expected an exit code 0..255' }).max(255, { error: 'expected an exit code 0..255' }).default(0) },
  set_adj: { at: duration(), target: target(), oom_score_adj: adj() },
  sysctl: { at: duration(), set: sysctls().meta({ description: 'Sysctls to write, in order.' }) },
  cgroup_write: {
    at: duration(),
    cgroup: z.string({ error: 'expected a cgroup path like /web' }),
    set: cgroupFiles().meta({ description: 'Files to write, in order.' }),
  },
} as const;
export type ActionKind = keyof typeof ACTIONS;
export const action = keyed('action', ACTIONS, 'action');

// ---------------------------------------------------------------------------------------------------------------
// Scenario

const scenarioShape = {
  $schema: z.string().optional().meta({ description: 'Editor hint: the JSON Schema URL or path.' }),
  name: z.string({ error: 'expected a name' }).min(1).optional().meta({ description: 'Short name. Default: the file name.' }),
  description: z.string({ error: 'expected text' }).optional(),
  seed: z.int({ error: 'expected an integer seed 0..4294967295' }).min(0, { error: 'expected an integer seed 0..4294967295' }).max(4294967295, { error: 'expected an integer seed 0..4294967295' }).default(1).meta({ description: 'PRNG seed. Default 1.' }),
  duration: positiveDuration().default('60s').meta({ description: 'Simulated time to run. Default 60s.' }),
  machine,
  cgroups: cgroups.optional(),
  processes: z.array(process_, { error: 'expected a list of processes' }).default([]),
  actions: z.array(action, { error: 'expected a list of actions' }).default([]),
  capture: captureSection.optional().meta({ description: 'What `oomsim capture` read from a live machine (docs/capture-format.md). run/explain/compare ignore it; predict reads it.' }),
};

const scenarioObject = obj(scenarioShape, 'a scenario {name, machine, cgroups, processes, actions, duration, seed}');

export const ScenarioSchema = scenarioObject.superRefine((s, ctx) => crossCheck(s as unknown as Record<string, unknown>, ctx), {
  when: () => true,
});

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.output<typeof ScenarioSchema>;
export type WorkloadInput = z.input<typeof workload>;
export type Workload = z.output<typeof workload>;
export type ActionInput = z.input<typeof action>;
export type Action = z.output<typeof action>;
export type ProcessInput = z.input<typeof process_>;
export type Process = z.output<typeof process_>;

/** A typed identity for TS users: `export default defineScenario({ machine: { ram: '7G' }, ... })`. */
export function defineScenario<const T extends ScenarioInput>(s: T): T {
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-field checks. They run even when other parts failed, so they check types defensively.

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function crossCheck(s: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (!isObj(s)) return;
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const machine = isObj(s.machine) ? s.machine : {};
  const cg = isObj(s.cgroups) ? s.cgroups : undefined;
  const version: CgroupVersion = cg?.version === 'v1' ? 'v1' : 'v2';
  const groups = cg && isObj(cg.groups) ? cg.groups : {};

  // sysctl: ratio and kbytes are mutually exclusive at boot.
  const sc = isObj(machine.sysctl) ? machine.sysctl : {};
  if ('vm.overcommit_ratio' in sc && 'vm.overcommit_kbytes' in sc) {
    issue(['machine', 'sysctl', 'vm.overcommit_kbytes'], 'set only one of vm.overcommit_ratio and vm.overcommit_kbytes: writing either resets the other (mm/util.c overcommit_*_handler)');
  }

  // Bounds of the engine (limits.ts): RAM 1..MAX_RAM_PAGES, total swap, the number of processes.
  if (typeof machine.ram === 'string' || typeof machine.ram === 'number') {
    const m = ramLimit(machine.ram);
    if (m) issue(['machine', 'ram'], m);
  }
  if (Array.isArray(machine.swap)) {
    const sizes = machine.swap.map((d) => (isObj(d) ? d.size : undefined));
    if (sizes.every((x): x is string | number => typeof x === 'string' || typeof x === 'number')) {
      const m = swapLimit(sizes);
      if (m) issue(['machine', 'swap'], m);
    }
  }
  if (Array.isArray(s.processes) && s.processes.length > MAX_PROCESSES) {
    issue(['processes'], `${s.processes.length} processes; the limit is ${MAX_PROCESSES}`);
  }

  // swap: compression ratio only on zram.
  if (Array.isArray(machine.swap)) {
    machine.swap.forEach((d, i) => {
      if (isObj(d) && d.compression_ratio !== undefined && d.type !== 'zram') issue(['machine', 'swap', i, 'compression_ratio'], `compression_ratio applies to zram devices only (this one is ${String(d.type ?? 'ssd')})`);
    });
  }

  // cgroups: files of the right version; root has no limit files; memsw >= limit.
  const known = new Set<string>(['/']);
  for (const p of Object.keys(groups)) {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) known.add('/' + parts.slice(0, i).join('/'));
  }
  const checkFiles = (files: Record<string, unknown>, path: string, at: (string | number)[]) => {
    for (const f of Object.keys(files)) {
      const isV1 = f in CGROUP_V1_FILES;
      const isV2 = f in CGROUP_V2_FILES;
      if ((version === 'v2' && isV1) || (version === 'v1' && isV2)) {
        issue([...at, f], `${f} is a cgroup ${isV1 ? 'v1' : 'v2'} file but cgroups.version is ${version}; the ${version} counterpart is ${FILE_COUNTERPART[f]}`);
      } else if (path === '/' && (isV1 || isV2)) {
        issue([...at, f], `the root cgroup has no writable ${f} (${version === 'v1' ? 'the kernel answers EINVAL' : 'v2 has no memory.* limit files on the root'}); put the processes in a child cgroup`);
      }
    }
    if (version === 'v1') {
      const lim = files['memory.limit_in_bytes'];
      const msw = files['memory.memsw.limit_in_bytes'];
      if (lim !== undefined && msw !== undefined) {
        const l = parseCgroupLimit(lim as string | number, 'v1');
        const m = parseCgroupLimit(msw as string | number, 'v1');
        if (l.ok && m.ok && m.pages < l.pages) {
          issue([...at, 'memory.memsw.limit_in_bytes'], 'memory.memsw.limit_in_bytes must be >= memory.limit_in_bytes (the kernel answers EINVAL; mem_cgroup_resize_max)');
        }
      }
    }
  };
  for (const [p, files] of Object.entries(groups)) if (isObj(files)) checkFiles(files, p, ['cgroups', 'groups', p]);

  // processes: cgroups exist, pids unique, cap default.
  const pids = new Map<number, string>();
  const comms = new Map<string, number>();
  const procs = Array.isArray(s.processes) ? s.processes : [];
  procs.forEach((p, i) => {
    if (!isObj(p)) return;
    if (typeof p.cgroup === 'string' && p.cgroup !== '/' && !known.has(p.cgroup)) {
      const sug = suggest(p.cgroup, [...known]);
      issue(['processes', i, 'cgroup'], `cgroup ${p.cgroup} is not declared under cgroups.groups${sug ? ` (did you mean "${sug}"?)` : ''}; declared: ${[...known].join(', ')}`);
    }
    if (typeof p.pid === 'number') {
      if (pids.has(p.pid)) issue(['processes', i, 'pid'], `pid ${p.pid} is already used by ${pids.get(p.pid)}`);
      else pids.set(p.pid, `processes[${i}]`);
    }
    if (typeof p.comm === 'string') comms.set(p.comm, (comms.get(p.comm) ?? 0) + 1);
  });

  // actions: targets exist; times within the duration; cgroup writes name existing groups and right-version files.
  const acts = Array.isArray(s.actions) ? s.actions : [];
  const dur = typeof s.duration === 'string' || typeof s.duration === 'number' ? parseDuration(s.duration) : undefined;
  acts.forEach((a, i) => {
    if (!isObj(a)) return;
    if (isObj(a.child)) {
      const c = a.child;
      if (typeof c.pid === 'number') {
        if (pids.has(c.pid)) issue(['actions', i, 'child', 'pid'], `pid ${c.pid} is already used by ${pids.get(c.pid)}`);
        else pids.set(c.pid, `actions[${i}].child`);
      }
      if (typeof c.comm === 'string') comms.set(c.comm, (comms.get(c.comm) ?? 0) + 1);
    }
    if (a.action === 'exec' && typeof a.comm === 'string') comms.set(a.comm, (comms.get(a.comm) ?? 0) + 1);
  });
  acts.forEach((a, i) => {
    if (!isObj(a)) return;
    if (dur?.ok && (typeof a.at === 'string' || typeof a.at === 'number')) {
      const at = parseDuration(a.at);
      if (at.ok && at.value > dur.value) issue(['actions', i, 'at'], `action time ${String(a.at)} is after the scenario duration ${String(s.duration)}`);
    }
    const t = a.target;
    if (typeof t === 'number' && !pids.has(t)) {
      issue(['actions', i, 'target'], `no process has pid ${t}; pids: ${[...pids.keys()].join(', ') || 'none fixed (give processes a pid)'}`);
    } else if (typeof t === 'string') {
      const n = comms.get(t) ?? 0;
      if (n === 0) {
        const sug = suggest(t, [...comms.keys()]);
        issue(['actions', i, 'target'], `no process has comm "${t}"${sug ? ` (did you mean "${sug}"?)` : ''}; comms: ${[...comms.keys()].join(', ') || 'none'}`);
      } else if (n > 1) {
        issue(['actions', i, 'target'], `comm "${t}" names ${n} processes; give them pids and target the pid`);
      }
    }
    if (a.action === 'cgroup_write' && typeof a.cgroup === 'string') {
      if (!known.has(a.cgroup)) {
        const sug = suggest(a.cgroup, [...known]);
        issue(['actions', i, 'cgroup'], `cgroup ${a.cgroup} is not declared under cgroups.groups${sug ? ` (did you mean "${sug}"?)` : ''}`);
      } else if (isObj(a.set)) {
        for (const f of Object.keys(a.set)) {
          const isV1 = f in CGROUP_V1_FILES;
          const isV2 = f in CGROUP_V2_FILES;
          if ((version === 'v2' && isV1) || (version === 'v1' && isV2)) {
            issue(['actions', i, 'set', f], `${f} is a cgroup ${isV1 ? 'v1' : 'v2'} file but cgroups.version is ${version}; the ${version} counterpart is ${FILE_COUNTERPART[f]}`);
          }
        }
      }
    }
  });
}
