// Generated from engine/core/src/cmd.rs by engine/core/tests/generated_ts.rs. Do not edit.
/** Command-buffer opcodes and their argument counts. */
export const OPS = {
  spawn: { code: 1, nargs: 1, args: ['pid'] },
  mmap_anon: { code: 2, nargs: 2, args: ['pid', 'pages'] },
  touch: { code: 3, nargs: 5, args: ['pid', 'vpn_lo', 'vpn_hi', 'count', 'access'] },
  exit: { code: 4, nargs: 1, args: ['pid'] },
  fork: { code: 5, nargs: 2, args: ['pid', 'child'] },
  vfork: { code: 6, nargs: 2, args: ['pid', 'child'] },
  exec: { code: 7, nargs: 1, args: ['pid'] },
  mmap: { code: 8, nargs: 5, args: ['pid', 'pages', 'prot', 'flags', 'file'] },
  munmap: { code: 9, nargs: 4, args: ['pid', 'vpn_lo', 'vpn_hi', 'pages'] },
  mprotect: { code: 10, nargs: 5, args: ['pid', 'vpn_lo', 'vpn_hi', 'pages', 'prot'] },
  madvise: { code: 11, nargs: 5, args: ['pid', 'vpn_lo', 'vpn_hi', 'pages', 'advice'] },
  brk: { code: 12, nargs: 2, args: ['pid', 'pages'] },
  touch_pattern: { code: 13, nargs: 8, args: ['pid', 'vpn_lo', 'vpn_hi', 'npages', 'pattern', 'stride', 'count', 'access'] },
  swapout: { code: 14, nargs: 5, args: ['pid', 'vpn_lo', 'vpn_hi', 'pages', 'keep_swapcache'] },
  sysctl: { code: 15, nargs: 3, args: ['name_index', 'value_lo', 'value_hi'] },
  file_create: { code: 16, nargs: 3, args: ['fs', 'pages', 'cached'] },
  file_read: { code: 17, nargs: 4, args: ['pid', 'file', 'first', 'count'] },
  file_write: { code: 18, nargs: 4, args: ['pid', 'file', 'first', 'count'] },
  oom_score_adj: { code: 19, nargs: 2, args: ['pid', 'adj_i32'] },
} as const;
export type OpName = keyof typeof OPS;
