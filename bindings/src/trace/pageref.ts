/**
 * Page-reference traces through the engine (`oomsim pagetrace`): Valgrind lackey, Dinero `.din` and
 * libCacheSim-style csv (formats: pageref-format.ts), streamed in packed batches (pageref-scan.ts), so memory grows
 * with the distinct pages only, never with the length of the trace.
 *
 * Mapping: the trace's pages (address / 4096, or csv object ids spanning ceil(size / 4096) pages) are given slots
 * in one private anonymous mapping of the process, in first-touch order, so a sparse 48-bit address space costs
 * only what it touches. Every reference is one `touch` of one page (read or write); back-to-back references to the
 * same page with the same access are merged (the engine would count the second as a hit anyway). The loop over
 * the references runs inside the engine (engine/core/src/pageref.rs): one call per batch of 65536. The same
 * references sent as one `touch` command each (pageref-commands.ts) give the same result; the tests compare them.
 */
import type { Engine } from '../engine.js';
import { TraceError } from './lines.js';
import type { RefBatch } from './pageref-format.js';

export { MAX_TRACE_PAGE, PAGEREF_FORMATS, RefBatch, type PagerefFormat, type PageRef } from './pageref-format.js';
export { pageRefs } from './pageref-scan.js';

export interface PagerefResult {
  references: number;
  /** Touches made (after merging back-to-back repeats; up to and including the one the process died in). */
  touches: number;
  /** Pages given a slot (up to the process's death). */
  distinctPages: number;
  counters: { pgfault: bigint; pgmajfault: bigint; pgscan: bigint; pgsteal: bigint; pswpin: bigint; pswpout: bigint; workingset_refault_anon: bigint; workingset_refault_file: bigint };
  oomKilled: boolean;
}

/** Spawns the trace's process and maps its pages: the mapping's first page. */
export function traceProcess(engine: Engine, pid: number, maxPages: number): number {
  engine.spawn(pid, { comm: 'trace' });
  const base = engine.mmapAnon(pid, maxPages);
  if (base < 0) throw new TraceError('(engine)', 0, `mmap of ${maxPages} pages failed (errno ${-base}); give a smaller --max-pages or more RAM/overcommit`);
  return base;
}

export const tooManyPages = (maxPages: number) => new TraceError('(trace)', 0, `the trace touches more than ${maxPages} distinct pages; raise --max-pages`);

/** The counters a trace run reports: vmstat deltas. */
export function traceCounters(before: Record<string, bigint>, after: Record<string, bigint>): PagerefResult['counters'] {
  const d = (k: string) => (after[k] ?? 0n) - (before[k] ?? 0n);
  return {
    pgfault: d('pgfault'),
    pgmajfault: d('pgmajfault'),
    pgscan: d('pgscan_kswapd') + d('pgscan_direct'),
    pgsteal: d('pgsteal_kswapd') + d('pgsteal_direct'),
    pswpin: d('pswpin'),
    pswpout: d('pswpout'),
    workingset_refault_anon: d('workingset_refault_anon'),
    workingset_refault_file: d('workingset_refault_file'),
  };
}

/**
 * Drives `refs` through `engine` as process `pid` (spawned here) with a mapping of `maxPages` pages. The engine's
 * state (RAM, swap, sysctls) is the caller's. Deterministic: the same trace gives the same counters. If the process
 * dies (OOM-killed) the rest of the trace is only counted.
 */
export async function runPageRefs(engine: Engine, refs: AsyncIterable<RefBatch> | Iterable<RefBatch>, o: { pid?: number; maxPages: number }): Promise<PagerefResult> {
  const pid = o.pid ?? 1000;
  const base = traceProcess(engine, pid, o.maxPages);
  const before = engine.vmstat();
  engine.pagerefStart(pid, base, o.maxPages);
  let state: 'running' | 'gone' | 'full' = 'running';
  for await (const batch of refs) {
    state = engine.pagerefRun(batch.view());
    if (state === 'full') throw tooManyPages(o.maxPages);
  }
  const c = engine.pagerefCounts();
  return { references: c.references, touches: c.touches, distinctPages: c.distinctPages, counters: traceCounters(before, engine.vmstat()), oomKilled: state === 'gone' };
}
