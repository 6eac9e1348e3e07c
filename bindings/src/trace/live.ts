/**
 * One live sample of this machine for `oomsim record`: /proc/meminfo, /proc/vmstat, /proc/pressure/memory, every
 * process's row (stat, status, oom_score, oom_score_adj, cgroup) and the memcg files the policies read, with the
 * capture's parsers (capture/system.ts, capture/proc.ts, capture/memcg.ts). Lighter than `oomsim capture`: no
 * smaps, so a sample of a few hundred processes takes milliseconds. Vanished and unreadable processes are skipped.
 * Also the kernel log reader (/dev/kmsg), keeping only OOM report lines.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { fsio } from '../capture/fsio.js';
import { findMemcgMount } from '../capture/memcg.js';
import { memcgOf, parseStatus, statField } from '../capture/proc.js';
import { parseMeminfo, parsePressure, parseVmstat } from '../capture/system.js';
import { MEMCG_STAT_KEYS, OOM_KMSG, type TraceSample } from './format.js';

export interface LiveOptions {
  proc?: string;
  mountinfo?: string;
  /** At most this many memcgs per sample (parents first); the rest are counted as dropped. Default 1000. */
  maxCgroups?: number;
}

const read = (p: string): string | null => {
  try {
    return fsio.readText(p);
  } catch {
    return null;
  }
};

/** One task row in TASK_COLUMNS order, or null for kernel threads, zombies and processes that vanished. */
export function taskRow(proc: string, pid: number): (number | string)[] | null {
  const dir = `${proc}/${pid}`;
  const stat = read(`${dir}/stat`);
  const status = read(`${dir}/status`);
  if (!stat || !status) return null;
  const st = parseStatus(status);
  if (st.get('Kthread') === '1' || !st.has('VmRSS')) return null;
  const score = read(`${dir}/oom_score`), adj = read(`${dir}/oom_score_adj`), cg = read(`${dir}/cgroup`);
  if (score === null || adj === null || cg === null) return null;
  const kb = (k: string) => Number.parseInt(st.get(k) ?? '0', 10) || 0;
  try {
    return [
      pid,
      statField(stat, 4),
      st.get('Name') ?? '?',
      Number.parseInt((st.get('Uid') ?? '0').split(/\s+/)[0], 10) || 0,
      (st.get('State') ?? '?').slice(0, 1),
      Number.parseInt(score, 10) || 0,
      Number.parseInt(adj, 10) || 0,
      statField(stat, 24),
      kb('VmRSS'),
      kb('VmSwap'),
      memcgOf(cg),
      kb('RssAnon'),
      kb('RssFile'),
      kb('RssShmem'),
    ];
  } catch {
    return null; // a stat line cut short: the task exited mid-read
  }
}

const V1_FILES = ['memory.usage_in_bytes', 'memory.limit_in_bytes', 'memory.memsw.usage_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.failcnt', 'memory.oom_control'];
const V2_FILES = ['memory.current', 'memory.max', 'memory.high', 'memory.low', 'memory.min', 'memory.swap.current', 'memory.swap.max', 'memory.oom.group', 'memory.events', 'memory.pressure'];
const STAT_KEYS = new Set<string>(MEMCG_STAT_KEYS);

/** memory.stat with only the kept keys. */
export function filterStat(text: string): string {
  return text
    .split('\n')
    .filter((l) => STAT_KEYS.has(l.split(' ')[0]))
    .join('\n');
}

export class LiveSampler {
  readonly proc: string;
  readonly memcg: { version: 'v1' | 'v2'; mount: string } | null;
  private readonly maxCgroups: number;
  droppedCgroups = 0;

  constructor(o: LiveOptions = {}) {
    this.proc = o.proc ?? '/proc';
    this.maxCgroups = o.maxCgroups ?? 1000;
    const mi = read(o.mountinfo ?? `${this.proc}/self/mountinfo`);
    this.memcg = mi === null ? null : findMemcgMount(mi, (m) => read(`${m}/cgroup.controllers`));
  }

  sample(tMs: number): TraceSample {
    const mi = read(`${this.proc}/meminfo`);
    if (mi === null) throw new Error(`${this.proc}/meminfo: cannot read`);
    const vs = read(`${this.proc}/vmstat`);
    const ps = read(`${this.proc}/pressure/memory`);
    const s: TraceSample = { type: 'sample', t_ms: tMs, meminfo: parseMeminfo(mi), vmstat: vs === null ? {} : parseVmstat(vs), pressure: ps === null ? null : parsePressure(ps) };
    const rows: (number | string)[][] = [];
    const pids = fsio.readDir(this.proc).filter((d) => /^[0-9]+$/.test(d)).map(Number).sort((a, b) => a - b);
    for (const pid of pids) {
      const r = taskRow(this.proc, pid);
      if (r) rows.push(r);
    }
    s.tasks = rows;
    if (this.memcg) s.memcg = this.readMemcg(this.memcg.version, this.memcg.mount);
    return s;
  }

  private readMemcg(version: 'v1' | 'v2', mount: string): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    const files = version === 'v1' ? V1_FILES : V2_FILES;
    let n = 0;
    this.droppedCgroups = 0;
    const queue = ['/'];
    while (queue.length) {
      const rel = queue.shift()!;
      if (n >= this.maxCgroups) {
        this.droppedCgroups++;
        continue;
      }
      const dir = rel === '/' ? mount : mount + rel;
      const g: Record<string, string> = {};
      for (const f of files) {
        const t = read(`${dir}/${f}`);
        if (t !== null) g[f] = t.trim();
      }
      const st = read(`${dir}/memory.stat`);
      if (st !== null) g['memory.stat'] = filterStat(st);
      out[rel] = g;
      n++;
      let kids: string[] = [];
      try {
        kids = fsio.readSubdirs(dir).sort();
      } catch {
        /* removed meanwhile */
      }
      for (const k of kids) queue.push(rel === '/' ? `/${k}` : `${rel}/${k}`);
    }
    return out;
  }
}

/**
 * /dev/kmsg, non-blocking: each read returns one record "prio,seq,usec,flags;text" (Documentation/ABI/testing/
 * dev-kmsg). Records older than `sinceUs` (the kernel's clock at the start of the recording) are skipped; only
 * OOM report lines (OOM_KMSG) are returned. Unreadable (no permission, no device) means `available` is false.
 */
export class KmsgReader {
  private fd: number | null = null;
  readonly available: boolean;
  readonly reason: string;
  private readonly buf = Buffer.alloc(8192);

  constructor(private readonly sinceUs: bigint, path = '/dev/kmsg') {
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      this.available = true;
      this.reason = '';
    } catch (e) {
      this.available = false;
      this.reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
  }

  /** New OOM lines since the last call, with their kernel time in µs. */
  drain(): { us: bigint; text: string }[] {
    const out: { us: bigint; text: string }[] = [];
    if (this.fd === null) return out;
    for (let i = 0; i < 100000; i++) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const c = (e as NodeJS.ErrnoException).code;
        if (c === 'EPIPE') continue; // records were overwritten before we read them: go on with the next
        break; // EAGAIN: nothing more now
      }
      if (n <= 0) break;
      const rec = this.buf.toString('utf8', 0, n);
      const semi = rec.indexOf(';');
      if (semi < 0) continue;
      const usText = rec.slice(0, semi).split(',')[2] ?? '';
      if (!/^\d+$/.test(usText)) continue;
      const us = BigInt(usText);
      const text = rec.slice(semi + 1).split('\n')[0];
      if (us >= this.sinceUs && OOM_KMSG.test(text)) out.push({ us, text });
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
