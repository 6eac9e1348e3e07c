/**
 * The scenario runner: a NormalizedScenario (bindings/src/scenario/normalize.ts) driven through the wasm engine in
 * ticks of simulated time, with a time series sampled every tick.
 *
 * The runner owns what user space and the admin do (start programs, their syscalls, timed actions, supervisors
 * restarting services) and records what the engine answers. Kernel outcomes (refusals, OOM kills, panics, log
 * lines) come only from the engine: what a scenario uses that the engine does not simulate (signal delivery, a
 * fork child's own comm, pid limits) the result says in `notSimulated` instead of inventing an outcome.
 *
 * The parts live in run/: types.ts (options and results), state.ts (the one state object of a run), boot.ts (the
 * machine), processes.ts (programs, supervisors, engine events), actions.ts (timed admin actions), sampling.ts
 * (the series). This file is the tick loop that ties them together.
 *
 * Boundary crossings per tick: one batch of queued touches/reads per running program (so an OOM kill caused by one
 * program is seen before the next program's commands), plus the rare direct calls (mmap, fork, exec, munmap) and
 * three reads for the sample (meminfo, the task table, vmstat).
 */
import { OomsimError } from './errors.js';
import type { NormalizedScenario } from './scenario/normalize.js';
import { PolicyHost } from './policy/host.js';
import { runAction } from './run/actions.js';
import { bootEngine, setupMachine } from './run/boot.js';
import { declareProcesses, driverSys, exitProc, handleEvents, processReports, startDue, stepPrograms } from './run/processes.js';
import { Sampler } from './run/sampling.js';
import { event, newRunState, type RunState } from './run/state.js';
import { DEFAULT_TICK_NS, ENGINE_FEATURES, type RunOptions, type RunResult } from './run/types.js';

export * from './run/types.js';

export function runScenario(sc: NormalizedScenario, opts: RunOptions = {}): RunResult {
  const tickNs = opts.tickNs ?? DEFAULT_TICK_NS;
  if (tickNs <= 0n) throw new OomsimError('E_ARG', `tick: ${tickNs} ns is not allowed; expected > 0`);
  const endNs = opts.untilNs !== undefined && opts.untilNs < sc.durationNs ? opts.untilNs : sc.durationNs;
  const { e, usableSwapPages } = bootEngine(sc);
  try {
    setupMachine(e, sc);
    const st = newRunState(sc, opts, e, tickNs);
    declareProcesses(st);
    const sys = driverSys(st);
    const sampler = new Sampler(st);
    const host = policyHost(st);

    // --- the tick loop ---------------------------------------------------------------------------------------
    let ai = 0;
    for (st.now = 0n; st.now <= endNs; st.now += tickNs) {
      e.run(st.now);
      handleEvents(st);
      startDue(st);
      while (ai < sc.actions.length && sc.actions[ai].atNs <= st.now && st.panic === null) {
        runAction(st, sc.actions[ai++]);
        handleEvents(st);
      }
      stepPrograms(st, sys);
      if (host && st.panic === null) {
        host.runExits(st.now);
        host.poll(st.now);
        handleEvents(st);
      }
      sampler.sample();
      opts.onTick?.(st.now, endNs);
      if (st.panic !== null) break;
    }
    const stoppedAt = st.panic !== null ? st.panic.tNs : st.now > endNs ? endNs : st.now;

    const sysctl: Record<string, number> = {};
    for (const name of Object.keys(sc.machine.sysctl)) sysctl[name] = e.sysctl(name);
    const result: RunResult = {
      name: sc.name,
      description: sc.description,
      seed: sc.seed,
      durationNs: sc.durationNs,
      endNs: stoppedAt,
      tickNs,
      machine: { totalramPages: sc.machine.totalramPages, totalSwapPages: usableSwapPages, sysctl },
      features: { ...ENGINE_FEATURES },
      notSimulated: st.notSimulated,
      notSimulatedTags: st.notSimulatedTags,
      series: sampler.series,
      procSwaps: usableSwapPages > 0n ? e.procSwaps() : '',
      events: st.events,
      log: st.log,
      processes: processReports(st),
      oomKills: st.oomKills,
      panic: st.panic,
      explanations: st.explanations,
    };
    if (host) result.policies = host.info;
    if (opts.keepEngine) result.engine = e;
    return result;
  } finally {
    if (!opts.keepEngine) e.free();
  }
}

/**
 * Userspace OOM policies (bindings/src/policy/), polled at tick boundaries; null without `opts.policies`. Their
 * kills go through the runner's exit so the reports see them like any other exit.
 */
function policyHost(st: RunState): PolicyHost | null {
  const { opts, e, sc } = st;
  if (!opts.policies?.length) return null;
  return new PolicyHost(
    opts.policies,
    {
      engine: e,
      psi: opts.psi,
      cgroupPaths: sc.cgroups.groups.map((g) => g.path),
      isAlive: (pid) => st.procs.get(pid)?.alive ?? e.tasks().some((t) => t.pid === pid),
      exit: (pid, how) => exitProc(st, pid, how),
      event: (kind, pid, text) => event(st, kind, pid, text),
    },
    { sigtermExitNs: opts.sigtermExitNs, onError: opts.onPolicyError },
  );
}
