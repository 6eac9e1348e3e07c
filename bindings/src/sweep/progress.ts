/** What both backends report while a sweep runs and when it ends. */
export interface SweepProgress {
  /** Jobs this run has to finish (the grid minus the jobs already in the results file). */
  total: number;
  done: number;
  failed: number;
}

export interface SweepSummary extends SweepProgress {
  backend: string;
  /** Jobs of the grid already in the results file (skipped). */
  skipped: number;
  seconds: number;
  /** Distinct workers that ran this run's jobs (threads of this process for the local backend). */
  workers: string[];
}

export interface RunHooks {
  onProgress?: (p: SweepProgress) => void;
  /** Write the results file every `checkpointMs` (default 2000). */
  checkpointMs?: number;
}

export function summaryLine(s: SweepSummary, out: string): string {
  const rate = s.seconds > 0 ? (s.done + s.failed) / s.seconds : 0;
  const skipped = s.skipped ? ` (${s.skipped} already in ${out})` : '';
  return `sweep: ${s.total} jobs${skipped}: ${s.done} done, ${s.failed} failed in ${s.seconds.toFixed(1)}s (${rate.toFixed(1)} jobs/s) on ${s.backend}; results in ${out}`;
}
