/**
 * The cgroup v1 memcg OOM wait (mm/memcontrol-v1.c: mem_cgroup_oom_synchronize sleeps a task on its memcg's OOM wait
 * queue, memcg1_oom_recover wakes the waiters of the hierarchy branch when memory is uncharged).
 */
import type { Memcg } from './memcontrol.js';
import type { Kernel } from './state.js';
import type { Access, Task } from './types.js';

/** mem_cgroup_oom_synchronize(): sleep on the memcg OOM wait queue; under_oom for the subtree. */
export function block(task: Task, memcg: Memcg, rest: Access[]): void {
  task.blockedOn = memcg;
  task.pending = rest;
  for (const m of memcg.subtree()) m.underOom++;
}

export function unblock(task: Task): void {
  const m = task.blockedOn!;
  for (const c of m.subtree()) c.underOom = Math.max(0, c.underOom - 1);
  task.blockedOn = null;
}

/** memcg1_oom_recover(): wake the waiters whose memcg is in the same hierarchy branch as `memcg`. */
export function oomRecover(k: Kernel, memcg: Memcg): void {
  if (memcg.underOom === 0) return;
  for (const t of k.tasks.live.values()) {
    const w = t.blockedOn;
    if (!w || k.cgroups.wakeQueue.includes(t)) continue;
    if (w.isDescendantOf(memcg) || memcg.isDescendantOf(w)) k.cgroups.wakeQueue.push(t);
  }
}
