/**
 * oomsim for browsers (and bundlers): `import { load, Engine } from 'oomsim'` resolves here under the `browser`
 * condition. `await load()` fetches the wasm next to the package, or from the URL/bytes you pass.
 */
export { load } from './loader-web.js';
export * from './api.js';
