/**
 * Lossless JSON for vector files, and the matching rules of vectors-format.md §3.2.
 *
 * `JSON.parse` rounds integers beyond 2^53 (PAGE_COUNTER_MAX in bytes is 9223372036854771712), so vectors are read
 * with `parseLossless`: every integer literal that is not a safe integer becomes a `bigint`; everything else is
 * what `JSON.parse` gives. Matching compares integers exactly whether they arrive as number or bigint.
 */

export type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** Parse JSON text; integer literals outside the safe range become bigint (never rounded). */
export function parseLossless(text: string): Json {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at offset ${i}`);
  };
  const value = (): Json => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: JsonObject = {};
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        o[k] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    let escaped = false;
    while (i < text.length) {
      const ch = text[i];
      if (ch === '\\') {
        escaped = true;
        i += 2;
        continue;
      }
      if (ch === '"') break;
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    const raw = text.slice(start, i);
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

/** An integer value as bigint (number or bigint input), or null when it is not an integer. */
export function asBigInt(v: Json): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return null;
}

const isNum = (v: Json): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';

function numEq(a: number | bigint, b: number | bigint): boolean {
  const x = asBigInt(a);
  const y = asBigInt(b);
  if (x !== null && y !== null) return x === y;
  return Number(a) === Number(b);
}

function show(v: Json | undefined): string {
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'undefined';
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function asMatcher(v: Json): ['prefix', string] | ['at_least', number | bigint] | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const keys = Object.keys(v);
  if (keys.length !== 1) return null;
  const val = v[keys[0]];
  if (keys[0] === 'prefix' && typeof val === 'string') return ['prefix', val];
  if (keys[0] === 'at_least' && isNum(val)) return ['at_least', val];
  return null;
}

/**
 * Match `expected` against `actual` (§3.2): objects partially, lists exactly (the key `log` as an ordered
 * subsequence), scalars by equality (an int never equals a bool), the `prefix` / `at_least` matchers.
 * Returns null on a match, otherwise the first mismatch as text.
 */
export function matchValue(path: string, expected: Json, actual: Json | undefined): string | null {
  const here = path === '' ? 'result' : path;
  const m = asMatcher(expected);
  if (m && (actual === null || typeof actual !== 'object' || Array.isArray(actual))) {
    if (m[0] === 'prefix' && typeof actual === 'string' && actual.startsWith(m[1])) return null;
    if (m[0] === 'at_least' && actual !== undefined && isNum(actual)) {
      const a = asBigInt(actual);
      const b = asBigInt(m[1]);
      if (a !== null && b !== null ? a >= b : Number(actual) >= Number(m[1])) return null;
      return `${here}: expected at least ${show(m[1])}, got ${show(actual)}`;
    }
    return `${here}: expected ${show(expected)}, got ${show(actual)}`;
  }
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual) || actual === undefined) {
      return `${here}: expected ${show(expected)}, got ${show(actual)}`;
    }
    for (const [k, ev] of Object.entries(expected)) {
      const sub = path === '' ? k : `${path}.${k}`;
      if (!(k in actual)) return `${sub}: expected ${show(ev)}, but the result has no such key`;
      const err = k === 'log' ? matchLog(sub, ev, actual[k]) : matchValue(sub, ev, actual[k]);
      if (err) return err;
    }
    return null;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${here}: expected ${show(expected)}, got ${show(actual)}`;
    if (expected.length !== actual.length) {
      return `${here}: expected a list of ${expected.length} (${show(expected)}), got ${actual.length} (${show(actual)})`;
    }
    for (let k = 0; k < expected.length; k++) {
      const err = matchValue(`${here}[${k}]`, expected[k], actual[k]);
      if (err) return err;
    }
    return null;
  }
  if (isNum(expected) && actual !== undefined && isNum(actual) && numEq(expected, actual)) return null;
  if (typeof expected === 'string' && actual === expected) return null;
  if (typeof expected === 'boolean' && actual === expected) return null;
  if (expected === null && actual === null) return null;
  return `${here}: expected ${show(expected)}, got ${show(actual)}`;
}

/** `log`: each expected element matches some actual line, in order, other lines allowed in between. */
function matchLog(path: string, expected: Json, actual: Json | undefined): string | null {
  if (!Array.isArray(expected) || !Array.isArray(actual)) return matchValue(path, expected, actual);
  let next = 0;
  for (let i = 0; i < expected.length; i++) {
    let found = -1;
    for (let j = next; j < actual.length; j++) {
      if (matchValue('', expected[i], actual[j]) === null) {
        found = j;
        break;
      }
    }
    if (found < 0) {
      return `${path}[${i}]: no log line matching ${show(expected[i])} after line ${next} of ${actual.length}; lines: ${actual.join(' | ')}`;
    }
    next = found + 1;
  }
  return null;
}

/** JSON.stringify that writes bigints as plain integer literals. */
export function stringifyLossless(v: Json): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `@@BIG${x.toString()}@@` : x)).replace(
    /"@@BIG(-?\d+)@@"/g,
    '$1',
  );
}
