/**
 * Importers: recordings made by other tools, read as oomsim-trace streams (header + records, as reader.ts) so the
 * replay takes them unchanged. Each importer fills only what its tool records; the replay then says which daemon
 * needs what the recording lacks (replay.ts missingFields). Unknown columns are ignored with a warning; a line that
 * does not parse is a `file:line` error saying what was expected.
 *
 * - `vmstat`: the text of `vmstat -n <interval>` (procps-ng vmstat.c; also `-a` for active/inact, `-t` for a
 *   timestamp, `-S k|K|m|M` units, and headers repeated when -n is not given). Memory columns are kB (KiB by
 *   default). There is no MemTotal, MemAvailable, PSI or process table in vmstat output.
 * - `psi2log`: the output of nohang's psi2log (src/psi2log), mode 1 (one line of 15 avg10/avg60/avg300 values for
 *   cpu some, io some/full, memory some/full per interval) or mode 2 (percent of the interval stalled for cpu some,
 *   io some/full, memory some/full, then the measured interval). With `-l`, lines carry a `YYYY-MM-DD hh:mm:ss,ms: `
 *   prefix, used as the time. Memory PSI only; mode 2's stall percent becomes a cumulative `total`.
 * - `below` (import-below.ts) and `kubelet` (import-kubelet.ts), in their own files.
 */
import { TRACE_FORMAT, TRACE_VERSION, type TraceHeader, type TraceSample } from './format.js';
import { readLines, TraceError } from './lines.js';
import type { LocatedRecord, TraceStream } from './reader.js';

import { importBelow } from './import-below.js';
import { importKubelet } from './import-kubelet.js';
import type { ImportOptions } from './import-options.js';
export type { ImportOptions } from './import-options.js';

export const IMPORTERS = ['vmstat', 'psi2log', 'below', 'kubelet'] as const;
export type ImporterName = (typeof IMPORTERS)[number];

const header = (source: TraceHeader['source'], intervalMs: number): TraceHeader => ({ format: TRACE_FORMAT, version: TRACE_VERSION, source, interval_ms: intervalMs });

/** vmstat column name -> meminfo field (kB). si/so/bi/bo/in/cs/us/... are rates: not state the daemons read. */
const VMSTAT_MEMINFO: Record<string, string> = { free: 'MemFree', buff: 'Buffers', cache: 'Cached', inact: 'Inactive', active: 'Active' };
const VMSTAT_KNOWN = new Set(['r', 'b', 'swpd', 'si', 'so', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa', 'st', 'gu', ...Object.keys(VMSTAT_MEMINFO)]);
const UNIT_KB: Record<string, number> = { k: 1000 / 1024, K: 1, m: 1000000 / 1024, M: 1024 };

export function importVmstat(file: string, o: ImportOptions = {}): TraceStream {
  const intervalMs = o.intervalMs ?? 1000;
  const unit = { kb: 1 };
  async function* records(): AsyncGenerator<LocatedRecord> {
    let cols: string[] | null = null;
    let n = 0;
    let t0: number | null = null;
    for await (const l of readLines(file)) {
      const text = l.text.trim();
      if (text === '') continue;
      if (/^procs\b/.test(text)) {
        // The group line; with -t it ends with the timestamp group. Units from -S show in the memory group only
        // through the column values, so they are taken from an optional "# -S M" comment (vmstat prints none).
        continue;
      }
      if (/^r\s+b\s/.test(text)) {
        const c = text.split(/\s+/);
        if (cols === null) {
          const unknown = c.filter((x) => !VMSTAT_KNOWN.has(x) && x !== 'UTC' && !/^[A-Z]{2,5}$/.test(x));
          if (unknown.length) o.warn?.(`${file}:${l.no}: vmstat columns ${unknown.join(', ')} are not used by any daemon; ignored`);
          if (!c.includes('free')) throw new TraceError(file, l.no, 'the vmstat header has no "free" column; expected the output of `vmstat -n 1` (r b swpd free buff cache si so ...)');
        }
        cols = c;
        continue;
      }
      const m = /^#\s*-S\s*([kKmM])\s*$/.exec(text);
      if (m) {
        unit.kb = UNIT_KB[m[1]];
        continue;
      }
      if (cols === null) throw new TraceError(file, l.no, 'data before the vmstat column header (r b swpd free ...); expected the output of `vmstat -n 1`');
      const f = text.split(/\s+/);
      const tz = cols.at(-1) !== undefined && !VMSTAT_KNOWN.has(cols.at(-1)!) ? 1 : 0; // -t: "UTC" (or the zone) heads "date time"
      const expect = cols.length - tz + (tz ? 2 : 0);
      if (f.length !== expect) throw new TraceError(file, l.no, `${f.length} fields; the header has ${cols.length} columns${tz ? ' (the timestamp is date and time)' : ''}, so expected ${expect}`);
      const s: TraceSample = { type: 'sample', t_ms: 0, meminfo: {} };
      for (let i = 0; i < cols.length - tz; i++) {
        const v = Number(f[i]);
        if (!/^-?\d+$/.test(f[i])) throw new TraceError(file, l.no, `column ${cols[i]}: ${JSON.stringify(f[i])} is not an integer`);
        const key = VMSTAT_MEMINFO[cols[i]];
        if (key) s.meminfo![key] = Math.round(v * unit.kb);
      }
      if (tz) {
        const ms = Date.parse(`${f.at(-2)}T${f.at(-1)}Z`);
        if (!Number.isFinite(ms)) throw new TraceError(file, l.no, `timestamp ${JSON.stringify(`${f.at(-2)} ${f.at(-1)}`)}: expected YYYY-MM-DD hh:mm:ss (vmstat -t)`);
        t0 ??= ms;
        s.t_ms = ms - t0;
      } else s.t_ms = n * intervalMs;
      n++;
      yield { record: s, line: l.no };
    }
    if (n === 0) throw new TraceError(file, 0, 'no vmstat data lines; expected the output of `vmstat -n 1`');
  }
  return { header: header('vmstat', intervalMs), records: records() };
}

/** Lines psi2log prints besides data: its banner, warnings, the peak summary (src/psi2log log_head/print_head). */
const PSI2LOG_TEXT = /^(Starting psi2log|PSI source dir|PSI metrics are not provided|WARNING|ERROR|Peak values|(some|full) (cpu|io|memory)\b)/;
const PSI2LOG_WORDS = new Set(['cpu', 'io', 'memory', 'some', 'full', 'avg10', 'avg60', 'avg300', 'interval']);
const PSI2LOG_PREFIX = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}): ?/;

