/**
 * Page-reference traces through the engine: Valgrind lackey (`valgrind --tool=lackey --trace-mem=yes`: lines
 * `I  addr,size`, ` L addr,size`, ` S addr,size`, ` M addr,size`, hex addresses), Dinero `.din` (`label address
 * [size]`: label 0 read, 1 write, 2 instruction fetch; 3 escape and 4 cache flush are skipped), and
 * libCacheSim-style csv (a header naming the columns; `obj_id` (or `obj`, `page`, `addr`) is the object/page,
 * `obj_size` (or `size`) in bytes, `op` read|get|write|set; `time` is ignored). Streamed line by line (gzip in
 * through lines.ts), so memory grows with the distinct pages only, never with the length of the trace.
 *
 * Mapping: the trace's pages (address / 4096, or csv object ids spanning ceil(size / 4096) pages) are given slots
 * in one private anonymous mapping of the process, in first-touch order, so a sparse 48-bit address space costs
 * only what it touches. Every reference is one `touch` of one page (read or write) in the command buffer, written
 * straight into the engine's buffer (`Engine.execWords`) in batches; back-to-back references to the same page
 * with the same access are merged (the engine would count the second as a hit anyway).
 */
import type { Engine } from '../engine.js';
import { OPS } from '../generated/ops.js';
import { readLines, TraceError, type Line } from './lines.js';

export const PAGEREF_FORMATS = ['lackey', 'din', 'csv'] as const;
export type PagerefFormat = (typeof PAGEREF_FORMATS)[number];

/** One reference: the trace's page number and whether it writes. */
export interface PageRef {
  page: number;
  write: boolean;
}

const PAGE = 4096;
const hex = /^[0-9a-fA-F]+$/;

/** The pages an access of `size` bytes at `addr` covers (an access that crosses a page boundary touches both). */
function pagesOf(addr: number, size: number, write: boolean, out: PageRef[]): void {
  const first = Math.floor(addr / PAGE), last = Math.floor((addr + Math.max(1, size) - 1) / PAGE);
  for (let p = first; p <= last; p++) out.push({ page: p, write });
}

/** A lackey line (null for Valgrind's `==pid==` messages). */
export function lackeyRefs(file: string, l: Line, instr: boolean, out: PageRef[]): void {
  const t = l.text;
  if (t === '' || t.startsWith('==')) return;
  const m = /^\s*([ILSM])\s+([0-9a-fA-F]+),(\d+)\s*$/.exec(t);
  if (!m) throw new TraceError(file, l.no, `not a lackey line: ${JSON.stringify(t.slice(0, 60))}; expected "I  addr,size" or " L|S|M addr,size" (valgrind --tool=lackey --trace-mem=yes)`);
  if (m[1] === 'I' && !instr) return;
  const addr = Number.parseInt(m[2], 16);
  const size = Number(m[3]);
  if (m[1] === 'M') {
    // modify = a load then a store of the same bytes
    pagesOf(addr, size, false, out);
    pagesOf(addr, size, true, out);
  } else pagesOf(addr, size, m[1] === 'S', out);
}

export function dinRefs(file: string, l: Line, instr: boolean, out: PageRef[]): void {
  const t = l.text.trim();
  if (t === '') return;
  const f = t.split(/\s+/);
  const label = f[0];
  if (!/^[0-4]$/.test(label) || f.length < 2 || f.length > 3 || !hex.test(f[1].replace(/^0x/i, '')) || (f[2] !== undefined && !/^\d+$/.test(f[2]))) {
    throw new TraceError(file, l.no, `not a Dinero .din line: ${JSON.stringify(t.slice(0, 60))}; expected "label address [size]" with label 0 (read), 1 (write), 2 (fetch), 3, 4 and a hex address`);
  }
  if (label === '3' || label === '4' || (label === '2' && !instr)) return;
  pagesOf(Number.parseInt(f[1].replace(/^0x/i, ''), 16), f[2] === undefined ? 1 : Number(f[2]), label === '1', out);
}

interface CsvCols {
  obj: number;
  size: number;
  op: number;
}
const CSV_OBJ = ['obj_id', 'obj', 'page', 'addr', 'object'];
export function csvHeader(file: string, l: Line): CsvCols {
  const h = l.text.trim().toLowerCase().split(',').map((x) => x.trim());
  const obj = h.findIndex((c) => CSV_OBJ.includes(c));
  if (obj < 0) throw new TraceError(file, l.no, `the csv header names no object column; expected one of ${CSV_OBJ.join(', ')} (and optionally obj_size|size, op, time)`);
  return { obj, size: h.findIndex((c) => c === 'obj_size' || c === 'size'), op: h.findIndex((c) => c === 'op') };
}
export function csvRefs(file: string, l: Line, cols: CsvCols, out: PageRef[]): void {
  const t = l.text.trim();
  if (t === '') return;
  const f = t.split(',').map((x) => x.trim());
  const id = f[cols.obj];
  if (id === undefined || !/^\d+$/.test(id)) throw new TraceError(file, l.no, `column ${cols.obj + 1} (the object): ${JSON.stringify(id ?? '')} is not a non-negative integer`);
  const size = cols.size < 0 ? PAGE : Number(f[cols.size]);
  if (!Number.isInteger(size) || size < 0) throw new TraceError(file, l.no, `column ${cols.size + 1} (size): ${JSON.stringify(f[cols.size] ?? '')} is not a size in bytes`);
  const op = cols.op < 0 ? 'read' : (f[cols.op] ?? '').toLowerCase();
  if (!['read', 'get', 'write', 'set'].includes(op)) throw new TraceError(file, l.no, `column ${cols.op + 1} (op): ${JSON.stringify(f[cols.op] ?? '')}; expected read, get, write or set`);
  // Object ids name whole objects: object k of `size` bytes covers its own run of pages, ids do not overlap.
  const n = Math.max(1, Math.ceil(size / PAGE));
  for (let i = 0; i < n; i++) out.push({ page: Number(id) * 1024 + i, write: op === 'write' || op === 'set' }); // up to 4 MiB per object
}

