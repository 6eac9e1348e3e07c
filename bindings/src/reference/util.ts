/**
 * Overcommit accounting: mm/util.c (vm_commit_limit, __vm_enough_memory, the overcommit sysctl handlers) and the
 * boot-time reserves of mm/mmap.c (init_user_reserve, init_admin_reserve). Dossier §1. The pure rules come first;
 * the engine's commit charge (`k.commit`) follows.
 *
 * Everything is in pages (numbers; every value here stays far below 2^53). kB → pages is `>> 2` written as a
 * truncating division so it never goes through 32-bit shifts.
 */
import { cdiv } from './math.js';
import type { Kernel } from './state.js';
import type { Mm, Task } from './types.js';

export const OVERCOMMIT_GUESS = 0;
export const OVERCOMMIT_ALWAYS = 1;
export const OVERCOMMIT_NEVER = 2;

/** kB → pages (`>> (PAGE_SHIFT - 10)`), for non-negative kB. */
export const kbToPages = (kb: number): number => Math.floor(kb / 4);

export interface OvercommitSysctls {
  overcommit_memory: number;
  overcommit_ratio: number;
  overcommit_kbytes: number;
  admin_reserve_kbytes: number;
  user_reserve_kbytes: number;
}

/**
 * mm/util.c:vm_commit_limit(): kbytes mode when vm.overcommit_kbytes != 0, else the ratio of RAM with the hugetlb
 * pool subtracted first (ratio mode only); swap is added in both modes.
 */
export function vmCommitLimit(
  totalramPages: number,
  totalSwapPages: number,
  hugetlbTotalPages: number,
  s: Pick<OvercommitSysctls, 'overcommit_ratio' | 'overcommit_kbytes'>,
): number {
  let allowed: number;
  if (s.overcommit_kbytes !== 0) allowed = kbToPages(s.overcommit_kbytes);
  else if (s.overcommit_ratio >= 0) allowed = cdiv((totalramPages - hugetlbTotalPages) * s.overcommit_ratio, 100);
  else {
    // vm.overcommit_ratio is a plain int (proc_dointvec, no range check) but vm_commit_limit() computes in
    // unsigned long: a negative ratio converts to 2^64 + ratio and the product wraps modulo 2^64. The result is
    // above 2^53 and is returned rounded to the nearest double.
    const u = (BigInt(totalramPages - hugetlbTotalPages) * BigInt.asUintN(64, BigInt(s.overcommit_ratio))) % (1n << 64n);
    return Number(u / 100n + BigInt(totalSwapPages));
  }
  return allowed + totalSwapPages;
}

/** The parts of the machine __vm_enough_memory() reads. */
export interface CommitState {
  /** vm_committed_as (pages), the counter that is charged first and taken back on failure. */
  committed: number;
  totalramPages: number;
  totalSwapPages: number;
  commitLimit: number;
  sysctl: OvercommitSysctls;
}

/**
 * mm/util.c:__vm_enough_memory(mm, pages, cap_sys_admin) (reached through security_vm_enough_memory_mm(); the
 * commoncap hook decides cap_sys_admin). The request is charged to Committed_AS FIRST in every mode; mode 1 never
 * fails; mode 0 refuses only a single request larger than RAM + swap; mode 2 requires the new total to stay
 * strictly below CommitLimit minus the admin reserve (not for CAP_SYS_ADMIN) and the user reserve
 * min(total_vm/32, user_reserve) when there is an mm. On failure the charge is taken back.
 *
 * `mmTotalVm` is the caller's mm->total_vm before the new mapping exists, or null for no mm.
 * Returns true when admitted (the charge then stays in `st.committed`).
 */
export function vmEnoughMemory(st: CommitState, pages: number, mmTotalVm: number | null, capSysAdmin: boolean): boolean {
  st.committed += pages;
  const mode = st.sysctl.overcommit_memory;
  if (mode === OVERCOMMIT_ALWAYS) return true;
  if (mode === OVERCOMMIT_GUESS) {
    if (!(pages > st.totalramPages + st.totalSwapPages)) return true;
  } else {
    let allowed = st.commitLimit;
    if (!capSysAdmin) allowed -= kbToPages(st.sysctl.admin_reserve_kbytes);
    if (mmTotalVm !== null) allowed -= Math.min(cdiv(mmTotalVm, 32), kbToPages(st.sysctl.user_reserve_kbytes));
    if (st.committed < allowed) return true;
  }
  st.committed -= pages;
  return false;
}

/** mm/mmap.c:init_user_reserve(): min(free_kb / 32, 128 MiB). */
export const initUserReserveKbytes = (freeKb: number): number => Math.min(cdiv(freeKb, 32), 131072);
/** mm/mmap.c:init_admin_reserve(): min(free_kb / 32, 8 MiB). */
export const initAdminReserveKbytes = (freeKb: number): number => Math.min(cdiv(freeKb, 32), 8192);

// ---- the engine's commit charge (security_vm_enough_memory_mm, vm_unacct_memory) ---------------------------------

export function commitLimit(k: Kernel): number {
  return vmCommitLimit(k.totalram, k.swap.total, k.hugetlbTotal, {
    overcommit_ratio: k.sysctl['vm.overcommit_ratio'],
    overcommit_kbytes: k.sysctl['vm.overcommit_kbytes'],
  });
}

export function commitState(k: Kernel): CommitState {
  return {
    committed: k.commit.committed + k.commit.baseline,
    totalramPages: k.totalram,
    totalSwapPages: k.swap.total,
    commitLimit: commitLimit(k),
    sysctl: {
      overcommit_memory: k.sysctl['vm.overcommit_memory'],
      overcommit_ratio: k.sysctl['vm.overcommit_ratio'],
      overcommit_kbytes: k.sysctl['vm.overcommit_kbytes'],
      admin_reserve_kbytes: k.sysctl['vm.admin_reserve_kbytes'],
      user_reserve_kbytes: k.sysctl['vm.user_reserve_kbytes'],
    },
  };
}

/** security_vm_enough_memory_mm(mm, pages) for `task` (its mm's total_vm, its CAP_SYS_ADMIN). */
export function vmEnough(k: Kernel, task: Task, pages: number, mm: Mm | null = task.mm): boolean {
  const st = commitState(k);
  const ok = vmEnoughMemory(st, pages, mm ? mm.totalVm : null, task.capSysAdmin);
  if (ok) k.commit.committed += pages;
  else k.log.push(`__vm_enough_memory: pid: ${task.pid}, comm: ${task.comm}, bytes: ${pages * 4096} not enough memory for the allocation`);
  return ok;
}

/** vm_unacct_memory() */
export function unacct(k: Kernel, pages: number): void {
  k.commit.committed -= pages;
}
