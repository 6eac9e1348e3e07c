/**
 * Loading scenario files (Node): read a .yaml, .yml or .json file within the size limit and parse it with
 * parse.ts, whose errors name the file, the line, the field path and the allowed values. The parser itself needs
 * no file system and is what the browser entry exports; this module re-exports it for Node callers.
 */
import { readFileSync, statSync } from 'node:fs';
import { MAX_FILE_BYTES, type LimitOptions } from './limits.js';
import { parseScenario, parseScenarioOrThrow, ScenarioError, type ScenarioParseResult } from './parse.js';
import type { Scenario } from './schema.js';

export * from './parse.js';

/** Read a scenario file (.yaml, .yml or .json) and validate it. Never throws; an unreadable file is an error. */
export function loadScenarioFile(path: string, opts: LimitOptions = {}): ScenarioParseResult {
  let text: string;
  try {
    const bytes = statSync(path).size;
    if (bytes > MAX_FILE_BYTES) {
      return { success: false, file: path, errors: [{ file: path, line: 0, column: 0, path: '', segments: [], message: `the scenario is ${bytes} bytes; the limit is ${MAX_FILE_BYTES} (${MAX_FILE_BYTES >> 20} MiB)` }] };
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { success: false, file: path, errors: [{ file: path, line: 0, column: 0, path: '', segments: [], message: `cannot read: ${err.code ?? err.message}` }] };
  }
  return parseScenario(text, { ...opts, file: path });
}

export function loadScenarioFileOrThrow(path: string, opts: LimitOptions = {}): Scenario {
  const r = loadScenarioFile(path, opts);
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
