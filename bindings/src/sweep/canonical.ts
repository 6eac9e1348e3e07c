/**
 * Canonical serialisation for sweeps (docs/decisions/0014-sweeps.md).
 *
 * - `canonicalJson`: object keys sorted (code-point order), no whitespace, BigInt as its decimal string, undefined
 *   members dropped. Used for job results (the bytes compared across backends) and for every digest input.
 * - `encodeTagged` / `decodeTagged`: the same order, but a BigInt becomes `{"$bigint":"123"}` so the value comes back
 *   with its type: how a NormalizedScenario travels to workers (threads, other machines) and is digested.
 */
import { createHash } from 'node:crypto';

function canon(v: unknown, big: (b: bigint) => unknown, path: string): unknown {
  if (typeof v === 'bigint') return big(v);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`canonical JSON: ${path || '(root)'} is ${v}, which JSON cannot hold`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => canon(x === undefined ? null : x, big, `${path}[${i}]`));
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = canon(o[k], big, `${path}.${k}`);
    return out;
  }
  throw new Error(`canonical JSON: ${path || '(root)'} is a ${typeof v}`);
}

/** Sorted keys, BigInt as decimal strings: equal values give equal bytes. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(canon(v, (b) => b.toString(), ''));
}

const TAG = '$bigint';
/** Sorted keys, BigInt tagged so `decodeTagged` restores it. */
export function encodeTagged(v: unknown): string {
  return JSON.stringify(canon(v, (b) => ({ [TAG]: b.toString() }), ''));
}
export function decodeTagged<T = unknown>(text: string): T {
  return JSON.parse(text, (_k, x) => {
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const keys = Object.keys(x);
      if (keys.length === 1 && keys[0] === TAG && typeof x[TAG] === 'string') return BigInt(x[TAG]);
    }
    return x;
  }) as T;
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}
