// Unit tests of the reference engine's accounting rules (dossier §1, §2, §7; measured-rules.md).
import { describe, expect, it } from 'vitest';
import { vmCommitLimit, vmEnoughMemory } from '../bindings/src/reference/util.js';
import { oomBadness, procOomScore, selectBadProcess, LONG_MIN } from '../bindings/src/reference/oom_kill.js';
import { pageCounterMemparse, PAGE_COUNTER_MAX, PageCounter } from '../bindings/src/reference/page_counter.js';
import { runOps, type Op } from '../bindings/src/reference/ops.js';
import { patternPages, zipfTable } from '../bindings/src/reference/workload.js';

const GiB = 262144; // pages
const sys = (o: Record<string, number>) => ({ overcommit_memory: 0, overcommit_ratio: 50, overcommit_kbytes: 0, admin_reserve_kbytes: 8192, user_reserve_kbytes: 131072, ...o });

describe('mm/util.c', () => {
  it('vm_commit_limit: hugetlb subtracted only in ratio mode, kbytes truncated', () => {
    expect(vmCommitLimit(4194304, 524288, 262144, { overcommit_ratio: 50, overcommit_kbytes: 0 })).toBe(2490368);
    expect(vmCommitLimit(4194304, 524288, 262144, { overcommit_ratio: 0, overcommit_kbytes: 8388611 })).toBe(2097152 + 524288);
    expect(vmCommitLimit(3, 0, 0, { overcommit_ratio: 50, overcommit_kbytes: 0 })).toBe(1);
  });
  it('mode 2 is strict <, mode 0 per request, failures uncharged', () => {
    const st = { committed: 99, totalramPages: 1000, totalSwapPages: 0, commitLimit: 100 + 2 + 3, sysctl: sys({ overcommit_memory: 2 }) };
    // allowed = 105 - 2 (admin 8192kB→2048? no: set below) ...
    st.sysctl.admin_reserve_kbytes = 8; // 2 pages
    st.sysctl.user_reserve_kbytes = 12; // 3 pages cap
    // total_vm 96 → min(3, 3) = 3; allowed = 105 - 2 - 3 = 100; 99 + 1 = 100 is not < 100
    expect(vmEnoughMemory(st, 1, 96, false)).toBe(false);
    expect(st.committed).toBe(99);
    expect(vmEnoughMemory(st, 1, 96, true)).toBe(true); // root skips the admin reserve
    const g = { committed: 0, totalramPages: 1000, totalSwapPages: 24, commitLimit: 0, sysctl: sys({}) };
    expect(vmEnoughMemory(g, 1024, null, false)).toBe(true);
    expect(vmEnoughMemory(g, 1025, null, false)).toBe(false);
    expect(vmEnoughMemory(g, 1024, null, false)).toBe(true);
    expect(g.committed).toBe(2048);
  });
});

describe('oom_kill.c', () => {
  const t = { isGlobalInit: false, isKthread: false, hasMm: true, oomScoreAdj: 0, mmfOomSkip: false, inVfork: false, rss: 1048576, swapents: 0, pgtablesBytes: 2097152 };
  it('badness divides totalpages by 1000 first, may be negative', () => {
    expect(oomBadness({ ...t, oomScoreAdj: 500 }, 4718592)).toBe(3408088);
    expect(oomBadness({ ...t, oomScoreAdj: -999 }, 4718592)).toBe(-3664194);
    expect(procOomScore(-3664194, 4718592)).toBe(149);
    expect(oomBadness({ ...t, oomScoreAdj: -1000 }, 4718592)).toBe(LONG_MIN);
    expect(oomBadness({ ...t, rss: 10, pgtablesBytes: 0, oomScoreAdj: 1000 }, 999)).toBe(10);
  });
  it('ties go to the later task; an unreaped victim aborts', () => {
    const c = (task: number, points: number, extra = {}) => ({ task, isGlobalInit: false, isKthread: false, isOomVictim: false, mmfOomSkip: false, oomOrigin: false, points, ...extra });
    expect(selectBadProcess([c(1, 5), c(2, 5), c(3, 4)], false).chosen).toBe(2);
    expect(selectBadProcess([c(1, -5)], false).chosen).toBe(1);
    expect(selectBadProcess([c(1, 5), c(2, 1, { isOomVictim: true })], false).abort).toBe(true);
    expect(selectBadProcess([c(1, 5), c(2, 1, { isOomVictim: true, mmfOomSkip: true })], false).chosen).toBe(1);
  });
});

