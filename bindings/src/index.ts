/**
 * oomsim for Node: `import { load, Engine } from 'oomsim'`.
 * `await load()` once (idempotent), then create engines.
 */
export { load, loadNodeSync } from './loader-node.js';
export * from './api.js';
export { toHtml } from './report/html.js';
export { runScenarioFile, runSuite } from './suite.js';
export type { SuiteRow } from './suite.js';
