/**
 * The OOM killer. First its pure parts: mm/oom_kill.c (oom_badness, oom_evaluate_task/select_bad_process,
 * check_panic_on_oom, the log formats of dump_header/dump_tasks/dump_oom_victim/__oom_kill_process). Dossier §2.
 * After them, out_of_memory() itself over the engine's live task list (`k`), its dump_header and the oom.group sweep.
 */
import { exitTask } from './exit.js';
import type { Memcg } from './memcontrol.js';
import { PAGE_COUNTER_MAX } from './page_counter.js';
import type { Kernel } from './state.js';
import { type Constraint, type OomRecord, Panicked, type Task } from './types.js';

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

// ---- the engine's OOM killer: out_of_memory() over the live task list --------------------------------------------

const GFP_USER_FAULT = ['0x140cca', 'GFP_HIGHUSER_MOVABLE|__GFP_COMP'] as const;
const GFP_KERNEL = ['0xcc0', 'GFP_KERNEL'] as const;

export function taskView(t: Task): TaskMemView {
  const mm = t.mm;
  return {
    pid: t.pid, tgid: t.pid, uid: t.uid, comm: t.comm, totalVm: mm?.totalVm ?? 0, rssAnon: mm?.rssAnon ?? 0,
    rssFile: mm?.rssFile ?? 0, rssShmem: mm?.rssShmem ?? 0, pgtablesBytes: 0, swapents: mm?.swapents ?? 0,
    oomScoreAdj: t.oomScoreAdj,
  };
}

/** Tasks of a memcg subtree in mem_cgroup_scan_tasks order: cgroups pre-order, tasks in list order. */
export function tasksOf(k: Kernel, memcg: Memcg | null): Task[] {
  const live = [...k.tasks.live.values()];
  if (!memcg) return live;
  const out: Task[] = [];
  for (const m of memcg.subtree()) for (const t of live) if (t.memcg === m) out.push(t);
  return out;
}

/** task_will_free_mem(): already dying (SIGKILL pending), still holding an mm that is not MMF_OOM_SKIP. */
export function taskWillFreeMem(t: Task): boolean {
  return t.sigkill && t.mm !== null && !t.mm.mmfOomSkip;
}

/**
 * mm/oom_kill.c:out_of_memory() for a global (`memcg` null) or memcg OOM of order `order`, allocating task =
 * the current op's task. Dossier §2.2: current dying → mark only; panic_on_oom; oom_kill_allocating_task
 * (global); select_bad_process (abort while an earlier victim lives); no victim → dump + "Out of memory and no
 * killable processes..." (global: panic); else oom_kill_process with the v2 oom.group sweep. Killed tasks other
 * than current exit as soon as this returns (§6.2 rule 2). Returns whether anything was chosen.
 */
export function outOfMemory(k: Kernel, memcg: Memcg | null, order: number): boolean {
  const cur = k.tasks.current;
  const constraint: Constraint = memcg ? 'CONSTRAINT_MEMCG' : 'CONSTRAINT_NONE';
  let totalpages = k.totalram + k.swap.total;
  if (memcg) totalpages = memcg.getMax(k.swap.total, k.sysctl['vm.swappiness']) || 1;
  const rec: OomRecord = { constraint, memcg: memcg?.path ?? null, totalpages, outcome: 'kill', victim: null, oom_group: null, killed: [] };
  k.oom.records.push(rec);
  const msg = memcg ? 'Memory cgroup out of memory' : 'Out of memory';
  const killedNow: Task[] = [];
  try {
    if (cur && taskWillFreeMem(cur)) {
      cur.oomVictim = true;
      rec.outcome = 'current_will_free_mem';
      return true;
    }
    const panicMsg = checkPanicOnOom(k.sysctl['vm.panic_on_oom'], constraint, false);
    if (panicMsg) {
      dumpHeader(k, memcg, order);
      rec.outcome = 'panic';
      panic(k, panicMsg);
    }
    // pid 1 is global init: never the allocating-task victim, never a candidate (mm/oom_kill.c:oom_unkillable_task)
    if (!memcg && k.sysctl['vm.oom_kill_allocating_task'] !== 0 && cur && cur.mm && cur.pid !== 1 && cur.oomScoreAdj !== -1000) {
      dumpHeader(k, memcg, order);
      k.log.push(oomKillLine(constraint, null, cur.memcg.path, cur));
      rec.victim = cur.pid;
      rec.outcome = 'kill_allocating_task';
      oomKillOne(k, cur, 'Out of memory (oom_kill_allocating_task)', rec, killedNow);
      return true;
    }
    const cands = tasksOf(k, memcg).map((t) => ({
      task: t,
      isGlobalInit: t.pid === 1,
      isKthread: false,
      isOomVictim: t.oomVictim,
      mmfOomSkip: t.mm?.mmfOomSkip ?? true,
      oomOrigin: false,
      points: oomBadness(
        { isGlobalInit: t.pid === 1, isKthread: false, hasMm: t.mm !== null, oomScoreAdj: t.oomScoreAdj, mmfOomSkip: t.mm?.mmfOomSkip ?? false, inVfork: false, rss: t.mm ? t.mm.rssAnon + t.mm.rssFile + t.mm.rssShmem : 0, swapents: t.mm?.swapents ?? 0, pgtablesBytes: 0 },
        totalpages,
      ),
    }));
    const sel = selectBadProcess(cands, false);
    if (sel.abort) {
      rec.outcome = 'abort';
      return true;
    }
    if (!sel.chosen) {
      dumpHeader(k, memcg, order);
      k.log.push('Out of memory and no killable processes...');
      rec.outcome = 'no_victim';
      if (!memcg) panic(k, 'System is deadlocked on memory');
      return false;
    }
    const victim = sel.chosen;
    rec.victim = victim.pid;
    if (taskWillFreeMem(victim)) {
      victim.oomVictim = true;
      return true;
    }
    dumpHeader(k, memcg, order);
    k.log.push(oomKillLine(constraint, memcg?.path ?? null, victim.memcg.path, victim));
    const group = getOomGroup(k, victim, memcg);
    oomKillOne(k, victim, msg, rec, killedNow);
    if (group) {
      rec.oom_group = group.path;
      group.memoryEvent('oom_group_kill');
      k.log.push(`Tasks in ${group.path} are going to be killed due to memory.oom.group set`);
      for (const t of tasksOf(k, group)) if (t.oomScoreAdj !== -1000) oomKillOne(k, t, msg, rec, killedNow);
    }
    return true;
  } finally {
    for (const t of killedNow) if (t !== cur) exitTask(k, t);
  }
}