describe('page_counter.c', () => {
  it('memparse floors to pages, -1/max and huge values clamp, junk is EINVAL', () => {
    expect(pageCounterMemparse('4097', '-1')).toBe(1);
    expect(pageCounterMemparse('1k', '-1')).toBe(0);
    expect(pageCounterMemparse(' 1G\n', '-1')).toBe(262144);
    expect(pageCounterMemparse('-1', '-1')).toBe(PAGE_COUNTER_MAX);
    expect(pageCounterMemparse('9223372036854775807', '-1')).toBe(PAGE_COUNTER_MAX);
    // simple_strtoull() does not detect overflow: the value wraps modulo 2^64 before the clamp
    expect(pageCounterMemparse('99999999999999999999', '-1')).toBe(1896064363147519);
    for (const bad of ['max', '-2', '1.5M', 'abc']) expect(pageCounterMemparse(bad, '-1')).toBeNull();
  });
  it('try_charge fails on the first level over max and counts failcnt there only', () => {
    const p = new PageCounter(null, true);
    const c = new PageCounter(p, true);
    p.max = 10;
    expect(c.tryCharge(10)).toBeNull();
    expect(c.tryCharge(1)).toBe(p);
    expect([p.usage, c.usage, p.failcnt, c.failcnt]).toEqual([10, 10, 1, 0]);
  });
});

const anon = (task: number, region: string, pages: number, prot = 'rw'): Op => ({ op: 'mmap', task, region, pages, prot, flags: ['private', 'anon'] });
const touch = (task: number, region: string, first: number, count: number, access = 'write'): Op => ({ op: 'touch', task, region, first, count, access });

describe('ops: overcommit accounting', () => {
  it('mprotect RW→R returns the charge only while untouched; R→RW charges', () => {
    const r = runOps({ machine: { totalram_pages: GiB }, ops: [
      { op: 'spawn', task: 1 }, anon(1, 'a', 100), anon(1, 'b', 100),
      touch(1, 'b', 0, 1),
      { op: 'mprotect', task: 1, region: 'a', first: 0, count: 100, prot: 'r' },
      { op: 'mprotect', task: 1, region: 'b', first: 0, count: 100, prot: 'r' },
      { op: 'mprotect', task: 1, region: 'a', first: 0, count: 50, prot: 'rw' },
    ] });
    expect(r.at.map((o) => o.committed_as_delta_pages)).toEqual([0, 100, 100, 0, -100, 0, 50]);
  });
  it('shared anon is charged once, not again at fork; freed with its last mapping', () => {
    const r = runOps({ machine: { totalram_pages: GiB }, ops: [
      { op: 'spawn', task: 1 }, { op: 'mmap', task: 1, region: 's', pages: 10, prot: 'rw', flags: ['shared', 'anon'] },
      touch(1, 's', 0, 10, 'read'), { op: 'fork', task: 1, child: 2 }, { op: 'exit', task: 1 }, { op: 'exit', task: 2 },
    ] });
    expect(r.at.map((o) => o.committed_as_delta_pages)).toEqual([0, 10, 0, 0, 0, -10]);
    expect(r.at[2].pages_allocated).toBe(10); // no zero page for shmem
    expect(r.at[3].tasks['2'].rss_shmem).toBe(0); // fork does not copy shared PTEs
    expect(r.final.meminfo_kb.Shmem).toBe(0);
  });
  it('tmpfs pages are charged one by one; mode 2 refuses with ENOSPC', () => {
    const r = runOps({ machine: { totalram_pages: 4096, sysctl: { 'vm.overcommit_memory': 2, 'vm.overcommit_ratio': 100 } }, ops: [
      { op: 'spawn', task: 1 }, { op: 'file_create', file: 't', fs: 'tmpfs', pages: 0 },
      { op: 'file_write', task: 1, file: 't', first: 0, count: 10 },
      { op: 'file_write', task: 1, file: 't', first: 10, count: 5000 },
    ] });
    expect(r.at[2].committed_as_delta_pages).toBe(10);
    expect(r.at[2].meminfo_kb.Shmem).toBe(40);
    expect(r.at[2].meminfo_kb.Cached).toBe(40);
    expect(r.results[3]).toBe('ENOSPC');
  });
  it('brk grows and shrinks with VM_ACCOUNT', () => {
    const r = runOps({ machine: { totalram_pages: GiB }, ops: [{ op: 'spawn', task: 1 }, { op: 'brk', task: 1, pages: 10 }, { op: 'brk', task: 1, pages: 4 }] }, {
      at: [{ op: 1, vma_flags: [{ task: 1, region: '[heap]', page: 3 }] }, { op: 2 }],
    });
    expect(r.at[0].committed_as_delta_pages).toBe(10);
    expect(r.at[0].vma_flags[0].VM_ACCOUNT).toBe(true);
    expect(r.at[1].committed_as_delta_pages).toBe(-6);
  });
  it('exit returns every charge', () => {
    const r = runOps({ machine: { totalram_pages: GiB, committed_as_pages: 7 }, ops: [
      { op: 'spawn', task: 1 }, anon(1, 'a', 100), { op: 'brk', task: 1, pages: 3 }, touch(1, 'a', 0, 50), { op: 'exit', task: 1 },
    ] });
    expect(r.final.committed_as_pages).toBe(7);
    expect(r.final.meminfo_kb.MemFree).toBe(GiB * 4);
  });
});

