/**
 * "Did you mean" suggestions: the closest candidate by optimal-string-alignment distance (Levenshtein plus
 * adjacent transpositions, so `memroy` is one edit from `memory`), case-insensitive, within a third of the length.
 */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  // three rows of the (m+1) x (n+1) table: the transposition step looks two rows back
  let pp = new Uint32Array(n + 1);
  let p = Uint32Array.from({ length: n + 1 }, (_, j) => j);
  let d = new Uint32Array(n + 1);
  for (let i = 1; i <= m; i++) {
    d[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(p[j]! + 1, d[j - 1]! + 1, p[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, pp[j - 2]! + 1);
      d[j] = v;
    }
    [pp, p, d] = [p, d, pp];
  }
  return p[n]!;
}

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    // the distance is at least the difference in length: such a candidate can never be within the limit (the
    // answer is the same as with the full scan; this keeps fuzzed or pasted long keys cheap)
    const cl = c.toLowerCase();
    if (Math.abs(cl.length - w.length) > limit) continue;
    const dd = editDistance(w, cl);
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  if (best !== undefined && bestD > 0 && bestD <= limit) return best;
  // A suffix match (`limit_in_bytes` for `memory.limit_in_bytes`, `overcommit_memory` for `vm.overcommit_memory`).
  const tail = candidates.filter((c) => c.endsWith('.' + word) || c.endsWith('/' + word));
  return tail.length === 1 ? tail[0] : undefined;
}
