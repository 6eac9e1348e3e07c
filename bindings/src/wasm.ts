/**
 * The one place that touches the wasm-bindgen output (pkg/, built by scripts/build.sh). Loaders for Node and the
 * browser both end here; initialisation is idempotent and the module instance is shared by every Engine.
 */
import init, { initSync, Engine as RawEngine, StopReason, take_panic_message } from '../../pkg/oomsim_wasm.js';
import { OomsimError } from './errors.js';

export { RawEngine, StopReason };

let memory: WebAssembly.Memory | undefined;
let pending: Promise<void> | undefined;

/** The last Rust panic's message (what a trap was), cleared by reading; '' when none or not loaded. */
export function takePanicMessage(): string {
  if (!memory) return '';
  try {
    return take_panic_message();
  } catch {
    return '';
  }
}

export function isLoaded(): boolean {
  return memory !== undefined;
}

/** Wasm linear memory; throws if the module is not loaded yet. */
export function wasmMemory(): WebAssembly.Memory {
  if (!memory) throw new OomsimError('E_LOAD', 'the oomsim wasm module is not loaded: call load() first');
  return memory;
}

/** Initialise from compiled bytes or a module (Node, workers). Idempotent. */
export function loadSync(bytes: BufferSource | WebAssembly.Module): void {
  if (memory) return;
  try {
    memory = initSync({ module: bytes }).memory;
  } catch (e) {
    throw new OomsimError('E_LOAD', `cannot instantiate the oomsim wasm module: ${(e as Error).message}`);
  }
}

/** Initialise by fetching (browsers). Idempotent: concurrent callers share one promise. */
export function loadAsync(source?: string | URL | Response | BufferSource): Promise<void> {
  if (memory) return Promise.resolve();
  pending ??= init(source === undefined ? undefined : { module_or_path: source })
    .then((out) => {
      memory = out.memory;
    })
    .catch((e: Error) => {
      pending = undefined;
      throw new OomsimError('E_LOAD', `cannot load the oomsim wasm module: ${e.message}`);
    });
  return pending;
}
