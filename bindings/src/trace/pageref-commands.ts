/**
 * The reference path for page-reference traces: every line read as a string (node:readline) through the format's
 * line parser, and every reference sent as one `touch` command through the command buffer (`Engine.execWords`),
 * with the slot map in JS. This was `oomsim pagetrace` before the loop moved into the engine (pageref.ts); it is
 * kept, unchanged in what it computes, as the oracle the tests and bench/pagetrace.ts compare the fast path with.
 */
import type { Engine } from '../engine.js';
import { OPS } from '../generated/ops.js';
import { readLines } from './lines.js';
import { csvHeader, csvRefs, dinRefs, lackeyRefs, RefBatch, type CsvCols, type PagerefFormat } from './pageref-format.js';
import { tooManyPages, traceCounters, traceProcess, type PagerefResult } from './pageref.js';

/** The references of a trace file in batches, one readline line at a time. */
export async function* pageRefsByLine(file: string, format: PagerefFormat, o: { instr?: boolean } = {}): AsyncGenerator<RefBatch> {
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

/** `runPageRefs` with one `touch` command per reference (see the file comment). */
export async function runPageRefsByCommand(engine: Engine, refs: AsyncIterable<RefBatch> | Iterable<RefBatch>, o: { pid?: number; maxPages: number }): Promise<PagerefResult> {
  const pid = o.pid ?? 1000;
  const base = traceProcess(engine, pid, o.maxPages);
  const before = engine.vmstat();
  const slot = new Map<number, number>();
  const code = OPS.touch.code, nargs = OPS.touch.nargs;
  let references = 0, touches = 0, lastVpn = -1, lastW = false, oomKilled = false, distinct = 0;
  // Pending touches: the vpn (below 2^52, a double), the access, and the slots given out up to that reference.
  let pendVpn = new Float64Array(0), pendW = new Uint8Array(0), pendSlots = new Float64Array(0), np = 0;
  const flush = () => {
    let i = 0;
    while (i < np) {
      const from = i;
      let k = 0;
      try {
        engine.execWords((w) => {
          const room = Math.floor(w.length / 7);
          for (k = 0; k < room && i < np; k++, i++) {
            const j = k * 7, v = pendVpn[i];
            w[j] = code;
            w[j + 1] = nargs;
            w[j + 2] = pid;
            w[j + 3] = v % 4294967296;
            w[j + 4] = Math.floor(v / 4294967296);
            w[j + 5] = 1;
            w[j + 6] = pendW[i];
          }
          return k * 7;
        });
        touches += k;
        distinct = pendSlots[i - 1];
      } catch (e) {
        // The process is gone (the OOM killer took it) and command #n, the touch after the one it died in, found
        // no task: the n touches before it ran.
        const n = /command #(\d+)/.exec((e as Error).message);
        if (n && !engine.tasks().some((t) => t.pid === pid)) {
          oomKilled = true;
          touches += Number(n[1]);
          if (Number(n[1]) > 0) distinct = pendSlots[from + Number(n[1]) - 1];
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
      pendSlots = new Float64Array(batch.length);
    }
    for (const r of batch.toArray()) {
      references++;
      let s = slot.get(r.page);
      if (s === undefined) {
        s = slot.size;
        if (s >= o.maxPages) throw tooManyPages(o.maxPages);
        slot.set(r.page, s);
      }
      const vpn = base + s;
      if (vpn === lastVpn && r.write === lastW) continue;
      lastVpn = vpn;
      lastW = r.write;
      pendVpn[np] = vpn;
      pendW[np] = r.write ? 1 : 0;
      pendSlots[np++] = slot.size;
    }
    flush();
    if (!oomKilled && !engine.tasks().some((t) => t.pid === pid)) oomKilled = true;
  }
  return { references, touches, distinctPages: oomKilled ? distinct : slot.size, counters: traceCounters(before, engine.vmstat()), oomKilled };
}
