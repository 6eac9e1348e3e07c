/**
 * Does batching pay at the wasm boundary? The same work — N touches of resident pages — done three ways:
 *   per-call:  one wasm-bindgen call per page (engine.touchDirect(pid, vpn, 1));
 *   cmdbuf:    one 7-word `touch` command per page written into the command buffer, one exec per buffer-full;
 *   range:     one call touching a whole range (what generated workloads do).
 * Results are checked identical (every counter) before anything is timed. Reports ops/s and ratios.
 */
import { Engine, VMSTAT_NAMES, load } from '../bindings/src/index.js';
import { OPS } from '../bindings/src/generated/ops.js';

const PAGES = 1 << 16; // a resident working set of 256 MiB
const N = 1 << 22; // 4 M touches per run

function setup(): { e: Engine; r: number } {
  const e = new Engine({ totalramPages: 1 << 18, cmdCapacity: 1 << 20 });
  e.spawn(1);
  const r = e.mmapAnon(1, PAGES);
  e.touch(1, r, PAGES, 'write'); // make every page resident first
  return { e, r };
}

const ways: Record<string, (e: Engine, r: number) => void> = {
  'per-call': (e, r) => {
    for (let i = 0; i < N; i++) e.touchDirect(1, r + (i & (PAGES - 1)), 1, 'write');
  },
  cmdbuf: (e, r) => {
    const code = OPS.touch.code;
    const perBuf = Math.floor((1 << 20) / 7);
    for (let done = 0; done < N; ) {
      const n = Math.min(perBuf, N - done);
      const base = done;
      e.execWords((w) => {
        let o = 0;
        for (let i = 0; i < n; i++) {
          const vpn = r + ((base + i) & (PAGES - 1));
          w[o] = code; w[o + 1] = 5; w[o + 2] = 1; w[o + 3] = vpn % 2 ** 32; w[o + 4] = Math.floor(vpn / 2 ** 32); w[o + 5] = 1; w[o + 6] = 1;
          o += 7;
        }
        return o;
      });
      done += n;
    }
  },
  range: (e, r) => {
    for (let i = 0; i < N / PAGES; i++) e.touch(1, r, PAGES, 'write');
  },
};

function snapshot(e: Engine): string {
  const v = e.vmstat();
  return JSON.stringify([VMSTAT_NAMES.map((n) => String(v[n])), e.meminfo()]);
}

export interface BoundaryResult {
  touches: number;
  opsPerSec: Record<string, number>;
  ratios: { cmdbufVsPerCall: number; rangeVsPerCall: number; rangeVsCmdbuf: number };
}

export async function boundaryBench(runs = 5): Promise<BoundaryResult> {
  await load();
  // 1. identical results before timing
  const snaps = Object.entries(ways).map(([name, f]) => {
    const { e, r } = setup();
    f(e, r);
    const s = snapshot(e);
    e.free();
    return [name, s] as const;
  });
  for (const [name, s] of snaps) {
    if (s !== snaps[0][1]) throw new Error(`boundary bench: ${name} ended in a different state than ${snaps[0][0]}`);
  }
  // 2. time: median of `runs` after a warm-up, the ways interleaved so machine drift hits all alike
  const times: Record<string, number[]> = {};
  for (let run = -1; run < runs; run++) {
    for (const [name, f] of Object.entries(ways)) {
      const { e, r } = setup();
      const t0 = process.hrtime.bigint();
      f(e, r);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      e.free();
      if (run >= 0) (times[name] ??= []).push(dt);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ops: Record<string, number> = {};
  for (const [name, ts] of Object.entries(times)) ops[name] = N / median(ts);
  return {
    touches: N,
    opsPerSec: ops,
    ratios: {
      cmdbufVsPerCall: ops.cmdbuf / ops['per-call'],
      rangeVsPerCall: ops.range / ops['per-call'],
      rangeVsCmdbuf: ops.range / ops.cmdbuf,
    },
  };
}
