/**
 * The benchmark workloads for the wasm engine and the TS reference, mirroring engine/core/src/bench_workloads.rs
 * call for call (the native bench binary runs that file). Every implementation must end in the same state before
 * its time is reported: the wasm digest must equal the native one (same FNV-1a over /proc/vmstat and meminfo), and
 * the reference must agree on the counters both engines keep.
 */
import { Engine, MEMINFO_NAMES, VMSTAT_NAMES } from '../bindings/src/index.js';
import { ReferenceEngine, applyOp } from '../bindings/src/reference/index.js';

export const WORKLOADS = ['first_touch', 'resident_seq', 'resident_uniform', 'resident_zipf', 'cow_storm', 'oom_storm', 'cgroup_charge', 'reclaim_steady', 'memcg_oom'] as const;
/** oom_storm (as in bench_workloads.rs): 100,000 small tasks, OOM_BIG big ones, a hog that needs OOM_BIG kills. */
export const OOM_SMALL_TASKS = 100_000;
export const OOM_BIG = 10;
const OOM_SMALL_PAGES = 2;
const OOM_BIG_PAGES = 20_000;
const OOM_SLACK = 1000;
/** memcg_oom (as in bench_workloads.rs): 100,000 tasks in /m (the hog, pid 2, adj -1000 first), OOM_BIG big ones. */
export const MEMCG_TASKS = 100_000;
const MEMCG_BIG_PAGES = 1000;
const MEMCG_HOG = 2;
/** Workloads the TS reference does not run (it has no 100,000-task fast path; see the README table). */
export const REFERENCE_SKIPS: readonly Workload[] = ['oom_storm', 'memcg_oom'];
export type Workload = (typeof WORKLOADS)[number];

export function ops(w: Workload, frames: number): number {
  const half = Math.floor(frames / 2);
  if (w === 'oom_storm' || w === 'memcg_oom') return OOM_BIG;
  return w === 'first_touch' || w === 'cgroup_charge' || w === 'reclaim_steady' ? half : w === 'cow_storm' ? 2 * Math.floor(frames / 4) : 8 * half;
}

/** Counters every implementation reports, for the cross-check with the reference. */
export interface Common {
  MemFree: number;
  AnonPages: number;
  Committed_AS: number;
  pgfault: number;
}

export interface Impl<S> {
  setup(w: Workload, frames: number): S;
  run(w: Workload, s: S): void;
  common(s: S): Common;
  free?(s: S): void;
}

// --- wasm -----------------------------------------------------------------------------------------------------------
interface WasmState {
  e: Engine;
  vpn: number;
  hogPages?: number;
  /** oom_storm, memcg_oom: the task that touches `hogPages` (default 1). */
  hog?: number;
}

