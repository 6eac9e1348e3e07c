/** How far a predicted oom_score list is from the kernel's: exact matches, max |difference|, Kendall tau-b. */

export interface Agreement {
  n: number;
  exact: number;
  maxAbsDiff: number;
  /** Kendall tau-b of the two rankings (ties counted as the kernel's ties); null below two rows or all tied. */
  tau: number | null;
}

/** Kendall tau-b (ties in either list reduce the denominator), O(n^2): fine for a machine's process list. */
export function kendallTauB(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`kendallTauB: lengths differ (${a.length} vs ${b.length})`);
  let conc = 0;
  let disc = 0;
  let tieA = 0;
  let tieB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tieA++;
      else if (db === 0) tieB++;
      else if (da === db) conc++;
      else disc++;
    }
  }
  const den = Math.sqrt((conc + disc + tieA) * (conc + disc + tieB));
  return den === 0 ? null : (conc - disc) / den;
}

export function agreement(predicted: readonly number[], kernel: readonly number[]): Agreement {
  let exact = 0;
  let maxAbsDiff = 0;
  for (let i = 0; i < predicted.length; i++) {
    const d = Math.abs(predicted[i] - kernel[i]);
    if (d === 0) exact++;
    if (d > maxAbsDiff) maxAbsDiff = d;
  }
  return { n: predicted.length, exact, maxAbsDiff, tau: kendallTauB(predicted, kernel) };
}
