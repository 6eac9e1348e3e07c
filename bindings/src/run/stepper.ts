/**
 * The tick loop of a run, in slices: `runScenario` (bindings/src/run.ts) is one `step(Infinity)` of it, the CLI's
 * `oomsim run` steps it in slices of wall time so that SIGINT/SIGTERM handlers get to run between them, and the
 * playground's worker (bindings/web/src/stepper.ts, a subclass that samples more) steps it between the page's
 * pause/step/resume messages. One loop for all three, so a run stepped in any slices gives the same result as an
 * unsliced one: test/web-stepper.test.ts checks stepped runs against runScenario's goldens and against random
 * pause/step schedules, test/run-golden.test.ts checks runScenario itself.
 *
 * Where a tick's parts run is the runner's contract: the engine's clock, then its events, programs due to start,
 * the timed actions due, each running program's step, the userspace policies (opts.policies) at the tick boundary,
 * then the sample.
 */
import type { Engine } from '../engine.js';
import { OomsimError } from '../errors.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import { PolicyHost } from '../policy/host.js';
import { runAction } from './actions.js';
import { bootEngine, setupMachine } from './boot.js';
import { declareProcesses, driverSys, exitProc, handleEvents, processReports, startDue, stepPrograms } from './processes.js';
import { Sampler } from './sampling.js';
import { event, newRunState, type RunState } from './state.js';
import { DEFAULT_TICK_NS, ENGINE_FEATURES, type RunOptions, type RunResult } from './types.js';

export class RunStepper {
  readonly endNs: bigint;
  readonly tickNs: bigint;
  protected readonly st: RunState;
  private readonly sys: ReturnType<typeof driverSys>;
  private readonly sampler: Sampler;
  private readonly host: PolicyHost | null;
  private readonly usableSwapPages: bigint;
  private ai = 0;
  private finished = false;
  private freed = false;
  /** Ticks run so far. */
  ticks = 0;

  constructor(readonly sc: NormalizedScenario, protected readonly opts: RunOptions = {}) {
    this.tickNs = opts.tickNs ?? DEFAULT_TICK_NS;
    if (this.tickNs <= 0n) throw new OomsimError('E_ARG', `tick: ${this.tickNs} ns is not allowed; expected > 0`);
    this.endNs = opts.untilNs !== undefined && opts.untilNs < sc.durationNs ? opts.untilNs : sc.durationNs;
    const { e, usableSwapPages } = bootEngine(sc);
    try {
      setupMachine(e, sc);
      this.st = newRunState(sc, opts, e, this.tickNs);
      declareProcesses(this.st);
      this.sys = driverSys(this.st);
      this.sampler = new Sampler(this.st);
      this.host = policyHost(this.st);
    } catch (err) {
      e.free();
      throw err;
    }
    this.usableSwapPages = usableSwapPages;
    this.st.now = 0n;
  }

  get engine(): Engine {
    return this.st.e;
  }
  get done(): boolean {
    return this.finished;
  }
  /** Where the run is: the last tick run (0 before the first); once done, where it stopped (the duration, --at, a panic). */
  get reachedNs(): bigint {
    const { st } = this;
    if (this.finished) return st.panic !== null ? st.panic.tNs : st.now > this.endNs ? this.endNs : st.now;
    return this.ticks > 0 ? st.now - this.tickNs : 0n;
  }
  /** Ticks of the whole run (to the end or --at; a panic ends it earlier). */
  get totalTicks(): number {
    return Number(this.endNs / this.tickNs) + 1;
  }
  /** Events recorded so far. */
  get eventCount(): number {
    return this.st.events.length;
  }

  /** Run up to `n` ticks (fewer at the end of the run or at a panic); returns how many ran. */
  step(n = 1): number {
    const { st, sc, sys, host } = this;
    let ran = 0;
    while (ran < n && !this.finished) {
      st.e.run(st.now);
      handleEvents(st);
      startDue(st);
      while (this.ai < sc.actions.length && sc.actions[this.ai].atNs <= st.now && st.panic === null) {
        runAction(st, sc.actions[this.ai++]);
        handleEvents(st);
      }
      stepPrograms(st, sys);
      if (host && st.panic === null) {
        host.runExits(st.now);
        host.poll(st.now);
        handleEvents(st);
      }
      this.sampler.sample();
      this.afterSample();
      this.opts.onTick?.(st.now, this.endNs);
      ran++;
      this.ticks++;
      if (st.panic !== null) this.finished = true;
      else {
        st.now += this.tickNs;
        if (st.now > this.endNs) this.finished = true;
      }
    }
    return ran;
  }

  /** Step until `budgetMs` of wall time has passed (at least one tick), for callers that yield between slices. */
  stepFor(budgetMs: number, now: () => number = () => performance.now()): number {
    const t0 = now();
    let ran = 0;
    do ran += this.step(1);
    while (!this.finished && now() - t0 < budgetMs);
    return ran;
  }

  /** A hook after each tick's sample (the playground samples more there); reads only. */
  protected afterSample(): void {}

  /**
   * The result so far (the whole run once `done`), as `runScenario` returns it. While not done, `endNs` is the last
   * tick run. The arrays are the stepper's own: serialise before stepping on. With `keepEngine` the engine is in the
   * result and the caller frees it.
   */
  result(): RunResult {
    const { st, sc, sampler } = this;
    const e = st.e;
    const sysctl: Record<string, number> = {};
    for (const name of Object.keys(sc.machine.sysctl)) sysctl[name] = e.sysctl(name);
    const result: RunResult = {
      name: sc.name,
      description: sc.description,
      seed: sc.seed,
      durationNs: sc.durationNs,
      endNs: this.reachedNs,
      tickNs: this.tickNs,
      machine: { totalramPages: sc.machine.totalramPages, totalSwapPages: this.usableSwapPages, sysctl },
      features: { ...ENGINE_FEATURES },
      notSimulated: st.notSimulated,
      notSimulatedTags: st.notSimulatedTags,
      series: sampler.series,
      procSwaps: this.usableSwapPages > 0n ? e.procSwaps() : '',
      events: st.events,
      log: st.log,
      processes: processReports(st),
      oomKills: st.oomKills,
      panic: st.panic,
      explanations: st.explanations,
    };
    if (this.host) result.policies = this.host.info;
    if (this.opts.keepEngine) result.engine = e;
    return result;
  }

  free(): void {
    if (!this.freed) this.st.e.free();
    this.freed = true;
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
