/**
 * Fuzz targets of the wasm boundary and the scenario loader (issue #19 item 3), as fast-check properties shared by
 * the short seeded slice in `npm test` (test/fuzz.test.ts) and the long runner (`npm run fuzz -- --inputs N`,
 * test/fuzz/run.ts). Properties: every thrown error is an OomsimError with a stable code and never a trap
 * (E_TRAP/E_POISONED/E_INTERNAL); a call rejected for its arguments (E_ARG) or a malformed batch (E_CMD) leaves the
 * engine's observable state unchanged; the scenario loader never throws and reports issues in its own words.
 */
import fc from 'fast-check';
import { Engine, OomsimError } from '../../bindings/src/index.js';
import { parseScenario } from '../../bindings/src/scenario/load.js';

const BAD_CODES = new Set(['E_TRAP', 'E_POISONED', 'E_INTERNAL']);

/**
 * The engine's observable state as a string: meminfo (which flushes queued commands first), every vmstat counter,
 * the task table and the clock. Built from the zero-copy vmstat view and joined values rather than one
 * JSON.stringify of objects with BigInt values (which was most of the fuzzers' time).
 */
function digest(e: Engine): string {
  const m = e.meminfo();
  let s = '';
  for (const k in m) s += `${m[k as keyof typeof m]},`;
  return `${s}|${e.vmstatRaw().join(',')}|${JSON.stringify(e.tasks())}|${e.nowNs()}`;
}

/**
 * Run `f`; returns the error code or 'ok' (and the message in `lastMessage`). Throws (fails the property) on
 * anything that is not a clean OomsimError.
 */
let lastMessage = '';
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (!(err instanceof OomsimError)) throw new Error(`untyped error escaped: ${String(err)}`);
    if (BAD_CODES.has(err.code)) throw new Error(`engine failure: ${err.message}`);
    lastMessage = err.message;
    return err.code;
  }
}

const word = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 7, 11, 0x7fff_ffff, 0xffff_ffff),
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);
const command = fc.record({ op: fc.integer({ min: 0, max: 21 }), nargs: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 10 }), args: fc.array(word, { maxLength: 9 }) });
const NARGS = [0, 1, 2, 5, 1, 2, 2, 1, 5, 4, 5, 5, 2, 8, 5, 3, 3, 4, 4, 2];

/** The commandBuffer target's engine: 512 pages, pid 1 with 32 mapped pages; returns the mapping's first page. */
function cmdEngine(): [Engine, number] {
  const e = new Engine({ totalramPages: 512, totalSwapPages: 64, cmdCapacity: 256 });
  e.spawn(1);
  return [e, e.mmapAnon(1, 32)];
}
/** The digest of a fresh engine that ran the first `n` words of a batch; null if they do not run. */
function prefixDigest(words: number[], n: number): string | null {
  const [e] = cmdEngine();
  try {
    e.execWords((w) => (w.set(words.slice(0, n)), n));
    return digest(e);
  } catch {
    return null;
  } finally {
    e.free();
  }
}

/**
 * Raw command words through execWords: typed errors only. A malformed batch (E_CMD, or E_ARG from the engine's
 * whole-batch validation or from the wrapper) changes nothing; a command the engine refuses for the state it finds
 * (E_ARG "command #k at word w": a pid in use, say) stops the batch there with the commands before it run, so the
 * engine equals a fresh one that ran the batch's first w words. Both kinds of E_ARG read "command #k at word w", so
 * a refused batch must leave one of those two states.
 */
export const commandBuffer = fc.property(fc.array(command, { minLength: 1, maxLength: 6 }), fc.boolean(), (cmds, truncate) => {
  const [e, vpn] = cmdEngine();
  try {
    const words: number[] = [];
    for (const c of cmds) {
      const n = c.nargs ?? NARGS[c.op] ?? c.args.length;
      words.push(c.op, n, ...Array.from({ length: n }, (_, i) => (i === 1 && c.args[i] === 11 ? vpn : (c.args[i] ?? 1))));
    }
    if (truncate) words.length = Math.max(0, words.length - 1);
    const before = digest(e);
    const code = outcome(() => e.execWords((w) => (w.set(words.slice(0, 256)), Math.min(words.length, 256))));
    if (code === 'E_CMD' || (code === 'E_ARG' && !e.isPoisoned)) {
      const now = digest(e);
      const at = code === 'E_ARG' ? /\bcommand #\d+ at word (\d+)\b/.exec(lastMessage) : null;
      if (now !== before && (at === null || Number(at[1]) === 0 || now !== prefixDigest(words, Number(at[1])))) throw new Error(`a rejected batch (${code}: ${lastMessage}) changed the engine beyond the commands before the refused one: ${JSON.stringify(words)}`);
    }
  } finally {
    e.free();
  }
});

