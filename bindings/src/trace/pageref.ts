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

/** References in packed arrays (no object per reference: a 100 M-reference trace would spend its time in the GC). */
export class RefBatch {
  readonly page: Float64Array;
  readonly write: Uint8Array;
  length = 0;
  constructor(readonly capacity = 16384) {
    this.page = new Float64Array(capacity + 64); // + room for the pages of one access that crosses pages
    this.write = new Uint8Array(capacity + 64);
  }
  push(page: number, write: boolean): void {
    this.page[this.length] = page;
    this.write[this.length++] = write ? 1 : 0;
  }
  get full(): boolean {
    return this.length >= this.capacity;
  }
  /** As objects (tests, small traces). */
  toArray(): PageRef[] {
    const out: PageRef[] = [];
    for (let i = 0; i < this.length; i++) out.push({ page: this.page[i], write: this.write[i] === 1 });
    return out;
  }
}

const PAGE = 4096;
const hex = /^[0-9a-fA-F]+$/;

/** The pages an access of `size` bytes at `addr` covers (an access that crosses a page boundary touches both). */
function pagesOf(addr: number, size: number, write: boolean, out: RefBatch): void {
  const first = Math.floor(addr / PAGE), last = Math.floor((addr + Math.max(1, size) - 1) / PAGE);
  for (let p = first; p <= last && p - first < 32; p++) out.push(p, write);
}

/** A lackey line (null for Valgrind's `==pid==` messages). */
export function lackeyRefs(file: string, l: Line, instr: boolean, out: RefBatch): void {
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

/** Hex digits to a number (at most 13 digits: addresses below 2^52), or -1. */
function hexAt(t: string, i: number, end: number): number {
  if (i >= end || end - i > 13) return -1;
  let v = 0;
  for (; i < end; i++) {
    const c = t.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

export function dinRefs(file: string, l: Line, instr: boolean, out: RefBatch): void {
  const t = l.text;
  // Fast path: "L ADDR" or "L ADDR SIZE" with single spaces (what tools write); anything else takes the full check.
  const label = t.charCodeAt(0) - 48;
  if (t.length > 2 && label >= 0 && label <= 2 && t.charCodeAt(1) === 32) {
    let end = t.indexOf(' ', 2);
    const sizeText = end < 0 ? '' : t.slice(end + 1);
    if (end < 0) end = t.length;
    const addr = hexAt(t, t.startsWith('0x', 2) ? 4 : 2, end);
    if (addr >= 0 && (sizeText === '' || /^\d+$/.test(sizeText))) {
      if (label === 2 && !instr) return;
      pagesOf(addr, sizeText === '' ? 1 : Number(sizeText), label === 1, out);
      return;
    }
  }
  const s = t.trim();
  if (s === '') return;
  const f = s.split(/\s+/);
  const lab = f[0];
  if (!/^[0-4]$/.test(lab) || f.length < 2 || f.length > 3 || !hex.test(f[1].replace(/^0x/i, '')) || (f[2] !== undefined && !/^\d+$/.test(f[2]))) {
    throw new TraceError(file, l.no, `not a Dinero .din line: ${JSON.stringify(s.slice(0, 60))}; expected "label address [size]" with label 0 (read), 1 (write), 2 (fetch), 3, 4 and a hex address`);
  }
  if (lab === '3' || lab === '4' || (lab === '2' && !instr)) return;
  pagesOf(Number.parseInt(f[1].replace(/^0x/i, ''), 16), f[2] === undefined ? 1 : Number(f[2]), lab === '1', out);
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
export function csvRefs(file: string, l: Line, cols: CsvCols, out: RefBatch): void {
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
  for (let i = 0; i < n && i < 1024; i++) out.push(Number(id) * 1024 + i, op === 'write' || op === 'set'); // up to 4 MiB per object
}

/** Streams the references of a trace file in batches. */
export async function* pageRefs(file: string, format: PagerefFormat, o: { instr?: boolean } = {}): AsyncGenerator<RefBatch> {
  const instr = o.instr ?? true;
  let batch = new RefBatch();
  let cols: CsvCols | null = null;
  for await (const l of readLines(file)) {
    if (format === 'lackey') lackeyRefs(file, l, instr, batch);
    else if (format === 'din') dinRefs(file, l, instr, batch);
    else if (cols === null) {
      if (l.text.trim() !== '') cols = csvHeader(file, l);
    } else csvRefs(file, l, cols, batch);
    if (batch.full) {
      yield batch;
      batch = new RefBatch();
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
export async function runPageRefs(engine: Engine, refs: AsyncIterable<RefBatch>, o: { pid?: number; maxPages: number }): Promise<PagerefResult> {
  const pid = o.pid ?? 1000;
  engine.spawn(pid, { comm: 'trace' });
  const base = engine.mmapAnon(pid, o.maxPages);
  if (base < 0) throw new TraceError('(engine)', 0, `mmap of ${o.maxPages} pages failed (errno ${-base}); give a smaller --max-pages or more RAM/overcommit`);
  const before = engine.vmstat();
  const slot = new Map<number, number>();
  const code = OPS.touch.code, nargs = OPS.touch.nargs;
  let references = 0, touches = 0, lastVpn = -1, lastW = false, oomKilled = false;
  // Pending touches as (vpn, access) pairs; the vpn is below 2^52, kept as a double.
  let pendVpn = new Float64Array(16384), pendW = new Uint8Array(16384), np = 0;
  const flush = () => {
    let i = 0;
    while (i < np) {
      const fill = (w: Uint32Array) => {
        const room = Math.floor(w.length / 7);
        let k = 0;
        for (; k < room && i < np; k++, i++) {
          const j = k * 7, v = pendVpn[i];
          w[j] = code;
          w[j + 1] = nargs;
          w[j + 2] = pid;
          w[j + 3] = v % 4294967296;
          w[j + 4] = Math.floor(v / 4294967296);
          w[j + 5] = 1;
          w[j + 6] = pendW[i];
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
          np = 0;
          return;
        }
        throw e;
      }
    }
    np = 0;
  };
  for await (const batch of refs) {
    if (oomKilled) {
      references += batch.length;
      continue;
    }
    if (pendVpn.length < batch.length) {
      pendVpn = new Float64Array(batch.length);
      pendW = new Uint8Array(batch.length);
    }
    const pages = batch.page, writes = batch.write;
    for (let r = 0; r < batch.length; r++) {
      references++;
      const page = pages[r];
      let s = slot.get(page);
      if (s === undefined) {
        s = slot.size;
        if (s >= o.maxPages) throw new TraceError('(trace)', 0, `the trace touches more than ${o.maxPages} distinct pages; raise --max-pages`);
        slot.set(page, s);
      }
      const vpn = base + s, wr = writes[r] === 1;
      if (vpn === lastVpn && wr === lastW) continue;
      lastVpn = vpn;
      lastW = wr;
      pendVpn[np] = vpn;
      pendW[np++] = writes[r];
    }
    flush();
    if (!oomKilled && !engine.tasks().some((t) => t.pid === pid)) oomKilled = true;
  }
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
