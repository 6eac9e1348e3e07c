/**
 * A TypeScript evaluator for `ops` vectors (vectors-format.md §2, §6) over the reference engine, with the matching
 * rules of §3.2 (json.ts). Other checks are reported unsupported. Vector files are parsed losslessly (integers
 * beyond 2^53 become bigint and compare exactly).
 */
import { type Json, type JsonObject, matchValue, parseLossless, stringifyLossless } from './json.js';
import { InvalidOp, type MachineConfig } from './types.js';
import { type ObservationQuery, type Op, type PageRef, runOps } from './ops.js';

export type Outcome = 'pass' | 'fail' | 'unsupported' | 'doc_only';

export interface VectorReport {
  index: number;
  id: string;
  check: string;
  outcome: Outcome;
  message: string;
}

const isObj = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Convert lossless JSON to plain values for the engine (bigints that fit stay exact as numbers). */
function plain(v: Json): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(plain);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function pageRefs(v: Json | undefined): PageRef[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter(isObj).map((x) => ({ task: Number(x.task), region: String(x.region), page: Number(x.page) }));
}

function fileQuery(v: Json | undefined): Record<string, string[]> | undefined {
  if (!isObj(v)) return undefined;
  return Object.fromEntries(Object.entries(v).map(([p, files]) => [p, isObj(files) ? Object.keys(files) : []]));
}

function queryOf(exp: JsonObject): ObservationQuery {
  const q: ObservationQuery = {};
  if (typeof exp.op === 'number') q.op = exp.op;
  if (typeof exp.from_op === 'number') q.from_op = exp.from_op;
  q.pte = pageRefs(exp.pte);
  q.vma_flags = pageRefs(exp.vma_flags);
  q.cgroup_files = fileQuery(exp.cgroup_files) ?? {};
  return q;
}

/** Evaluate one `ops` vector's inputs against its expected object; null on a match, else the first mismatch. */
export function evalOps(inputs: JsonObject, expected: JsonObject): string | null {
  const machine = plain(inputs.machine ?? null) as MachineConfig;
  const ops = plain(inputs.ops ?? null) as Op[];
  if (!isObj(inputs.machine) || !Array.isArray(ops)) return 'inputs need machine and ops';
  const atExp = Array.isArray(expected.at) ? expected.at.filter(isObj) : [];
  const finalExp = isObj(expected.final) ? expected.final : null;
  const run = runOps({ machine, ops }, { at: atExp.map(queryOf), final: finalExp ? queryOf(finalExp) : {} });
  for (let i = 0; i < atExp.length; i++) {
    const err = matchValue(`at[${i}]`, atExp[i], parseLossless(stringifyLossless(run.at[i] as unknown as Json)));
    if (err) return err;
  }
  if (finalExp) {
    const actual = parseLossless(stringifyLossless(run.final as unknown as Json));
    const err = matchValue('final', finalExp, actual);
    if (err) return err;
  }
  return null;
}

/** Evaluate one vector (§2): dispatch on `check`; `ops` is the only check this evaluator implements. */
export function evalVector(index: number, v: Json): VectorReport {
  const o = isObj(v) ? v : {};
  const id = typeof o.id === 'string' ? o.id : `#${index}`;
  const check = typeof o.check === 'string' ? o.check : '?';
  const report = (outcome: Outcome, message = ''): VectorReport => ({ index, id, check, outcome, message });
  if (o.doc_only === true) return report('doc_only', typeof o.why === 'string' ? o.why : '');
  if (check !== 'ops') return report('unsupported', `check ${check} is not implemented by the TS reference`);
  if (!isObj(o.inputs) || !isObj(o.expected)) return report('fail', 'inputs and expected must be objects');
  try {
    const err = evalOps(o.inputs, o.expected);
    return err ? report('fail', err) : report('pass');
  } catch (e) {
    if (e instanceof InvalidOp) return report('fail', `invalid vector: ${e.message}`);
    throw e;
  }
}

/** Evaluate a vector file's text. */
export function runVectorsText(text: string): VectorReport[] {
  const all = parseLossless(text);
  if (!Array.isArray(all)) throw new SyntaxError('a vector file is a JSON array');
  return all.map((v, i) => evalVector(i, v));
}
