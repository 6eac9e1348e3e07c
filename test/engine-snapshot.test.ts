// Engine.snapshot() / Engine.restore() (issue #19 item 4): the engine's state as bytes and back. Property (as
// test/engine-clone.test.ts, through bytes instead of clone()): a call sequence split at any point, the first part
// saved, the original freed, the bytes restored into a new handle that runs the rest, ends in the same state as one
// engine that ran the whole sequence, down to /proc/meminfo text, vmstat, tasks, the log and the events. Plus:
// snapshot -> restore -> snapshot is byte-identical, damaged bytes give typed E_SNAPSHOT errors, queued commands,
// poisoned and freed handles.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, OomsimError, load } from '../bindings/src/index.js';
import { apply, fresh, op, state } from './engine-ops.js';

beforeAll(async () => {
  await load();
});

function snapshotError(bytes: Uint8Array): OomsimError {
  try {
    Engine.restore(bytes).free();
  } catch (e) {
    if (e instanceof OomsimError) return e;
    throw e;
  }
  throw new Error('restore accepted the bytes');
}

describe('Engine.snapshot / Engine.restore', () => {
  it('a sequence split at any point, saved and restored: ends as the unsplit engine', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), fc.nat(), (ops, cut) => {
        const k = cut % (ops.length + 1);
        const whole = fresh();
        const a = fresh();
        let b: Engine | undefined;
        try {
          for (const f of ops) apply(whole, f);
          ops.slice(0, k).forEach((f) => apply(a, f));
          const bytes = a.snapshot().slice(); // a copy: nothing shared with the first handle
          a.free();
          b = Engine.restore(bytes);
          for (const f of ops.slice(k)) apply(b, f);
          expect(state(b)).toBe(state(whole));
        } finally {
          whole.free();
          a.free();
          b?.free();
        }
      }),
      { seed: 23, numRuns: 150 },
    );
  }, 300_000); // not a speed check: a few hundred small engines on a shared machine

  it('snapshot -> restore -> snapshot is byte-identical', () => {
    const a = fresh();
    a.spawn(1);
    const vpn = a.mmapAnon(1, 1500);
    a.touch(1, vpn, 1500); // past RAM: swap, reclaim
    a.advance(3_000_000_000n);
    const bytes = a.snapshot();
    const b = Engine.restore(bytes);
    try {
      expect(b.snapshot()).toEqual(bytes);
      expect(bytes.length).toBeGreaterThan(1024 * 4); // four per-frame arrays of 1024 frames, at least a byte each
      expect(Buffer.from(bytes.subarray(0, 8)).toString('latin1')).toBe('OOMSIMSS');
    } finally {
      a.free();
      b.free();
    }
  });

  it('damaged or foreign bytes are E_SNAPSHOT with what is wrong', () => {
    const a = fresh();
    a.spawn(1);
    a.touch(1, a.mmapAnon(1, 50), 50);
    const good = a.snapshot();
    a.free();
    const edit = (at: number, f: (b: number) => number) => {
      const b = good.slice();
      b[at] = f(b[at]!);
      return b;
    };
    const cases: [Uint8Array, string | RegExp][] = [
      [new TextEncoder().encode('{"not": "a snapshot"}'), 'not an oomsim snapshot (it does not start with "OOMSIMSS")'],
      [edit(8, () => 2), 'snapshot format v2; this engine reads v1'],
      [edit(11, (b) => b + 1), /^snapshot from another engine build \(oomsim-core 1\.1\.0, tables [0-9a-f]{16}, layout [0-9a-f]{16}; this engine is oomsim-core 0\.1\.0, /],
      [good.subarray(0, good.length - 1), `truncated: ${good.length - 1} bytes end inside the checksum (byte ${good.length - 4} of the snapshot)`],
      [good.subarray(0, 9), 'truncated: 9 bytes end inside the format version (byte 8 of the snapshot)'],
      [edit(good.length >> 1, (b) => b ^ 1), 'corrupted (checksum mismatch)'],
      [new Uint8Array([...good, 0]), 'corrupted (1 extra bytes after the checksum)'],
    ];
    for (const [bytes, want] of cases) {
      const e = snapshotError(bytes);
      expect(e.code).toBe('E_SNAPSHOT');
      if (typeof want === 'string') expect(e.message).toBe(`E_SNAPSHOT: ${want}`);
      else expect(e.message.slice('E_SNAPSHOT: '.length)).toMatch(want);
    }
    expect(() => Engine.restore([1, 2, 3] as unknown as Uint8Array)).toThrow(/^E_ARG: restore: bytes: .*expected a Uint8Array/);
    expect(() => Engine.restore(good, { cmdCapacity: 3 })).toThrow(/^E_ARG: cmdCapacity: 3 is not allowed/);
  });

  it('queued commands run before the snapshot; their results stay with the original', () => {
    const a = fresh();
    a.spawn(1);
    const vpn = a.mmapAnon(1, 10);
    a.push('touch', 1, vpn % 2 ** 32, Math.floor(vpn / 2 ** 32), 10, 1);
    const b = Engine.restore(a.snapshot(), { cmdCapacity: 64 });
    try {
      expect(b.meminfo().AnonPages).toBe(40);
      expect(b.submit()).toEqual([]);
      expect(a.submit()).toEqual([10n]);
    } finally {
      a.free();
      b.free();
    }
  });

  it('a poisoned or freed handle is not saved', () => {
    const a = fresh();
    expect(() => a.debugTrap()).toThrow(/E_TRAP/);
    expect(() => a.snapshot()).toThrow(/^E_POISONED: .*refused: snapshot\)$/);
    const c = fresh();
    c.free();
    expect(() => c.snapshot()).toThrow(/^E_FREED: snapshot: this engine handle was freed/);
  });
});
