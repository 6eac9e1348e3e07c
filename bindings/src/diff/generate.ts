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
  pages: number;
  prot: string;
}

/** Build a scenario from seeds. `machineSeed` picks the machine; each op seed picks one operation. */
export function scenarioFromSeeds(machineSeed: number[], opSeeds: number[][]): Scenario {
  const [ramSel = 0, swapSel = 0, modeSel = 0, ratioSel = 0] = machineSeed;
  const machine: Machine = {
    totalram_pages: [512, 1024, 4096, 16384][ramSel % 4],
    total_swap_pages: [0, 0, 256, 2048][swapSel % 4],
    sysctl: { 'vm.overcommit_memory': modeSel % 3, 'vm.overcommit_ratio': [50, 100, 200][ratioSel % 3] },
  };
  const ops: Op[] = [];
  const live: number[] = [];
  const regions = new Map<number, Region[]>();
  let nextPid = 1;
  let nextRegion = 0;
  const pick = <T>(xs: T[], s: number): T => xs[s % xs.length];

  for (const seed of opSeeds) {
    const [kind = 0, a = 0, b = 0, c = 0, d = 0] = seed;
    if (live.length === 0 || kind % 12 === 0) {
      const pid = nextPid++;
      ops.push({ op: 'spawn', task: pid, oom_score_adj: [0, 0, 500, -500, -1000][a % 5] });
      live.push(pid);
      regions.set(pid, []);
      continue;
    }
    const task = pick(live, a);
    const rs = regions.get(task)!;
    switch (kind % 12) {
      case 1:
      case 2: {
        const name = `r${nextRegion++}`;
        const pages = 1 + (b % 64);
        const prot = pick(['rw', 'rw', 'r', 'none'], c);
        const flags = pick([['private', 'anon'], ['private', 'anon'], ['shared', 'anon'], ['private', 'anon', 'noreserve']], d);
        ops.push({ op: 'mmap', task, region: name, pages, prot, flags });
        rs.push({ name, pages, prot });
        break;
      }
      case 3:
      case 4:
      case 5: {
        // Only accesses the protection allows: what a faulting access does (SIGSEGV) is not in the vector
        // vocabulary, and the two engines report it differently (docs/decisions/0004-differential-testing.md).
        const access = kind % 2 ? 'write' : 'read';
        const ok = rs.filter((r) => (access === 'write' ? r.prot === 'rw' : r.prot !== 'none'));
        if (ok.length === 0) break;
        const r = pick(ok, b);
        const first = c % r.pages;
        const count = 1 + (d % (r.pages - first));
        ops.push({ op: 'touch', task, region: r.name, first, count, access });
        break;
      }
      case 6: {
        if (live.length >= 6) break;
        const child = nextPid++;
        ops.push({ op: 'fork', task, child });
        live.push(child);
        regions.set(child, rs.map((r) => ({ ...r })));
        break;
      }
      case 7: {
        ops.push({ op: 'exit', task });
        live.splice(live.indexOf(task), 1);
        regions.delete(task);
        break;
      }
      case 8: {
        if (rs.length === 0) break;
        const r = pick(rs, b);
        // whole-region mprotect keeps the model's protection per region exact
        r.prot = pick(['r', 'rw', 'none'], b + d);
        ops.push({ op: 'mprotect', task, region: r.name, first: 0, count: r.pages, prot: r.prot });
        break;
      }
      case 9: {
        if (rs.length === 0) break;
        const r = pick(rs, b);
        // munmap a whole region (partial unmaps split it into pieces the model would have to track)
        ops.push({ op: 'munmap', task, region: r.name, first: 0, count: r.pages });
        rs.splice(rs.indexOf(r), 1);
        break;
      }
      case 10: {
        ops.push({ op: 'brk', task, pages: b % 48 });
        break;
      }
      case 11: {
        if (rs.length === 0 || machine.total_swap_pages === 0) break;
        const r = pick(rs, b);
        const first = c % r.pages;
        const count = 1 + (d % (r.pages - first));
        ops.push({ op: 'swapout', task, region: r.name, first, count, swapcache: d % 2 === 0 });
        break;
      }
    }
  }
  return { machine, ops };
}

export const MEMINFO_KEYS = ['MemFree', 'AnonPages', 'Cached', 'Shmem', 'SwapFree', 'SwapCached', 'Committed_AS', 'CommitLimit', 'Mapped'];
export const VMSTAT_KEYS = ['pgfault', 'pgmajfault', 'pswpin', 'pswpout', 'oom_kill'];
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
