/**
 * `oomsim capture`: the live machine as a scenario file. The `capture:` section keeps what the kernel printed
 * (bindings/src/scenario/capture.ts); machine, cgroups and processes are the scenario derived from it, so that
 * `run`, `explain` and `compare` take the file unchanged. docs/capture-format.md describes both halves and what the
 * derived scenario leaves out.
 */
import { createHash } from 'node:crypto';
import { fsio } from './fsio.js';
import { hostname } from 'node:os';
import { stringify } from 'yaml';
import type { CaptureMemcg, CaptureSection, CaptureTask } from '../scenario/capture.js';
import { readMemcgTree, type MemcgTree } from './memcg.js';
import { inInitPidNs, readProc, type ProcTask } from './proc.js';
import { readSystem, type SkippedFile, type SystemRead } from './system.js';

/** PAGE_COUNTER_MAX pages in bytes, what an unlimited v1 limit reads (mm/page_counter.c, 4 KiB pages). */
export const V1_UNLIMITED = '9223372036854771712';

export interface CaptureOptions {
  /** Replace comms, cgroup names and the host name with stable hashes. */
  redact?: boolean;
  /** /proc (tests point it elsewhere). */
  proc?: string;
  /** /proc/self/mountinfo. */
  mountinfo?: string;
  tool?: string;
  now?: Date;
}

export interface Snapshot {
  name: string;
  description: string;
  duration: string;
  seed: number;
  machine: { ram: string; swap: { size: string; type: 'disk' | 'ssd' | 'zram'; priority?: number }[]; sysctl: Record<string, number> };
  cgroups?: { version: 'v1' | 'v2'; groups: Record<string, Record<string, string | number>> };
  processes: { comm: string; pid: number; uid: number; cgroup: string; oom_score_adj: number; workload: { kind: 'idle' } | { kind: 'steady'; working_set: string } }[];
  capture: CaptureSection;
}

/** A stable 8-hex-digit hash of a name (sha256; unsalted, so common names can be guessed: see docs/capture-format.md). */
export function redactName(prefix: string, name: string): string {
  return prefix + createHash('sha256').update(name).digest('hex').slice(0, 8);
}

/** A memcg path with every component hashed ('/' stays '/'). */
export function redactPath(path: string): string {
  if (path === '/') return '/';
  return '/' + path.split('/').filter(Boolean).map((c) => redactName('g', c)).join('/');
}

/** A file path under the memcg mount with its group names hashed (the file name is kept); other paths as they are. */
export function redactFilePath(path: string, mount: string): string {
  if (!path.startsWith(mount + '/')) return path;
  const rest = path.slice(mount.length);
  const i = rest.lastIndexOf('/');
  const dir = rest.slice(0, i);
  const file = rest.slice(i + 1);
  // A directory that could not be listed has no file part: hash it whole.
  if (!file.startsWith('memory.') && !file.startsWith('cgroup.')) return mount + redactPath(rest);
  return mount + (dir === '' ? '' : redactPath(dir)) + '/' + file;
}

/** Cgroup names the scenario format accepts; any other component is replaced by its hash (and the file says so). */
const SCENARIO_COMPONENT = /^[A-Za-z0-9_.:@-]+$/;
export function scenarioPath(path: string): string {
  if (path === '/') return '/';
  return '/' + path.split('/').filter(Boolean).map((c) => (SCENARIO_COMPONENT.test(c) ? c : redactName('g', c))).join('/');
}

function kernelRelease(proc: string): string {
  try {
    return fsio.readText(`${proc}/sys/kernel/osrelease`).trim();
  } catch {
    return 'unknown';
  }
}

/** Reads the live machine. Never throws for what a live machine produces; throws only when /proc/meminfo is unusable. */
export function captureLive(o: CaptureOptions = {}): CaptureSection {
  const proc = o.proc ?? '/proc';
  const sys = readSystem(proc);
  const files: SkippedFile[] = [...sys.skipped];
  const tree = readMemcgTree(files, o.mountinfo ?? `${proc}/self/mountinfo`);
  const tasks = readProc(proc);
  return buildCapture(sys, tree, tasks.tasks, { ...tasks.skipped, files }, {
    host: hostname(),
    kernel: kernelRelease(proc),
    tool: o.tool ?? 'oomsim',
    now: o.now ?? new Date(),
    redact: o.redact ?? false,
    initPidNs: inInitPidNs(proc),
  });
}

