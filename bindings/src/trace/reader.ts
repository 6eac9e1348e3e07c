/**
 * Reads an `oomsim-trace` file as a stream of validated records: the header first, then samples, kernel log lines
 * and the end record, each checked against the v1 schema, with `file:line` errors. Memory is bounded by one line.
 */
import { formatPath } from '../scenario/load.js';
import { headerSchema, recordSchema, TRACE_FORMAT, TRACE_VERSION, type TraceHeader, type TraceRecord } from './format.js';
import { readLines, TraceError } from './lines.js';

export interface LocatedRecord {
  record: TraceRecord;
  line: number;
  /** The file the line is in, when a stream merges several (below's dumps); else the stream's own file. */
  file?: string;
}

function parseJson(file: string, no: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TraceError(file, no, `not a JSON line (${(e as Error).message}); each line of a trace is one JSON object`);
  }
}

function issue(file: string, no: number, err: { issues: { path: PropertyKey[]; message: string }[] }): TraceError {
  const i = err.issues[0];
  const path = formatPath(i.path as (string | number)[]);
  return new TraceError(file, no, `${path ? `${path}: ` : ''}${i.message}`);
}

/** Checks a header object; throws a located error that names the format and version this build reads. */
export function checkHeader(file: string, no: number, v: unknown): TraceHeader {
  const o = v as { format?: unknown; version?: unknown };
  if (!o || typeof o !== 'object' || o.format !== TRACE_FORMAT) {
    throw new TraceError(file, no, `not an ${TRACE_FORMAT} file: the first line must be its header {"format":"${TRACE_FORMAT}","version":${TRACE_VERSION},...} (for another tool's output use --from vmstat|psi2log|below|kubelet)`);
  }
  if (o.version !== TRACE_VERSION) {
    throw new TraceError(file, no, `${TRACE_FORMAT} version ${JSON.stringify(o.version)}; this oomsim reads version ${TRACE_VERSION}`);
  }
  const r = headerSchema.safeParse(v);
  if (!r.success) throw issue(file, no, r.error);
  return r.data;
}

export interface TraceStream {
  header: TraceHeader;
  records: AsyncGenerator<LocatedRecord>;
}

/** Opens a trace: reads and checks the header, then yields the records (empty lines skipped; time never goes back). */
export async function openTrace(file: string): Promise<TraceStream> {
  const lines = readLines(file);
  let first = await lines.next();
  while (!first.done && first.value.text.trim() === '') first = await lines.next();
  if (first.done) throw new TraceError(file, 0, `empty file; expected an ${TRACE_FORMAT} header line`);
  const header = checkHeader(file, first.value.no, parseJson(file, first.value.no, first.value.text));
  async function* records(): AsyncGenerator<LocatedRecord> {
    let lastT = -1;
    for await (const l of lines) {
      if (l.text.trim() === '') continue;
      const r = recordSchema.safeParse(parseJson(file, l.no, l.text));
      if (!r.success) throw issue(file, l.no, r.error);
      if (r.data.type === 'sample') {
        if (r.data.t_ms < lastT) throw new TraceError(file, l.no, `t_ms ${r.data.t_ms} is before the previous sample's ${lastT}; samples must be in time order`);
        lastT = r.data.t_ms;
      }
      yield { record: r.data, line: l.no };
    }
  }
  return { header, records: records() };
}