const anyValue = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 6 }), fc.constantFrom(undefined, null, NaN, -1, 2 ** 32, 2 ** 53, 'rw', 'write', 'zram', true), fc.bigInt({ min: -1n, max: 1n << 65n }));
const calls: [string, number][] = [
  ['spawn', 2], ['mmapAnon', 2], ['mmap', 3], ['touch', 4], ['munmap', 3], ['mprotect', 4], ['madvise', 4], ['brk', 2], ['fork', 2], ['exit', 1],
  ['touchPattern', 6], ['swapout', 4], ['fileCreate', 4], ['fileRead', 4], ['setSysctl', 2], ['run', 1], ['advance', 1], ['writeOomScoreAdj', 3],
  ['setOomScoreAdj', 2], ['cgroupCreate', 1], ['cgroupWrite', 3], ['moveTask', 2], ['oomScore', 1], ['procStatus', 1], ['swapon', 4], ['push', 3],
];
/** Random API call sequences with random (mostly bad) arguments: typed errors only; E_ARG changes nothing. */
export const apiSequence = fc.property(
  fc.array(fc.tuple(fc.integer({ min: 0, max: calls.length - 1 }), fc.array(anyValue, { minLength: 6, maxLength: 6 }), fc.boolean()), { minLength: 1, maxLength: 12 }),
  (seq) => {
    // A small command buffer: queued pushes flush when it fills (a path the default 65536 words never reaches here),
    // and the handle is small (no 256 KiB buffer to zero, no GC hint buffer: engine.ts gcHint): 1.6x the inputs/s.
    const e = new Engine({ totalramPages: 512, totalSwapPages: 64, cmdCapacity: 64 });
    try {
      e.spawn(1);
      const vpn = e.mmapAnon(1, 16);
      // The state's digest while it is known: after an E_ARG (checked unchanged) it still is, so a run of rejected
      // calls takes one digest each instead of two; any other outcome may have changed the engine.
      let known: string | null = null;
      for (const [i, raw, sane] of seq) {
        const [name, n] = calls[i];
        // half the calls get a live pid and a mapped page, so the engine itself is reached
        const args = raw.slice(0, n).map((v, j) => (sane && j === 0 ? 1 : sane && j === 1 && name !== 'push' ? vpn : v));
        const before: string = known ?? digest(e);
        const f = (e as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
        const code = outcome(() => f.apply(e, args));
        if (code === 'E_ARG') {
          known = digest(e);
          if (known !== before) throw new Error(`${name}(${args.map(String).join(', ')}) was rejected but changed the engine`);
        } else known = null;
        // queued pushes run here: the engine may refuse one for the state it finds (a typed error, not a failure)
        if (outcome(() => e.submit()) !== 'ok') known = null;
      }
    } finally {
      e.free();
    }
  },
);

const SEED = 'name: fuzz\nmachine: { ram: 64M }\nduration: 1s\nprocesses:\n  - name: a\n    workload: { kind: steady, rss: 8M }\n';
/** The scenario loader on mutated text and random JSON: never throws, issues have a message and a location. */
export const scenarioLoader = fc.property(fc.oneof(
  fc.tuple(fc.nat(SEED.length), fc.string({ maxLength: 12 }), fc.nat(3)).map(([at, junk, mode]) =>
    mode === 0 ? SEED.slice(0, at) + junk + SEED.slice(at) : mode === 1 ? SEED.slice(0, at) : mode === 2 ? junk + SEED : SEED.slice(0, at) + SEED.slice(at + junk.length)),
  fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
), (text) => {
  const r = parseScenario(text, { file: 'fuzz.yaml' });
  if (!r.success) {
    for (const i of r.errors) if (!i.message || /Too big|Invalid input|Expected/.test(i.message)) throw new Error(`unclear issue: ${JSON.stringify(i)}`);
  }
});

export const TARGETS = { commandBuffer, apiSequence, scenarioLoader } as const;
