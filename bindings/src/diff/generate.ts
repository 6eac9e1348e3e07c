/**
 * Random `ops` scenarios for differential testing (wasm engine vs TS reference engine). A scenario is generated
 * from a list of small integers ("op seeds") interpreted against a model of which tasks and regions exist, so every
 * generated op is well-formed, and fast-check can shrink the integer list to a minimal failing scenario.
 */
export type Op = Record<string, unknown> & { op: string };

export interface Machine {
  totalram_pages: number;
  total_swap_pages: number;
  sysctl: Record<string, number>;
}

export interface Scenario {
  machine: Machine;
  ops: Op[];
}

interface Region {
  name: string;
  /** per page: its protection, or null once unmapped (partial munmap) */
  prot: (string | null)[];
  /** per page: MADV_DONTFORK set */
  dontcopy: boolean[];
  /** the file behind a file mapping */
  file?: string;
}

interface FileModel {
  fs: 'disk' | 'tmpfs';
  pages: number;
}

const PROTS = ['rw', 'rw', 'r', 'none'];

/**
 * Build a scenario from seeds. `machineSeed` picks the machine; each op seed picks one operation. The generator
 * keeps a model of tasks, regions (protection per page), files and their sizes, so ops are well-formed; it
 * predicts the deaths it can (a SIGSEGV/SIGBUS touch kills the task) and stops giving ops to those tasks. A task
 * it did not predict dying (a tmpfs fault refused with ENOSPC is SIGBUS) gets "ESRCH" from both engines.
 * The whole `ops` vocabulary is covered except cgroups, hugetlbfs and touch_pattern.
 *
 * Reclaim is exercised on purpose: four machines in five have swap, half of them size regions to fill RAM (anon,
 * shmem, file mappings and cached files then compete in direct reclaim), pages are touched again (by the task's
 * own later touches, whole-region sweeps and re-reads of files) so that accessed bits and PG_referenced decide
 * between keeping, activating and reclaiming, and vm.swappiness is changed (0..200) to move the anon/file balance.
 */
