/** The scenario layer: schema, parsing, normalization, sizes. */
export * from './size.js';
export * from './schema.js';
export * from './load.js';
export * from './normalize.js';
export * from './jsonschema.js';
export { suggest, editDistance } from './suggest.js';
