/**
 * The conformance runner over the wasm engine. Vector evaluation (dispatch on `check`, cases, the matching rules)
 * lives in the Rust core, so native `cargo test` and this runner give the same verdicts; this side reads files and
 * prints. Integers in vector files are parsed by Rust exactly (values beyond 2^53 included).
 */
import { conformance_run } from '../../pkg/oomsim_wasm.js';
import { fromEngineError } from './errors.js';

export type ConformanceRun =
  | { ok: true; lines: string[]; summary: string; passed: number; failed: number; unsupported: number }
  | { ok: false; error: string };

export function runConformance(text: string): ConformanceRun {
  let out: string;
  try {
    out = conformance_run(text);
  } catch (e) {
    return { ok: false, error: fromEngineError(e).message };
  }
  const lines = out.split('\n').filter((l) => l.length > 0);
  const summary = lines.pop() ?? '';
  const m = /^(\d+) passed, (\d+) failed, (\d+) unsupported/.exec(summary);
  if (!m) return { ok: false, error: `unexpected runner output: ${summary}` };
  return { ok: true, lines, summary, passed: +m[1], failed: +m[2], unsupported: +m[3] };
}
