/**
 * The page-reference trace formats, one line at a time: Valgrind lackey (`valgrind --tool=lackey --trace-mem=yes`:
 * lines `I  addr,size`, ` L addr,size`, ` S addr,size`, ` M addr,size`, hex addresses), Dinero `.din` (`label
 * address [size]`: label 0 read, 1 write, 2 instruction fetch; 3 escape and 4 cache flush are skipped), and
 * libCacheSim-style csv (a header naming the columns; `obj_id` (or `obj`, `page`, `addr`) is the object/page,
 * `obj_size` (or `size`) in bytes, `op` read|get|write|set; `time` is ignored).
 *
 * These functions define each format (and its errors, `file:line`). The streaming reader (pageref-scan.ts) parses
 * the common line shapes straight from the bytes and hands every other line to these, so both give the same
 * references; test/trace-pageref.test.ts checks that against reading every line with these alone.
 */
import { TraceError, type Line } from './lines.js';

export const PAGEREF_FORMATS = ['lackey', 'din', 'csv'] as const;
export type PagerefFormat = (typeof PAGEREF_FORMATS)[number];

/** One reference: the trace's page number and whether it writes. */
export interface PageRef {
  page: number;
  write: boolean;
}

/** The largest page number a reference carries (engine/core/src/pageref.rs MAX_TRACE_PAGE: addresses below 2^64). */
export const MAX_TRACE_PAGE = 2 ** 52 - 1;

/**
 * References packed as the engine's walk reads them (engine/core/src/pageref.rs): two u32 words each,
 * `[page_lo, page_hi | write << 31]`. No object per reference: a 100 M-reference trace would spend its time in the GC.
 */
export class RefBatch {
  readonly words: Uint32Array;
  length = 0;
  constructor(readonly capacity = 65536) {
    this.words = new Uint32Array(2 * (capacity + 64)); // + room for the pages of one line that crosses the limit
  }
  push(page: number, write: boolean): void {
    const j = this.length++ << 1;
    this.words[j] = page; // ToUint32: the low 32 bits of an integer below 2^53
    this.words[j + 1] = ((page / 4294967296) | 0) | (write ? 0x8000_0000 : 0);
  }
  get full(): boolean {
    return this.length >= this.capacity;
  }
  /** The words of the references held. */
  view(): Uint32Array {
    return this.words.subarray(0, 2 * this.length);
  }
  /** As objects (tests, small traces). */
  toArray(): PageRef[] {
    const out: PageRef[] = [];
    for (let i = 0; i < this.length; i++) {
      const hi = this.words[2 * i + 1];
      out.push({ page: this.words[2 * i] + (hi & 0x7fff_ffff) * 4294967296, write: hi >>> 31 === 1 });
    }
    return out;
  }
}

const PAGE = 4096;
const hex = /^[0-9a-fA-F]+$/;

/**
 * The pages an access of `size` bytes at `addr` covers (an access that crosses a page boundary touches both; at
 * most 32 pages). `file`/`no` locate an address beyond 64 bits (only a malformed trace has one).
 */
export function pagesOf(addr: number, size: number, write: boolean, out: RefBatch, file: string, no: number): void {
  const first = Math.floor(addr / PAGE), last = Math.floor((addr + Math.max(1, size) - 1) / PAGE);
  if (Math.min(last, first + 31) > MAX_TRACE_PAGE) {
    throw new TraceError(file, no, `address ${addr.toString(16)} (+${size}) is beyond 64 bits`);
  }
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
    pagesOf(addr, size, false, out, file, l.no);
    pagesOf(addr, size, true, out, file, l.no);
  } else pagesOf(addr, size, m[1] === 'S', out, file, l.no);
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
      pagesOf(addr, sizeText === '' ? 1 : Number(sizeText), label === 1, out, file, l.no);
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
  pagesOf(Number.parseInt(f[1].replace(/^0x/i, ''), 16), f[2] === undefined ? 1 : Number(f[2]), lab === '1', out, file, l.no);
}

export interface CsvCols {
  obj: number;
  size: number;
  op: number;
}
/** The largest csv object id: each takes 1024 page numbers below 2^52. */
const CSV_MAX_ID = 2 ** 42 - 1;
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
  if (Number(id) > CSV_MAX_ID) throw new TraceError(file, l.no, `column ${cols.obj + 1} (the object): ${id} is above ${CSV_MAX_ID} (an object takes 1024 page numbers of a 52-bit space)`);
  // Object ids name whole objects: object k of `size` bytes covers its own run of pages, ids do not overlap.
  const n = Math.max(1, Math.ceil(size / PAGE));
  for (let i = 0; i < n && i < 1024; i++) out.push(Number(id) * 1024 + i, op === 'write' || op === 'set'); // up to 4 MiB per object
}
