/** Shared formatting for reports: deterministic (no wall-clock time, no locale). */
export const mib = (kb: number) => `${(kb / 1024).toFixed(kb % 1024 === 0 ? 0 : 1)} MiB`;
/** Simulated time as seconds with up to 3 decimals: 12.3s. */
export const sec = (ns: bigint) => `${Number(ns / 1_000_000n) / 1000}s`;
/** dmesg's `[%5lu.%06lu]` time prefix. */
export function dmesgTime(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const us = (ns % 1_000_000_000n) / 1000n;
  return `[${String(s).padStart(5)}.${String(us).padStart(6, '0')}]`;
}