export function buildCapture(
  sys: SystemRead,
  tree: MemcgTree | null,
  tasks: readonly ProcTask[],
  skipped: { vanished: number; kernelThreads: number; zombies: number; unreadable: number; files: SkippedFile[] },
  h: { host: string; kernel: string; tool: string; now: Date; redact: boolean; initPidNs: boolean },
): CaptureSection {
  const path = h.redact ? redactPath : (p: string) => p;
  const groups: Record<string, CaptureMemcg> = {};
  if (tree) for (const [p, g] of Object.entries(tree.groups)) groups[path(p)] = g as CaptureMemcg;
  return {
    format: 1,
    tool: h.tool,
    taken_at: h.now.toISOString(),
    host: h.redact ? redactName('h', h.host) : h.host,
    kernel: h.kernel,
    page_size: 4096,
    redacted: h.redact,
    init_pid_ns: h.initPidNs,
    skipped: {
      kernel_threads: skipped.kernelThreads,
      zombies: skipped.zombies,
      vanished: skipped.vanished,
      unreadable: skipped.unreadable,
      files: h.redact && tree ? skipped.files.map((f) => ({ path: redactFilePath(f.path, tree.mount), reason: f.reason })) : skipped.files,
    },
    meminfo: sys.meminfo,
    vmstat: sys.vmstat,
    swaps: h.redact ? sys.swaps.map((s) => ({ ...s, filename: redactName('s', s.filename) })) : sys.swaps,
    pressure: sys.pressure,
    sysctl: sys.sysctl,
    memcg: tree ? { version: tree.version, mount: tree.mount, groups } : null,
    task_count: tasks.length,
    tasks: tasks.map((t): CaptureTask => ({
      pid: t.pid,
      comm: h.redact ? redactName('c', t.comm) : t.comm,
      uid: t.uid,
      oom_score_adj: t.oomScoreAdj,
      memcg: path(t.memcg),
      rss_pages: t.rssPages,
      start_time: t.startTime,
      rss_anon_kb: t.rssAnonKb,
      rss_file_kb: t.rssFileKb,
      rss_shmem_kb: t.rssShmemKb,
      vm_swap_kb: t.vmSwapKb,
      vm_pte_kb: t.vmPteKb,
      vm_size_kb: t.vmSizeKb,
      vm_data_kb: t.vmDataKb,
      vm_lck_kb: t.vmLckKb,
      committed_kb: t.committedKb,
      oom_score: t.kernelOomScore,
    })),
  };
}

const unlimited = (v: string | undefined) => v === undefined || v === 'max' || BigInt(v) >= BigInt(V1_UNLIMITED);

/** The scenario files a captured memcg is created with: its limits and switches, not its counters. */
function scenarioFiles(version: 'v1' | 'v2', g: CaptureMemcg, vmSwappiness: number | undefined): Record<string, string | number> {
  const f: Record<string, string | number> = {};
  if (version === 'v1') {
    if (!unlimited(g.limit_in_bytes)) f['memory.limit_in_bytes'] = g.limit_in_bytes!;
    if (!unlimited(g.memsw_limit_in_bytes)) f['memory.memsw.limit_in_bytes'] = g.memsw_limit_in_bytes!;
    if (!unlimited(g.soft_limit_in_bytes)) f['memory.soft_limit_in_bytes'] = g.soft_limit_in_bytes!;
    if (g.oom_control?.oom_kill_disable) f['memory.oom_control'] = 1;
    if (g.swappiness !== undefined && g.swappiness !== vmSwappiness && g.swappiness <= 200) f['memory.swappiness'] = g.swappiness;
  } else {
    if (!unlimited(g.max)) f['memory.max'] = g.max!;
    if (!unlimited(g.high)) f['memory.high'] = g.high!;
    if (g.low !== undefined && g.low !== '0') f['memory.low'] = g.low;
    if (g.min !== undefined && g.min !== '0') f['memory.min'] = g.min;
    if (!unlimited(g.swap_max)) f['memory.swap.max'] = g.swap_max!;
    if (g.oom_group) f['memory.oom.group'] = 1;
  }
  return f;
}

