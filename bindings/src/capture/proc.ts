/**
 * Live read of this machine's processes from /proc: the oom_badness inputs and the kernel's own /proc/PID/oom_score.
 *
 * - The rss term is field 24 of /proc/PID/stat (fs/proc/array.c:do_task_stat prints get_mm_rss(), the approximate
 *   per-CPU counter that mm/oom_kill.c:oom_badness also reads). /proc/PID/status sums the per-CPU counters exactly
 *   (fs/proc/task_mmu.c:task_mem) and runs a few dozen pages ahead on a busy task (../shared/spec/measured-rules.md,
 *   "OOM scoring"), so status gives only the RssAnon/RssFile/RssShmem split.
 * - stat is read first and oom_score right after it, so the two see nearly the same counters.
 * - Processes that vanish mid-read, kernel threads, zombies and unreadable files are skipped and counted, never thrown.
 */
import { fsio } from './fsio.js';

export interface ProcTask {
  pid: number;
  comm: string;
  uid: number;
  oomScoreAdj: number;
  /** get_mm_rss() in pages: /proc/PID/stat field 24, what oom_badness uses. */
  rssPages: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot): orders tasks as the kernel's task list does (fork order). */
  startTime: number;
  rssAnonKb: number;
  rssFileKb: number;
  rssShmemKb: number;
  vmSwapKb: number;
  vmPteKb: number;
  vmSizeKb: number;
  vmDataKb: number;
  vmLckKb: number;
  /**
   * The task's share of Committed_AS: the sizes of its VMAs flagged `ac` (VM_ACCOUNT) in /proc/PID/smaps
   * (fs/proc/task_mmu.c:show_smap_vma_flags); null when smaps could not be read.
   */
  committedKb: number | null;
  /** The memory controller's path from /proc/PID/cgroup (v1 "memory" line, else the v2 "0::" line). */
  memcg: string;
  /** The kernel's /proc/PID/oom_score, read right after stat. */
  kernelOomScore: number;
}

export interface ProcSkips {
  vanished: number;
  kernelThreads: number;
  zombies: number;
  unreadable: number;
}

export interface ProcRead {
  memTotalKb: number;
  swapTotalKb: number;
  tasks: ProcTask[];
  skipped: ProcSkips;
}

/** A task that exited between two reads: ENOENT/ESRCH, or a file that came back empty or cut short. */
class Vanished extends Error {}

/** Parses "Key:\tvalue" lines (/proc/PID/status, /proc/meminfo). */
export function parseStatus(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

function kb(m: Map<string, string>, key: string): number {
  const v = m.get(key);
  if (v === undefined) return 0;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Field `n` (1-based, as in proc(5)) of a /proc/PID/stat line, n >= 3. The comm (field 2) is in parentheses and may
 * itself contain spaces and ')', so the fields after it are counted from the last ')'.
 */
export function statField(stat: string, n: number): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Vanished('no ")" after the comm');
  // After ") " come fields 3 (state), 4, ...
  const f = stat.slice(close + 2).trim().split(/\s+/);
  const v = Number.parseInt(f[n - 3] ?? '', 10);
  if (!Number.isFinite(v)) throw new Vanished(`field ${n} is not a number: ${JSON.stringify(f[n - 3])}`);
  return v;
}

/** Field 24 (rss, pages) of a /proc/PID/stat line. */
export const statRssPages = (stat: string): number => statField(stat, 24);

/** The sizes (kB) of the VMAs of a /proc/PID/smaps text whose VmFlags include `ac` (VM_ACCOUNT). */
export function accountedKb(smaps: string): number {
  let size = 0;
  let total = 0;
  for (const line of smaps.split('\n')) {
    if (line.startsWith('Size:')) size = Number.parseInt(line.slice(5), 10) || 0;
    else if (line.startsWith('VmFlags:') && line.slice(8).trim().split(/\s+/).includes('ac')) total += size;
  }
  return total;
}

/** The memcg path of a /proc/PID/cgroup text: the v1 line naming "memory", else the v2 unified "0::" line. */
export function memcgOf(cgroupText: string): string {
  let v2 = '/';
  for (const line of cgroupText.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctrls = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (ctrls.split(',').includes('memory')) return path;
    if (line.startsWith('0::')) v2 = path;
  }
  return v2;
}

/** Reads /proc/meminfo's MemTotal and SwapTotal (kB). */
export function readMeminfo(root = '/proc'): { memTotalKb: number; swapTotalKb: number } {
  const m = parseStatus(fsio.readText(`${root}/meminfo`));
  const memTotalKb = kb(m, 'MemTotal');
  if (memTotalKb <= 0) throw new Error(`${root}/meminfo: no MemTotal line`);
  return { memTotalKb, swapTotalKb: kb(m, 'SwapTotal') };
}

export function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? '';
}


function intFile(path: string): number {
  const t = fsio.readText(path);
  const n = Number.parseInt(t, 10);
  if (!Number.isFinite(n)) throw new Vanished(`${path}: empty`);
  return n;
}

