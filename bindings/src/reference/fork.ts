/** Tasks are created: kernel/fork.c (the `spawn` op stands for exec of a new program; fork copies the mm). */
import { mapFolio } from './rmap.js';
import { type Kernel, liveTask, memcgAt } from './state.js';
import { InvalidOp, type OpResult, Region, Task, Vma } from './types.js';
import { unacct, vmEnough } from './util.js';

export function spawn(k: Kernel, pid: number, cgroup = '/', comm = `task${pid}`, oomScoreAdj = 0, uid = 1000, capSysAdmin = false): OpResult {
  if (k.tasks.live.has(pid)) throw new InvalidOp(`task ${pid} already exists`);
  if (oomScoreAdj < -1000 || oomScoreAdj > 1000) throw new InvalidOp('oom_score_adj out of range');
  const t = new Task(pid, comm, uid, capSysAdmin, oomScoreAdj, memcgAt(k, cgroup));
  k.tasks.live.set(pid, t);
  k.tasks.all.set(pid, t);
  return 'ok';
}

/**
 * fork(): mm/mmap.c:dup_mmap(). The child copies every VMA except VM_DONTCOPY ones; each VM_ACCOUNT VMA is
 * charged (checked against the PARENT's mm in mode 2; a failure undoes the copy: ENOMEM, no child).
 * mm/memory.c:copy_page_range() copies PTEs only for private VMAs that have an anon_vma (vma_needs_copy):
 * anon pages become shared and write-protected in both, counted in both RSS; no page is allocated.
 */
export function fork(k: Kernel, pid: number, childPid: number): OpResult {
  const p = liveTask(k, pid);
  if (k.tasks.live.has(childPid)) throw new InvalidOp(`task ${childPid} already exists`);
  const pmm = p.mm!;
  // mm/mmap.c:dup_mmap() walks the VMAs in address order and, for each, checks the commit charge (mode 2 against
  // the parent's mm) BEFORE copying it; VMAs copied before a failing check have already write-protected the
  // parent's anon PTEs (copy_present_pte), and tearing down the half-built child does not undo that, so the
  // parent's next write to such a page takes a do_wp_page fault (reuse).
  let charged = 0;
  const copiedBefore: [Region, Vma][] = [];
  for (const [r, v] of pmm.vmasInAddressOrder()) {
    if (v.flags.dontcopy) continue;
    if (v.flags.account && !vmEnough(k, p, v.len, pmm)) {
      unacct(k, charged);
      for (const [cr, cv] of copiedBefore) {
        if (cv.flags.shared || !cv.anonVma || cv.flags.hugetlb) continue;
        for (let i = cv.start; i < cv.end; i++) {
          const pte = cr.ptes.get(i);
          if (pte && pte.t !== 'zero' && pte.t !== 'swap') pte.writable = false;
        }
      }
      return 'ENOMEM';
    }
    if (v.flags.account) charged += v.len;
    copiedBefore.push([r, v]);
  }
  const c = new Task(childPid, p.comm, p.uid, p.capSysAdmin, p.oomScoreAdj, p.memcg);
  const cmm = c.mm!;
  cmm.brk = pmm.brk;
  for (const r of pmm.regions.values()) {
    const copied = r.vmas.filter((v) => !v.flags.dontcopy);
    if (copied.length === 0) continue;
    const cr = new Region(r.name, cmm, r.base);
    cmm.regions.set(r.name, cr);
    for (const v of copied) {
      cr.vmas.push(new Vma(v.start, v.end, { ...v.flags }, v.mapping, v.anonVma));
      if (v.mapping) v.mapping.mappers++;
      if (v.flags.hugetlb) cmm.totalVm += v.len;
      else cmm.totalVm += v.len;
      // mm/memory.c:vma_needs_copy(): PTEs are copied only when the VMA has an anon_vma (some anon page was
      // created in it); otherwise the child's faults fill them (a zero-page-only VMA has no anon_vma: do_anonymous_page
      // maps the zero page before anon_vma_prepare).
      if (v.flags.shared || !v.anonVma || v.flags.hugetlb) continue;
      for (let i = v.start; i < v.end; i++) {
        const pte = r.ptes.get(i);
        if (!pte) continue;
        if (pte.t === 'zero') cr.ptes.set(i, { t: 'zero' });
        else if (pte.t === 'swap') {
          pte.entry.count++;
          cmm.swapents++;
          cr.ptes.set(i, { t: 'swap', entry: pte.entry });
        } else {
          // copy_present_pte(): COW — both PTEs write-protected; the child's copy is old (pte_mkold).
          pte.writable = false;
          mapFolio(k, cr, i, pte.folio, false, false);
        }
      }
    }
  }
  k.tasks.live.set(childPid, c);
  k.tasks.all.set(childPid, c);
  return 'ok';
}
