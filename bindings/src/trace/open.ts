/**
 * The recordings a replay reads, as one trace stream: one oomsim trace, one other tool's recording (`--from`), or
 * several of either merged by time (merge.ts). `--from` names one tool for every file, or one per file in order,
 * comma-separated, with `trace` for an oomsim trace (`--from trace,vmstat,psi2log box.jsonl v.txt p.log`). below's
 * dumps (one file per kind) are one recording whatever their place in the list.
 */
import { importTrace, IMPORTERS } from './import.js';
import type { ImportOptions } from './import-options.js';
import { TraceError } from './lines.js';
import { mergeTraces, type MergeInput } from './merge.js';
import { openTrace, type TraceStream } from './reader.js';

export const INPUT_KINDS = ['trace', ...IMPORTERS] as const;

export interface OpenedRecordings {
  /** The files as the report names them (joined by +). */
  name: string;
  stream: TraceStream;
}

/** The tool of each file from `--from` (undefined: every file is an oomsim trace). */
export function inputKinds(files: string[], from: string | undefined): string[] {
  if (files.length === 0) throw new TraceError('-', 0, 'no recording given');
  const kinds = from === undefined ? files.map(() => 'trace') : from.split(',').map((k) => k.trim());
  for (const k of kinds) if (!(INPUT_KINDS as readonly string[]).includes(k)) throw new TraceError(files[0], 0, `--from ${from}: unknown tool ${JSON.stringify(k)}; built in: ${INPUT_KINDS.join(', ')} (trace: a file written by oomsim record)`);
  if (kinds.length === 1) return files.map(() => kinds[0]);
  if (kinds.length !== files.length) throw new TraceError(files[0], 0, `--from ${from}: ${kinds.length} tools for ${files.length} files; name one tool for all, or one per file in order`);
  return kinds;
}

export async function openRecordings(files: string[], from: string | undefined, o: ImportOptions = {}): Promise<OpenedRecordings> {
  const kinds = inputKinds(files, from);
  const below = files.filter((_, i) => kinds[i] === 'below');
  const parts: MergeInput[] = [];
  let belowDone = false;
  for (let i = 0; i < files.length; i++) {
    if (kinds[i] === 'below') {
      if (belowDone) continue;
      belowDone = true;
      parts.push({ file: below.join(' + '), stream: importTrace('below', below, o) });
    } else if (kinds[i] === 'trace') parts.push({ file: files[i], stream: await openTrace(files[i]) });
    else parts.push({ file: files[i], stream: importTrace(kinds[i], files[i], o) });
  }
  const name = files.join(' + ');
  if (parts.length === 1) return { name, stream: parts[0].stream };
  return { name, stream: await mergeTraces(parts, { warn: o.warn }) };
}
