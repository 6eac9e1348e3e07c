// Engine.clone() (issue #19 item 4, its in-process first step): a clone is the engine in the same state and then
// independent of it. Property: a call sequence split at any point, with the rest run on the original and on a clone,
// ends in the same state on both, and the same as one engine that ran the whole sequence (so a clone is exactly
// "as if it had made the same calls"), down to /proc/meminfo text, vmstat, the task table, the kernel log and the
// events. Plus: independence both ways, queued commands, and poisoned/freed handles.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, load } from '../bindings/src/index.js';
import { apply, fresh, op, state } from './engine-ops.js';

beforeAll(async () => {
  await load();
});

/** The state without draining the queues (for comparing one handle with itself over time). */
function view(e: Engine): string {
  return JSON.stringify([e.meminfoText(), e.vmstatRaw().join(','), e.tasks(), e.nowNs()], (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

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
