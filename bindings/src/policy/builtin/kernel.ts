/** No daemon: the kernel OOM killer alone (the baseline). */
import { z } from 'zod';
import type { PolicyDefinition } from '../types.js';

export const kernelParams = z.object({}).strict();
export const kernel: PolicyDefinition<typeof kernelParams> = {
  name: 'kernel',
  summary: 'no userspace daemon: only the kernel OOM killer acts (baseline)',
  source: 'mm/oom_kill.c (the engine)',
  params: kernelParams,
  create: (p) => ({ name: 'kernel', params: p, intervalNs: () => 3600_000_000_000n, tick: () => [] }),
};