describe('ops: faults', () => {
  it('read then write is two faults; write-only is one', () => {
    const r = runOps({ machine: { totalram_pages: GiB }, ops: [
      { op: 'spawn', task: 1 }, anon(1, 'a', 10), touch(1, 'a', 0, 10, 'read'), touch(1, 'a', 0, 10), touch(1, 'a', 0, 10),
    ] }, { at: [{ op: 4, from_op: 2 }] });
    expect(r.at[0].faults_minor).toBe(20);
    expect(r.at[0].pages_allocated).toBe(10);
  });
  it('swapout then swap-in: major with pswpin; from the swap cache minor', () => {
    const r = runOps({ machine: { totalram_pages: GiB, total_swap_pages: 100 }, ops: [
      { op: 'spawn', task: 1 }, anon(1, 'a', 2), touch(1, 'a', 0, 2),
      { op: 'swapout', task: 1, region: 'a', first: 0, count: 1 },
      { op: 'swapout', task: 1, region: 'a', first: 1, count: 1, swapcache: true },
      touch(1, 'a', 0, 1, 'read'), touch(1, 'a', 1, 1, 'read'),
    ] }, { at: [{ op: 3, pte: [{ task: 1, region: 'a', page: 0 }] }, { op: 4 }, { op: 5 }, { op: 6 }] });
    expect(r.at[0].pte[0].state).toBe('swap');
    expect(r.at[0].tasks['1'].swapents).toBe(1);
    expect(r.at[0].meminfo_kb.SwapFree).toBe(99 * 4);
    expect(r.at[1].meminfo_kb.SwapCached).toBe(4);
    expect(r.at[2].fault).toBe('major');
    expect(r.at[2].vmstat_delta.pswpin).toBe(1);
    expect(r.at[2].vmstat_delta.pgmajfault).toBe(1);
    expect(r.at[3].fault).toBe('minor');
    expect(r.final.tasks['1'].rss_anon).toBe(2);
    // do_swap_page() keeps both pages in the swap cache after a read fault (should_try_to_free_swap: swap is not
    // half full and neither fault was a write), so both slots stay allocated.
    expect(r.final.meminfo_kb.SwapFree).toBe(98 * 4);
    expect(r.final.meminfo_kb.SwapCached).toBe(2 * 4);
  });
  it('a COW-shared page still mapped by the child is copied; after the child exits it is reused', () => {
    const r = runOps({ machine: { totalram_pages: GiB }, ops: [
      { op: 'spawn', task: 1 }, anon(1, 'a', 1), touch(1, 'a', 0, 1), { op: 'fork', task: 1, child: 2 }, touch(1, 'a', 0, 1),
      touch(2, 'a', 0, 1),
    ] });
    expect(r.at[4].cow).toBe('copy');
    expect(r.at[5].cow).toBe('reuse');
    expect(r.final.meminfo_kb.AnonPages).toBe(8);
  });
});

