/** mm/mprotect.c: mprotect_fixup and the PTE write bits (change_pte_range, can_change_pte_writable). */
import { type Kernel, liveTask } from './state.js';
import type { OpResult } from './types.js';
import { unacct, vmEnough } from './util.js';

/**
 * mprotect(): mm/mprotect.c:mprotect_fixup(). Making writable a private mapping that was never charged (not
 * writable, not VM_ACCOUNT/SHARED/NORESERVE/hugetlb) charges it and sets VM_ACCOUNT; making an accounted
 * anonymous VMA without an anon_vma read-only returns the charge. Write-protecting clears PTE write bits;
 * making writable upgrades exclusive anon PTEs at once (change_pte_range + can_change_pte_writable).
 */
export function mprotect(k: Kernel, pid: number, name: string, first: number, count: number, prot: string): OpResult {
  const t = liveTask(k, pid);
  const r = t.mm!.regions.get(name);
  // a region with no VMA left (fully unmapped, or whose mmap failed) is an unmapped range: ENOMEM
  if (!r) return count <= 0 ? 'EINVAL' : 'ENOMEM';
  if (count <= 0) return 'EINVAL';
  const end = first + count;
  r.splitAt(first);
  r.splitAt(end);
  const write = prot === 'rw';
  const read = prot !== 'none';
  // mm/mprotect.c:do_mprotect_pkey(): the VMAs are changed in address order; a hole (or a refused charge) stops
  // the walk with ENOMEM, the VMAs before it keeping their new protection.
  let pos = first;
  for (const v of r.vmas.filter((x) => x.start >= first && x.end <= end)) {
    if (v.start !== pos) return 'ENOMEM';
    pos = v.end;
    const old = v.flags;
    let account = old.account;
    if (write) {
      if (!old.write && !old.account && !old.hugetlb && !old.shared && !old.noreserve) {
        if (!vmEnough(k, t, v.len)) return 'ENOMEM';
        account = true;
      }
    } else if (old.account && v.isAnonymous && !v.anonVma) {
      account = false;
      unacct(k, v.len);
    }
    // mprotect_fixup(): unchanged flags change nothing (no change_protection: write-protected PTEs stay so)
    if (old.read === read && old.write === write && old.account === account) continue;
    v.flags = { ...old, read, write, account };
    for (let i = v.start; i < v.end; i++) {
      const pte = r.ptes.get(i);
      if (pte?.t !== 'folio') continue;
      // mm/mprotect.c:can_change_pte_writable(): a private anon page is made writable at once only when exclusive;
      // a shared shmem PTE only when it is dirty (written through); a shared file mapping needs write notification,
      // so never.
      if (!write) pte.writable = false;
      else if (v.flags.shared ? pte.folio.kind === 'shmem' && pte.dirty === true : pte.folio.kind === 'anon' && pte.folio.rmap.length === 1) {
        pte.writable = true;
      }
    }
  }
  return pos < end ? 'ENOMEM' : 'ok';
}
