/**
 * Live read of the memory cgroup tree: v1 (the `memory` controller's own hierarchy) or v2 (the unified hierarchy
 * when it has the memory controller), whichever is mounted (v1 wins when both are, as the kernel charges to the
 * v1 memcg then: a controller is bound to one hierarchy only, kernel/cgroup/cgroup.c:rebind_subsystems).
 * Groups and files that disappear mid-walk or cannot be read are recorded as skipped, never thrown.
 */
import { fsio } from './fsio.js';
import { errnoCode } from './proc.js';
import { parsePressure, type PsiLine, type SkippedFile } from './system.js';

/** A memcg file value: a safe integer, or the text as read (limits like 9223372036854771712 or `max`). */
export type FileValue = number | string;

export interface MemcgV1 {
  limit_in_bytes?: string;
  memsw_limit_in_bytes?: string;
  soft_limit_in_bytes?: string;
  usage_in_bytes?: number;
  max_usage_in_bytes?: number;
  failcnt?: number;
  swappiness?: number;
  oom_control?: { oom_kill_disable: number; under_oom: number; oom_kill: number };
  stat?: Record<string, FileValue>;
}

export interface MemcgV2 {
  max?: string;
  high?: string;
  low?: string;
  min?: string;
  swap_max?: string;
  oom_group?: number;
  current?: number;
  events?: Record<string, FileValue>;
  stat?: Record<string, FileValue>;
  pressure?: { some?: PsiLine; full?: PsiLine };
}

export interface MemcgTree {
  version: 'v1' | 'v2';
  /** Where the hierarchy is mounted. */
  mount: string;
  /** By path relative to the mount ('/' is the root), parents before children. */
  groups: Record<string, MemcgV1 | MemcgV2>;
}

/** Finds the v1 memory hierarchy or a v2 hierarchy with the memory controller in /proc/self/mountinfo. */
export function findMemcgMount(mountinfo: string, controllers: (mount: string) => string | null): { version: 'v1' | 'v2'; mount: string } | null {
  let v2: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mount = pre[4];
    if (fstype === 'cgroup' && superOpts.split(',').includes('memory')) return { version: 'v1', mount };
    if (fstype === 'cgroup2' && v2 === null && (controllers(mount) ?? '').split(/\s+/).includes('memory')) v2 = mount;
  }
  return v2 === null ? null : { version: 'v2', mount: v2 };
}

/** "key value" lines (memory.stat, memory.events, memory.oom_control). */
export function parseKeyValues(text: string): Record<string, FileValue> {
  const out: Record<string, FileValue> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = Number(v);
    out[k] = Number.isSafeInteger(n) ? n : v;
  }
  return out;
}

class GroupGone extends Error {}

function reader(dir: string, skipped: SkippedFile[]) {
  const text = (file: string): string | undefined => {
    const path = `${dir}/${file}`;
    try {
      return fsio.readText(path);
    } catch (e) {
      const c = errnoCode(e);
      // The group was removed while we walked (rmdir by its owner): drop it as a whole.
      if (c === 'ENOENT' || c === 'ENODEV') {
        try {
          fsio.readDir(dir);
        } catch {
          throw new GroupGone(dir);
        }
        return undefined; // the file does not exist in this kernel's build (e.g. memsw without swap accounting)
      }
      skipped.push({ path, reason: c || (e as Error).message });
      return undefined;
    }
  };
  const int = (file: string): number | undefined => {
    const t = text(file);
    if (t === undefined) return undefined;
    const n = Number(t.trim());
    if (Number.isSafeInteger(n)) return n;
    skipped.push({ path: `${dir}/${file}`, reason: `not an integer: ${JSON.stringify(t.trim())}` });
    return undefined;
  };
  const raw = (file: string): string | undefined => text(file)?.trim();
  return { text, int, raw };
}

function readV1(dir: string, skipped: SkippedFile[]): MemcgV1 {
  const r = reader(dir, skipped);
  const g: MemcgV1 = {};
  g.limit_in_bytes = r.raw('memory.limit_in_bytes');
  g.memsw_limit_in_bytes = r.raw('memory.memsw.limit_in_bytes');
  g.soft_limit_in_bytes = r.raw('memory.soft_limit_in_bytes');
  g.usage_in_bytes = r.int('memory.usage_in_bytes');
  g.max_usage_in_bytes = r.int('memory.max_usage_in_bytes');
  g.failcnt = r.int('memory.failcnt');
  g.swappiness = r.int('memory.swappiness');
  const oc = r.text('memory.oom_control');
  if (oc !== undefined) {
    const kv = parseKeyValues(oc);
    g.oom_control = { oom_kill_disable: Number(kv.oom_kill_disable ?? 0), under_oom: Number(kv.under_oom ?? 0), oom_kill: Number(kv.oom_kill ?? 0) };
  }
  const st = r.text('memory.stat');
  if (st !== undefined) g.stat = parseKeyValues(st);
  return dropUndefined(g);
}

function readV2(dir: string, skipped: SkippedFile[], root: boolean): MemcgV2 {
  const r = reader(dir, skipped);
  const g: MemcgV2 = {};
  if (!root) {
    // The root of v2 has no memory.max/high/low/min/swap.max/oom.group/events (mm/memcontrol.c: CFTYPE_NOT_ON_ROOT).
    g.max = r.raw('memory.max');
    g.high = r.raw('memory.high');
    g.low = r.raw('memory.low');
    g.min = r.raw('memory.min');
    g.swap_max = r.raw('memory.swap.max');
    g.oom_group = r.int('memory.oom.group');
    g.current = r.int('memory.current');
    const ev = r.text('memory.events');
    if (ev !== undefined) g.events = parseKeyValues(ev);
  }
  const st = r.text('memory.stat');
  if (st !== undefined) g.stat = parseKeyValues(st);
  const ps = r.text('memory.pressure');
  if (ps !== undefined) g.pressure = parsePressure(ps);
  return dropUndefined(g);
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Reads the whole memcg tree, or null when no memory controller is mounted. */
export function readMemcgTree(skipped: SkippedFile[], mountinfoPath = '/proc/self/mountinfo'): MemcgTree | null {
  let mi: string;
  try {
    mi = fsio.readText(mountinfoPath);
  } catch (e) {
    skipped.push({ path: mountinfoPath, reason: errnoCode(e) || (e as Error).message });
    return null;
  }
  const found = findMemcgMount(mi, (m) => {
    try {
      return fsio.readText(`${m}/cgroup.controllers`);
    } catch {
      return null;
    }
  });
  if (found === null) return null;
  const groups: Record<string, MemcgV1 | MemcgV2> = {};
  const walk = (rel: string) => {
    const dir = rel === '/' ? found.mount : found.mount + rel;
    try {
      groups[rel] = found.version === 'v1' ? readV1(dir, skipped) : readV2(dir, skipped, rel === '/');
    } catch (e) {
      if (e instanceof GroupGone) return;
      throw e;
    }
    let entries: string[];
    try {
      entries = fsio.readSubdirs(dir).sort();
    } catch (e) {
      const c = errnoCode(e);
      if (c !== 'ENOENT') skipped.push({ path: dir, reason: c || (e as Error).message });
      return;
    }
    for (const name of entries) walk(rel === '/' ? `/${name}` : `${rel}/${name}`);
  };
  walk('/');
  return { version: found.version, mount: found.mount, groups };
}
