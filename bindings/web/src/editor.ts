// The scenario editor: CodeMirror 6 with the YAML mode; inline errors from the project's own validator
// (scenario/load.ts parseScenario: the same messages, lines and allowed values as `oomsim run`); key completion
// and hover docs from the scenario JSON Schema (scenarios/oomsim-scenario.schema.json), in block style by
// indentation and inside flow mappings (`{ comm: web, ... }`) by the YAML parser's node ranges (yaml-path.ts).
import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { hoverTooltip, keymap } from '@codemirror/view';
import { yaml } from '@codemirror/lang-yaml';
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { indentWithTab } from '@codemirror/commands';
import { parseScenario } from '../../src/scenario/parse.js';
import schemaText from '../../../scenarios/oomsim-scenario.schema.json?raw';
import { inFlowMapping, yamlPathAt } from './yaml-path.js';

type Schema = { properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; additionalProperties?: Schema | boolean; description?: string; enum?: unknown[]; const?: unknown };
const SCHEMA = JSON.parse(schemaText) as Schema;

/**
 * The keys of the mappings enclosing a key at column `col` of line `lineNo` (1-based), outermost first, found by
 * indentation (block style; `[]` stands for an array item).
 */
export function keyPath(lines: string[], lineNo: number, col: number): string[] {
  const path: string[] = [];
  let indent = col;
  for (let i = lineNo - 2; i >= 0 && indent > 0; i--) {
    const l = lines[i]!;
    const trimmed = l.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const ind = l.length - l.trimStart().length;
    const m = /^(\s*)(- +)?([A-Za-z_$][\w.$-]*|"[^"]*")?\s*:(\s|$)/.exec(l);
    const dash = /^\s*- /.test(l);
    if (dash) {
      const content = ind + (/^\s*(- +)/.exec(l)![1]!.length);
      if (content > indent) continue;
      if (content < indent && m?.[3]) path.unshift(m[3].replace(/"/g, ''));
      path.unshift('[]');
      indent = ind;
    } else if (ind < indent) {
      if (m?.[3]) path.unshift(m[3].replace(/"/g, ''));
      indent = ind;
    }
  }
  return path;
}

/** The object schemas a path leads to (through arrays, unions and records). */
function resolve(path: string[]): Schema[] {
  let cur: Schema[] = [SCHEMA];
  const expand = (s: Schema): Schema[] => [s, ...(s.anyOf ?? []).flatMap(expand), ...(s.oneOf ?? []).flatMap(expand)];
  for (const seg of path) {
    const next: Schema[] = [];
    for (const s of cur.flatMap(expand)) {
      if (seg === '[]') {
        if (s.items) next.push(s.items);
      } else if (s.properties?.[seg]) next.push(s.properties[seg]!);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') next.push(s.additionalProperties);
    }
    cur = next;
  }
  return cur.flatMap(expand);
}

function keysAt(path: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of resolve(path)) for (const [k, v] of Object.entries(s.properties ?? {})) if (!out.has(k) || !out.get(k)) out.set(k, v.description ?? '');
  return out;
}

/**
 * The values a key takes where the schema lists them (`const` members of a union, `enum`), each with the keys its
 * branch of the union adds (for a discriminator such as a workload's `kind`).
 */
export function valuesAt(path: string[], key: string): Map<string, string> {
  const out = new Map<string, string>();
  const expand = (s: Schema): Schema[] => [s, ...(s.anyOf ?? []).flatMap(expand), ...(s.oneOf ?? []).flatMap(expand)];
  for (const s of resolve(path)) {
    const p = s.properties?.[key];
    if (!p) continue;
    const others = Object.keys(s.properties ?? {}).filter((k) => k !== key);
    for (const v of expand(p)) {
      const vals = v.const !== undefined ? [v.const] : (v.enum ?? []);
      for (const x of vals) if (typeof x === 'string' || typeof x === 'number') out.set(String(x), v.const !== undefined && others.length ? `with ${others.join(', ')}` : (p.description ?? ''));
    }
  }
  return out;
}

/** The key path of the mapping holding the key that starts at `keyPos` (block or flow style). */
function pathOfKey(text: string, lines: string[], lineNo: number, keyCol: number, dash: boolean, keyPos: number, flow: boolean): string[] | null {
  if (flow) return yamlPathAt(text, keyPos);
  const path = keyPath(lines, lineNo, keyCol - (dash ? 2 : 0));
  if (dash) path.push('[]');
  return path;
}

/** Completion of a value after `key: ` where the schema lists the values. */
function completeValue(ctx: CompletionContext, before: string, lineNo: number, lineFrom: number): CompletionResult | null {
  const flow = inFlowMapping(before);
  const m = flow ? /([{,]\s*)([\w.-]+):\s*([\w.-]*)$/.exec(before) : /^(\s*(?:- )?)([\w.-]+):\s*([\w.-]*)$/.exec(before);
  if (!m) return null;
  const keyCol = m.index + m[1]!.length;
  const text = ctx.state.doc.toString();
  const path = pathOfKey(text, text.split('\n'), lineNo, keyCol, !flow && /- $/.test(m[1]!), lineFrom + keyCol, flow);
  const vals = path ? valuesAt(path, m[2]!) : new Map<string, string>();
  if (vals.size === 0) return null;
  return { from: ctx.pos - m[3]!.length, options: [...vals].map(([v, d]) => ({ label: v, type: 'enum', info: d || undefined })) };
}

function complete(ctx: CompletionContext): CompletionResult | null {
  const line = ctx.state.doc.lineAt(ctx.pos);
  const before = line.text.slice(0, ctx.pos - line.from);
  const value = completeValue(ctx, before, line.number, line.from);
  if (value) return value;
  if (inFlowMapping(before)) {
    // a key of a flow mapping: after `{` or `,`
    const f = /[{,]\s*([\w.-]*)$/.exec(before);
    if (!f) return null;
    const path = yamlPathAt(ctx.state.doc.toString(), ctx.pos);
    const keys = path ? keysAt(path) : new Map<string, string>();
    if (keys.size === 0) return null;
    return { from: ctx.pos - f[1]!.length, options: [...keys].map(([k, d]) => ({ label: k, type: 'property', info: d || undefined, apply: `${k}: ` })) };
  }
  const m = /^(\s*)(- )?([\w.-]*)$/.exec(before);
  if (!m) return null;
  const lines = ctx.state.doc.toString().split('\n');
  const path = keyPath(lines, line.number, m[1]!.length);
  if (m[2]) path.push('[]');
  const keys = keysAt(path);
  if (keys.size === 0) return null;
  return { from: ctx.pos - m[3]!.length, options: [...keys].map(([k, d]) => ({ label: k, type: 'property', info: d || undefined, apply: `${k}: ` })) };
}

/** Hover on a key inside a flow mapping: the word at pos, preceded by `{` or `,` and followed by `:`. */
function flowKeyAt(text: string, lineFrom: number, lineText: string, pos: number): { start: number; end: number; doc: string; key: string } | null {
  const c = pos - lineFrom;
  let a = c;
  let b = c;
  while (a > 0 && /[\w.-]/.test(lineText[a - 1]!)) a--;
  while (b < lineText.length && /[\w.-]/.test(lineText[b]!)) b++;
  if (a === b || !/^\s*:/.test(lineText.slice(b)) || !/[{,]\s*$/.test(lineText.slice(0, a)) || !inFlowMapping(lineText.slice(0, a))) return null;
  const key = lineText.slice(a, b);
  const path = yamlPathAt(text, lineFrom + a);
  const doc = path ? keysAt(path).get(key) : undefined;
  return doc ? { start: lineFrom + a, end: lineFrom + b, doc, key } : null;
}

const hoverDom = (text: string) => {
  const d = document.createElement('div');
  d.className = 'cm-hover-doc';
  d.textContent = text;
  return { dom: d };
};

/** Hover on a value the schema lists (`kind: leak`): the values allowed there, and what this one's branch takes. */
function valueAt(text: string, lineNo: number, lineFrom: number, lineText: string, pos: number): { start: number; end: number; doc: string } | null {
  const c = pos - lineFrom;
  let a = c;
  let b = c;
  while (a > 0 && /[\w.-]/.test(lineText[a - 1]!)) a--;
  while (b < lineText.length && /[\w.-]/.test(lineText[b]!)) b++;
  if (a === b) return null;
  const before = lineText.slice(0, a);
  const flow = inFlowMapping(before);
  const m = flow ? /([{,]\s*)([\w.-]+):\s*$/.exec(before) : /^(\s*(?:- )?)([\w.-]+):\s*$/.exec(before);
  if (!m) return null;
  const keyCol = m.index + m[1]!.length;
  const path = pathOfKey(text, text.split('\n'), lineNo, keyCol, !flow && /- $/.test(m[1]!), lineFrom + keyCol, flow);
  const vals = path ? valuesAt(path, m[2]!) : new Map<string, string>();
  const v = lineText.slice(a, b);
  if (!vals.has(v)) return null;
  const d = vals.get(v);
  return { start: lineFrom + a, end: lineFrom + b, doc: `${m[2]}: ${v}${d ? ` (${d})` : ''}; one of ${[...vals.keys()].join(', ')}` };
}

const hover = hoverTooltip((view, pos) => {
  const line = view.state.doc.lineAt(pos);
  const va = valueAt(view.state.doc.toString(), line.number, line.from, line.text, pos);
  if (va) return { pos: va.start, end: va.end, above: true, create: () => hoverDom(va.doc) };
  const fk = flowKeyAt(view.state.doc.toString(), line.from, line.text, pos);
  if (fk) return { pos: fk.start, end: fk.end, above: true, create: () => hoverDom(`${fk.key}: ${fk.doc}`) };
  const m = /^(\s*)(- )?([\w.-]+)\s*:/.exec(line.text);
  if (!m) return null;
  const col = m[1]!.length + (m[2] ? 2 : 0);
  const start = line.from + col;
  const end = start + m[3]!.length;
  if (pos < start || pos > end) return null;
  const path = keyPath(view.state.doc.toString().split('\n'), line.number, m[1]!.length);
  if (m[2]) path.push('[]');
  const doc = keysAt(path).get(m[3]!);
  if (!doc) return null;
  return { pos: start, end, above: true, create: () => hoverDom(`${m[3]}: ${doc}`) };
});

export function scenarioLint(text: string, file: string): Diagnostic[] {
  const r = parseScenario(text, { file });
  if (r.success) return [];
  const lines = text.split('\n');
  let offset = 0;
  const starts = lines.map((l) => { const s = offset; offset += l.length + 1; return s; });
  return r.errors.map((e) => {
    const ln = Math.max(1, Math.min(e.line || 1, lines.length));
    const from = starts[ln - 1]! + Math.max(0, Math.min((e.column || 1) - 1, lines[ln - 1]!.length));
    return { from, to: Math.max(from, starts[ln - 1]! + lines[ln - 1]!.length), severity: 'error', message: `line ${e.line}${e.path ? ` ${e.path}` : ''}: ${e.message}`, source: 'oomsim' };
  });
}

export function createEditor(parent: HTMLElement, text: string, file: () => string, onLint: (d: Diagnostic[]) => void): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        yaml(),
        lintGutter(),
        linter((v) => {
          const d = scenarioLint(v.state.doc.toString(), file());
          onLint(d);
          return d;
        }, { delay: 300 }),
        autocompletion({ override: [complete] }),
        hover,
        EditorView.contentAttributes.of({ 'aria-label': 'scenario editor' }),
      ],
    }),
  });
}
