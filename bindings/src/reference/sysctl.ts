/**
 * The vm sysctls the model knows (kernel/sysctl.c, mm/util.c, mm/page_alloc.c, mm/vmscan.c, mm/oom_kill.c): their
 * ranges (proc_dointvec_minmax and friends), boot defaults, and writes through their handlers.
 */
import { calculateMinFreeKbytes } from './page_alloc.js';
import type { Kernel } from './state.js';
import { InvalidOp, type OpResult } from './types.js';
import { initAdminReserveKbytes, initUserReserveKbytes } from './util.js';

/** Sysctl ranges (proc_dointvec_minmax & co) and defaults; null bounds = unchecked int. */
interface SysctlDef {
  min: number | null;
  max: number | null;
}
const SYSCTLS: Record<string, SysctlDef> = {
  'vm.overcommit_memory': { min: 0, max: 2 }, // mm/util.c (proc_dointvec_minmax 0..2)
  'vm.overcommit_ratio': { min: null, max: null }, // mm/util.c: plain int
  'vm.overcommit_kbytes': { min: 0, max: null }, // mm/util.c: unsigned long
  'vm.user_reserve_kbytes': { min: 0, max: null },
  'vm.admin_reserve_kbytes': { min: 0, max: null },
  'vm.swappiness': { min: 0, max: 200 }, // mm/vmscan.c: 0..MAX_SWAPPINESS
  'vm.panic_on_oom': { min: 0, max: 2 }, // mm/oom_kill.c
  'vm.oom_kill_allocating_task': { min: null, max: null },
  'vm.oom_dump_tasks': { min: null, max: null },
  'vm.min_free_kbytes': { min: 0, max: null }, // mm/page_alloc.c
  'vm.watermark_scale_factor': { min: 1, max: 3000 },
};

/**
 * The sysctls at boot of a machine of `totalram` pages, with the machine file's values over them (unchecked, as
 * vectors set them; an unknown name is an invalid vector).
 */
export function bootSysctls(totalram: number, given: Record<string, number> = {}): Record<string, number> {
  const freeKbAtBoot = totalram * 4;
  // Kernel defaults (dossier §1, §2.11, §5); the reserves as init_user_reserve/init_admin_reserve compute them.
  const sysctl: Record<string, number> = {
    'vm.overcommit_memory': 0,
    'vm.overcommit_ratio': 50,
    'vm.overcommit_kbytes': 0,
    'vm.user_reserve_kbytes': initUserReserveKbytes(freeKbAtBoot),
    'vm.admin_reserve_kbytes': initAdminReserveKbytes(freeKbAtBoot),
    'vm.swappiness': 60,
    'vm.panic_on_oom': 0,
    'vm.oom_kill_allocating_task': 0,
    'vm.oom_dump_tasks': 1,
    'vm.min_free_kbytes': calculateMinFreeKbytes(totalram * 4),
    'vm.watermark_scale_factor': 10,
  };
  for (const [k, v] of Object.entries(given)) {
    if (!(k in SYSCTLS)) throw new InvalidOp(`unknown sysctl ${k}`);
    sysctl[k] = v;
  }
  return sysctl;
}

/** A sysctl write through its handler: range check, then side effects (mm/util.c overcommit handlers). */
export function writeSysctl(k: Kernel, name: string, value: number): OpResult {
  const def = SYSCTLS[name];
  if (!def) throw new InvalidOp(`unknown sysctl ${name}`);
  if ((def.min !== null && value < def.min) || (def.max !== null && value > def.max)) return 'EINVAL';
  k.sysctl[name] = value;
  // mm/util.c:overcommit_ratio_handler / overcommit_kbytes_handler: a successful write of one zeroes the other,
  // even when the value written is 0.
  if (name === 'vm.overcommit_ratio') k.sysctl['vm.overcommit_kbytes'] = 0;
  if (name === 'vm.overcommit_kbytes') k.sysctl['vm.overcommit_ratio'] = 0;
  return 'ok';
}
