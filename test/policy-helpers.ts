import type { PolicyView, ViewTask } from '../bindings/src/policy/index.js';
import { PSI_NOT_SIMULATED, type PsiReading } from '../bindings/src/policy/psi.js';
import { normalizeScenario } from '../bindings/src/scenario/normalize.js';
import { parseScenarioOrThrow } from '../bindings/src/scenario/load.js';

export const task = (pid: number, o: Partial<ViewTask> = {}): ViewTask => ({
  pid, ppid: 1, comm: `p${pid}`, cmdline: `p${pid}`, uid: 1000, oomScore: 0, oomScoreAdj: 0, vmRssKb: 0, vmSwapKb: 0, cgroup: '/', state: 'R', ...o,
});
export function view(o: { nowNs?: bigint; meminfo?: Record<string, number>; tasks?: ViewTask[]; psi?: PsiReading; cgroupPsi?: (p: string) => PsiReading; files?: Record<string, string>; cgroups?: string[]; vmstat?: Record<string, bigint> } = {}): PolicyView {
  return {
    nowNs: o.nowNs ?? 0n,
    meminfo: { MemTotal: 8_000_000, MemFree: 4_000_000, MemAvailable: 4_000_000, AnonPages: 4_000_000, SwapTotal: 0, SwapFree: 0, 'Inactive(file)': 0, ...o.meminfo },
    vmstat: o.vmstat ?? {},
    psi: o.psi ?? PSI_NOT_SIMULATED,
    tasks: o.tasks ?? [],
    cgroups: o.cgroups ?? ['/'],
    cgroupRead: (p, f) => o.files?.[`${p}:${f}`] ?? null,
    cgroupPsi: o.cgroupPsi ?? (() => PSI_NOT_SIMULATED),
    pending: [],
  };
}
export const psi = (full10: number, someTotalUs = 0n, fullTotalUs = 0n): PsiReading => ({
  some: { avg10: full10, avg60: 0, avg300: 0, totalUs: someTotalUs },
  full: { avg10: full10, avg60: 0, avg300: 0, totalUs: fullTotalUs },
  simulated: true,
});
export const scenario = (yaml: string) => normalizeScenario(parseScenarioOrThrow(yaml));
