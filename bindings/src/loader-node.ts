/** Node loader: reads pkg/oomsim_wasm_bg.wasm from the package and instantiates it synchronously. */
import { readFileSync } from 'node:fs';
import { loadSync } from './wasm.js';

const WASM_URL = new URL('../../pkg/oomsim_wasm_bg.wasm', import.meta.url);

/** Load the engine (idempotent). Resolves once the module is ready. */
export async function load(): Promise<void> {
  loadNodeSync();
}

export function loadNodeSync(): void {
  loadSync(readFileSync(WASM_URL));
}