export function scenarioFromSeeds(machineSeed: number[], opSeeds: number[][]): Scenario {
  const [ramSel = 0, swapSel = 0, modeSel = 0, ratioSel = 0] = machineSeed;
  const machine: Machine = {
    totalram_pages: [512, 1024, 4096, 16384, 256, 384][ramSel % 6],
    total_swap_pages: [0, 64, 256, 512, 2048][swapSel % 5],
    sysctl: { 'vm.overcommit_memory': modeSel % 3, 'vm.overcommit_ratio': [50, 100, 200][ratioSel % 3] },
  };
  // memory pressure for half of the machines: anon regions up to the RAM, cached files up to half of it and large
  // reads, so faults reach the min watermark and direct reclaim (and the OOM killer) run
  const pressure = Math.floor(ratioSel / 3) % 2 === 1;
  const ram = machine.totalram_pages;
  const maxRegion = pressure ? ram : 64;
  /** 1 + an integer below `n` from a seed (0..1000), spread over the whole range also for n > 1000 */
  const upTo = (seed: number, n: number) => 1 + Math.floor((seed % 1001) * n / 1001);
  const ops: Op[] = [];
  const live: number[] = [];
  const regions = new Map<number, Region[]>();
  const files = new Map<string, FileModel>();
  let nextPid = 1;
  let nextRegion = 0;
  let nextFile = 0;
  const pick = <T>(xs: T[], s: number): T => xs[s % xs.length];
  const kill = (pid: number) => {
    live.splice(live.indexOf(pid), 1);
    regions.delete(pid);
  };
  const mapped = (r: Region) => r.prot.some((p) => p !== null);
  /**
   * A sub-range [first, first+count) of a region within one run of mapped pages. Ranges over the holes partial
   * munmaps leave are not generated: the kernel (and the wasm engine) may place a later mmap in such a hole, so
   * "page k of region A" would then address region B's memory, which the region-named reference cannot express.
   */
  const range = (r: Region, c: number, d: number) => {
    const mappedIdx = r.prot.flatMap((p, i) => (p === null ? [] : [i]));
    const first = mappedIdx.length ? mappedIdx[c % mappedIdx.length] : 0;
    let run = 0;
    while (first + run < r.prot.length && r.prot[first + run] !== null) run++;
    return { first, count: upTo(d, Math.max(run, 1)) };
  };

  if (pressure) {
    // a pressure machine starts with a task owning a writable anon region of a half to all of the RAM (the "fill"
    // ops write it whole) and, for odd swap seeds, a cached file of a quarter of the RAM
    const pid = nextPid++;
    ops.push({ op: 'spawn', task: pid });
    live.push(pid);
    const name = `r${nextRegion++}`;
    const pages = (ram >> 1) + upTo(swapSel * 10, ram >> 1);
    ops.push({ op: 'mmap', task: pid, region: name, pages, prot: 'rw', flags: ['private', 'anon'] });
    regions.set(pid, [{ name, prot: Array(pages).fill('rw'), dontcopy: Array(pages).fill(false) }]);
    if (swapSel % 2) {
      const file = `f${nextFile++}`;
      ops.push({ op: 'file_create', file, fs: 'disk', pages: ram >> 2, cached: true });
      files.set(file, { fs: 'disk', pages: ram >> 2 });
    }
  }

  for (const seed of opSeeds) {
    const [kind = 0, a = 0, b = 0, c = 0, d = 0] = seed;
    const K = 26;
    if (live.length === 0 || kind % K === 0) {
      const pid = nextPid++;
      ops.push({ op: 'spawn', task: pid, oom_score_adj: [0, 0, 500, -500, -1000][a % 5] });
      live.push(pid);
      regions.set(pid, []);
      continue;
    }
    const task = pick(live, a);
    const rs = regions.get(task)!;
    switch (kind % K) {
      case 1:
      case 2: {
        const name = `r${nextRegion++}`;
        const pages = upTo(b, maxRegion);
        // (pressure machines map mostly writable memory, so that it can be filled)
        const prot = pick(pressure ? ['rw', 'rw', 'rw', 'r'] : PROTS, c);
        const flags = pick([['private', 'anon'], ['private', 'anon'], ['shared', 'anon'], ['private', 'anon', 'noreserve'], ['shared', 'anon', 'noreserve']], d);
        ops.push({ op: 'mmap', task, region: name, pages, prot, flags });
        rs.push({ name, prot: Array(pages).fill(prot), dontcopy: Array(pages).fill(false) });
        break;
      }
      case 3: {
        // mmap of a file (disk or tmpfs), private or shared; pages past EOF fault with SIGBUS
        const fnames = [...files.keys()];
        if (fnames.length === 0) break;
        const file = pick(fnames, b);
        const name = `r${nextRegion++}`;
        const pages = 1 + (c % 32);
        const prot = pick(PROTS, d);
        const flags = pick([['private'], ['shared'], ['private', 'noreserve']], d >> 2);
        ops.push({ op: 'mmap', task, region: name, pages, prot, flags, file });
        rs.push({ name, prot: Array(pages).fill(prot), dontcopy: Array(pages).fill(false), file });
        break;
      }
      case 4:
      case 5:
      case 6: {
        // any access, also ones the protection forbids or past the mapping / the file's end (a fatal signal)
        const access = kind % 2 ? 'write' : 'read';
        const ok = rs.filter(mapped);
        if (ok.length === 0) break;
        const r = pick(ok, b);
        const { first, count } = range(r, c, d);
        ops.push({ op: 'touch', task, region: r.name, first, count, access });
        const f = r.file ? files.get(r.file) : undefined;
        for (let i = first; i < first + count; i++) {
          const p = r.prot[i];
          const bad = p === null || (access === 'write' ? p !== 'rw' : p === 'none') || (f !== undefined && i >= f.pages);
          if (bad) {
            kill(task);
            break;
          }
        }
        break;
      }
      case 7: {
        if (live.length >= 6) break;
        const child = nextPid++;
        ops.push({ op: 'fork', task, child });
        live.push(child);
        regions.set(child, rs.map((r) => ({ ...r, prot: r.prot.map((p, i) => (r.dontcopy[i] ? null : p)), dontcopy: [...r.dontcopy] })));
        break;
      }
      case 8: {
        ops.push({ op: 'exit', task });
        kill(task);
        break;
      }
      case 9: {
        const ok = rs.filter(mapped);
        if (ok.length === 0) break;
        const r = pick(ok, b);
        const { first, count } = range(r, c, d);
        const prot = pick(['r', 'rw', 'none'], b + d);
        ops.push({ op: 'mprotect', task, region: r.name, first, count, prot });
        // mprotect of a range with a hole fails (ENOMEM) after changing the VMAs before the hole
        for (let i = first; i < first + count && r.prot[i] !== null; i++) r.prot[i] = prot;
        break;
      }
      case 10: {
        const ok = rs.filter(mapped);
        if (ok.length === 0) break;
        const r = pick(ok, b);
        // whole or partial munmap (splits the VMA)
        const { first, count } = d % 3 === 0 && r.prot.every((p) => p !== null) ? { first: 0, count: r.prot.length } : range(r, c, d);
        ops.push({ op: 'munmap', task, region: r.name, first, count });
        for (let i = first; i < first + count; i++) r.prot[i] = null;
        if (!mapped(r)) rs.splice(rs.indexOf(r), 1);
        break;
      }
      case 11: {
        const pages = b % 48;
        ops.push({ op: 'brk', task, pages });
        let heap = rs.find((r) => r.name === '[heap]');
        if (!heap) {
          heap = { name: '[heap]', prot: [], dontcopy: [] };
          rs.push(heap);
        }
        // the model assumes brk succeeds (an ENOMEM leaves a shorter heap: touching the rest is a SIGSEGV)
        heap.prot = Array.from({ length: pages }, (_, i) => heap!.prot[i] ?? 'rw');
        heap.dontcopy = Array.from({ length: pages }, (_, i) => heap!.dontcopy[i] ?? false);
        if (pages === 0) rs.splice(rs.indexOf(heap), 1);
        break;
      }
      case 12: {
        const ok = rs.filter(mapped);
        if (ok.length === 0 || machine.total_swap_pages === 0) break;
        const r = pick(ok, b);
        const { first, count } = range(r, c, d);
        ops.push({ op: 'swapout', task, region: r.name, first, count, swapcache: d % 2 === 0 });
        break;
      }
      case 13: {
        const file = `f${nextFile++}`;
        const fs = b % 2 ? 'tmpfs' : 'disk';
        const pages = fs === 'disk' ? (pressure ? upTo(c, ram >> 1) - 1 : c % 40) : 0;
        // (a pressure machine creates no cached file once it runs: a task-less allocation below the min mark is
        // the open divergence of docs/decisions/0004, "Known divergence")
        ops.push({ op: 'file_create', file, fs, pages, cached: fs === 'disk' && d % 2 === 0 && !pressure });
        files.set(file, { fs, pages });
        break;
      }
      case 14:
      case 15: {
        const fnames = [...files.keys()];
        if (fnames.length === 0) break;
        const file = pick(fnames, b);
        const f = files.get(file)!;
        const first = c % (f.pages + 8);
        const count = pressure ? upTo(d, Math.max(24, ram >> 2)) : 1 + (d % 24);
        if (kind % K === 14) {
          ops.push({ op: 'file_read', task, file, first, count });
        } else {
          ops.push({ op: 'file_write', task, file, first, count });
          f.pages = Math.max(f.pages, first + count);
        }
        break;
      }
      case 16: {
        const ok = rs.filter(mapped);
        if (ok.length === 0) break;
        const r = pick(ok, b);
        const { first, count } = range(r, c, d);
        const advice = d % 3 === 0 ? 'MADV_DOFORK' : 'MADV_DONTFORK';
        ops.push({ op: 'madvise', task, region: r.name, first, count, advice });
        if ([...Array(count).keys()].every((i) => r.prot[first + i] !== null)) {
          for (let i = first; i < first + count; i++) r.dontcopy[i] = advice === 'MADV_DONTFORK';
        }
        break;
      }
      case 17: {
        const [name, values] = pick(
          [
            ['vm.overcommit_memory', [0, 1, 2, 3]],
            ['vm.overcommit_ratio', [0, 50, 100, 150, -1]],
            ['vm.overcommit_kbytes', [0, 512, 4096, 65536]],
            // (no value that puts the min watermark above all of a small machine's RAM: see docs/decisions/0004, known divergences)
            ['vm.min_free_kbytes', [128, 256, 512, 0]],
            // the anon/file scan balance of reclaim (get_scan_count); 0 still swaps near OOM (file_is_tiny)
            ['vm.swappiness', [0, 1, 60, 100, 200]],
          ] as [string, number[]][],
          b,
        );
        ops.push({ op: 'sysctl', name, value: pick(values, c) });
        break;
      }
      case 18:
      case 19: {
        // another touch of a region the task may use, weighted toward allowed accesses (pressure)
        const ok = rs.filter((r) => r.prot.every((p) => p === 'rw') && !r.file);
        if (ok.length === 0) break;
        const r = pick(ok, b);
        const { first, count } = range(r, c, d);
        const read = kind % K === 18 && !(pressure && c % 2 === 0);
        ops.push({ op: 'touch', task, region: r.name, first, count, access: read ? 'read' : 'write' });
        break;
      }
      case 20:
      case 21: {
        // touch again, with an access the protection allows and within the file: accessed bits set a second time
        const ok = rs.filter((r) => r.prot.some((p) => p === 'r' || p === 'rw'));
        if (ok.length === 0) break;
        const r = pick(ok, b);
        const f = r.file ? files.get(r.file) : undefined;
        const usable = r.prot.map((p, i) => (p === 'r' || p === 'rw') && (f === undefined || i < f.pages));
        const idx = usable.flatMap((u, i) => (u ? [i] : []));
        if (idx.length === 0) break;
        const first = idx[c % idx.length];
        let run = 0;
        while (first + run < usable.length && usable[first + run]) run++;
        const count = 1 + (d % run);
        const write = kind % K === 21 && r.prot.slice(first, first + count).every((p) => p === 'rw');
        ops.push({ op: 'touch', task, region: r.name, first, count, access: write ? 'write' : 'read' });
        break;
      }
      case 22: {
        // read(2) of a file again: PG_referenced, then activation (folio_mark_accessed)
        const fnames = [...files.keys()];
        if (fnames.length === 0) break;
        const file = pick(fnames, b);
        const f = files.get(file)!;
        if (f.pages === 0) break;
        const first = c % f.pages;
        ops.push({ op: 'file_read', task, file, first, count: 1 + (d % (f.pages - first)) });
        break;
      }
      case 23: {
        // sweep a whole anon region the task may write (all of it mapped): the working set is touched again
        const ok = rs.filter((r) => r.prot.every((p) => p === 'rw') && !r.file);
        if (ok.length === 0) break;
        const r = pick(ok, b);
        ops.push({ op: 'touch', task, region: r.name, first: 0, count: r.prot.length, access: d % 2 ? 'write' : 'read' });
        break;
      }
      case 24:
      case 25: {
        // fill memory: write a whole writable anon region (or, without one, read a file into the page cache);
        // on the pressure machines this is what drives direct reclaim
        const ok = rs.filter((r) => r.prot.every((p) => p === 'rw') && !r.file);
        if (ok.length > 0) {
          const r = b % 2 ? ok.reduce((x, y) => (y.prot.length > x.prot.length ? y : x)) : pick(ok, b >> 1);
          ops.push({ op: 'touch', task, region: r.name, first: 0, count: r.prot.length, access: 'write' });
          break;
        }
        const disk = [...files].filter(([, f]) => f.fs === 'disk' && f.pages > 0);
        if (disk.length === 0) break;
        const [file, f] = pick(disk, b);
        ops.push({ op: 'file_read', task, file, first: 0, count: f.pages });
        break;
      }
    }
  }
  return { machine, ops };
}

