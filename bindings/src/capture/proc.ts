/**
 * Live read of this machine's processes from /proc for `oomsim predict --live`: the oom_badness inputs
 * (fs/proc/task_mmu.c:task_mem prints them in /proc/PID/status) and the kernel's own /proc/PID/oom_score.
 * Processes that vanish mid-read, kernel threads, zombies and unreadable files are skipped and counted, never thrown.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcTask {
  pid: number;
  comm: string;
  uid: number;
  oomScoreAdj: number;
  rssAnonKb: number;
  rssFileKb: number;
  rssShmemKb: number;
  vmSwapKb: number;
  vmPteKb: number;
  /** The memory controller's path from /proc/PID/cgroup (v1 "memory" line, else the v2 "0::" line). */
  memcg: string;
  /** The kernel's /proc/PID/oom_score, read right after status. */
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

/** Parses /proc/PID/status (fields "Name:\tx", "VmRSS:\t 12 kB"). */
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
  const m = parseStatus(readFileSync(`${root}/meminfo`, 'utf8'));
  const memTotalKb = kb(m, 'MemTotal');
  if (memTotalKb <= 0) throw new Error(`${root}/meminfo: no MemTotal line`);
  return { memTotalKb, swapTotalKb: kb(m, 'SwapTotal') };
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? '';
}

/** Reads every process in `root` (default /proc). */
export function readProc(root = '/proc'): ProcRead {
  const { memTotalKb, swapTotalKb } = readMeminfo(root);
  const skipped: ProcSkips = { vanished: 0, kernelThreads: 0, zombies: 0, unreadable: 0 };
  const tasks: ProcTask[] = [];
  const pids = readdirSync(root).filter((d) => /^[0-9]+$/.test(d)).map(Number).sort((a, b) => a - b);
  for (const pid of pids) {
    try {
      const st = parseStatus(readFileSync(`${root}/${pid}/status`, 'utf8'));
      const kernelOomScore = Number.parseInt(readFileSync(`${root}/${pid}/oom_score`, 'utf8'), 10);
      if (st.get('Kthread') === '1' || !st.has('VmRSS')) {
        // Kernel threads have no mm; a zombie has released its mm too (no Vm* lines). Zombies say State: Z.
        if ((st.get('State') ?? '').startsWith('Z')) skipped.zombies++;
        else skipped.kernelThreads++;
        continue;
      }
      tasks.push({
        pid,
        comm: st.get('Name') ?? '?',
        uid: Number.parseInt((st.get('Uid') ?? '0').split(/\s+/)[1] ?? '0', 10),
        oomScoreAdj: Number.parseInt(readFileSync(`${root}/${pid}/oom_score_adj`, 'utf8'), 10),
        rssAnonKb: kb(st, 'RssAnon'),
        rssFileKb: kb(st, 'RssFile'),
        rssShmemKb: kb(st, 'RssShmem'),
        vmSwapKb: kb(st, 'VmSwap'),
        vmPteKb: kb(st, 'VmPTE'),
        memcg: memcgOf(readFileSync(`${root}/${pid}/cgroup`, 'utf8')),
        kernelOomScore,
      });
    } catch (e) {
      const c = code(e);
      if (c === 'ENOENT' || c === 'ESRCH') skipped.vanished++;
      else if (c === 'EACCES' || c === 'EPERM') skipped.unreadable++;
      else throw new Error(`${root}/${pid}: ${(e as Error).message}`);
    }
  }
  return { memTotalKb, swapTotalKb, tasks, skipped };
}
