// Seeded property tests of the reference engine's invariants over random op sequences (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReferenceEngine } from '../bindings/src/reference/engine.js';
import { InvalidOp } from '../bindings/src/reference/types.js';
import { applyOp, type Op } from '../bindings/src/reference/ops.js';

const TASKS = [1, 2, 3];
const REGIONS = ['a', 'b'];
const task = fc.constantFrom(...TASKS);
const region = fc.constantFrom(...REGIONS);
const range = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 80 }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('touch'), task, region: fc.constantFrom('a', 'b', '[heap]'), first: fc.constant(0), count: fc.integer({ min: 1, max: 100 }), access: fc.constant('write') }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('mmap'), task, region, pages: fc.integer({ min: 1, max: 100 }), prot: fc.constant('rw'), flags: fc.constant(['private', 'anon']) }), weight: 4 },
  fc.record({ op: fc.constant('spawn'), task, cgroup: fc.constantFrom('/', '/A', '/A/B'), oom_score_adj: fc.integer({ min: -1000, max: 1000 }) }),
  fc.record({ op: fc.constant('fork'), task, child: task }),
  fc.record({ op: fc.constant('exit'), task }),
  fc.record({
    op: fc.constant('mmap'), task, region, pages: fc.integer({ min: 1, max: 100 }), prot: fc.constantFrom('r', 'rw', 'none'),
    flags: fc.constantFrom(['private', 'anon'], ['shared', 'anon'], ['private', 'anon', 'noreserve'], ['shared', 'anon', 'noreserve']),
  }),
  fc.record({ op: fc.constant('mmap'), task, region, pages: fc.integer({ min: 1, max: 100 }), prot: fc.constantFrom('r', 'rw'), flags: fc.constantFrom(['private'], ['shared']), file: fc.constant('f') }),
  range.chain(([first, count]) => fc.record({ op: fc.constant('munmap'), task, region, first: fc.constant(first), count: fc.constant(count) })),
  range.chain(([first, count]) => fc.record({ op: fc.constant('mprotect'), task, region, first: fc.constant(first), count: fc.constant(count), prot: fc.constantFrom('r', 'rw', 'none') })),
  range.chain(([first, count]) => fc.record({ op: fc.constant('madvise'), task, region, first: fc.constant(first), count: fc.constant(count), advice: fc.constantFrom('MADV_DONTFORK', 'MADV_DOFORK') })),
  fc.record({ op: fc.constant('brk'), task, pages: fc.integer({ min: 0, max: 50 }) }),
  range.chain(([first, count]) => fc.record({ op: fc.constant('touch'), task, region: fc.constantFrom('a', 'b', '[heap]'), first: fc.constant(first), count: fc.constant(count), access: fc.constantFrom('read', 'write') })),
  range.chain(([first, count]) => fc.record({ op: fc.constant('swapout'), task, region, first: fc.constant(first), count: fc.constant(count), swapcache: fc.boolean() })),
  range.chain(([first, count]) => fc.record({ op: fc.constant('file_read'), task, file: fc.constant('f'), first: fc.constant(first), count: fc.constant(count) })),
  fc.record({ op: fc.constant('sysctl'), name: fc.constant('vm.overcommit_memory'), value: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ op: fc.constant('cgroup_write'), path: fc.constantFrom('/A', '/A/B'), file: fc.constant('memory.max'), value: fc.constantFrom('max', '81920', '204800') }),
);

const machineArb = fc.record({
  totalram_pages: fc.integer({ min: 60, max: 200 }),
  total_swap_pages: fc.integer({ min: 0, max: 64 }),
  sysctl: fc.record({ 'vm.overcommit_memory': fc.integer({ min: 0, max: 2 }), 'vm.overcommit_ratio': fc.integer({ min: 50, max: 300 }) }),
});

function setup(e: ReferenceEngine): void {
  e.cgroupCreate('/A');
  e.cgroupCreate('/A/B');
  e.fileCreate('f', 'disk', 40, false);
  e.spawn(1, '/');
  e.spawn(2, '/A');
  e.spawn(3, '/A/B');
}

/** How much the generated scenarios exercised, so the property cannot pass vacuously. */
const seen = { ok: 0, invalid: 0, allocated: 0, ooms: 0, swapped: 0, killed: 0, enomem: 0 };

function apply(e: ReferenceEngine, o: Op): void {
  try {
    const r = applyOp(e, o);
    seen.ok++;
    if (r.result === 'killed') seen.killed++;
    if (r.result === 'ENOMEM') seen.enomem++;
  } catch (err) {
    if (!(err instanceof InvalidOp)) throw err;
    seen.invalid++;
  }
}

/** The invariants that must hold between any two ops. */
function checkInvariants(e: ReferenceEngine): void {
  const a = e.audit();
  // frames: free + used == managed pages outside the hugetlb pool; used == user pages that exist
  expect(e.freePages).toBeGreaterThanOrEqual(0);
  expect(e.freePages + e.usedFrames).toBe(e.totalram - e.hugetlbTotal);
  expect(a.folios).toBe(e.usedFrames);
  // Committed_AS == the VM_ACCOUNT VMAs + the shmem charges
  expect(e.committedModelled).toBe(a.accountedVmaPages + a.shmemAcct);
  // per task: rss counters == the pages its page table maps
  for (const t of e.tasks.values()) {
    const p = a.presentByPid.get(t.pid)!;
    expect([t.mm!.rssAnon, t.mm!.rssFile, t.mm!.rssShmem, t.mm!.swapents]).toEqual([p.anon, p.file, p.shmem, p.swap]);
  }
  // memcg: every non-root memory counter == the user pages charged in its subtree
  for (const m of e.memcgs.values()) {
    if (m.isRoot) continue;
    let n = 0;
    for (const l of Object.values(e.lru)) for (const f of l) if (f.memcg.isDescendantOf(m)) n++;
    expect(m.memory.usage).toBe(n);
    expect(m.memory.usage).toBeLessThanOrEqual(m.memory.max);
  }
}

describe('reference engine invariants (fast-check, seeded)', () => {
  it('hold after every op, and nothing remains after every task exits', () => {
    fc.assert(
      fc.property(machineArb, fc.array(opArb, { minLength: 20, maxLength: 60 }), (machine, ops) => {
        const e = new ReferenceEngine(machine);
        setup(e);
        for (const o of ops) {
          apply(e, o);
          if (e.panicked) break;
          checkInvariants(e);
        }
        seen.allocated += e.pagesAllocated;
        seen.ooms += e.ooms.length;
        seen.swapped += e.vmstat().pswpout;
        if (e.panicked) return;
        for (const t of [...e.tasks.values()]) e.exitTask(t);
        checkInvariants(e);
        expect(e.committedModelled).toBe(0);
        const mi = e.meminfo();
        expect(mi.AnonPages).toBe(0);
        expect(mi.Shmem).toBe(0);
        expect(mi.SwapFree).toBe(mi.SwapTotal);
        // only page cache of the disk file may remain
        expect(e.usedFrames).toBe(e.lru.inactive_file.size + e.lru.active_file.size);
      }),
      { seed: 20240611, numRuns: 300 },
    );
    expect(seen.ok).toBeGreaterThan(seen.invalid);
    expect(seen.allocated).toBeGreaterThan(1000);
    expect(seen.ooms).toBeGreaterThan(0);
    expect(seen.swapped).toBeGreaterThan(0);
    expect(seen.enomem).toBeGreaterThan(0);
  });
});
