/**
 * oomsim for Node: `import { load, Engine } from 'oomsim'`.
 * `await load()` once (idempotent), then create engines.
 */
export { load, loadNodeSync } from './loader-node.js';
export * from './api.js';
