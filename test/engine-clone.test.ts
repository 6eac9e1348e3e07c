// Engine.clone() (issue #19 item 4, its in-process first step): a clone is the engine in the same state and then
// independent of it. Property: a call sequence split at any point, with the rest run on the original and on a clone,
// ends in the same state on both, and the same as one engine that ran the whole sequence (so a clone is exactly
// "as if it had made the same calls"), down to /proc/meminfo text, vmstat, the task table, the kernel log and the
// events. Plus: independence both ways, queued commands, and poisoned/freed handles.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, OomsimError, load } from '../bindings/src/index.js';

beforeAll(async () => {
  await load();
});

/** Everything observable, drained: the queues are part of the state a clone carries. */
function state(e: Engine): string {
  return JSON.stringify([e.meminfoText(), e.vmstatRaw().join(','), e.tasks(), e.nowNs(), e.drainLog(), e.drainEvents(), e.procSwaps(), e.psiText()], (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

type Op = (e: Engine) => unknown;
/** Calls that mostly succeed and move memory: pids 1..4, mappings touched past RAM (swap, reclaim, OOM kills). */
/** The state without draining the queues (for comparing one handle with itself over time). */
function view(e: Engine): string {
  return JSON.stringify([e.meminfoText(), e.vmstatRaw().join(','), e.tasks(), e.nowNs()], (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

const op: fc.Arbitrary<Op> = fc.oneof(
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
function apply(e: Engine, f: Op): void {
  try {
    f(e);
  } catch (err) {
    if (!(err instanceof OomsimError) || ['E_TRAP', 'E_POISONED', 'E_INTERNAL'].includes(err.code)) throw err;
  }
}

const fresh = () => {
  const e = new Engine({ totalramPages: 1024, totalSwapPages: 256, seed: 7n });
  e.swapon(256, 0, 'ssd');
  return e;
};

describe('Engine.clone', () => {
  it('a sequence split at any point: original, clone and an unsplit engine end in the same state', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), fc.nat(), (ops, cut) => {
        const k = cut % (ops.length + 1);
        const whole = fresh();
        const a = fresh();
        let b: Engine | undefined;
        try {
          for (const f of ops) apply(whole, f);
          ops.slice(0, k).forEach((f) => apply(a, f));
          b = a.clone();
          for (const f of ops.slice(k)) {
            apply(a, f);
            apply(b, f);
          }
          const want = state(whole);
          expect(state(a)).toBe(want);
          expect(state(b)).toBe(want);
        } finally {
          whole.free();
          a.free();
          b?.free();
        }
      }),
      { seed: 19, numRuns: 150 },
    );
  }, 300_000); // not a speed check: a few hundred small engines on a shared machine

  it('the clone and the original are independent both ways', () => {
    const a = fresh();
    a.spawn(1);
    const vpn = a.mmapAnon(1, 100);
    a.touch(1, vpn, 40);
    const b = a.clone();
    try {
      const at = view(b);
      a.touch(1, vpn, 100); // the original moves on ...
      a.spawn(2);
      expect(b.tasks().map((t) => t.pid)).toEqual([1]);
      expect(view(b)).toBe(at); // ... the clone does not
      b.exit(1); // and the other way round
      expect(a.tasks().map((t) => t.pid)).toEqual([1, 2]);
      expect(a.meminfo().AnonPages).toBe(400); // 100 pages in kB
      a.free(); // freeing one leaves the other working
      expect(b.tasks()).toEqual([]);
    } finally {
      a.free();
      b.free();
    }
  });

  it('queued commands run before the copy; their results stay with the original', () => {
    const a = fresh();
    a.spawn(1);
    const vpn = a.mmapAnon(1, 10);
    a.push('touch', 1, vpn % 2 ** 32, Math.floor(vpn / 2 ** 32), 10, 1);
    const b = a.clone();
    try {
      expect(b.meminfo().AnonPages).toBe(40);
      expect(b.submit()).toEqual([]);
      expect(a.submit()).toEqual([10n]);
    } finally {
      a.free();
      b.free();
    }
  });

  it('a poisoned or freed handle is not cloned', () => {
    const a = fresh();
    expect(() => a.debugTrap()).toThrow(/E_TRAP/);
    expect(() => a.clone()).toThrow(/^E_POISONED: .*refused: clone\)$/);
    const c = fresh();
    c.free();
    expect(() => c.clone()).toThrow(/^E_FREED: clone: this engine handle was freed/);
  });
});