/** mm/memcontrol.c:mem_cgroup_get_oom_group(): the highest memory.oom.group=1 cgroup up to the OOM domain. */
export function getOomGroup(k: Kernel, victim: Task, domain: Memcg | null): Memcg | null {
  const dom = domain ?? k.cgroups.root;
  if (victim.memcg.isRoot || !victim.memcg.isDescendantOf(dom)) return null;
  let group: Memcg | null = null;
  for (let m: Memcg | null = victim.memcg; m; m = m.parent) {
    if (m.oomGroup) group = m;
    if (m === dom) break;
  }
  return group;
}

/** mm/oom_kill.c:__oom_kill_process(): counted, SIGKILLed, marked, logged. */
export function oomKillOne(k: Kernel, v: Task, msg: string, rec: OomRecord, killedNow: Task[]): void {
  if (!v.mm) {
    k.log.push(alreadyExitingLine(msg, v.pid, v.comm));
    return;
  }
  k.stat.count('oom_kill');
  v.memcg.memoryEvent('oom_kill');
  rec.killed.push(v.pid);
  v.sigkill = true;
  v.oomVictim = true;
  k.log.push(killedProcessLine(msg, taskView(v)));
  if (!killedNow.includes(v)) killedNow.push(v);
}

/** mm/oom_kill.c:dump_header(): invoked line, memcg counters or Mem-Info, the task table. */
export function dumpHeader(k: Kernel, memcg: Memcg | null, order: number): void {
  const cur = k.tasks.current;
  const [mask, flags] = memcg ? GFP_KERNEL : GFP_USER_FAULT;
  k.log.push(invokedLine(cur?.comm ?? 'sh', mask, flags, order, cur?.oomScoreAdj ?? 0));
  if (memcg) {
    if (memcg.version === 'v2') {
      k.log.push(memcgCounterLine('memory', memcg.memory.usage, memcg.memory.max, memcg.events.max));
      k.log.push(memcgCounterLine('swap', memcg.swap.usage, memcg.swap.max, memcg.swapEvents.max));
    } else {
      k.log.push(memcgCounterLine('memory', memcg.memory.usage, memcg.memory.max, memcg.memory.failcnt));
      k.log.push(memcgCounterLine('memory+swap', memcg.swap.usage, memcg.swap.max, memcg.swap.failcnt));
      k.log.push(memcgCounterLine('kmem', 0, PAGE_COUNTER_MAX, 0));
    }
    k.log.push(`Memory cgroup stats for ${memcg.path}:`);
  } else {
    k.log.push('Mem-Info:');
  }
  if (k.sysctl['vm.oom_dump_tasks'] !== 0) {
    k.log.push(...DUMP_TASKS_HEADER);
    for (const t of tasksOf(k, memcg)) if (t.mm) k.log.push(dumpTaskRow(taskView(t)));
  }
}

export function panic(k: Kernel, msg: string): never {
  k.log.push(`Kernel panic - not syncing: ${msg}`);
  k.oom.panicked = msg;
  throw new Panicked(msg);
}

/** Badness of a live task against the global totalpages (for /proc/<pid>/oom_score style checks). */
export function badness(k: Kernel, pid: number): number {
  const t = k.tasks.live.get(pid);
  if (!t?.mm) return LONG_MIN;
  return oomBadness({ isGlobalInit: t.pid === 1, isKthread: false, hasMm: true, oomScoreAdj: t.oomScoreAdj, mmfOomSkip: t.mm.mmfOomSkip, inVfork: false, rss: t.mm.rssAnon + t.mm.rssFile + t.mm.rssShmem, swapents: t.mm.swapents, pgtablesBytes: 0 }, k.totalram + k.swap.total);
}
