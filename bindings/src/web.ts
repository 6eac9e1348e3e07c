/**
 * oomsim for browsers (and bundlers): `import { load, Engine } from 'oomsim'` resolves here under the `browser`
 * condition. `await load()` fetches the wasm next to the package, or from the URL/bytes you pass. Everything of
 * the Node entry is here except what reads files or the live machine (loadScenarioFile, runScenarioFile, capture,
 * predict, toHtml).
 */
export { load } from './loader-web.js';
export * from './api.js';
// The scenario parser (no file system here: parse text, e.g. an editor's or a fetched file's).
export { parseScenario, parseScenarioOrThrow, formatIssue, ScenarioError } from './scenario/parse.js';
export type { ScenarioIssue, ScenarioParseResult, ParseOptions } from './scenario/parse.js';
export { normalizeScenario } from './scenario/normalize.js';
export type { NormalizedScenario } from './scenario/normalize.js';
export { defineScenario, ScenarioSchema } from './scenario/schema.js';
export type { Scenario, ScenarioInput } from './scenario/schema.js';
