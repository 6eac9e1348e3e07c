/**
 * Figures derived from /proc/meminfo that both reports and policies need. Kept here, below report/ and policy/,
 * so a report never imports a policy (issue #13).
 */

/**
 * The kubelet's node "working set" (kB) from /proc/meminfo: usage (MemTotal - MemFree) minus Inactive(file), the
 * figure behind its memory.available eviction signal. Not a kernel value: reports show it beside MemFree and
 * MemAvailable because the three are so often confused.
 */
export function kubeletWorkingSetKb(m: { MemTotal: number; MemFree: number; 'Inactive(file)': number }): number {
  return Math.max(0, m.MemTotal - m.MemFree - m['Inactive(file)']);
}
