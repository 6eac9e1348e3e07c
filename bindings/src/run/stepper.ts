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
import { Engine, resultName } from '../engine.js';
import { OomsimError } from '../errors.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import { PolicyHost } from '../policy/host.js';
import { runAction } from './actions.js';
import { bootEngine, setupMachine, usableSwapPages } from './boot.js';
import { declareProcesses, driverSys, exitProc, handleEvents, processReports, startDue, stepPrograms } from './processes.js';
import { loadRunState, saveRunState, type RunStateData } from './resume.js';
import { Sampler, type SamplerState } from './sampling.js';
import type { PolicyHostState } from '../policy/host.js';
import { event, newRunState, type RunState } from './state.js';
import { DEFAULT_TICK_NS, ENGINE_FEATURES, type RunOptions, type RunResult } from './types.js';

/**
 * The stepper's state between two ticks as plain data (no class instances; bigints and non-finite numbers are the
 * snapshot codec's business): with the engine's bytes, all a run needs to go on (`RunStepper.restore`).
 */
export interface RunnerState {
  tickNs: bigint;
  explain: boolean;
  ticks: number;
  /** Index of the next timed action to run. */
  ai: number;
  run: RunStateData;
  sampler: SamplerState;
  host: PolicyHostState | null;
}

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

  /** A new run of `sc`; with `resume` (RunStepper.restore), the run a snapshot saved, going on from there. */
  constructor(readonly sc: NormalizedScenario, protected readonly opts: RunOptions = {}, resume?: { engine: Uint8Array; state: RunnerState }) {
    this.tickNs = opts.tickNs ?? DEFAULT_TICK_NS;
    if (this.tickNs <= 0n) throw new OomsimError('E_ARG', `tick: ${this.tickNs} ns is not allowed; expected > 0`);
    this.endNs = opts.untilNs !== undefined && opts.untilNs < sc.durationNs ? opts.untilNs : sc.durationNs;
    if (resume) checkResumable(resume.state, this.tickNs, opts);
    const e = resume ? restoreEngine(resume.engine) : bootEngine(sc).e;
    try {
      if (!resume) setupMachine(e, sc);
      this.st = newRunState(sc, opts, e, this.tickNs);
      if (resume) loadRunState(this.st, resume.state.run);
      else declareProcesses(this.st);
      this.sys = driverSys(this.st);
      this.sampler = new Sampler(this.st);
      this.host = policyHost(this.st);
      if (resume) {
        this.sampler.fromState(resume.state.sampler);
        if (resume.state.host) this.host!.fromState(resume.state.host);
        this.ai = resume.state.ai;
        this.ticks = resume.state.ticks;
        this.finished = this.st.panic !== null || this.st.now > this.endNs;
      }
    } catch (err) {
      e.free();
      throw err;
    }
    this.usableSwapPages = usableSwapPages(sc);
    if (!resume) this.st.now = 0n;
  }

  /**
   * A run continued from a snapshot: the engine from its bytes (Engine.restore) and the runner from `state`
   * (`runnerState()` of the run that was saved). `sc` is the scenario that run had, bar timed actions not yet run
   * (the caller checks that: cli/snapshot-file.ts compares digests); `opts.policies` are fresh instances with the
   * saved run's names, which take the saved policies' state. The result equals the unsplit run's.
   */
  static restore(sc: NormalizedScenario, engine: Uint8Array, state: RunnerState, opts: RunOptions = {}): RunStepper {
    return new RunStepper(sc, opts, { engine, state });
  }

  /** The runner's state now, between ticks, as plain data (see RunnerState); throws E_SNAPSHOT when it cannot be saved. */
  runnerState(): RunnerState {
    if (this.freed) throw new OomsimError('E_FREED', 'runnerState: the run was freed');
    return {
      tickNs: this.tickNs,
      explain: this.opts.explain === true,
      ticks: this.ticks,
      ai: this.ai,
      run: saveRunState(this.st),
      sampler: this.sampler.state(),
      host: this.host?.state() ?? null,
    };
  }

  /** The engine's bytes and the runner's state: what a snapshot file holds (with the scenario). */
  snapshot(): { engine: Uint8Array; state: RunnerState } {
    const state = this.runnerState();
    return { engine: this.st.e.snapshot(), state };
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

  /**
   * A write by the administrator between two ticks (`oomsim run --from --set`): a sysctl or a memcg file, recorded
   * as an action event at the next tick's time, as a timed action there would be. Returns 'OK' or the errno's name.
   */
  adminWrite(w: { sysctl: string; value: number } | { cgroup: string; file: string; value: string }): string {
    const { st } = this;
    const r = 'sysctl' in w ? st.e.setSysctl(w.sysctl, w.value) : st.e.cgroupWrite(w.cgroup, w.file, w.value);
    const res = resultName(r);
    if (r >= 0) {
      event(st, 'action', 0, 'sysctl' in w ? `sysctl ${w.sysctl} = ${w.value}: ${res} (--set)` : `echo ${w.value} > ${w.cgroup === '/' ? '' : w.cgroup}/${w.file}: ${res} (--set)`);
      handleEvents(st);
    }
    return r >= 0 ? 'OK' : res;
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

/** Engine.restore, its refusal saying that it is about the engine's part of a snapshot. */
function restoreEngine(bytes: Uint8Array): Engine {
  try {
    return Engine.restore(bytes);
  } catch (e) {
    if (e instanceof OomsimError && e.code === 'E_SNAPSHOT') throw new OomsimError('E_SNAPSHOT', `engine section: ${e.message.replace(/^E_SNAPSHOT: /, '')}`);
    throw e;
  }
}

function checkResumable(s: RunnerState, tickNs: bigint, opts: RunOptions): void {
  if (s.tickNs !== tickNs) throw new OomsimError('E_SNAPSHOT', `the snapshot's run has a ${s.tickNs} ns tick; this run has ${tickNs} ns (give the same --tick)`);
  if (s.explain !== (opts.explain === true)) throw new OomsimError('E_SNAPSHOT', `the snapshot's run was ${s.explain ? 'with' : 'without'} --explain; this one is ${opts.explain ? 'with' : 'without'} (the engine records OOM candidate tables only when asked from the start)`);
  const names = s.host?.slots.map((x) => x.name) ?? [];
  const mine = opts.policies?.map((p) => p.name) ?? [];
  if (names.join(',') !== mine.join(',')) throw new OomsimError('E_SNAPSHOT', `the snapshot's policies are ${names.join(', ') || 'none'}; this run has ${mine.join(', ') || 'none'}`);
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
