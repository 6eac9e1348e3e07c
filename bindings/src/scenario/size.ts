/**
 * Sizes, rates and durations as admins write them, parsed the way the kernel parses them.
 *
 * - `memparse` restates lib/cmdline.c:memparse: `simple_strtoull(s, &end, 0)` (base 0: `0x` hex when a hex digit
 *   follows, a leading `0` octal, else decimal; no sign, no leading whitespace; silent wrap-around modulo 2^64 on
 *   overflow), then ONE optional suffix K/M/G/T/P/E (either case), each a shift by 10 bits (so `1E` = 2^60, and
 *   `16E` wraps to 0 exactly as the kernel's u64 does). It returns where parsing stopped; callers decide what
 *   trailing characters mean, as the kernel's callers do.
 * - `pageCounterMemparse` restates mm/page_counter.c:page_counter_memparse as its callers use it
 *   (mm/memcontrol-v1.c:mem_cgroup_write and the v2 `memory.*` writers strip surrounding whitespace first): the exact
 *   string given as "max" (`-1` in v1, `max` in v2) means PAGE_COUNTER_MAX; otherwise memparse must consume the whole
 *   string (else EINVAL), bytes are floored to pages and clamped at PAGE_COUNTER_MAX. Measured on 6.18 (v1):
 *   `1k` reads back 0, `-1` or any huge value is unlimited, `max`, `-2`, `1.5M`, `abc` are EINVAL, an empty write is
 *   a no-op (measured-rules.md "Memory cgroup v1"; dossier §3.1).
 *
 * Values that can exceed 2^53 are BigInt.
 */

export const PAGE_SIZE = 4096n;
export const PAGE_SHIFT = 12n;
/** LONG_MAX / PAGE_SIZE on 64-bit (dossier §0). */
export const PAGE_COUNTER_MAX = 2251799813685247n;
const U64 = (1n << 64n) - 1n;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function isDigitIn(c: string | undefined, base: number): number {
  if (c === undefined) return -1;
  const code = c.charCodeAt(0);
  let v: number;
  if (code >= 48 && code <= 57) v = code - 48;
  else if ((code | 0x20) >= 97 && (code | 0x20) <= 102) v = (code | 0x20) - 97 + 10;
  else return -1;
  return v < base ? v : -1;
}

/**
 * lib/vsprintf.c:simple_strtoull with base 0 (via lib/kstrtox.c:_parse_integer_fixup_radix and
 * _parse_integer_limit): no sign and no whitespace are accepted; overflow wraps modulo 2^64 (the overflow flag is
 * ignored by simple_strtoull). `end` is the index of the first character not consumed.
 */
export function simpleStrtoull(s: string, start = 0): { value: bigint; end: number } {
  let i = start;
  let base = 10;
  if (s[i] === '0') {
    if ((s[i + 1] === 'x' || s[i + 1] === 'X') && isDigitIn(s[i + 2], 16) >= 0) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  let v = 0n;
  const b = BigInt(base);
  for (;;) {
    const d = isDigitIn(s[i], base);
    if (d < 0) break;
    v = (v * b + BigInt(d)) & U64;
    i++;
  }
  return { value: v, end: i };
}

const SUFFIX_SHIFT: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };

/** lib/cmdline.c:memparse: a number (base 0) and at most one binary suffix. `end` is where parsing stopped. */
export function memparse(s: string): { value: bigint; end: number } {
  const r = simpleStrtoull(s);
  const c = s[r.end];
  const shift = c === undefined ? undefined : SUFFIX_SHIFT[c.toLowerCase()];
  if (shift === undefined) return r;
  return { value: (r.value << shift) & U64, end: r.end + 1 };
}

