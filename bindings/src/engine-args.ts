/**
 * Argument checks of the engine wrapper's public methods. Each check runs before anything is written to the
 * command buffer or sent to wasm, so a rejected call leaves the engine exactly as it was. Errors are
 * `OomsimError('E_ARG')` naming the method and parameter, the value given and what is allowed.
 */
import { OomsimError } from './errors.js';

const U32_MAX = 0xffff_ffff;

/** A short, safe rendering of a bad value for an error message. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  if (typeof v === 'function') return 'a function';
  return Array.isArray(v) ? 'an array' : `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`;
}

function bad(where: string, v: unknown, allowed: string): OomsimError {
  return new OomsimError('E_ARG', `${where}: ${show(v)} is not allowed; expected ${allowed}`);
}

/** An integer 0..2^32-1 (pids, page counts, file ids). */
export function u32(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) throw bad(where, v, 'an integer 0..4294967295');
  return v;
}

/** An integer in lo..hi. */
export function intIn(where: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(where, v, `an integer ${lo}..${hi}`);
  return v;
}

/** A virtual page number (what mmap returns): an integer 0..2^53-1, sent as two words. */
export function vpn(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(where, v, 'an integer 0..9007199254740991 (a page number from mmap)');
  return v;
}

/** A safe integer (signed values such as sysctl settings and oom_score_adj writes; the engine range-checks). */
export function safeInt(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(where, v, 'an integer -9007199254740991..9007199254740991');
  return v;
}

/** A u64 as bigint (simulated nanoseconds, seeds); numbers are accepted when they are safe integers. */
export function u64(where: string, v: unknown): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw bad(where, v, 'a bigint 0n..18446744073709551615n');
  return v;
}

export function bool(where: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw bad(where, v, 'true or false');
  return v;
}

/** A string of at most `max` characters (names, paths, control-file values). */
export function str(where: string, v: unknown, max = 4096): string {
  if (typeof v !== 'string' || v.length > max) throw bad(where, v, `a string of at most ${max} characters`);
  return v;
}

/** One of the names of a code table; returns its code. */
export function code<K extends string>(where: string, v: unknown, table: Readonly<Record<K, number>>): number {
  if (typeof v !== 'string' || !Object.prototype.hasOwnProperty.call(table, v)) {
    throw bad(where, v, `one of ${Object.keys(table).map((k) => `'${k}'`).join(', ')}`);
  }
  return table[v as K];
}

/** An options object (or undefined); rejects anything else and unknown keys. */
export function opts<T extends object>(where: string, v: unknown, keys: readonly (keyof T & string)[]): Partial<T> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(where, v, 'an options object');
  for (const k of Object.keys(v)) {
    if (!keys.includes(k as keyof T & string)) throw new OomsimError('E_ARG', `${where}.${k}: unknown option; allowed: ${keys.join(', ')}`);
  }
  return v as Partial<T>;
}