/**
 * The scenario derived from a capture: MemTotal as RAM, the swap devices, the sysctls as read, the memcg tree
 * with its limits, and every task as a process holding its rss (the kernel's counter, stat field 24) as a
 * `steady` working set, with its pid, uid, memcg and oom_score_adj.
 */
export function snapshotOf(c: CaptureSection): Snapshot {
  const kb = (n: number) => `${n}K`;
  const sysctl: Record<string, number> = { ...c.sysctl };
  // A write to either of the pair resets the other (mm/util.c); the scenario may hold only the one in use.
  if ((sysctl['vm.overcommit_kbytes'] ?? 0) !== 0) delete sysctl['vm.overcommit_ratio'];
  else delete sysctl['vm.overcommit_kbytes'];
  const machine: Snapshot['machine'] = {
    ram: kb(c.meminfo.MemTotal!),
    // swap_show prints the usable pages; the device has one more (the header page, mm/swapfile.c).
    swap: c.swaps.map((s) => ({
      size: kb(s.size_kb + c.page_size / 1024),
      type: /zram/.test(s.filename) ? ('zram' as const) : s.type === 'partition' ? ('disk' as const) : ('ssd' as const),
      ...(s.priority >= 0 ? { priority: s.priority } : {}),
    })),
    sysctl,
  };
  let cgroups: Snapshot['cgroups'];
  if (c.memcg) {
    const groups: Record<string, Record<string, string | number>> = {};
    for (const [p, g] of Object.entries(c.memcg.groups)) {
      if (p === '/') continue;
      groups[scenarioPath(p)] = scenarioFiles(c.memcg.version, g, c.sysctl['vm.swappiness']);
    }
    for (const t of c.tasks) if (t.memcg !== '/' && !(scenarioPath(t.memcg) in groups)) groups[scenarioPath(t.memcg)] = {};
    cgroups = { version: c.memcg.version, groups };
  }
  const processes: Snapshot['processes'] = c.tasks.map((t) => {
    // The kernel's rss counter (stat field 24), not status's exact sum: oom_badness sees this one, and it can stay
    // tens of pages behind even on an idle task (measured here), so the engine then ranks as the kernel does.
    const rssKb = t.rss_pages * (c.page_size / 1024);
    return {
      comm: (t.comm.slice(0, 15) || '?'),
      pid: t.pid,
      uid: t.uid,
      cgroup: c.memcg ? scenarioPath(t.memcg) : '/',
      oom_score_adj: t.oom_score_adj,
      workload: rssKb > 0 ? { kind: 'steady' as const, working_set: kb(rssKb) } : { kind: 'idle' as const },
    };
  });
  const s = c.skipped;
  return {
    name: `capture-${c.host}`,
    description: `${c.host} (Linux ${c.kernel}) at ${c.taken_at}: ${c.tasks.length} processes; skipped ${s.kernel_threads} kernel threads, ${s.zombies} zombies, ${s.vanished} vanished, ${s.unreadable} unreadable`,
    duration: '10s',
    seed: 1,
    machine,
    ...(cgroups ? { cgroups } : {}),
    processes,
    capture: c,
  };
}

export function snapshotYaml(s: Snapshot): string {
  const c = s.capture;
  const head = [
    `# oomsim capture of ${c.host} (Linux ${c.kernel}) at ${c.taken_at}${c.redacted ? ' (redacted)' : ''}.`,
    '# machine/cgroups/processes: a scenario derived from the capture (run, explain, compare take it);',
    '# capture: what the kernel printed (oomsim predict reads it). Format: docs/capture-format.md.',
  ];
  return head.join('\n') + '\n' + stringify(s, { lineWidth: 0 });
}