/** The kernel's strstrip: surrounding whitespace (isspace: space, \t \n \v \f \r) removed. */
export function strstrip(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

export const SIZE_HINT = 'a size like 4G, 512M, 100k, 0x1000 or a plain number of bytes';

/**
 * A size in bytes as a scenario writes it: a non-negative integer (bytes) or a string that memparse consumes
 * entirely (after strstrip). Trailing garbage (`4GB`, `1.5M`, `08`) is an error here, as it is for a cgroup write.
 */
export function parseSize(input: string | number | bigint): Parsed<bigint> {
  if (typeof input === 'bigint') return input >= 0n ? { ok: true, value: input } : { ok: false, error: `expected ${SIZE_HINT}` };
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) return { ok: false, error: `expected ${SIZE_HINT}` };
    return { ok: true, value: BigInt(input) };
  }
  const s = strstrip(input);
  if (s === '') return { ok: false, error: `expected ${SIZE_HINT}` };
  const r = memparse(s);
  if (r.end !== s.length) {
    const hint = /^\d+\.\d/.test(s) ? ' (memparse takes integers only: write 1536M, not 1.5G)' : /^[0-9]+[kmgtpe]i?b$/i.test(s) ? ' (write 4G, not 4GB/4GiB: the suffix is a single letter)' : '';
    return { ok: false, error: `expected ${SIZE_HINT}${hint}` };
  }
  return { ok: true, value: r.value };
}

export type Errno = 'EINVAL';

export type PageCounterParse =
  | { ok: true; pages: bigint; unlimited: boolean }
  | { ok: false; errno: Errno; error: string };

/**
 * mm/page_counter.c:page_counter_memparse(buf, max) after the caller's strstrip. `max` is the literal that means
 * unlimited: "-1" for cgroup v1 files, "max" for v2 files. Returns pages (floored, clamped at PAGE_COUNTER_MAX).
 * An empty string parses as 0 pages here (what memparse returns); the v1 interface treats an empty write as a
 * no-op before it gets here, see `parseCgroupLimit`.
 */
export function pageCounterMemparse(buf: string, max: '-1' | 'max'): PageCounterParse {
  const s = strstrip(buf);
  if (s === max) return { ok: true, pages: PAGE_COUNTER_MAX, unlimited: true };
  const r = memparse(s);
  if (r.end !== s.length) return { ok: false, errno: 'EINVAL', error: `EINVAL: not ${max === '-1' ? 'a v1' : 'a v2'} limit` };
  let pages = r.value / PAGE_SIZE;
  if (pages > PAGE_COUNTER_MAX) pages = PAGE_COUNTER_MAX;
  return { ok: true, pages, unlimited: pages === PAGE_COUNTER_MAX };
}

export type CgroupVersion = 'v1' | 'v2';

export function limitHint(version: CgroupVersion): string {
  return version === 'v1'
    ? 'a size like 512M, 4G or bytes, or -1 for unlimited (v1 has no "max")'
    : 'a size like 512M, 4G or bytes, or max for unlimited';
}

/**
 * A cgroup limit file value as a scenario writes it (`memory.limit_in_bytes: 512M`, `memory.max: max`). Numbers are
 * written as their decimal text, the way `echo` would. v1 accepts `-1`, v2 accepts `max`; both floor to pages.
 * An empty string is rejected: on a real kernel an empty write is a no-op, so leave the key out instead.
 */