/** A thread of `pid` other than the leader that still has an mm: its status, stat and /proc directory. */
function liveThread(dir: string, pid: number): { st: Map<string, string>; stat: string; dir: string } | null {
  let tids: string[];
  try {
    tids = fsio.readDir(`${dir}/task`);
  } catch {
    return null;
  }
  for (const tid of tids) {
    if (tid === String(pid)) continue;
    try {
      const tdir = `${dir}/task/${tid}`;
      const stat = fsio.readText(`${tdir}/stat`);
      const st = parseStatus(fsio.readText(`${tdir}/status`));
      if (st.has('VmRSS') && stat !== '') return { st, stat, dir: tdir };
    } catch {
      // that thread exited too: try the next
    }
  }
  return null;
}

export type TaskRead = { kind: 'task'; task: ProcTask } | { kind: 'kthread' | 'zombie' | 'vanished' | 'unreadable'; detail?: string };

/** Reads one process. Never throws for the cases a live machine produces (see the file comment). */
export function readTask(root: string, pid: number): TaskRead {
  const dir = `${root}/${pid}`;
  try {
    const stat = fsio.readText(`${dir}/stat`);
    if (stat === '') return { kind: 'vanished' };
    const kernelOomScore = intFile(`${dir}/oom_score`);
    const leader = parseStatus(fsio.readText(`${dir}/status`));
    if (leader.get('Kthread') === '1') return { kind: 'kthread' };
    let st = leader;
    let mmStat = stat;
    let mmDir = dir;
    if (!leader.has('VmRSS')) {
      // A zombie has released its mm (no Vm* lines; State: Z). Kernels without the Kthread line (< 6.2) show
      // kernel threads the same way, without Z.
      if (!(leader.get('State') ?? '').startsWith('Z')) return leader.has('Name') ? { kind: 'kthread' } : { kind: 'vanished' };
      // A leader that exited while its other threads run: the kernel scores the process through a live thread's
      // mm (mm/oom_kill.c:find_lock_task_mm), so read that thread's view.
      const live = liveThread(dir, pid);
      if (live === null) return { kind: 'zombie' };
      ({ st, stat: mmStat, dir: mmDir } = live);
    }
    const task: ProcTask = {
      pid,
      comm: leader.get('Name') ?? '?',
      uid: Number.parseInt((leader.get('Uid') ?? '0').split(/\s+/)[0] ?? '0', 10),
      oomScoreAdj: intFile(`${dir}/oom_score_adj`),
      rssPages: statRssPages(mmStat),
      startTime: statField(stat, 22),
      rssAnonKb: kb(st, 'RssAnon'),
      rssFileKb: kb(st, 'RssFile'),
      rssShmemKb: kb(st, 'RssShmem'),
      vmSwapKb: kb(st, 'VmSwap'),
      vmPteKb: kb(st, 'VmPTE'),
      vmSizeKb: kb(st, 'VmSize'),
      vmDataKb: kb(st, 'VmData'),
      vmLckKb: kb(st, 'VmLck'),
      committedKb: null,
      memcg: memcgOf(fsio.readText(`${dir}/cgroup`)),
      kernelOomScore,
    };
    try {
      task.committedKb = accountedKb(fsio.readText(`${mmDir}/smaps`));
    } catch {
      // smaps needs ptrace access (PTRACE_MODE_READ): unreadable is recorded as null, the task is kept.
    }
    return { kind: 'task', task };
  } catch (e) {
    if (e instanceof Vanished) return { kind: 'vanished' };
    const c = errnoCode(e);
    if (c === 'ENOENT' || c === 'ESRCH') return { kind: 'vanished' };
    if (c === 'EACCES' || c === 'EPERM') return { kind: 'unreadable', detail: `${dir}: ${c}` };
    throw new Error(`${dir}: ${(e as Error).message}`);
  }
}

/** Reads every process in `root` (default /proc), in pid order. */
export function readProc(root = '/proc'): ProcRead {
  const { memTotalKb, swapTotalKb } = readMeminfo(root);
  const skipped: ProcSkips = { vanished: 0, kernelThreads: 0, zombies: 0, unreadable: 0 };
  const tasks: ProcTask[] = [];
  const pids = fsio.readDir(root).filter((d) => /^[0-9]+$/.test(d)).map(Number).sort((a, b) => a - b);
  for (const pid of pids) {
    const r = readTask(root, pid);
    if (r.kind === 'task') tasks.push(r.task);
    else if (r.kind === 'kthread') skipped.kernelThreads++;
    else if (r.kind === 'zombie') skipped.zombies++;
    else if (r.kind === 'vanished') skipped.vanished++;
    else skipped.unreadable++;
  }
  return { memTotalKb, swapTotalKb, tasks, skipped };
}

/**
 * include/linux/proc_ns.h PROC_PID_INIT_INO: the inode of the initial pid namespace. Only there is our pid 1 the
 * kernel's global init, which oom_badness never picks (mm/oom_kill.c:oom_unkillable_task, is_global_init).
 */
export const PROC_PID_INIT_INO = 0xeffffffc;
export function inInitPidNs(root = '/proc'): boolean {
  try {
    return fsio.readLink(`${root}/self/ns/pid`) === `pid:[${PROC_PID_INIT_INO}]`;
  } catch {
    return false;
  }
}
