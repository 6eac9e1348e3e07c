/** Shared by the clone and snapshot property tests: random call sequences and the engine state they compare. */
import fc from 'fast-check';
import { Engine, OomsimError } from '../bindings/src/index.js';

/** Everything observable, drained: the queues are part of the state a clone or a snapshot carries. */
export function state(e: Engine): string {
  return JSON.stringify([e.meminfoText(), e.vmstatRaw().join(','), e.tasks(), e.nowNs(), e.drainLog(), e.drainEvents(), e.procSwaps(), e.psiText()], (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export type Op = (e: Engine) => unknown;
/** Calls that mostly succeed and move memory: pids 1..4, mappings touched past RAM (swap, reclaim, OOM kills). */
export const op: fc.Arbitrary<Op> = fc.oneof(
  fc.integer({ min: 1, max: 4 }).map((pid) => (e: Engine) => e.spawn(pid)),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 300 })).map(([pid, pages]) => (e: Engine) => {
    const vpn = e.mmapAnon(pid, pages);
    return e.touch(pid, vpn, pages);
  }),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 8 })).map(([pid, child]) => (e: Engine) => e.fork(pid, child)),
  fc.integer({ min: 1, max: 8 }).map((pid) => (e: Engine) => e.exit(pid)),
  fc.integer({ min: 1, max: 2_000 }).map((ms) => (e: Engine) => e.advance(BigInt(ms) * 1_000_000n)),
  fc.constantFrom(0, 1, 2).map((mode) => (e: Engine) => e.setSysctl('vm.overcommit_memory', mode)),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: -1000, max: 1000 })).map(([pid, adj]) => (e: Engine) => e.setOomScoreAdj(pid, adj)),
);

/** Run one call; typed refusals (ESRCH, ENOMEM, a pid in use) are part of the sequence, anything else fails. */
export function apply(e: Engine, f: Op): void {
  try {
    f(e);
  } catch (err) {
    if (!(err instanceof OomsimError) || ['E_TRAP', 'E_POISONED', 'E_INTERNAL'].includes(err.code)) throw err;
  }
}

/** The machine both tests start from: 4 MiB of RAM, 1 MiB of swap. */
export const fresh = () => {
  const e = new Engine({ totalramPages: 1024, totalSwapPages: 256, seed: 7n });
  e.swapon(256, 0, 'ssd');
  return e;
};
