/**
 * `oomsim predict`: the rankings the kernel's OOM killer would use on a captured machine, for the global OOM and for
 * every memcg with a limit, with each task's oom_badness terms; beside the kernel's own /proc/PID/oom_score.
 *
 * - Global OOM (mm/oom_kill.c:constrained_alloc, CONSTRAINT_NONE): totalpages = totalram_pages + total_swap_pages
 *   (MemTotal and SwapTotal of /proc/meminfo in pages); every task is a candidate, in task-list order.
 * - Memcg OOM (CONSTRAINT_MEMCG): totalpages = mem_cgroup_get_max(memcg) (mm/memcontrol.c); the candidates are the
 *   tasks of the memcg and its descendants (mem_cgroup_scan_tasks). One adj unit weighs limit/1000 pages there, so
 *   the victim can differ from the global one (../shared/spec/measured-rules.md, "Memcg OOM").
 * - select_bad_process keeps the highest points; an equal score replaces the earlier choice (oom_evaluate_task
 *   rejects only `points < chosen_points`), so ties go to the task that comes LAST in the task list. The task list is
 *   in fork order; the capture orders by start time (/proc/PID/stat field 22), then pid.
 * - /proc/PID/oom_score is always computed over the global totalpages (fs/proc/base.c:proc_oom_score), so the
 *   agreement with the kernel is measured on the global ranking.
 */
import type { CaptureSection, CaptureTask } from '../scenario/capture.js';
import { agreement, type Agreement } from './agreement.js';
import { oomBadness, procOomScore, type Badness } from './badness.js';

export interface PredictRow {
  task: CaptureTask;
  badness: Badness;
  /** proc_oom_score over the global totalpages. */
  predictedOomScore: number;
  /** Why the prediction may be off for this row (something oomsim does not model), or ''. */
  note: string;
}

export interface Ranking {
  /** 'global' or the memcg path. */
  domain: string;
  constraint: 'CONSTRAINT_NONE' | 'CONSTRAINT_MEMCG';
  totalpages: number;
  /** How totalpages was found, for the reader. */
  totalpagesFrom: string;
  /** Highest points first; equal points: the later task first (it is the one the kernel keeps). */
  rows: PredictRow[];
  victim: PredictRow | null;
  /** What the kernel would do instead of or besides killing the victim (oom_kill_disable, oom.group), or ''. */
  note: string;
}

export interface Prediction {
  global: Ranking;
  memcgs: Ranking[];
  /** Predicted vs kernel oom_score over every task read. */
  agreement: Agreement;
  skipped: CaptureSection['skipped'];
  source: { host: string; kernel: string; taken_at: string; redacted: boolean };
}

const pages = (kb: number, pageKb: number) => Math.trunc(kb / pageKb);

/** Task-list order: fork order, approximated by start time then pid. */
function taskListOrder(tasks: readonly CaptureTask[]): CaptureTask[] {
  return [...tasks].sort((a, b) => a.start_time - b.start_time || a.pid - b.pid);
}

function isUnlimited(v: string | undefined): boolean {
  return v === undefined || v === 'max' || BigInt(v) >= 9223372036854771712n;
}

/** A limit file's text (bytes) in pages, floored (page_counter_memparse). */
function limitPages(v: string, pageSize: number): number {
  return Number(BigInt(v) / BigInt(pageSize));
}

function isUnder(path: string, domain: string): boolean {
  return domain === '/' || path === domain || path.startsWith(domain + '/');
}

function rank(
  ordered: readonly CaptureTask[],
  totalpages: number,
  globalTotalpages: number,
  globalInitPid: number | null,
  pageKb: number,
): { rows: PredictRow[]; victim: PredictRow | null } {
  const rows: PredictRow[] = ordered.map((t) => {
    const input = {
      rssPages: t.rss_pages,
      swapPages: pages(t.vm_swap_kb, pageKb),
      pgtablesBytes: t.vm_pte_kb * 1024,
      oomScoreAdj: t.oom_score_adj,
      unkillable: t.pid === globalInitPid,
    };
    const badness = oomBadness(input, totalpages, pageKb * 1024);
    const g = totalpages === globalTotalpages ? badness : oomBadness(input, globalTotalpages, pageKb * 1024);
    const predictedOomScore = procOomScore(g.points, globalTotalpages);
    const d = predictedOomScore - t.oom_score;
    let note = '';
    if (d !== 0 && t.oom_score === 0 && g.points !== null) note = 'kernel: unkillable (a vfork child before exec, or its mm is being reaped: not in /proc, not modelled)';
    else if (Math.abs(d) === 1) note = 'off by one: rss or page tables moved between the stat and oom_score reads';
    else if (d !== 0) note = 'differs';
    return { task: t, badness, predictedOomScore, note };
  });
  // select_bad_process: the last task with the highest points (only `<` is rejected).
  let victim: PredictRow | null = null;
  for (const r of rows) {
    if (r.badness.points === null) continue;
    if (victim === null || r.badness.points >= victim.badness.points!) victim = r;
  }
  const order = new Map(rows.map((r, i) => [r, i]));
  rows.sort((a, b) => (b.badness.points ?? -Infinity) - (a.badness.points ?? -Infinity) || order.get(b)! - order.get(a)!);
  return { rows, victim };
}