export const MEMINFO_KEYS = [
  'MemFree', 'AnonPages', 'Cached', 'Shmem', 'SwapFree', 'SwapCached', 'Committed_AS', 'CommitLimit', 'Mapped', 'Dirty', 'MemAvailable',
  'Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)',
];
export const VMSTAT_KEYS = [
  'pgfault', 'pgmajfault', 'pswpin', 'pswpout', 'oom_kill', 'pgpgin', 'pgpgout', 'pgfree', 'pgalloc_normal',
  'allocstall_normal', 'pgscan_direct', 'pgsteal_direct', 'pgscan_anon', 'pgscan_file', 'pgsteal_anon', 'pgsteal_file',
  'pgactivate', 'pgdeactivate', 'pgrefill',
];
export const SYSCTL_KEYS = ['vm.overcommit_memory', 'vm.overcommit_ratio', 'vm.overcommit_kbytes', 'vm.min_free_kbytes', 'vm.swappiness'];
export const TASK_KEYS = ['alive', 'rss', 'rss_anon', 'rss_file', 'rss_shmem', 'swapents', 'total_vm_pages'];

/** The observations both engines are asked for: every op's result, and the whole final state. */
export function observeRequest(s: Scenario): { at: Record<string, unknown>[]; final: Record<string, unknown> } {
  const pids = new Set<number>();
  for (const o of s.ops) for (const k of ['task', 'child']) if (typeof o[k] === 'number') pids.add(o[k] as number);
  const tasks: Record<string, Record<string, number>> = {};
  for (const p of pids) tasks[String(p)] = Object.fromEntries(TASK_KEYS.map((k) => [k, 0]));
  return {
    at: s.ops.map((_, k) => ({ op: k, result: 'ok', pages_allocated: 0, faults_minor: 0, faults_major: 0, committed_as_pages: 0 })),
    final: {
      committed_as_pages: 0,
      commit_limit_pages: 0,
      sysctl: Object.fromEntries(SYSCTL_KEYS.map((k) => [k, 0])),
      meminfo_kb: Object.fromEntries(MEMINFO_KEYS.map((k) => [k, 0])),
      vmstat_delta: Object.fromEntries(VMSTAT_KEYS.map((k) => [k, 0])),
      tasks,
    },
  };
}

/** Keep only the keys `shape` names (recursively for objects), so a full observation can be compared with a
 *  requested one. */
export function project(value: unknown, shape: unknown): unknown {
  if (shape && typeof shape === 'object' && !Array.isArray(shape) && value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(shape as object)) out[k] = project((value as Record<string, unknown>)[k], (shape as Record<string, unknown>)[k]);
    return out;
  }
  if (Array.isArray(shape) && Array.isArray(value)) return value.map((v, i) => project(v, shape[i] ?? shape[0]));
  return value;
}

/** A failing scenario as a ready-to-run `ops` vector (run it with `oomsim conformance <file>`). */
export function asVector(s: Scenario, expected: unknown, id = 'diff-minimal'): string {
  return JSON.stringify(
    [{ id, area: 'fault', check: 'ops', inputs: { machine: s.machine, ops: s.ops }, expected, source: 'differential test (wasm vs TS reference)' }],
    null,
    1,
  );
}
