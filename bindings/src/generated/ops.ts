// Generated from engine/core/src/cmd.rs by engine/core/tests/generated_ts.rs. Do not edit.
/** Command-buffer opcodes and their argument counts. */
export const OPS = {
  spawn: { code: 1, nargs: 1 },
  mmap_anon: { code: 2, nargs: 2 },
  touch: { code: 3, nargs: 5 },
  exit: { code: 4, nargs: 1 },
} as const;
export type OpName = keyof typeof OPS;