export function parseCgroupLimit(input: string | number, version: CgroupVersion): PageCounterParse {
  const text = typeof input === 'number' ? (Number.isSafeInteger(input) ? String(input) : '') : input;
  if (strstrip(text) === '') {
    return { ok: false, errno: 'EINVAL', error: `expected ${limitHint(version)} (an empty write is a no-op on the kernel; leave the key out)` };
  }
  const r = pageCounterMemparse(text, version === 'v1' ? '-1' : 'max');
  if (!r.ok) {
    const s = strstrip(text);
    let why = '';
    if (version === 'v1' && s === 'max') why = ' (EINVAL on v1: "max" is the v2 spelling; write -1)';
    else if (version === 'v2' && s === '-1') why = ' (EINVAL on v2: write max)';
    else if (/^\d+\.\d/.test(s)) why = ' (EINVAL: memparse takes integers only)';
    else why = ' (the kernel answers EINVAL)';
    return { ok: false, errno: 'EINVAL', error: `expected ${limitHint(version)}${why}` };
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Durations and rates (simulation inputs, not kernel syntax).

const NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  min: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

export const DURATION_HINT = 'a duration like 30s, 500ms, 2m, 1h or 1m30s';

/**
 * A duration in nanoseconds. Accepts one or more `<number><unit>` parts (`1m30s`), units ns, us, ms, s, m (minute),
 * min, h, d; a decimal fraction is allowed when the result is a whole number of ns (`1.5s`). A plain `0` is allowed.
 */
export function parseDuration(input: string | number): Parsed<bigint> {
  if (input === 0 || input === '0') return { ok: true, value: 0n };
  if (typeof input !== 'string') return { ok: false, error: `expected ${DURATION_HINT} (a unit is required)` };
  const s = input.trim();
  const re = /(\d+)(?:\.(\d+))?\s*(ns|us|µs|ms|min|s|m|h|d)/gy;
  let total = 0n;
  let pos = 0;
  let parts = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return { ok: false, error: `expected ${DURATION_HINT}` };
    const unit = NS[m[3]!]!;
    const frac = m[2] ?? '';
    const scale = 10n ** BigInt(frac.length);
    const num = BigInt(m[1]!) * scale + (frac ? BigInt(frac) : 0n);
    if ((num * unit) % scale !== 0n) return { ok: false, error: `expected ${DURATION_HINT} (finer than 1ns)` };
    total += (num * unit) / scale;
    pos = re.lastIndex;
    parts++;
  }
  if (parts === 0) return { ok: false, error: `expected ${DURATION_HINT}` };
  return { ok: true, value: total };
}

/** An exact rate: `bytes` every `intervalNs`. `50M/s` is { bytes: 52428800n, intervalNs: 1000000000n }. */
export interface Rate {
  bytes: bigint;
  intervalNs: bigint;
}

export const RATE_HINT = 'a size per second like 50M/s (or per ms, m, h: 1G/m)';

/** A rate `<size>/<unit>` or `<size>/<duration>` (`50M/s`, `4k/ms`, `1G/m`, `100M/10s`). */
export function parseRate(input: string | number): Parsed<Rate> {
  if (typeof input !== 'string') return { ok: false, error: `expected ${RATE_HINT}` };
  const s = input.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return { ok: false, error: `expected ${RATE_HINT}` };
  const size = parseSize(s.slice(0, slash));
  let per = s.slice(slash + 1).trim();
  if (/^[a-zµ]+$/.test(per)) per = `1${per}`;
  const d = parseDuration(per);
  if (!size.ok || !d.ok || d.value === 0n) return { ok: false, error: `expected ${RATE_HINT}` };
  return { ok: true, value: { bytes: size.value, intervalNs: d.value } };
}

/** Bytes to pages, floored (the kernel's conversion for limits). */
export function bytesToPagesFloor(bytes: bigint): bigint {
  return bytes / PAGE_SIZE;
}

/** Bytes to pages, rounded up (memory a workload touches occupies whole pages). */
export function bytesToPagesCeil(bytes: bigint): bigint {
  return (bytes + PAGE_SIZE - 1n) / PAGE_SIZE;
}

/** A kernel-style integer as a sysctl or cgroup integer file takes it: base 0 (`0x10`, `010`), optional `-`. */
export function parseKernelInt(input: string | number): Parsed<bigint> {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) ? { ok: true, value: BigInt(input) } : { ok: false, error: 'expected an integer' };
  }
  const s = strstrip(input);
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  if (body === '') return { ok: false, error: 'expected an integer' };
  const r = simpleStrtoull(body);
  if (r.end !== body.length) return { ok: false, error: 'expected an integer' };
  return { ok: true, value: neg ? -r.value : r.value };
}

/** Pretty-print bytes with a binary suffix when exact (`4294967296n` -> `4G`). */
export function formatSize(bytes: bigint): string {
  for (const [suf, sh] of [['E', 60n], ['P', 50n], ['T', 40n], ['G', 30n], ['M', 20n], ['K', 10n]] as const) {
    if (bytes !== 0n && bytes % (1n << sh) === 0n) return `${bytes >> sh}${suf}`;
  }
  return String(bytes);
}