/** Streams the references of a trace file in batches. */
export async function* pageRefs(file: string, format: PagerefFormat, o: { instr?: boolean } = {}): AsyncGenerator<PageRef[]> {
  const instr = o.instr ?? true;
  let batch: PageRef[] = [];
  let cols: CsvCols | null = null;
  for await (const l of readLines(file)) {
    if (format === 'lackey') lackeyRefs(file, l, instr, batch);
    else if (format === 'din') dinRefs(file, l, instr, batch);
    else if (cols === null) {
      if (l.text.trim() !== '') cols = csvHeader(file, l);
    } else csvRefs(file, l, cols, batch);
    if (batch.length >= 8192) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

export interface PagerefResult {
  references: number;
  /** Touches sent to the engine (after merging back-to-back repeats). */
  touches: number;
  distinctPages: number;
  counters: { pgfault: bigint; pgmajfault: bigint; pgscan: bigint; pgsteal: bigint; pswpin: bigint; pswpout: bigint; workingset_refault_anon: bigint; workingset_refault_file: bigint };
  oomKilled: boolean;
}

/**
 * Drives `refs` through `engine` as process `pid` (spawned here) with a mapping of `maxPages` pages. The engine's
 * state (RAM, swap, sysctls) is the caller's. Deterministic: the same trace gives the same counters.
 */
export async function runPageRefs(engine: Engine, refs: AsyncIterable<PageRef[]>, o: { pid?: number; maxPages: number }): Promise<PagerefResult> {
  const pid = o.pid ?? 1000;
  engine.spawn(pid, { comm: 'trace' });
  const base = engine.mmapAnon(pid, o.maxPages);
  if (base < 0) throw new TraceError('(engine)', 0, `mmap of ${o.maxPages} pages failed (errno ${-base}); give a smaller --max-pages or more RAM/overcommit`);
  const before = engine.vmstat();
  const slot = new Map<number, number>();
  const code = OPS.touch.code, nargs = OPS.touch.nargs;
  let references = 0, touches = 0, lastVpn = -1, lastW = false, oomKilled = false;
  const pending: number[] = [];
  const flush = () => {
    if (!pending.length) return;
    let i = 0;
    while (i < pending.length) {
      const fill = (w: Uint32Array) => {
        const room = Math.floor(w.length / 7);
        let k = 0;
        for (; k < room && i < pending.length; k++, i += 2) {
          const j = k * 7;
          w[j] = code;
          w[j + 1] = nargs;
          w[j + 2] = pid;
          w[j + 3] = pending[i] >>> 0;
          w[j + 4] = Math.floor(pending[i] / 2 ** 32);
          w[j + 5] = 1;
          w[j + 6] = pending[i + 1];
        }
        touches += k; // counted when written: a batch cut short by an OOM kill still sent them
        return k * 7;
      };
      try {
        engine.execWords(fill);
      } catch (e) {
        // The process is gone (the OOM killer took it): the rest of the trace has no one to run it.
        if (!engine.tasks().some((t) => t.pid === pid)) {
          oomKilled = true;
          pending.length = 0;
          return;
        }
        throw e;
      }
    }
    pending.length = 0;
  };
  for await (const batch of refs) {
    if (oomKilled) {
      references += batch.length;
      continue;
    }
    for (const r of batch) {
      references++;
      let s = slot.get(r.page);
      if (s === undefined) {
        s = slot.size;
        if (s >= o.maxPages) throw new TraceError('(trace)', 0, `the trace touches more than ${o.maxPages} distinct pages; raise --max-pages`);
        slot.set(r.page, s);
      }
      const vpn = base + s;
      if (vpn === lastVpn && r.write === lastW) continue;
      lastVpn = vpn;
      lastW = r.write;
      pending.push(vpn, r.write ? 1 : 0);
    }
    flush();
    if (!engine.tasks().some((t) => t.pid === pid)) oomKilled = true;
  }
  flush();
  const after = engine.vmstat() as Record<string, bigint>;
  const b = before as Record<string, bigint>;
  const d = (k: string) => (after[k] ?? 0n) - (b[k] ?? 0n);
  const pgscan = d('pgscan_kswapd') + d('pgscan_direct'), pgsteal = d('pgsteal_kswapd') + d('pgsteal_direct');
  return {
    references,
    touches,
    distinctPages: slot.size,
    counters: { pgfault: d('pgfault'), pgmajfault: d('pgmajfault'), pgscan, pgsteal, pswpin: d('pswpin'), pswpout: d('pswpout'), workingset_refault_anon: d('workingset_refault_anon'), workingset_refault_file: d('workingset_refault_file') },
    oomKilled,
  };
}