export function predict(c: CaptureSection): Prediction {
  const pageKb = c.page_size / 1024;
  const totalSwapPages = pages(c.meminfo.SwapTotal ?? 0, pageKb);
  const globalTotalpages = pages(c.meminfo.MemTotal!, pageKb) + totalSwapPages;
  const globalInitPid = c.init_pid_ns ? 1 : null;
  const ordered = taskListOrder(c.tasks);
  const g = rank(ordered, globalTotalpages, globalTotalpages, globalInitPid, pageKb);
  const global: Ranking = {
    domain: 'global',
    constraint: 'CONSTRAINT_NONE',
    totalpages: globalTotalpages,
    totalpagesFrom: 'MemTotal + SwapTotal',
    ...g,
    note: (c.sysctl['vm.panic_on_oom'] ?? 0) !== 0
      ? `vm.panic_on_oom=${c.sysctl['vm.panic_on_oom']}: the kernel panics instead of killing`
      : (c.sysctl['vm.oom_kill_allocating_task'] ?? 0) !== 0
        ? 'vm.oom_kill_allocating_task=1: the kernel kills the task whose allocation failed (if killable), not this victim'
        : '',
  };
  const memcgs: Ranking[] = [];
  const vmSwappiness = c.sysctl['vm.swappiness'] ?? 60;
  for (const [path, m] of Object.entries(c.memcg?.groups ?? {})) {
    if (path === '/') continue;
    let totalpages: number;
    let from: string;
    let note = '';
    if (c.memcg!.version === 'v1') {
      if (isUnlimited(m.limit_in_bytes)) continue;
      // mm/memcontrol.c:mem_cgroup_get_max (v1): the limit, plus the swap memsw allows (memsw - limit, at most
      // total_swap_pages) unless the memcg's swappiness is 0.
      const max = limitPages(m.limit_in_bytes!, c.page_size);
      const memsw = m.memsw_limit_in_bytes === undefined ? max : limitPages(m.memsw_limit_in_bytes, c.page_size);
      const swap = (m.swappiness ?? vmSwappiness) === 0 ? 0 : Math.min(Math.max(memsw - max, 0), totalSwapPages);
      totalpages = max + swap;
      from = swap > 0 ? 'memory.limit_in_bytes + min(memsw - limit, SwapTotal)' : 'memory.limit_in_bytes';
      if (m.oom_control?.oom_kill_disable) note = 'memory.oom_control oom_kill_disable=1: the charging task sleeps at the limit, nobody is killed';
    } else {
      if (isUnlimited(m.max)) continue;
      const max = limitPages(m.max!, c.page_size);
      const swapMax = isUnlimited(m.swap_max) ? totalSwapPages : limitPages(m.swap_max!, c.page_size);
      const swap = vmSwappiness === 0 ? 0 : Math.min(swapMax, totalSwapPages);
      totalpages = max + swap;
      from = swap > 0 ? 'memory.max + min(memory.swap.max, SwapTotal)' : 'memory.max';
      if (m.oom_group) note = 'memory.oom.group=1: every task of the victim\'s group is killed with it';
    }
    const r = rank(ordered.filter((t) => isUnder(t.memcg, path)), totalpages, globalTotalpages, globalInitPid, pageKb);
    memcgs.push({ domain: path, constraint: 'CONSTRAINT_MEMCG', totalpages, totalpagesFrom: from, ...r, note });
  }
  const ag = agreement(g.rows.map((r) => r.predictedOomScore), g.rows.map((r) => r.task.oom_score));
  return { global, memcgs, agreement: ag, skipped: c.skipped, source: { host: c.host, kernel: c.kernel, taken_at: c.taken_at, redacted: c.redacted } };
}