export const wasm: Impl<WasmState> & { digest(s: WasmState): string } = {
  setup(w, frames) {
    const e = new Engine({ totalramPages: frames, seed: 42 });
    if (w === 'cgroup_charge') {
      // a 3-level v2 tree /a/b/c, each limited above what the workload charges (memory.max = RAM)
      for (const path of ['/a', '/a/b', '/a/b/c']) {
        if (e.cgroupCreate(path) !== 0 || e.cgroupWrite(path, 'memory.max', String(frames * 4096)) !== 0) throw new Error(`cgroup ${path}`);
      }
      e.spawn(1, { comm: 'bench', cgroup: '/a/b/c' });
    } else e.spawn(1, { comm: 'bench' });
    const half = Math.floor(frames / 2);
    const quarter = Math.floor(frames / 4);
    let vpn: number;
    if (w === 'oom_storm') {
      if (e.setOomScoreAdj(1, -1000) < 0) throw new Error('adj refused');
      e.setSysctl('vm.oom_dump_tasks', 0); // time the scoring, not 100,000 rows of the Tasks state dump
      const bigEvery = Math.floor(OOM_SMALL_TASKS / OOM_BIG) + 1;
      for (let i = 0; i < OOM_SMALL_TASKS + OOM_BIG; i++) {
        const pid = 2 + i;
        const pages = i % bigEvery === 0 ? OOM_BIG_PAGES : OOM_SMALL_PAGES;
        e.spawn(pid, { comm: 't' });
        const v = e.mmapAnon(pid, pages);
        e.push('touch', pid, v % 2 ** 32, Math.floor(v / 2 ** 32), pages, 1);
      }
      e.submit();
      // as in bench_workloads.rs: setup fills all but OOM_SLACK free pages; the timed part is the OOM events
      const free = e.meminfo().MemFree / 4;
      const need = free - e.watermarks().min + (OOM_BIG - 1) * OOM_BIG_PAGES + 100;
      const pre = free - e.watermarks().min - OOM_SLACK;
      const v = e.mmapAnon(1, need);
      e.touch(1, v, pre, 'write');
      return { e, vpn: v + pre, hogPages: need - pre };
    }
    if (w === 'memcg_oom') {
      // pid 1 (init) stays in the root; the memcg's limit leaves OOM_SLACK pages (see bench_workloads.rs)
      e.setSysctl('vm.oom_dump_tasks', 0);
      if (e.cgroupCreate('/m') !== 0) throw new Error('cgroup /m');
      const every = Math.floor(MEMCG_TASKS / OOM_BIG);
      for (let i = 0; i < MEMCG_TASKS; i++) {
        const pid = MEMCG_HOG + i;
        e.spawn(pid, { comm: 't', cgroup: '/m', oomScoreAdj: pid === MEMCG_HOG ? -1000 : 0 });
        if (pid === MEMCG_HOG) continue;
        const pages = i % every === 1 ? MEMCG_BIG_PAGES : OOM_SMALL_PAGES;
        const v = e.mmapAnon(pid, pages);
        e.push('touch', pid, v % 2 ** 32, Math.floor(v / 2 ** 32), pages, 1);
      }
      e.submit();
      const need = OOM_SLACK + (OOM_BIG - 1) * MEMCG_BIG_PAGES + MEMCG_BIG_PAGES / 2;
      const v = e.mmapAnon(MEMCG_HOG, need);
      const usage = Number(e.cgroupRead('/m', 'memory.current')) / 4096;
      if (e.cgroupWrite('/m', 'memory.max', String((usage + OOM_SLACK) * 4096)) !== 0) throw new Error('memory.max');
      return { e, vpn: v, hogPages: need, hog: MEMCG_HOG };
    }
    if (w === 'first_touch' || w === 'cgroup_charge') vpn = e.mmapAnon(1, half);
    else if (w === 'reclaim_steady') {
      const file = e.fileCreate('cache', 'disk', frames, false);
      if (file < 0 || e.fileRead(1, file, 0, frames - Math.floor(frames / 8)) < 0) throw new Error('reclaim_steady setup');
      vpn = e.mmapAnon(1, half);
    }
    else if (w === 'cow_storm') {
      vpn = e.mmapAnon(1, quarter);
      e.touch(1, vpn, quarter, 'write');
    } else {
      vpn = e.mmapAnon(1, half);
      e.touch(1, vpn, half, 'write');
    }
    return { e, vpn };
  },
  run(w, { e, vpn, hogPages, hog }) {
    if (w === 'oom_storm' || w === 'memcg_oom') {
      e.touch(hog ?? 1, vpn, hogPages!, 'write');
      return;
    }
    const f = e.meminfo().MemTotal / 4;
    const half = Math.floor(f / 2);
    const quarter = Math.floor(f / 4);
    switch (w) {
      case 'first_touch':
      case 'cgroup_charge':
      case 'reclaim_steady':
        e.touch(1, vpn, half, 'write');
        break;
      case 'resident_seq':
        for (let i = 0; i < 8; i++) e.touch(1, vpn, half, 'write');
        break;
      case 'resident_uniform':
        e.touchPattern(1, vpn, half, { kind: 'uniform' }, 8 * half, 'write');
        break;
      case 'resident_zipf':
        e.touchPattern(1, vpn, half, { kind: 'zipf' }, 8 * half, 'write');
        break;
      case 'cow_storm':
        for (const child of [2, 3]) {
          if (e.fork(1, child) < 0) throw new Error('fork refused');
          e.touch(child, vpn, quarter, 'write');
        }
        break;
    }
  },
  common({ e }) {
    const m = e.meminfo();
    return { MemFree: m.MemFree, AnonPages: m.AnonPages, Committed_AS: m.Committed_AS, pgfault: Number(e.vmstat().pgfault) };
  },
  /** The same FNV-1a as bench_workloads.rs::digest: vmstat then meminfo values, u64 little-endian each. */
  digest({ e }) {
    let h = 0xcbf29ce484222325n;
    const eat = (v: bigint) => {
      for (let i = 0n; i < 64n; i += 8n) {
        h ^= (v >> i) & 0xffn;
        h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
      }
    };
    const v = e.vmstat();
    for (const n of VMSTAT_NAMES) eat(v[n]);
    const m = e.meminfo();
    for (const n of MEMINFO_NAMES) eat(BigInt(m[n]));
    return h.toString(16).padStart(16, '0');
  },
  free({ e }) {
    e.free();
  },
};

