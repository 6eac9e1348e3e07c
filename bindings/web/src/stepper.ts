/**
 * A run that can stop between ticks: the playground's worker runs a scenario in slices of ticks so that it can
 * take `pause`, `step N` and `resume` messages in between (a worker cannot read messages while a synchronous
 * `runScenario` call is inside its tick loop, and blocking on a SharedArrayBuffer needs cross-origin isolation,
 * which a page opened from file:// does not have).
 *
 * The tick loop is `runScenario`'s (bindings/src/run.ts), built from the same parts of bindings/src/run/ in the same
 * order, so a run stepped in any slices gives the same result as one `runScenario` call: test/web-stepper.test.ts
 * checks that against runScenario's goldens for every scenario in scenarios/, byte for byte against runScenario
 * itself for a few, and for random pause/step schedules, so a change to the
 * runner's loop that is not made here too fails that test. Policies are not taken here (the bake-off runs them with
 * `policy/compare.ts runOne`, i.e. `runScenario`).
 *
 * Besides the runner's series, each sample also reads what the playground's extra charts need: every declared
 * cgroup's limit (v1 memory.limit_in_bytes, v2 memory.max) and /proc/pressure/memory. Those reads do not change
 * the run (the test compares with them on).
 */
import { OomsimError } from '../../src/errors.js';
import type { Engine } from '../../src/engine.js';
import type { NormalizedScenario } from '../../src/scenario/normalize.js';
import { runAction } from '../../src/run/actions.js';
import { bootEngine, setupMachine } from '../../src/run/boot.js';
import { declareProcesses, driverSys, handleEvents, processReports, startDue, stepPrograms } from '../../src/run/processes.js';
import { Sampler } from '../../src/run/sampling.js';
import { newRunState, type RunState } from '../../src/run/state.js';
import { DEFAULT_TICK_NS, ENGINE_FEATURES, type RunOptions, type RunResult } from '../../src/run/types.js';
import { parsePsi } from '../../src/policy/psi.js';

export type StepperOptions = Omit<RunOptions, 'policies' | 'psi' | 'sigtermExitNs' | 'onPolicyError' | 'keepEngine'>;

/** The playground's extra samples, one entry per tick like the runner's series. */
export interface ExtraSeries {
  /** Each declared cgroup's limit in kB; null while unlimited ("max", or the v1 PAGE_COUNTER_MAX value). */
  cgroupLimitKb: Record<string, (number | null)[]>;
  /** /proc/pressure/memory: avg10 and avg60 of `some` and `full` (percent) and the `some`/`full` totals (µs). */
  psi: { someAvg10: number[]; fullAvg10: number[]; someAvg60: number[]; fullAvg60: number[]; someTotalUs: number[]; fullTotalUs: number[] };
}

/** Anything at or above 2^62 bytes is the kernel's "no limit" (v1 prints PAGE_COUNTER_MAX * PAGE_SIZE). */
const UNLIMITED_BYTES = 2 ** 62;

export class RunStepper {
  readonly endNs: bigint;
  readonly tickNs: bigint;
  readonly extra: ExtraSeries;
  private readonly st: RunState;
  private readonly sys: ReturnType<typeof driverSys>;
  private readonly sampler: Sampler;
  private readonly usableSwapPages: bigint;
  private readonly limitFile: string;
  private readonly cgroups: string[];
  private ai = 0;
  private finished = false;
  private freed = false;
  /** Ticks run so far. */
  ticks = 0;

  constructor(readonly sc: NormalizedScenario, private readonly opts: StepperOptions = {}) {
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
    } catch (err) {
      e.free();
      throw err;
    }
    this.usableSwapPages = usableSwapPages;
    this.st.now = 0n;
    this.limitFile = sc.cgroups.version === 'v1' ? 'memory.limit_in_bytes' : 'memory.max';
    this.cgroups = sc.cgroups.groups.map((g) => g.path).filter((p) => p !== '/');
    this.extra = {
      cgroupLimitKb: Object.fromEntries(this.cgroups.map((p) => [p, []])),
      psi: { someAvg10: [], fullAvg10: [], someAvg60: [], fullAvg60: [], someTotalUs: [], fullTotalUs: [] },
    };
  }

  get engine(): Engine {
    return this.st.e;
  }
  get done(): boolean {
    return this.finished;
  }
  /** Where the run is: the last tick run (0 before the first); once done, where it stopped (runScenario's endNs). */
  get reachedNs(): bigint {
    const { st } = this;
    if (this.finished) return st.panic !== null ? st.panic.tNs : st.now > this.endNs ? this.endNs : st.now;
    return this.ticks > 0 ? st.now - this.tickNs : 0n;
  }

  /** Run up to `n` ticks (fewer at the end of the run or at a panic); returns how many ran. */
  step(n = 1): number {
    const { st, sc, sys } = this;
    let ran = 0;
    while (ran < n && !this.finished) {
      // one iteration of runScenario's loop (bindings/src/run.ts), without the policy host
      st.e.run(st.now);
      handleEvents(st);
      startDue(st);
      while (this.ai < sc.actions.length && sc.actions[this.ai].atNs <= st.now && st.panic === null) {
        runAction(st, sc.actions[this.ai++]);
        handleEvents(st);
      }
      stepPrograms(st, sys);
      this.sampler.sample();
      this.sampleExtra();
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

  private sampleExtra(): void {
    const { e } = this.st;
    for (const p of this.cgroups) {
      const v = Number(e.cgroupRead(p, this.limitFile) ?? 'max');
      this.extra.cgroupLimitKb[p]!.push(Number.isFinite(v) && v < UNLIMITED_BYTES ? v / 1024 : null);
    }
    const psi = parsePsi(e.psiText());
    const x = this.extra.psi;
    x.someAvg10.push(psi?.some.avg10 ?? 0);
    x.fullAvg10.push(psi?.full.avg10 ?? 0);
    x.someAvg60.push(psi?.some.avg60 ?? 0);
    x.fullAvg60.push(psi?.full.avg60 ?? 0);
    x.someTotalUs.push(Number(psi?.some.totalUs ?? 0n));
    x.fullTotalUs.push(Number(psi?.full.totalUs ?? 0n));
  }

  /**
   * The result so far (the whole run once `done`), as `runScenario` returns it. While not done, `endNs` is the last
   * tick run. The arrays are the stepper's own: serialise before stepping on.
   */
  result(): RunResult {
    const { st, sc, sampler } = this;
    const e = st.e;
    const endNs = this.reachedNs;
    const sysctl: Record<string, number> = {};
    for (const name of Object.keys(sc.machine.sysctl)) sysctl[name] = e.sysctl(name);
    return {
      name: sc.name,
      description: sc.description,
      seed: sc.seed,
      durationNs: sc.durationNs,
      endNs,
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
  }

  free(): void {
    if (!this.freed) this.st.e.free();
    this.freed = true;
  }
}