describe('ops: global OOM', () => {
  const machine = { totalram_pages: 1000, sysctl: { 'vm.overcommit_memory': 1 } };
  it('kills the biggest task, which exits at once; current keeps running', () => {
    const r = runOps({ machine, ops: [
      { op: 'spawn', task: 10, comm: 'big' }, anon(10, 'a', 900), touch(10, 'a', 0, 700),
      { op: 'spawn', task: 11, comm: 'small' }, anon(11, 'a', 400), touch(11, 'a', 0, 400),
    ] });
    expect(r.results[5]).toBe('ok');
    expect(r.at[5].ooms).toEqual([{ constraint: 'CONSTRAINT_NONE', memcg: null, totalpages: 1000, outcome: 'kill', victim: 10, oom_group: null, killed: [10] }]);
    expect(r.at[5].log.some((l) => l.startsWith('Out of memory: Killed process 10 (big) total-vm:3600kB, anon-rss:2800kB'))).toBe(true);
    expect(r.final.tasks['10'].alive).toBe(false);
    expect(r.final.vmstat_delta.oom_kill).toBe(1);
  });
  it('pid 1 is global init: the OOM killer never picks it', () => {
    const r = runOps({ machine, ops: [{ op: 'spawn', task: 1 }, anon(1, 'a', 2000), touch(1, 'a', 0, 2000)] });
    expect(r.final.panic).toBe('System is deadlocked on memory');
  });
  it('the allocating task as victim: result killed', () => {
    const r = runOps({ machine, ops: [{ op: 'spawn', task: 10 }, anon(10, 'a', 2000), touch(10, 'a', 0, 2000)] });
    expect(r.results[2]).toBe('killed');
    expect(r.final.meminfo_kb.MemFree).toBe(4000);
  });
  it('panic_on_oom and no victim panic', () => {
    const p = runOps({ machine: { ...machine, sysctl: { ...machine.sysctl, 'vm.panic_on_oom': 1 } }, ops: [{ op: 'spawn', task: 1 }, anon(1, 'a', 2000), touch(1, 'a', 0, 2000), { op: 'spawn', task: 2 }] });
    expect(p.results.slice(2)).toEqual(['panic', 'panic']);
    expect(p.final.panic).toBe('Out of memory: system-wide panic_on_oom is enabled');
    const n = runOps({ machine, ops: [{ op: 'spawn', task: 1, oom_score_adj: -1000 }, anon(1, 'a', 2000), touch(1, 'a', 0, 2000)] });
    expect(n.final.panic).toBe('System is deadlocked on memory');
    expect(n.final.log).toContain('Out of memory and no killable processes...');
  });
  it('clean page cache is reclaimed before anything is killed', () => {
    const r = runOps({ machine, ops: [
      { op: 'file_create', file: 'f', fs: 'disk', pages: 500, cached: true }, { op: 'spawn', task: 1 }, anon(1, 'a', 900), touch(1, 'a', 0, 900),
    ] });
    expect(r.final.ooms).toEqual([]);
    // Allocation stops at the min watermark (min_free_kbytes 252 → 63 pages; free must stay > 63): 437 pages come
    // from free memory, 463 from reclaim. Each direct-reclaim round scans the file list at priorities 12, 11, ...
    // (list >> priority pages each) until 32 are reclaimed: with 500 cached pages the first round reaches 32 at
    // priority 4 with 1+3+7+15+29 = 55 pages; later rounds take less as the list shrinks. 24 stay cached.
    expect(r.final.meminfo_kb.Cached).toBe(24 * 4);
  });
});

