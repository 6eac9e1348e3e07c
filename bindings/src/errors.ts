/**
 * Errors at the API boundary. Invalid input (unknown pid, a bad command, a sysctl value out of range) is an
 * `OomsimError` with a stable `code` and, where the kernel itself would return one, an `errno`. Simulation outcomes
 * (ENOMEM to a simulated process, an OOM kill, a panic) are events, never exceptions.
 */
export type ErrorCode =
  | 'E_ARG' // an argument out of its allowed range
  | 'E_NOPID' // no such live task
  | 'E_BLOCKED' // the task sleeps in a v1 memcg OOM wait (state D) and takes no new operations
  | 'E_PANICKED' // the simulated kernel has panicked: no further syscalls run
  | 'E_CMD' // malformed command buffer
  | 'E_TRAP' // the engine trapped (a bug): this handle is now poisoned
  | 'E_POISONED' // a call on a handle that trapped earlier
  | 'E_FREED' // a call on a handle that was freed
  | 'E_LOAD' // the wasm module could not be loaded
  | 'E_SCENARIO' // an invalid scenario file or object
  | 'E_POLICY' // a userspace OOM policy failed (threw, bad action, bad parameter)
  | 'E_BACKEND' // a sweep backend (Redis) could not be reached or refused the work
  | 'E_SNAPSHOT' // bytes given to Engine.restore are not a snapshot of this engine build, or are damaged
  | 'E_TRACE' // a recording (oomsim-trace, or a file given to an importer) is malformed: file:line and what is wrong
  | 'E_INTERNAL';

export class OomsimError extends Error {
  readonly code: ErrorCode;
  readonly errno?: string;
  constructor(code: ErrorCode, message: string, errno?: string) {
    super(errno ? `${code} (${errno}): ${message}` : `${code}: ${message}`);
    this.name = 'OomsimError';
    this.code = code;
    this.errno = errno;
  }
}

/** Errors from Rust arrive as `Error("E_CODE (ERRNO): message")`; turn them back into typed errors. */
export function fromEngineError(e: unknown): OomsimError {
  if (e instanceof OomsimError) return e;
  const text = e instanceof Error ? e.message : String(e);
  const m = /^(E_[A-Z_]+)(?: \(([A-Z]+)\))?: ([\s\S]*)$/.exec(text);
  if (m) return new OomsimError(m[1] as ErrorCode, m[3], m[2]);
  return new OomsimError('E_INTERNAL', text);
}
