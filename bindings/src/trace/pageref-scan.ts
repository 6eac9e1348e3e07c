/**
 * The streaming reader of page-reference traces: the file (plain or gzip) in 1 MiB chunks, parsed straight from the
 * bytes into packed batches (RefBatch), so memory stays flat whatever the trace's length and no string or object
 * is made per reference. The common line shapes (Dinero `L ADDR[ SIZE]`, lackey `[ ]K ADDR,SIZE`, with `\n` or
 * `\r\n`) are read here; every other line (csv, comments, odd spacing, a malformed line) is decoded and handed to
 * the format's line parser (pageref-format.ts), which defines the format and its `file:line` errors. Line numbers
 * and line ends are those of node:readline (`\n`, `\r\n` and a lone `\r` end a line), which the line-by-line
 * reader (pageref-commands.ts) uses, so both readers give the same references and the same errors.
 */
import { Buffer } from 'node:buffer';
import { OomsimError } from '../errors.js';
import { openInput, TraceError, type Line } from './lines.js';
import { csvHeader, csvRefs, dinRefs, lackeyRefs, pagesOf, RefBatch, type CsvCols, type PagerefFormat } from './pageref-format.js';

const NL = 10, CR = 13, SP = 32, COMMA = 44;
/** Hex digit values by byte (-1: not a digit). */
const HEX = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) t[48 + c] = c;
  for (let c = 0; c < 6; c++) t[97 + c] = t[65 + c] = 10 + c;
  return t;
})();
/** A line longer than this is not a trace line (it would otherwise be held whole). */
const MAX_LINE = 16 << 20;
const CHUNK = 1 << 20;

/** The number the last hexRun/decRun read (the runs return the offset after it; a scratch, not state). */
let scanned = 0;
/** Hex digits from i: the offset after them, the value in `scanned`. */
function hexRun(b: Buffer, i: number, n: number): number {
  let v = 0, d = 0;
  while (i < n && (d = HEX[b[i]]) >= 0) {
    v = v * 16 + d;
    i++;
  }
  scanned = v;
  return i;
}
/** Decimal digits from i: the offset after them, the value in `scanned`. */
function decRun(b: Buffer, i: number, n: number): number {
  let v = 0, c = 0;
  while (i < n && (c = b[i]) >= 48 && c <= 57) {
    v = v * 10 + (c - 48);
    i++;
  }
  scanned = v;
  return i;
}
/** A line end (`\n` or `\r\n`) at i: the offset after it, or -1. */
function lineEnd(b: Buffer, i: number, n: number): number {
  if (b[i] === CR && i + 1 < n && b[i + 1] === NL) i++;
  return b[i] === NL ? i + 1 : -1;
}
class Scanner {
  /** Lines read so far. */
  no = 0;
  batch = new RefBatch();
  /** Full batches not yet handed on. */
  readonly ready: RefBatch[] = [];
  private cols: CsvCols | null = null;
  constructor(readonly file: string, readonly format: PagerefFormat, readonly instr: boolean) {}

  /** Scan the complete lines of `b` (and, when `eof`, the last one without a line end); returns the first byte not consumed. */
  scan(b: Buffer, eof: boolean): number {
    const n = b.length;
    let p = 0;
    while (p < n) {
      const q = this.format === 'din' ? this.din(b, p, n) : this.format === 'lackey' ? this.lackey(b, p, n) : -1;
      if (q >= 0) {
        p = q;
      } else {
        const nl = b.indexOf(NL, p);
        if (nl < 0 && !eof) return p;
        this.slow(b, p, nl < 0 ? n : nl, nl < 0);
        p = nl < 0 ? n : nl + 1;
      }
      if (this.batch.full) {
        this.ready.push(this.batch);
        this.batch = new RefBatch();
      }
    }
    return n;
  }

