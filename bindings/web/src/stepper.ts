/**
 * The playground's pausable run: the runner's own stepper (bindings/src/run/stepper.ts, the tick loop that
 * `runScenario` and `oomsim run` use too) with the extra samples the page's charts need. The worker runs a scenario
 * in slices of ticks so that it can take `pause`, `step N` and `resume` messages in between (a worker cannot read
 * messages while a synchronous `runScenario` call is inside its tick loop, and blocking on a SharedArrayBuffer needs
 * cross-origin isolation, which a page opened from file:// does not have).
 *
 * test/web-stepper.test.ts checks a stepped run against runScenario's goldens for every scenario in scenarios/,
 * byte for byte against runScenario itself for a few, and for random pause/step schedules. Policies are not taken
 * here (the bake-off runs them with `policy/compare.ts runOne`, i.e. `runScenario`).
 *
 * Besides the runner's series, each sample also reads what the playground's extra charts need: every declared
 * cgroup's limit (v1 memory.limit_in_bytes, v2 memory.max) and /proc/pressure/memory. Those reads do not change
 * the run (the test compares with them on).
 */
import type { NormalizedScenario } from '../../src/scenario/normalize.js';
import { RunStepper as CoreStepper } from '../../src/run/stepper.js';
import type { RunOptions } from '../../src/run/types.js';
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

export class RunStepper extends CoreStepper {
  readonly extra: ExtraSeries;
  private readonly limitFile: string;
  private readonly cgroups: string[];

  constructor(sc: NormalizedScenario, opts: StepperOptions = {}) {
    super(sc, opts);
    this.limitFile = sc.cgroups.version === 'v1' ? 'memory.limit_in_bytes' : 'memory.max';
    this.cgroups = sc.cgroups.groups.map((g) => g.path).filter((p) => p !== '/');
    this.extra = {
      cgroupLimitKb: Object.fromEntries(this.cgroups.map((p) => [p, []])),
      psi: { someAvg10: [], fullAvg10: [], someAvg60: [], fullAvg60: [], someTotalUs: [], fullTotalUs: [] },
    };
  }

  protected override afterSample(): void {
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
}
