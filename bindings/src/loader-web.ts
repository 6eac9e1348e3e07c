/** Browser loader: fetches the wasm next to the package (bundlers resolve the URL), or from `source`. */
import { loadAsync } from './wasm.js';

export function load(source?: string | URL | Response | BufferSource): Promise<void> {
  return loadAsync(source ?? new URL('../../pkg/oomsim_wasm_bg.wasm', import.meta.url));
}