  /** `L ADDR` or `L ADDR SIZE`, single spaces, label 0-2, at most 13 hex digits: the next line's offset, or -1. */
  private din(b: Buffer, p: number, n: number): number {
    const label = b[p] - 48;
    if (label < 0 || label > 2 || p + 2 >= n || b[p + 1] !== SP) return -1;
    let i = p + 2;
    if (b[i] === 48 && b[i + 1] === 120) i += 2; // 0x
    const h = i;
    i = hexRun(b, i, n);
    const addr = scanned;
    if (i === h || i - h > 13 || i >= n) return -1;
    let size = 1;
    if (b[i] === SP) {
      const z = ++i;
      i = decRun(b, i, n);
      size = scanned;
      if (i === z || i - z > 15 || i >= n) return -1;
    }
    if ((i = lineEnd(b, i, n)) < 0) return -1;
    this.no++;
    if (label !== 2 || this.instr) pagesOf(addr, size, label === 1, this.batch, this.file, this.no);
    return i;
  }

  /** `I  ADDR,SIZE` or ` L|S|M ADDR,SIZE` with spaces, at most 13 hex digits: the next line's offset, or -1. */
  private lackey(b: Buffer, p: number, n: number): number {
    let i = p;
    while (i < n && b[i] === SP) i++;
    const k = b[i]; // I 73, L 76, M 77, S 83
    if (k !== 73 && k !== 76 && k !== 77 && k !== 83) return -1;
    const s = ++i;
    while (i < n && b[i] === SP) i++;
    if (i === s) return -1;
    const h = i;
    i = hexRun(b, i, n);
    const addr = scanned;
    if (i === h || i - h > 13 || i >= n || b[i] !== COMMA) return -1;
    const z = ++i;
    i = decRun(b, i, n);
    const size = scanned;
    if (i === z || i - z > 15 || i >= n) return -1;
    if ((i = lineEnd(b, i, n)) < 0) return -1;
    this.no++;
    if (k === 77) {
      // modify = a load then a store of the same bytes
      pagesOf(addr, size, false, this.batch, this.file, this.no);
      pagesOf(addr, size, true, this.batch, this.file, this.no);
    } else if (k !== 73 || this.instr) pagesOf(addr, size, k === 83, this.batch, this.file, this.no);
    return i;
  }

  /** The bytes s..e (up to a `\n`, or the end of the file) as readline's lines, each through the line parser. */
  private slow(b: Buffer, s: number, e: number, eof: boolean): void {
    let text = b.toString('utf8', s, e);
    if (!eof && text.endsWith('\r')) text = text.slice(0, -1); // \r\n
    const parts = text.includes('\r') ? text.split('\r') : [text];
    if (eof && parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    for (const t of parts) this.line({ text: t, no: ++this.no });
  }

  private line(l: Line): void {
    if (this.format === 'lackey') lackeyRefs(this.file, l, this.instr, this.batch);
    else if (this.format === 'din') dinRefs(this.file, l, this.instr, this.batch);
    else if (this.cols === null) {
      if (l.text.trim() !== '') this.cols = csvHeader(this.file, l);
    } else csvRefs(this.file, l, this.cols, this.batch);
  }
}

/**
 * Streams the references of a trace file in batches (RefBatch, 65536 references each but the last). `chunk`: the
 * bytes read at a time (default 1 MiB; tests make it small so that lines straddle chunks).
 */
export async function* pageRefs(file: string, format: PagerefFormat, o: { instr?: boolean; chunk?: number } = {}): AsyncGenerator<RefBatch> {
  const sc = new Scanner(file, format, o.instr ?? true);
  const input = openInput(file, o.chunk ?? CHUNK);
  let rest: Buffer | undefined;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const b = rest ? Buffer.concat([rest, chunk]) : chunk;
      const used = sc.scan(b, false);
      rest = used < b.length ? b.subarray(used) : undefined;
      if (rest && rest.length > MAX_LINE) throw new TraceError(file, sc.no + 1, `a line longer than ${MAX_LINE >> 20} MiB: not a ${format} trace`);
      while (sc.ready.length) yield sc.ready.shift()!;
    }
    if (rest) sc.scan(rest, true);
    while (sc.ready.length) yield sc.ready.shift()!;
    if (sc.batch.length) yield sc.batch;
  } catch (e) {
    if (e instanceof OomsimError) throw e;
    throw new TraceError(file, sc.no + 1, `cannot read: ${(e as Error).message}`);
  } finally {
    input.destroy();
  }
}
