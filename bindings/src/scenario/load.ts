/**
 * Loading scenario files (YAML or JSON) with errors that name the file, the line, the field path and the allowed
 * values: `scenarios/x.yaml:14 processes[2].workload.rate: expected a size per second like 50M/s`.
 *
 * Both formats go through yaml's parseDocument (JSON is YAML 1.2), so every zod issue path maps back to a source
 * node and its line. All errors are reported, sorted by position.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, Scalar, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ScenarioSchema, type Scenario } from './schema.js';

export interface ScenarioIssue {
  /** The file name as given (or `<input>`). */
  file: string;
  /** 1-based line of the offending node (for a missing key: of its parent); 0 when unknown. */
  line: number;
  /** 1-based column. */
  column: number;
  /** The field path as written in messages, e.g. `processes[2].workload.rate` or `machine.sysctl["vm.swappiness"]`. */
  path: string;
  /** The raw path segments. */
  segments: (string | number)[];
  message: string;
}

export type ScenarioParseResult =
  | { success: true; data: Scenario; file: string }
  | { success: false; errors: ScenarioIssue[]; file: string };

export interface ParseOptions {
  /** Used in messages and to pick the default name. */
  file?: string;
}

/** Thrown by `parseScenarioOrThrow` / `loadScenarioFileOrThrow`; `message` lists every error, one per line. */
export class ScenarioError extends Error {
  readonly errors: ScenarioIssue[];
  constructor(errors: ScenarioIssue[]) {
    super(errors.map(formatIssue).join('\n'));
    this.name = 'ScenarioError';
    this.errors = errors;
  }
}

/** `file:line path: message` (the path part is omitted for whole-document errors). */
export function formatIssue(e: ScenarioIssue): string {
  const where = e.line > 0 ? `${e.file}:${e.line}` : e.file;
  return e.path ? `${where} ${e.path}: ${e.message}` : `${where} ${e.message}`;
}

/** Field path segments as text: identifiers with dots, indices and other keys in brackets. */
export function formatPath(segments: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out;
}

/**
 * Kernel syntax for integers: a plain YAML scalar written `010` or `0x1000` is kept as its source text, so that
 * sizes and kernel integers get the kernel's base-0 rules (010 is octal 8 for the kernel, decimal 10 for YAML 1.2).
 */
function keepKernelNumberSyntax(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      if (node.type === Scalar.PLAIN && typeof node.value === 'number' && typeof node.source === 'string' && /^[-+]?0[0-9xXoO]/.test(node.source)) {
        node.value = node.source;
      }
    },
  });
}

/** The node at `path`, the deepest existing ancestor otherwise; `atKey` returns the key node of the last pair. */
function locate(doc: Document, segments: readonly (string | number)[], atKey: boolean): { node: Node | null; found: boolean } {
  let node: unknown = doc.contents;
  let last: Node | null = (doc.contents as Node | null) ?? null;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return { node: last, found: false };
      if (i === segments.length - 1 && atKey && pair.key) return { node: pair.key as Node, found: true };
      node = pair.value;
      if (node) last = node as Node;
      else return { node: (pair.key as Node) ?? last, found: true };
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (!node) return { node: last, found: false };
      last = node as Node;
    } else {
      return { node: last, found: false };
    }
  }
  return { node: last, found: true };
}

function issueMessage(iss: z.core.$ZodIssue, found: boolean): string {
  let m = iss.message;
  // A bad record key (a cgroup path): the key schema's own message says what a key must look like.
  if (iss.code === 'invalid_key' && iss.issues[0]) m = iss.issues[0].message;
  // The path does not exist in the document: the key is missing (the message says what it must hold).
  if (!found && (iss.code === 'invalid_type' || iss.code === 'invalid_union')) m = `required: ${m.replace(/^Invalid input: /, '')}`;
  return m.replace(/^Invalid input: /, '');
}

/** Parse and validate scenario text (YAML or JSON). Never throws. */
export function parseScenario(text: string, opts: ParseOptions = {}): ScenarioParseResult {
  const file = opts.file ?? '<input>';
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number | undefined) => (offset === undefined ? { line: 0, col: 0 } : lc.linePos(offset));
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e): ScenarioIssue => {
      const p = pos(e.pos[0]);
      const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { file, line: p.line, column: p.col, path: '', segments: [], message: `${e.code === 'DUPLICATE_KEY' ? 'duplicate key' : 'YAML syntax error'}: ${msg}` };
    });
    return { success: false, errors, file };
  }
  keepKernelNumberSyntax(doc);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return { success: false, file, errors: [{ file, line: 0, column: 0, path: '', segments: [], message: (e as Error).message }] };
  }
  if (data === null || data === undefined) {
    return { success: false, file, errors: [{ file, line: 1, column: 1, path: '', segments: [], message: 'empty scenario: expected a mapping with at least machine.ram' }] };
  }
  const r = ScenarioSchema.safeParse(data);
  if (r.success) return { success: true, data: r.data, file };
  const seen = new Set<string>();
  const errors: ScenarioIssue[] = [];
  for (const iss of r.error.issues) {
    const segments = iss.path.filter((s): s is string | number => typeof s !== 'symbol');
    const atKey = iss.code === 'unrecognized_keys' || iss.code === 'invalid_key';
    const { node, found } = locate(doc, segments, atKey);
    const p = pos(node?.range?.[0]);
    const e: ScenarioIssue = { file, line: p.line, column: p.col, path: formatPath(segments), segments, message: issueMessage(iss, found) };
    const k = `${e.path}\0${e.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    errors.push(e);
  }
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { success: false, errors, file };
}

/** Parse and validate, throwing a ScenarioError with every error. */
export function parseScenarioOrThrow(text: string, opts: ParseOptions = {}): Scenario {
  const r = parseScenario(text, opts);
  if (!r.success) throw new ScenarioError(r.errors);
  return r.data;
}

/** Read a scenario file (.yaml, .yml or .json) and validate it. Never throws; an unreadable file is an error. */
export function loadScenarioFile(path: string): ScenarioParseResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { success: false, file: path, errors: [{ file: path, line: 0, column: 0, path: '', segments: [], message: `cannot read: ${err.code ?? err.message}` }] };
  }
  return parseScenario(text, { file: path });
}

export function loadScenarioFileOrThrow(path: string): Scenario {
  const r = loadScenarioFile(path);
  if (!r.success) throw new ScenarioError(r.errors);
  return r.data;
}

/** zod-style namespace: `scenario.safeParse(text, opts)` and the throwing `scenario.parse(text, opts)`. */
export const scenario = {
  safeParse: parseScenario,
  parse: parseScenarioOrThrow,
  loadFile: loadScenarioFile,
  loadFileOrThrow: loadScenarioFileOrThrow,
};
