import type { PolicyView, ViewTask } from '../types.js';

export const S = 1_000_000_000n;
export const MS = 1_000_000n;
/** Seconds (float) to ns, rounded to the ns. */
export const secNs = (s: number): bigint => BigInt(Math.round(s * 1e9));
export const kb = (v: PolicyView, f: string): number => v.meminfo[f] ?? 0;
/** One value of memory.stat (`pgscan 123`), or null. */
export function memoryStat(v: PolicyView, cg: string, key: string): number | null {
  const t = v.cgroupRead(cg, 'memory.stat');
  if (t === null) return null;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(t);
  return m ? Number(m[1]) : null;
}
export function cgroupNumber(v: PolicyView, cg: string, file: string): number | null {
  const t = v.cgroupRead(cg, file);
  if (t === null) return null;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : null;
}
export const inCgroup = (root: string, c: string) => root === '/' || c === root || c.startsWith(root + '/');
/** Leaf cgroups strictly under `root` (or `root` itself when it has no children). */
export function leaves(v: PolicyView, root: string): string[] {
  const under = v.cgroups.filter((c) => c !== root && inCgroup(root, c));
  const ls = under.filter((c) => !under.some((d) => d !== c && d.startsWith(c + '/')));
  return ls.length ? ls : [root];
}
/** Bytes of memory charged to a cgroup: memory.current (v2) or memory.usage_in_bytes (v1), else the RSS of its tasks. */
export function cgroupUsageBytes(v: PolicyView, cg: string): number {
  const n = cgroupNumber(v, cg, 'memory.current') ?? cgroupNumber(v, cg, 'memory.usage_in_bytes');
  if (n !== null && cg !== '/') return n;
  return v.tasks.filter((t) => inCgroup(cg, t.cgroup)).reduce((s, t) => s + t.vmRssKb * 1024, 0);
}
/** Skips that every daemon here applies: init (pid 1), kthreadd (2) and kernel threads (ppid 2). */
export const userTask = (t: ViewTask) => t.pid > 2 && t.ppid !== 2;
export function compileRegex(src: string | null): RegExp | null {
  return src === null || src === '' ? null : new RegExp(src);
}
/**
 * TASK_COMM_LEN: /proc/<pid>/comm and status Name hold at most 15 bytes; a character cut in half is dropped.
 * (TextEncoder/TextDecoder rather than Buffer, so that the policies also run in the browser.)
 */
export const comm15 = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s).subarray(0, 15)).replace(/\uFFFD+$/, '');
