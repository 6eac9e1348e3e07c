/**
 * Parsing scenario text (YAML or JSON) with errors that name the file, the line, the field path and the allowed
 * values: `scenarios/x.yaml:14 processes[2].workload.rate: expected a size per second like 50M/s`.
 *
 * Both formats go through yaml's parseDocument (JSON is YAML 1.2), so every zod issue path maps back to a source
 * node and its line. All errors are reported, sorted by position.
 */
import { LineCounter, Scalar, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { MAX_PROCESSES, durationLimit, preScan, type LimitOptions } from './limits.js';
import { ScenarioSchema, type Scenario } from './schema.js';
import { parseDuration } from './size.js';

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

export interface ParseOptions extends LimitOptions {
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

/** 1-based line and column of a 0-based offset (linear; only on the error path). */
function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * Walks the object keys of `text`, which JSON.parse has accepted (so the scan can trust the structure), calling
 * `onKey(key, depth, offset, seenInThisObject)` for each; stops when it returns true and gives that offset.
 */
function scanJsonKeys(text: string, onKey: (key: string, depth: number, offset: number, dup: boolean) => boolean): number {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 91 /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 125 || c === 93 /* } ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 44 /* , */) {
      expectKey = stack[stack.length - 1] != null;
    } else if (c === 58 /* : */) {
      expectKey = false;
    } else if (c === 34 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) (escaped = true), i++;
      if (expectKey) {
        const raw = text.slice(start, i + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const keys = stack[stack.length - 1]!;
        const dup = keys.has(key);
        keys.add(key);
        if (onKey(key, stack.length, start, dup)) return start;
        expectKey = false;
      }
    }
  }
  return -1;
}

/**
 * The offset of the first duplicate object key, -1 when every object's keys are unique. JSON.parse keeps the last
 * duplicate silently, the YAML path reports it: this keeps the two paths in agreement.
 */
function firstDuplicateJsonKey(text: string): number {
  return scanJsonKeys(text, (_k, _d, _o, dup) => dup);
}

/** Limits that need the validated data (and the options): the duration cap. */
function optionIssues(data: Scenario, file: string, opts: ParseOptions, where: (segments: (string | number)[]) => { line: number; column: number }): ScenarioIssue[] {
  const d = parseDuration(data.duration as string | number);
  const lim = d.ok ? durationLimit(d.value, data.duration as string | number, opts) : undefined;
  if (!lim) return [];
  return [{ file, ...where(lim.segments), path: formatPath(lim.segments), segments: lim.segments, message: lim.message }];
}

/**
 * Parse and validate scenario text (YAML or JSON). Never throws.
 *
 * JSON text takes a fast path (JSON.parse, a linear duplicate-key scan, the schema): a generated file with
 * 1,000,000 processes validates in seconds. Only when it has errors is it parsed again as YAML, to locate them.
 */
export function parseScenario(text: string, opts: ParseOptions = {}): ScenarioParseResult {
  const file = opts.file ?? '<input>';
  const pre = preScan(text);
  if (pre) return { success: false, file, errors: [{ file, ...lineCol(text, pre.offset), path: '', segments: [], message: pre.message }] };
  if (/^\s*[{[]/.test(text)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined; // not JSON after all (YAML flow syntax): the YAML path reports it
    }
    if (data !== undefined && firstDuplicateJsonKey(text) === -1) {
      const tooMany = processCountIssue(data);
      if (tooMany) {
        const at = lineCol(text, Math.max(0, scanJsonKeys(text, (k, depth) => depth === 1 && k === 'processes')));
        return { success: false, file, errors: [{ file, ...at, path: 'processes', segments: ['processes'], message: tooMany }] };
      }
      const r = ScenarioSchema.safeParse(data);
      if (r.success) {
        const errors = optionIssues(r.data, file, opts, () => ({ line: 1, column: 1 }));
        if (errors.length === 0) return { success: true, data: r.data, file };
      }
    }
  }
  return parseYaml(text, file, opts);
}

/** More than MAX_PROCESSES processes: reported alone, before the schema walks a million entries. */
function processCountIssue(data: unknown): string | undefined {
  const procs = data !== null && typeof data === 'object' ? (data as { processes?: unknown }).processes : undefined;
  return Array.isArray(procs) && procs.length > MAX_PROCESSES ? `${procs.length} processes; the limit is ${MAX_PROCESSES}` : undefined;
}

function parseYaml(text: string, file: string, opts: ParseOptions): ScenarioParseResult {
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
  const tooMany = processCountIssue(data);
  if (tooMany) {
    const p = pos(locate(doc, ['processes'], true).node?.range?.[0]);
    return { success: false, file, errors: [{ file, line: p.line, column: p.col, path: 'processes', segments: ['processes'], message: tooMany }] };
  }
  const r = ScenarioSchema.safeParse(data);
  if (r.success) {
    const errors = optionIssues(r.data, file, opts, (segments) => {
      const p = pos(locate(doc, segments, false).node?.range?.[0]);
      return { line: p.line, column: p.col };
    });
    return errors.length === 0 ? { success: true, data: r.data, file } : { success: false, errors, file };
  }
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
