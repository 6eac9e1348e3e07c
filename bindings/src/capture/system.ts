/**
 * Live read of the machine-wide files `oomsim capture` records: /proc/meminfo, /proc/vmstat, /proc/swaps,
 * /proc/pressure/memory and the vm.* sysctls that matter to the OOM killer and reclaim. A file that is missing or
 * unreadable is recorded as skipped (with its path and errno), never thrown.
 */
import { fsio } from './fsio.js';
import { errnoCode, parseStatus } from './proc.js';

export interface SkippedFile {
  path: string;
  /** ENOENT, EACCES, ... or what was wrong with the text. */
  reason: string;
}

/** The vm.* sysctls recorded (and written into the scenario's machine.sysctl). */
export const CAPTURED_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.overcommit_ratio',
  'vm.overcommit_kbytes',
  'vm.panic_on_oom',
  'vm.oom_kill_allocating_task',
  'vm.oom_dump_tasks',
  'vm.swappiness',
  'vm.min_free_kbytes',
  'vm.watermark_scale_factor',
  'vm.admin_reserve_kbytes',
  'vm.user_reserve_kbytes',
] as const;
export type CapturedSysctl = (typeof CAPTURED_SYSCTLS)[number];

export interface SwapLine {
  filename: string;
  type: string;
  /** fs/proc swap_show: the usable pages (without the header page) in kB. */
  size_kb: number;
  used_kb: number;
  priority: number;
}

export interface PsiLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Stall time in microseconds. */
  total: number;
}

export interface SystemRead {
  meminfo: Record<string, number>;
  vmstat: Record<string, number>;
  swaps: SwapLine[];
  pressure: { some?: PsiLine; full?: PsiLine } | null;
  sysctl: Partial<Record<CapturedSysctl, number>>;
  skipped: SkippedFile[];
}

/** "MemTotal:  24683784 kB" lines to numbers (kB, or a count for HugePages_*). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of parseStatus(text)) {
    const n = Number.parseInt(v, 10);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

/** "nr_free_pages 5533585" lines. */
export function parseVmstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = Number(v);
    if (Number.isSafeInteger(n)) out[k] = n;
  }
  return out;
}

/** /proc/swaps: a header line, then "Filename Type Size Used Priority". Filenames with spaces are escaped (\040). */
export function parseSwaps(text: string): SwapLine[] {
  const out: SwapLine[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    out.push({
      filename: f[0].replace(/\\040/g, ' '),
      type: f[1],
      size_kb: Number.parseInt(f[2], 10),
      used_kb: Number.parseInt(f[3], 10),
      priority: Number.parseInt(f[4], 10),
    });
  }
  return out;
}

/** /proc/pressure/memory: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and the "full" line. */
export function parsePressure(text: string): { some?: PsiLine; full?: PsiLine } {
  const out: { some?: PsiLine; full?: PsiLine } = {};
  for (const line of text.split('\n')) {
    const [kind, ...kv] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const m = new Map(kv.map((p) => p.split('=') as [string, string]));
    out[kind] = {
      avg10: Number(m.get('avg10') ?? 0),
      avg60: Number(m.get('avg60') ?? 0),
      avg300: Number(m.get('avg300') ?? 0),
      total: Number(m.get('total') ?? 0),
    };
  }
  return out;
}

function readOr(path: string, skipped: SkippedFile[]): string | null {
  try {
    return fsio.readText(path);
  } catch (e) {
    skipped.push({ path, reason: errnoCode(e) || (e as Error).message });
    return null;
  }
}

/** Reads the machine-wide files under `proc` (default /proc). Only a missing or empty /proc/meminfo throws. */
export function readSystem(proc = '/proc'): SystemRead {
  const skipped: SkippedFile[] = [];
  const mi = readOr(`${proc}/meminfo`, skipped);
  const meminfo = mi === null ? {} : parseMeminfo(mi);
  if (!(meminfo.MemTotal > 0)) throw new Error(`${proc}/meminfo: cannot read MemTotal (${skipped[0]?.reason ?? 'no MemTotal line'})`);
  const vs = readOr(`${proc}/vmstat`, skipped);
  const sw = readOr(`${proc}/swaps`, skipped);
  const ps = readOr(`${proc}/pressure/memory`, skipped);
  const sysctl: Partial<Record<CapturedSysctl, number>> = {};
  for (const name of CAPTURED_SYSCTLS) {
    const path = `${proc}/sys/${name.replace(/\./g, '/')}`;
    const t = readOr(path, skipped);
    if (t === null) continue;
    const n = Number.parseInt(t, 10);
    if (Number.isFinite(n)) sysctl[name] = n;
    else skipped.push({ path, reason: `not an integer: ${JSON.stringify(t.trim())}` });
  }
  return {
    meminfo,
    vmstat: vs === null ? {} : parseVmstat(vs),
    swaps: sw === null ? [] : parseSwaps(sw),
    pressure: ps === null ? null : parsePressure(ps),
    sysctl,
    skipped,
  };
}
