/**
 * "Did you mean" suggestions: the closest candidate by optimal-string-alignment distance (Levenshtein plus
 * adjacent transpositions, so `memroy` is one edit from `memory`), case-insensitive, within a third of the length.
 */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = editDistance(w, c.toLowerCase());
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  if (best !== undefined && bestD > 0 && bestD <= limit) return best;
  // A suffix match (`limit_in_bytes` for `memory.limit_in_bytes`, `overcommit_memory` for `vm.overcommit_memory`).
  const tail = candidates.filter((c) => c.endsWith('.' + word) || c.endsWith('/' + word));
  return tail.length === 1 ? tail[0] : undefined;
}
