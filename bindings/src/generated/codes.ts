// Generated from engine/core (errno.rs, event.rs, cmd.rs) by engine/wasm/tests/generated_codes.rs. Do not edit.
/** Errno numbers the engine returns (negated) to simulated callers. */
export const ERRNO_CODES = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EINVAL: 22,
  ENOSPC: 28,
  EOPNOTSUPP: 95,
} as const;
/** Event kinds (word 0 of an event record). */
export const EVENT_KIND_CODES = {
  syscall_error: 1,
  task_new: 2,
  task_exit: 3,
  oom_kill: 4,
  panic: 5,
  signal: 6,
} as const;
/** The `prot` word of mmap/mprotect. */
export const PROT_CODES = {
  none: 0,
  r: 1,
  rw: 3,
} as const;
/** The `access` word of touch/touch_pattern. */
export const ACCESS_CODES = {
  read: 0,
  write: 1,
} as const;
/** The `advice` word of madvise (the kernel's MADV_* numbers). */
export const ADVICE_CODES = {
  MADV_DONTNEED: 4,
  MADV_DONTFORK: 10,
  MADV_DOFORK: 11,
} as const;
/** The `pattern` word of touch_pattern. */
export const PATTERN_CODES = {
  strided: 0,
  uniform: 1,
  zipf: 2,
} as const;
/** The `fs` word of file_create. */
export const FS_CODES = {
  disk: 0,
  tmpfs: 1,
  hugetlbfs: 2,
} as const;
/** Bits of mmap's `flags` word. */
export const MAP_FLAG_BITS = {
  shared: 1,
  anonymous: 2,
  noreserve: 4,
} as const;