describe('seed article: fork of a 4 GiB touched mapping on 7 GiB RAM, no swap', () => {
  const ops = (mode: number): Op[] => [
    { op: 'spawn', task: 1 }, anon(1, 'heap', 4 * GiB), touch(1, 'heap', 0, 4 * GiB), { op: 'sysctl', name: 'vm.overcommit_memory', value: mode },
    { op: 'fork', task: 1, child: 2 },
  ];
  for (const mode of [0, 1]) {
    it(`mode ${mode}: fork succeeds, no page is copied, both count 4 GiB`, () => {
      const r = runOps({ machine: { totalram_pages: 7 * GiB }, ops: ops(mode) }, { at: [{ op: 4 }] });
      expect(r.at[0].result).toBe('ok');
      expect(r.at[0].pages_allocated).toBe(0);
      expect(r.at[0].committed_as_delta_pages).toBe(4 * GiB);
      expect(r.at[0].tasks['2'].rss_anon).toBe(4 * GiB);
    });
  }
  it('mode 2: fork fails with ENOMEM (8 GiB committed would exceed the limit)', () => {
    const r = runOps({ machine: { totalram_pages: 7 * GiB, sysctl: { 'vm.overcommit_ratio': 100 } }, ops: ops(2) }, { at: [{ op: 4 }] });
    expect(r.at[0].result).toBe('ENOMEM');
    expect(r.at[0].committed_as_delta_pages).toBe(0);
    expect(r.at[0].tasks['2']).toBeUndefined();
  });
}, 120_000);

describe('touch patterns', () => {
  it('sequential and strided are exact; uniform and zipf are seeded and in range', () => {
    expect(patternPages({ pattern: 'sequential', count: 3, n: 5 })).toEqual([0, 1, 2, 0, 1]);
    expect(patternPages({ pattern: 'strided', count: 5, n: 4, stride: 2 })).toEqual([0, 2, 4, 1]);
    const u = patternPages({ pattern: 'uniform', count: 1000, n: 4, seed: 0 });
    expect(u).toEqual([601, 747, 103, 416]); // = Rng(0).below(1000), the Rust golden values
    const z1 = patternPages({ pattern: 'zipf', count: 100, n: 1000, seed: 5 });
    expect(z1).toEqual(patternPages({ pattern: 'zipf', count: 100, n: 1000, seed: 5 }));
    expect(Math.max(...z1)).toBeLessThan(100);
    expect(z1.filter((p) => p === 0).length).toBeGreaterThan(z1.filter((p) => p === 50).length);
  });
  it('zipf weights are floor(2^40/(k+1)^s)', () => {
    expect(zipfTable(3, 1)).toEqual([1n << 40n, (1n << 40n) + (1n << 39n), (1n << 40n) + (1n << 39n) + (1n << 40n) / 3n]);
  });
});

describe('touch_pattern op', () => {
  it('touches the drawn pages like a touch (first touches fault, repeats do not)', () => {
    const pages = patternPages({ pattern: 'uniform', count: 10, n: 50, seed: 3 });
    const distinct = new Set(pages).size;
    const r = runOps({ machine: { totalram_pages: GiB }, ops: [
      { op: 'spawn', task: 1 }, anon(1, 'a', 20),
      { op: 'touch_pattern', task: 1, region: 'a', first: 5, count: 10, n: 50, pattern: 'uniform', seed: 3, access: 'write' },
    ] }, { at: [{ op: 2, pte: [{ task: 1, region: 'a', page: 4 }, { task: 1, region: 'a', page: 5 + pages[0] }] }] });
    expect(r.at[0].pages_allocated).toBe(distinct);
    expect(r.at[0].faults_minor).toBe(distinct);
    expect(r.at[0].pte.map((p) => p.state)).toEqual(['none', 'present']);
  });
});