// --- TS reference ---------------------------------------------------------------------------------------------------
interface RefState {
  e: ReferenceEngine;
  frames: number;
}

export const reference: Impl<RefState> = {
  setup(w, frames) {
    const e = new ReferenceEngine({ totalram_pages: frames });
    const half = Math.floor(frames / 2);
    const quarter = Math.floor(frames / 4);
    const op = (o: Record<string, unknown>) => applyOp(e, o as never);
    op({ op: 'spawn', task: 1, comm: 'bench' });
    if (w === 'reclaim_steady') {
      op({ op: 'file_create', file: 'cache', fs: 'disk', pages: frames, cached: false });
      op({ op: 'file_read', task: 1, file: 'cache', first: 0, count: frames - Math.floor(frames / 8) });
    }
    const pages = w === 'cow_storm' ? quarter : half;
    op({ op: 'mmap', task: 1, region: 'a', pages, prot: 'rw', flags: ['private', 'anon'] });
    // the reference has no memory cgroups: cgroup_charge (limits above usage) runs as first_touch there
    if (w !== 'first_touch' && w !== 'cgroup_charge' && w !== 'reclaim_steady') op({ op: 'touch', task: 1, region: 'a', first: 0, count: pages, access: 'write' });
    return { e, frames };
  },
  run(w, { e, frames }) {
    const half = Math.floor(frames / 2);
    const quarter = Math.floor(frames / 4);
    const op = (o: Record<string, unknown>) => applyOp(e, o as never);
    switch (w) {
      case 'first_touch':
      case 'cgroup_charge':
      case 'reclaim_steady':
        op({ op: 'touch', task: 1, region: 'a', first: 0, count: half, access: 'write' });
        break;
      case 'resident_seq':
        for (let i = 0; i < 8; i++) op({ op: 'touch', task: 1, region: 'a', first: 0, count: half, access: 'write' });
        break;
      case 'resident_uniform':
      case 'resident_zipf':
        op({ op: 'touch_pattern', task: 1, region: 'a', first: 0, count: half, n: 8 * half, pattern: w === 'resident_zipf' ? 'zipf' : 'uniform', seed: 42, access: 'write' });
        break;
      case 'cow_storm':
        for (const child of [2, 3]) {
          op({ op: 'fork', task: 1, child });
          op({ op: 'touch', task: child, region: 'a', first: 0, count: quarter, access: 'write' });
        }
        break;
    }
  },
  common({ e }) {
    const m = e.meminfo();
    return { MemFree: m.MemFree, AnonPages: m.AnonPages, Committed_AS: m.Committed_AS, pgfault: e.vmstat().pgfault };
  },
};
