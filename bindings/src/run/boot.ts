/**
 * Boot: the machine a scenario describes, as the engine builds it: RAM, swap areas (swapon in the scenario's
 * order), sysctls, the oom_killer_disable() switch, and the cgroup tree with its files.
 */
import { Engine, resultName } from '../engine.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import { MAX_RAM_PAGES, MAX_SWAP_PAGES } from '../scenario/limits.js';
import { ScenarioRunError } from './types.js';

/** A new engine with the scenario's RAM and swap areas; `usableSwapPages` excludes each area's header page. */
export function bootEngine(sc: NormalizedScenario): { e: Engine; usableSwapPages: bigint } {
  if (sc.machine.totalramPages > MAX_RAM_PAGES) throw new ScenarioRunError('machine.ram', `more than ${MAX_RAM_PAGES} pages (512 GiB) is not supported by the engine`);
  if (sc.machine.totalSwapPages > MAX_SWAP_PAGES) throw new ScenarioRunError('machine.swap', `more than ${MAX_SWAP_PAGES} pages (256 GiB) of swap is not supported by the engine`);
  const e = new Engine({ totalramPages: Number(sc.machine.totalramPages), totalSwapPages: 0, seed: sc.seed, cgroup: sc.cgroups.version });
  // swapon in the scenario's order (mm/swapfile.c); an area's first page is its swap header, not usable
  let usableSwapPages = 0n;
  for (const d of sc.machine.swap) {
    if (d.pages <= 1n) continue;
    e.swapon(Number(d.pages - 1n), d.priority, d.type, d.compressionRatio ?? undefined);
    usableSwapPages += d.pages - 1n;
  }
  return { e, usableSwapPages };
}

/**
 * Sysctls, the OOM-killer switch and the cgroup tree. A write the kernel refuses (EINVAL, EBUSY) is a scenario
 * error naming the field, as `echo` would have failed on a real machine.
 */
export function setupMachine(e: Engine, sc: NormalizedScenario): void {
  for (const [name, v] of Object.entries(sc.machine.sysctl)) {
    if (v === null) continue; // computed by the kernel at boot
    if (BigInt(e.sysctl(name)) === v) continue; // unchanged (writing ratio/kbytes resets the other: write only changes)
    const r = e.setSysctl(name, Number(v));
    if (r < 0) throw new ScenarioRunError(`machine.sysctl["${name}"]`, `the kernel rejected ${v} (${resultName(r)})`);
  }
  if (sc.machine.oomKillerDisabled) e.setOomKillerDisabled(true);
  // mkdir parent-first, then each group's files in an order the kernel accepts
  for (const g of sc.cgroups.groups) {
    if (g.path !== '/') {
      const r = e.cgroupCreate(g.path);
      if (r < 0) throw new ScenarioRunError(`cgroups.groups["${g.path}"]`, `mkdir failed (${resultName(r)})`);
    }
    for (const w of g.files) {
      const r = e.cgroupWrite(g.path, w.file, w.text);
      if (r < 0) throw new ScenarioRunError(`cgroups.groups["${g.path}"]["${w.file}"]`, `the kernel rejected ${JSON.stringify(w.text)} (${resultName(r)})`);
    }
  }
}
