/**
 * The kernel's OOM badness and the oom_score it exports, restated from mm/oom_kill.c:oom_badness and
 * fs/proc/base.c:proc_oom_score (Linux 6.x). Pages in, pages and points out; C long arithmetic (truncating division,
 * in the kernel's order).
 */

/** oom_score_adj bounds (include/uapi/linux/oom.h). */
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;

/** C `long` division: truncates toward zero. */
function cdiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

export interface BadnessInput {
  /** get_mm_rss: MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES, in pages. */
  rssPages: number;
  /** MM_SWAPENTS, in pages. */
  swapPages: number;
  /** mm_pgtables_bytes(mm). */
  pgtablesBytes: number;
  oomScoreAdj: number;
  /** Tasks oom_badness never picks: global init, kernel threads, no mm (zombies), adj == OOM_SCORE_ADJ_MIN. */
  unkillable: boolean;
}

export interface Badness {
  /** null = the kernel's LONG_MIN (never chosen). */
  points: number | null;
  rssPages: number;
  swapPages: number;
  pgtablesPages: number;
  /** adj * (totalpages / 1000), the adj term added to the points. */
  adjTerm: number;
}

/**
 * mm/oom_kill.c:oom_badness: rss + swap entries + page-table pages (bytes / PAGE_SIZE, truncated), plus
 * adj * (totalpages / 1000) with the division first. LONG_MIN (here null) for unkillable tasks and adj -1000.
 */
export function oomBadness(t: BadnessInput, totalpages: number, pageSize = 4096): Badness {
  const pgtablesPages = cdiv(t.pgtablesBytes, pageSize);
  const adjTerm = t.oomScoreAdj * cdiv(totalpages, 1000);
  const never = t.unkillable || t.oomScoreAdj === OOM_SCORE_ADJ_MIN;
  const points = never ? null : t.rssPages + t.swapPages + pgtablesPages + adjTerm;
  return { points, rssPages: t.rssPages, swapPages: t.swapPages, pgtablesPages, adjTerm };
}

/**
 * fs/proc/base.c:proc_oom_score: totalpages = totalram_pages + total_swap_pages; for a killable task the badness is
 * scaled into [0, 2000] and then by 2/3 (so [0, 1333], 666 for a tiny adj-0 task); 0 for LONG_MIN.
 */
export function procOomScore(points: number | null, totalpages: number): number {
  if (points === null) return 0;
  return cdiv((1000 + cdiv(points * 1000, totalpages)) * 2, 3);
}
