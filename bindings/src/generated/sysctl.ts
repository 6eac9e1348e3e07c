// Generated from engine/core/src/kernel.rs by engine/core/tests/generated_ts.rs. Do not edit.
/** Sysctls the engine models, by their real names; the index is the command buffer's name_index. */
export const SYSCTL_NAMES = [
  'vm.overcommit_memory',
  'vm.overcommit_ratio',
  'vm.overcommit_kbytes',
  'vm.admin_reserve_kbytes',
  'vm.user_reserve_kbytes',
  'vm.swappiness',
  'vm.panic_on_oom',
  'vm.oom_kill_allocating_task',
  'vm.oom_dump_tasks',
  'vm.min_free_kbytes',
  'vm.watermark_scale_factor',
] as const;
export type SysctlName = (typeof SYSCTL_NAMES)[number];
