/**
 * Kernel entry and return for the ops: `current` is set for the entry, an Abort thrown inside becomes the op's
 * result (§6.2 of vectors-format.md), a task that got SIGKILL meanwhile exits as the entry returns, and tasks woken
 * from a v1 OOM wait resume their accesses at the end of the op.
 */
import { exitTask } from './exit.js';
import { unblock } from './memcontrol_v1.js';
import { runAccesses } from './memory.js';
import type { Kernel } from './state.js';
import {
  type Access, Blocked, type CowKind, type FaultKind, InvalidOp, Killed, NoMem, NoSpace, type OpResult, Panicked,
  SegFault, SigBus, type Task,
} from './types.js';

/** Run a task's accesses as its kernel entries; the result per §6.2 (killed / blocked / errors). */
export function runTaskAccesses(k: Kernel, task: Task, list: Access[]): { result: OpResult; fault: FaultKind; cow: CowKind } {
  const prev = k.tasks.current;
  k.tasks.current = task;
  try {
    const r = runAccesses(k, task, list);
    return { result: 'ok', ...r };
  } catch (e) {
    return { result: abortResult(k, task, e), fault: 'none', cow: 'none' };
  } finally {
    k.tasks.current = prev;
  }
}

/** Decide an aborted entry's result; a killed task exits now (its kernel entry has returned). */
export function abortResult(k: Kernel, task: Task | null, e: unknown): OpResult {
  if (e instanceof Panicked) return 'panic';
  if (task && task.sigkill && task.alive) {
    exitTask(k, task);
    return 'killed';
  }
  if (e instanceof Killed) return 'killed';
  if (e instanceof Blocked) return 'blocked';
  if (e instanceof NoMem) {
    // VM_FAULT_OOM of a memcg charge that found no victim: pagefault_out_of_memory() retries the fault forever;
    // the model stops the op with ENOMEM.
    return 'ENOMEM';
  }
  if (e instanceof NoSpace) return 'ENOSPC';
  if (e instanceof SegFault || e instanceof SigBus) {
    // force_sig_fault(): no handler in the model, so the default action of SIGSEGV/SIGBUS terminates the task
    // when the fault returns (kernel/signal.c:get_signal → do_group_exit); it exits like exit(2).
    if (task && task.alive) exitTask(k, task);
    return e instanceof SegFault ? 'SIGSEGV' : 'SIGBUS';
  }
  throw e;
}

/** Run a syscall-like body with `task` as current; aborts become results. */
export function syscall(k: Kernel, task: Task | null, body: () => OpResult): OpResult {
  const prev = k.tasks.current;
  k.tasks.current = task;
  try {
    const r = body();
    // §6.2 rule 2: the OOM killer chose the task during this entry (it completed its allocation from the
    // reserve): it exits as the entry returns
    if (task && task.sigkill && task.alive) {
      exitTask(k, task);
      return 'killed';
    }
    return r;
  } catch (e) {
    if (e instanceof InvalidOp) throw e;
    return abortResult(k, task, e);
  } finally {
    k.tasks.current = prev;
  }
}

/** Resume tasks woken from a v1 OOM wait: their pending accesses run within the current op (§6.2 rule 3). */
export function drainWakeups(k: Kernel): void {
  while (k.cgroups.wakeQueue.length > 0 && !k.oom.panicked) {
    const t = k.cgroups.wakeQueue.shift()!;
    if (!t.alive || !t.blockedOn) continue;
    unblock(t);
    const rest = t.pending;
    t.pending = [];
    runTaskAccesses(k, t, rest);
  }
}
