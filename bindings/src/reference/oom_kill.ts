/**
 * The OOM killer's pure parts: mm/oom_kill.c (oom_badness, oom_evaluate_task/select_bad_process, check_panic_on_oom,
 * the log formats of dump_header/dump_tasks/dump_oom_victim/__oom_kill_process). Dossier §2.
 * The engine (engine.ts) drives out_of_memory() with these over its live task list.
 */
import type { Constraint } from './types.js';

export type { Constraint };

/** LONG_MIN: oom_badness() of an unkillable task. */
export const LONG_MIN = Number.NEGATIVE_INFINITY;
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;

/** What oom_badness() reads of a process. */
export interface BadnessInput {
  isGlobalInit: boolean;
  isKthread: boolean;
  hasMm: boolean;
  oomScoreAdj: number;
  mmfOomSkip: boolean;
  inVfork: boolean;
  rss: number;
  swapents: number;
  pgtablesBytes: number;
}

/**
 * mm/oom_kill.c:oom_badness() (v5.9+): LONG_MIN for init, kthreads, tasks without an mm, adj -1000, MMF_OOM_SKIP and
 * vfork children; otherwise rss + swap entries + page-table pages, plus adj * (totalpages / 1000) with the
 * division done first (measured-rules.md). No clamping: the result may be negative.
 */
export function oomBadness(t: BadnessInput, totalpages: number): number {
  if (t.isGlobalInit || t.isKthread || !t.hasMm) return LONG_MIN;
  if (t.oomScoreAdj === OOM_SCORE_ADJ_MIN || t.mmfOomSkip || t.inVfork) return LONG_MIN;
  const points = t.rss + t.swapents + Math.trunc(t.pgtablesBytes / 4096);
  return points + t.oomScoreAdj * Math.trunc(totalpages / 1000);
}

/** fs/proc/base.c:proc_oom_score() (v5.9+): (1000 + badness*1000/totalpages) * 2/3, 0 when unkillable. */
export function procOomScore(badness: number, totalpages: number): number {
  if (badness === LONG_MIN) return 0;
  return Math.trunc(((1000 + Math.trunc((badness * 1000) / totalpages)) * 2) / 3);
}

/** One candidate as select_bad_process() sees it. */
export interface Candidate<T> {
  task: T;
  isGlobalInit: boolean;
  isKthread: boolean;
  /** signal->oom_mm is set: an earlier OOM victim. */
  isOomVictim: boolean;
  mmfOomSkip: boolean;
  oomOrigin: boolean;
  /** oom_badness() (computed lazily by the caller is not needed: tasks are few). */
  points: number;
}

/**
 * mm/oom_kill.c:select_bad_process() / oom_evaluate_task(), in iteration order: init and kthreads are skipped; an
 * earlier victim whose mm is not yet MMF_OOM_SKIP aborts the whole scan (unless SysRq); an oom-origin task is taken
 * at once; otherwise the highest badness wins and a tie goes to the later task (only `<` is rejected).
 */
export function selectBadProcess<T>(cands: Iterable<Candidate<T>>, sysrq: boolean): { chosen: T | null; abort: boolean; points: number } {
  let chosen: T | null = null;
  let chosenPoints = LONG_MIN;
  for (const c of cands) {
    if (c.isGlobalInit || c.isKthread) continue;
    if (!sysrq && c.isOomVictim) {
      if (c.mmfOomSkip) continue;
      return { chosen: null, abort: true, points: LONG_MIN };
    }
    if (c.oomOrigin) return { chosen: c.task, abort: false, points: Number.POSITIVE_INFINITY };
    const p = c.points;
    if (p === LONG_MIN || (chosen !== null && p < chosenPoints)) continue;
    chosen = c.task;
    chosenPoints = p;
  }
  return { chosen, abort: false, points: chosenPoints };
}

/** mm/oom_kill.c:check_panic_on_oom(): the panic message, or null to go on. */
export function checkPanicOnOom(panicOnOom: number, constraint: Constraint, sysrq: boolean): string | null {
  if (panicOnOom === 0) return null;
  if (panicOnOom === 1 && constraint !== 'CONSTRAINT_NONE') return null;
  if (sysrq) return null;
  return `Out of memory: ${panicOnOom === 2 ? 'compulsory' : 'system-wide'} panic_on_oom is enabled`;
}

const pad = (v: number | string, w: number): string => String(v).padStart(w, ' ');

/** mm/oom_kill.c:dump_header() first line. */
export function invokedLine(comm: string, gfpMask: string, gfpFlags: string, order: number, adj: number): string {
  return `${comm} invoked oom-killer: gfp_mask=${gfpMask}(${gfpFlags}), order=${order}, oom_score_adj=${adj}`;
}

export const DUMP_TASKS_HEADER = [
  'Tasks state (memory values in pages):',
  '[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name',
];

export interface TaskMemView {
  pid: number;
  tgid: number;
  uid: number;
  comm: string;
  totalVm: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  pgtablesBytes: number;
  swapents: number;
  oomScoreAdj: number;
}

/** mm/oom_kill.c:dump_task(): one row of the task table. */
export function dumpTaskRow(t: TaskMemView): string {
  const rss = t.rssAnon + t.rssFile + t.rssShmem;
  return `[${pad(t.pid, 7)}] ${pad(t.uid, 5)} ${pad(t.tgid, 5)} ${pad(t.totalVm, 8)} ${pad(rss, 8)} ${pad(t.rssAnon, 8)} ${pad(t.rssFile, 8)} ${pad(t.rssShmem, 9)} ${pad(t.pgtablesBytes, 8)} ${pad(t.swapents, 8)}         ${pad(t.oomScoreAdj, 5)} ${t.comm}`;
}

/** mm/oom_kill.c:dump_oom_victim(): the `oom-kill:` line (no NUMA: nodemask (null), cpuset /, mems_allowed 0). */
export function oomKillLine(constraint: Constraint, oomMemcg: string | null, victimMemcg: string, t: { comm: string; pid: number; uid: number }): string {
  const scope = oomMemcg === null ? 'global_oom' : `oom_memcg=${oomMemcg}`;
  return `oom-kill:constraint=${constraint},nodemask=(null),cpuset=/,mems_allowed=0,${scope},task_memcg=${victimMemcg},task=${t.comm},pid=${t.pid},uid=${t.uid}`;
}

/** mm/oom_kill.c:__oom_kill_process(): the `Killed process` line. */
export function killedProcessLine(prefix: string, t: TaskMemView): string {
  const k = (p: number) => p * 4;
  return `${prefix}: Killed process ${t.pid} (${t.comm}) total-vm:${k(t.totalVm)}kB, anon-rss:${k(t.rssAnon)}kB, file-rss:${k(t.rssFile)}kB, shmem-rss:${k(t.rssShmem)}kB, UID:${t.uid} pgtables:${Math.floor(t.pgtablesBytes / 1024)}kB oom_score_adj:${t.oomScoreAdj}`;
}

/** `%s: OOM victim %d (%s) is already exiting. Skip killing the task`. */
export const alreadyExitingLine = (prefix: string, pid: number, comm: string): string =>
  `${prefix}: OOM victim ${pid} (${comm}) is already exiting. Skip killing the task`;

/** mm/memcontrol.c:mem_cgroup_print_oom_meminfo() counter lines; PAGE_COUNTER_MAX prints 9007199254740988 kB. */
export function memcgCounterLine(label: string, usage: number, max: number, failcnt: number): string {
  return `${label}: usage ${usage * 4}kB, limit ${max * 4}kB, failcnt ${failcnt}`;
}
