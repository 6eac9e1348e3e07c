/**
 * Mappings: mm/mmap.c (do_mmap, brk), mm/vma.c (__mmap_region, do_vmi_munmap, remove_vma). A task's mapping is a
 * named Region of VMAs (types.ts); the commit charge is util.ts's.
 */
import { zapPte } from './memory.js';
import { putMapping } from './shmem.js';
import { type Kernel, liveTask } from './state.js';
import { InvalidOp, Mapping, type Mm, type OpResult, Region, START_BRK, Vma, type VmFlags } from './types.js';
import { OVERCOMMIT_NEVER, unacct, vmEnough } from './util.js';

/**
 * mmap(): mm/mmap.c:do_mmap() + mm/vma.c:__mmap_region(). MAP_NORESERVE sets VM_NORESERVE only when
 * overcommit_memory != 2. accountable_mapping(): VM_WRITE without VM_SHARED/VM_NORESERVE and not hugetlbfs is
 * charged in full (admission per __vm_enough_memory). MAP_SHARED|MAP_ANONYMOUS: the shmem object is charged in
 * full when it is set up (shmem_zero_setup → shmem_acct_size), or per page when VM_NORESERVE. hugetlbfs: length
 * rounded up to 2 MiB, huge pages reserved from the pool, never charged.
 */
export function mmap(k: Kernel, pid: number, name: string, pages: number, prot: string, flags: string[], file?: string): OpResult {
  const t = liveTask(k, pid);
  const mm = t.mm!;
  if (mm.regions.has(name)) throw new InvalidOp(`region ${name} exists`);
  const shared = flags.includes('shared');
  const priv = flags.includes('private');
  const anon = flags.includes('anon');
  if (shared === priv) throw new InvalidOp('mmap needs exactly one of private/shared');
  if (anon === (file !== undefined)) throw new InvalidOp('mmap needs anon or a file');
  if (!['none', 'r', 'rw'].includes(prot)) throw new InvalidOp(`bad prot ${prot}`);
  if (pages <= 0) return 'EINVAL';
  let mapping: Mapping | null = null;
  if (file !== undefined) {
    mapping = k.files.named.get(file) ?? null;
    if (!mapping) throw new InvalidOp(`file ${file} does not exist`);
  }
  const hugetlb = mapping?.fs === 'hugetlbfs';
  const len = hugetlb ? Math.ceil(pages / 512) * 512 : pages;
  // get_unmapped_area() comes first in do_mmap()
  const base = mm.unmappedArea(len, hugetlb ? 512 : 1);
  if (base === null) return 'ENOMEM';
  const noreserve = flags.includes('noreserve') && k.sysctl['vm.overcommit_memory'] !== OVERCOMMIT_NEVER;
  const f: VmFlags = { read: prot !== 'none', write: prot === 'rw', shared, noreserve, account: false, dontcopy: false, hugetlb };
  if (hugetlb) {
    // mm/hugetlb.c:hugetlb_reserve_pages()
    const need = len / 512;
    if (k.frames.hugeFree - k.frames.hugeResv < need) return 'ENOMEM';
    k.frames.hugeResv += need;
  } else if (f.write && !f.shared && !f.noreserve) {
    if (!vmEnough(k, t, len)) return 'ENOMEM';
    f.account = true;
  }
  if (shared && anon) {
    const obj = new Mapping(`dev/zero:${pid}:${name}`, 'shmem_anon', len, noreserve);
    if (!noreserve) {
      if (!vmEnough(k, t, len)) return 'ENOMEM';
      obj.acctSize = len;
    }
    k.files.anonShmem.add(obj);
    mapping = obj;
  }
  const r = new Region(name, mm, base);
  r.vmas.push(new Vma(0, len, f, mapping, false));
  if (mapping) mapping.mappers++;
  mm.regions.set(name, r);
  mm.totalVm += len;
  return 'ok';
}


/** Unmap pages [first, first+count) of a region: PTEs, VMAs, Committed_AS (mm/vma.c:do_vmi_munmap). */
export function unmapRange(k: Kernel, r: Region, first: number, count: number): void {
  const end = first + count;
  r.splitAt(first);
  r.splitAt(end);
  const mm = r.mm;
  const gone = r.vmas.filter((x) => x.start >= first && x.end <= end);
  for (const v of gone) for (let i = v.start; i < v.end; i++) zapPte(k, r, i);
  for (const v of gone) releaseVma(k, mm, v);
  r.vmas = r.vmas.filter((x) => !(x.start >= first && x.end <= end));
  if (r.vmas.length === 0) mm.regions.delete(r.name);
}

/** remove_vma() after the VMA's pages are zapped: Committed_AS, hugetlb reservation, total_vm, file reference. */
export function releaseVma(k: Kernel, mm: Mm, v: Vma): void {
  if (v.flags.account) unacct(k, v.len);
  if (v.flags.hugetlb) k.frames.hugeResv = Math.max(0, k.frames.hugeResv - Math.ceil(v.len / 512));
  mm.totalVm -= v.len;
  if (v.mapping) putMapping(k, v.mapping);
}

export function munmap(k: Kernel, pid: number, name: string, first: number, count: number): OpResult {
  const t = liveTask(k, pid);
  if (count <= 0 || first < 0) return 'EINVAL';
  const r = t.mm!.regions.get(name);
  if (!r) return 'ok';
  unmapRange(k, r, first, count);
  return 'ok';
}

/**
 * brk(): mm/mmap.c:brk → do_brk_flags(). Growth is admitted and charged (brk VMAs always have VM_ACCOUNT);
 * shrinking unmaps the tail and returns its charge. `pages` is the new heap size.
 */
export function brk(k: Kernel, pid: number, pages: number): OpResult {
  const t = liveTask(k, pid);
  const mm = t.mm!;
  if (pages < 0) return 'ENOMEM';
  const r = mm.regions.get('[heap]');
  // SYSCALL_DEFINE1(brk): old and new break compare with mm->brk, not with what is mapped (a munmap of the heap
  // does not move the break: brk to the same value is a no-op)
  const cur = mm.brk;
  if (pages > cur) {
    const delta = pages - cur;
    if (r?.vmas.some((v) => v.start < pages && v.end > cur)) return 'ENOMEM'; // runs into a mapping
    if (!vmEnough(k, t, delta)) return 'ENOMEM';
    const heap = r ?? new Region('[heap]', mm, START_BRK);
    // do_brk_flags(): expand the VMA ending at the old break when it is a plain brk VMA, else a new VMA
    const prev = heap.vmas.find((v) => v.end === cur && v.flags.read && v.flags.write && v.flags.account && !v.flags.dontcopy && !v.flags.shared);
    if (prev) prev.end = pages;
    else heap.vmas.push(new Vma(cur, pages, { read: true, write: true, shared: false, noreserve: false, account: true, dontcopy: false, hugetlb: false }, null, false));
    heap.vmas.sort((a, b) => a.start - b.start);
    mm.regions.set('[heap]', heap);
    mm.totalVm += delta;
  } else if (pages < cur && r) {
    unmapRange(k, r, pages, cur - pages);
  }
  mm.brk = pages;
  return 'ok';
}
