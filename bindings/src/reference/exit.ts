/** kernel/exit.c:do_exit() → mm/mmap.c:exit_mmap(): a task's mappings go, its page cache stays. */
import { unblock } from './memcontrol_v1.js';
import { zapPte } from './memory.js';
import { releaseVma } from './mmap.js';
import { type Kernel, liveTask } from './state.js';
import type { OpResult, Task } from './types.js';

/** do_exit() → exit_mmap(): every mapping goes; page cache stays; Committed_AS of VM_ACCOUNT VMAs returns. */
export function exitTask(k: Kernel, t: Task): void {
  if (!t.alive) return;
  if (t.blockedOn) unblock(t);
  const mm = t.mm;
  if (mm) {
    // exit_mmap(): unmap_vmas() zaps every VMA in address order, then remove_vma() releases each (Committed_AS,
    // the file reference: a shmem object's pages go when its last mapping does)
    const vmas = mm.vmasInAddressOrder();
    for (const [r, v] of vmas) for (let i = v.start; i < v.end; i++) zapPte(k, r, i);
    for (const [, v] of vmas) releaseVma(k, mm, v);
    mm.regions.clear();
    mm.mmfOomSkip = true;
  }
  t.mm = null;
  t.alive = false;
  t.pending = [];
  k.tasks.live.delete(t.pid);
}

export function exit(k: Kernel, pid: number): OpResult {
  exitTask(k, liveTask(k, pid));
  return 'ok';
}
