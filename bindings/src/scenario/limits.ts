/**
 * Input bounds for scenario files (docs/scenario-format.md, "Limits"). They keep a typo such as a duration in
 * years or a RAM size in petabytes from turning into a run that grows memory for an hour: each is checked at
 * validation and reported at the offending line, in the units the user wrote.
 *
 * The RAM and swap bounds are the engine's own (engine/core types.rs `MAX_RAM_PAGES`, `MAX_SWAP_PAGES`: what fits
 * in wasm32's 4 GiB of linear memory, checked by `Kernel::new` and swapon); the others are ours.
 */
import { PAGE_SIZE, parseSize } from './size.js';

/** 30 simulated days, in ns: the default cap on `duration` (lifted by `allowLong` / `oomsim run --allow-long`). */
export const MAX_DURATION_NS = 30n * 24n * 3600n * 1_000_000_000n;
/** Processes declared under `processes:`. */
export const MAX_PROCESSES = 1_000_000;
/** Scenario text, in bytes (UTF-16 code units of the decoded text, which is what we hold). */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** `[`/`{` nesting depth (flow collections; block nesting deeper than this cannot fit in MAX_FILE_BYTES anyway). */
export const MAX_NESTING = 64;
/** The largest RAM the engine models: 2^27 frames, 512 GiB (engine/core types.rs MAX_RAM_PAGES). */
export const MAX_RAM_PAGES = 1n << 27n;
/** The largest total swap the engine models: 2^26 slots, 256 GiB (engine/core types.rs MAX_SWAP_PAGES). */
export const MAX_SWAP_PAGES = 1n << 26n;

const UNITS = ['', 'K', 'M', 'G', 'T', 'P', 'E'] as const;

/** `bytes` floored to the unit the user wrote (`written`'s suffix), or to the largest unit that keeps it >= 1. */
export function formatInUnitOf(bytes: bigint, written: string | number): string {
  const m = typeof written === 'string' ? /([KMGTPEkmgtpe])\s*$/.exec(written) : null;
  let u = m ? UNITS.indexOf(m[1]!.toUpperCase() as (typeof UNITS)[number]) : 0;
  while (u > 0 && bytes >> BigInt(10 * u) === 0n) u--;
  return `${bytes >> BigInt(10 * u)}${UNITS[u]}`;
}

/** A limit issue at a field path, in the loader's terms. */
export interface LimitIssue {
  segments: (string | number)[];
  message: string;
}

/**
 * Checks of the raw text before it is parsed: its size and its flow nesting depth (a 100 000-deep `[[[…]]]` would
 * otherwise overflow the parser's stack). Linear, one pass; quoted strings and comments are skipped.
 * Returns the issue and the 0-based offset where it was found.
 */
export function preScan(text: string): { message: string; offset: number } | undefined {
  if (text.length > MAX_FILE_BYTES) {
    return { message: `the scenario is ${text.length} bytes; the limit is ${MAX_FILE_BYTES} (${MAX_FILE_BYTES >> 20} MiB)`, offset: 0 };
  }
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (quote === '"' && c === 92 /* \ */) i++;
      else if (c === quote.charCodeAt(0)) quote = '';
      continue;
    }
    if (c === 34 /* " */ || c === 39 /* ' */) {
      // A quote starts a string only where a scalar can start (YAML: `it's` in a plain scalar is not a quote).
      const p = i > 0 ? text.charCodeAt(i - 1) : 10;
      if (p === 32 || p === 9 || p === 10 || p === 13 || p === 44 || p === 58 || p === 91 || p === 123 || p === 45) quote = text[i]!;
    } else if (c === 35 /* # */) {
      const p = i > 0 ? text.charCodeAt(i - 1) : 10;
      if (p === 32 || p === 9 || p === 10 || p === 13) while (i < text.length && text.charCodeAt(i) !== 10) i++;
    } else if (c === 91 || c === 123) {
      if (++depth > MAX_NESTING) return { message: `nesting deeper than ${MAX_NESTING} levels of [ ] / { }`, offset: i };
    } else if (c === 93 || c === 125) {
      if (depth > 0) depth--;
    }
  }
  return undefined;
}

export interface LimitOptions {
  /** Allow `duration` above 30 days. */
  allowLong?: boolean;
}

/** Bounds that depend on options (the duration cap); run after the schema accepted the scenario. */
export function durationLimit(durationNs: bigint, written: string | number, opts: LimitOptions): LimitIssue | undefined {
  if (opts.allowLong || durationNs <= MAX_DURATION_NS) return undefined;
  return {
    segments: ['duration'],
    message: `duration ${String(written)} is longer than 30 days (30d), the limit for a scenario; pass --allow-long (API: { allowLong: true }) to run it anyway`,
  };
}

/** RAM in pages must be 1..MAX_RAM_PAGES; the message gives the bound in the unit the user wrote. */
export function ramLimit(written: string | number): string | undefined {
  const r = parseSize(written);
  if (!r.ok) return undefined;
  const pages = r.value / PAGE_SIZE;
  if (pages === 0n) return `${String(written)} is less than one 4K page; the engine needs at least 4K of RAM`;
  if (pages > MAX_RAM_PAGES) {
    return `${String(written)} is more RAM than the engine models: at most ${formatInUnitOf(MAX_RAM_PAGES * PAGE_SIZE, written)} (${MAX_RAM_PAGES} pages of 4K)`;
  }
  return undefined;
}

/** Total swap (sum of the devices, each floored to pages) must be at most MAX_SWAP_PAGES. */
export function swapLimit(sizes: (string | number)[]): string | undefined {
  let pages = 0n;
  let last: string | number = 0;
  for (const s of sizes) {
    const r = parseSize(s);
    if (!r.ok) return undefined;
    pages += r.value / PAGE_SIZE;
    last = s;
  }
  if (pages <= MAX_SWAP_PAGES) return undefined;
  return `total swap is more than the engine models: at most ${formatInUnitOf(MAX_SWAP_PAGES * PAGE_SIZE, last)} (${MAX_SWAP_PAGES} pages of 4K) over all devices`;
}