export function importPsi2log(file: string, o: ImportOptions = {}): TraceStream {
  let intervalMs = o.intervalMs ?? 2000; // psi2log's default -i 2
  const h = header('psi2log', intervalMs);
  async function* records(): AsyncGenerator<LocatedRecord> {
    let n = 0, t0: number | null = null, mode: 1 | 2 | null = null;
    let someUs = 0, fullUs = 0, tMs = 0;
    for await (const l of readLines(file)) {
      let text = l.text;
      let stamp: number | null = null;
      const p = PSI2LOG_PREFIX.exec(text);
      if (p) {
        stamp = Date.parse(`${p[1].replace(' ', 'T')}.${p[2]}Z`);
        text = text.slice(p[0].length);
      }
      text = text.trim();
      const start = /^Starting psi2log, target: (\S+), mode: (\S+), interval: ([\d.]+) sec/.exec(text);
      if (start) {
        if (start[1] !== 'SYSTEM_WIDE') o.warn?.(`${file}:${l.no}: psi2log target ${start[1]} is a cgroup; its memory PSI is read as the system's`);
        mode = start[2] === '2' ? 2 : 1;
        intervalMs = Number(start[3]) * 1000;
        h.interval_ms = intervalMs;
        continue;
      }
      if (text === '' || /^[=\-| ]+$/.test(text) || PSI2LOG_TEXT.test(text) || /\|\s*peaks$/.test(text) || text.split(/[\s|]+/).every((w) => w === '' || PSI2LOG_WORDS.has(w))) {
        if (/^(WARNING|ERROR)/.test(text)) o.warn?.(`${file}:${l.no}: psi2log said: ${text}`);
        continue; // banners, column headers, separators, peak summaries
      }
      const nums = text.split(/[\s|]+/).filter(Boolean);
      if (nums.some((x) => !/^\d+(\.\d+)?$/.test(x))) throw new TraceError(file, l.no, `not a psi2log data line: ${JSON.stringify(text.slice(0, 60))}`);
      const guess = nums.length === 15 ? 1 : nums.length === 6 ? 2 : null;
      if (guess === null) throw new TraceError(file, l.no, `${nums.length} values; a psi2log line has 15 (mode 1: avg10 avg60 avg300 of cpu some, io some/full, memory some/full) or 6 (mode 2: cpu some, io some/full, memory some/full percent, interval)`);
      if (mode !== null && guess !== mode) throw new TraceError(file, l.no, `${nums.length} values, but the header says mode ${mode}`);
      const v = nums.map(Number);
      // Mode 1 prints no stall totals; mode 2 only the share of the last interval (taken as avg10, summed into total).
      h.lacks ??= guess === 1 ? ['pressure.some.total', 'pressure.full.total'] : ['pressure.some.avg60', 'pressure.some.avg300', 'pressure.full.avg60', 'pressure.full.avg300'];
      const s: TraceSample = { type: 'sample', t_ms: 0 };
      if (guess === 1) {
        s.pressure = { some: { avg10: v[9], avg60: v[10], avg300: v[11], total: 0 }, full: { avg10: v[12], avg60: v[13], avg300: v[14], total: 0 } };
        tMs = n * intervalMs;
      } else {
        // Mode 2 prints the stall share of the last interval (percent) and the interval measured (s).
        const dt = v[5];
        someUs += Math.round((v[3] / 100) * dt * 1e6);
        fullUs += Math.round((v[4] / 100) * dt * 1e6);
        tMs += Math.round(dt * 1000);
        s.pressure = { some: { avg10: v[3], avg60: v[3], avg300: v[3], total: someUs }, full: { avg10: v[4], avg60: v[4], avg300: v[4], total: fullUs } };
      }
      if (stamp !== null) {
        t0 ??= stamp;
        s.t_ms = stamp - t0;
      } else s.t_ms = tMs;
      n++;
      yield { record: s, line: l.no };
    }
    if (n === 0) throw new TraceError(file, 0, 'no psi2log data lines; expected the output of psi2log (mode 1 or 2)');
  }
  return { header: h, records: records() };
}

/** The importer `from` on its files: below takes one dump per kind (system, process, cgroup), the others one file. */
export function importTrace(from: string, files: string | string[], o: ImportOptions = {}): TraceStream {
  const list = typeof files === 'string' ? [files] : files;
  if (!(IMPORTERS as readonly string[]).includes(from)) throw new TraceError(list[0] ?? '-', 0, `--from ${from}: unknown importer; built in: ${IMPORTERS.join(', ')}`);
  if (from === 'below') return importBelow(list, o);
  if (list.length !== 1) throw new TraceError(list[1] ?? list[0] ?? '-', 0, `--from ${from} reads one file (${list.length} given); only --from below merges several (one dump per kind)`);
  if (from === 'vmstat') return importVmstat(list[0], o);
  if (from === 'kubelet') return importKubelet(list[0], o);
  return importPsi2log(list[0], o);
}
