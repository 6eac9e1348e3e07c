/**
 * `oomsim predict --live`: the global OOM ranking the kernel would use (mm/oom_kill.c:oom_badness over
 * totalpages = totalram + total swap, as in mm/oom_kill.c:constrained_alloc for CONSTRAINT_NONE), beside the
 * kernel's own /proc/PID/oom_score, with the agreement figures.
 */
import { agreement, type Agreement } from './agreement.js';
import { oomBadness, procOomScore, type Badness } from './badness.js';
import type { ProcRead, ProcTask } from './proc.js';

export interface PredictRow {
  task: ProcTask;
  badness: Badness;
  predictedOomScore: number;
  /** Why a difference may be outside the model, or ''. */
  note: string;
}

export interface Prediction {
  totalpages: number;
  rows: PredictRow[];
  victim: PredictRow | null;
  agreement: Agreement;
  skipped: ProcRead['skipped'];
}

export function predictGlobal(read: ProcRead, pageKb = 4): Prediction {
  // /proc/meminfo prints totalram_pages and total_swap_pages shifted to kB (fs/proc/meminfo.c:meminfo_proc_show).
  const totalpages = read.memTotalKb / pageKb + read.swapTotalKb / pageKb;
  const rows: PredictRow[] = read.tasks.map((t) => {
    const badness = oomBadness(
      {
        rssPages: (t.rssAnonKb + t.rssFileKb + t.rssShmemKb) / pageKb,
        swapPages: t.vmSwapKb / pageKb,
        pgtablesBytes: t.vmPteKb * 1024,
        oomScoreAdj: t.oomScoreAdj,
        // mm/oom_kill.c:oom_unkillable_task: the global init (pid 1 of the initial namespace) is never chosen.
        unkillable: t.pid === 1 && t.kernelOomScore === 0,
      },
      totalpages,
      pageKb * 1024,
    );
    const predictedOomScore = procOomScore(badness.points, totalpages);
    const d = predictedOomScore - t.kernelOomScore;
    // Since 6.2 the mm counters are per-CPU (kernel/fork.c, include/linux/mm.h:get_mm_counter reads the approximate
    // value, /proc/PID/status sums it): a busy task can differ by a few pages between the two reads.
    const note = d === 0 ? '' : Math.abs(d) <= 1 ? 'moved between reads (per-CPU rss counters)' : 'differs';
    return { task: t, badness, predictedOomScore, note };
  });
  rows.sort((a, b) => (b.badness.points ?? -Infinity) - (a.badness.points ?? -Infinity) || a.task.pid - b.task.pid);
  // mm/oom_kill.c:oom_evaluate_task keeps the first task with the strictly highest points in tasklist order; the
  // kernel's tasklist is roughly pid order, so ties go to the lowest pid here.
  const victim = rows.find((r) => r.badness.points !== null) ?? null;
  const ag = agreement(rows.map((r) => r.predictedOomScore), rows.map((r) => r.task.kernelOomScore));
  return { totalpages, rows, victim, agreement: ag, skipped: read.skipped };
}

export function predictText(p: Prediction, limit = 20): string[] {
  const out: string[] = [];
  const s = p.skipped;
  out.push(`global OOM: totalpages ${p.totalpages} (RAM + swap); ${p.rows.length} processes read, skipped: ` +
    `${s.kernelThreads} kernel threads, ${s.zombies} zombies, ${s.vanished} vanished, ${s.unreadable} unreadable`);
  out.push('  rank      pid  comm             adj      rss     swap   pgtbl   adj-term   points  oomsim  kernel  note');
  p.rows.slice(0, limit).forEach((r, i) => {
    const b = r.badness;
    out.push(`  ${String(i + 1).padStart(4)} ${String(r.task.pid).padStart(8)}  ${r.task.comm.slice(0, 15).padEnd(15)} ` +
      `${String(r.task.oomScoreAdj).padStart(5)} ${String(b.rssPages).padStart(8)} ${String(b.swapPages).padStart(8)} ` +
      `${String(b.pgtablesPages).padStart(7)} ${String(b.adjTerm).padStart(10)} ${String(b.points ?? 'never').padStart(8)} ` +
      `${String(r.predictedOomScore).padStart(7)} ${String(r.task.kernelOomScore).padStart(7)}  ${r.note}`);
  });
  if (p.rows.length > limit) out.push(`  ... ${p.rows.length - limit} more (--all to list every process)`);
  out.push(p.victim ? `victim: pid ${p.victim.task.pid} (${p.victim.task.comm}), ${p.victim.badness.points} points`
    : 'victim: none (no killable process)');
  const a = p.agreement;
  out.push(`agreement with /proc/PID/oom_score: ${a.exact}/${a.n} exact, max |difference| ${a.maxAbsDiff}, ` +
    `Kendall tau-b ${a.tau === null ? 'n/a' : a.tau.toFixed(4)}`);
  return out;
}
