// The transactional wasm boundary (issue #19 item 1): a rejected call changes nothing, a trap poisons the handle
// (E_TRAP once, then E_POISONED on every call, reads included), every bad argument is a typed OomsimError naming
// the method, parameter and what is allowed, handles are freed idempotently, by `using`, and when collected.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, OomsimError, load } from '../bindings/src/index.js';
import { wasmMemory } from '../bindings/src/wasm.js';

beforeAll(async () => {
  await load();
});

/** Everything observable about an engine, to compare before and after a rejected call (drains events and log). */
function state(e: Engine): string {
  return JSON.stringify({ meminfo: e.meminfo(), vmstat: e.vmstat(), tasks: e.tasks(), now: e.nowNs(), log: e.drainLog(), events: e.drainEvents() }, (_, v) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
}

function thrown(f: () => unknown): OomsimError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OomsimError);
    return e as OomsimError;
  }
  throw new Error('expected a throw');
}

function machine(): { e: Engine; vpn: number } {
  const e = new Engine({ totalramPages: 1024 });
  e.spawn(1);
  const vpn = e.mmapAnon(1, 64);
  e.touch(1, vpn, 32);
  e.drainEvents(); // state() drains, so start from empty queues
  e.drainLog();
  return { e, vpn };
}

describe('a rejected call changes nothing', () => {
  it('mmapAnon(1, NaN) is E_ARG and the engine is exactly as before (the issue #19 symptom)', () => {
    const { e } = machine();
    const before = state(e);
    const err = thrown(() => e.mmapAnon(1, NaN));
    expect(err.code).toBe('E_ARG');
    expect(err.message).toBe('E_ARG: mmap_anon.pages: NaN is not allowed; expected an integer 0..4294967295');
    expect(state(e)).toBe(before);
    e.spawn(2); // was: E_CMD … truncated: needs 2 argument words
    expect(e.tasks().map((t) => t.pid)).toEqual([1, 2]);
    expect(e.mmapAnon(1, 8)).toBeGreaterThan(0); // was: pid 1: no such live task
    expect(e.isPoisoned).toBe(false);
    e.free();
  });

  it('every method rejects bad arguments with a typed error and leaves the state alone', () => {
    const { e, vpn } = machine();
    const before = state(e);
    const bad: [string, () => unknown, RegExp][] = [
      ['touch count', () => e.touch(1, vpn, -1), /touch\.count: -1 is not allowed; expected an integer 0\.\.4294967295/],
      ['touch vpn', () => e.touch(1, 1.5, 1), /touch\.vpn: 1\.5 is not allowed/],
      ['touch access', () => e.touch(1, vpn, 1, 'exec' as never), /touch\.access: "exec" is not allowed; expected one of 'read', 'write'/],
      ['mmap prot', () => e.mmap(1, 4, { prot: 'rwx' as never }), /mmap\.prot: "rwx" is not allowed; expected one of 'none', 'r', 'rw'/],
      ['mmap options', () => e.mmap(1, 4, 7 as never), /mmap options: 7 is not allowed; expected an options object/],
      ['mmap unknown option', () => e.mmap(1, 4, { huge: true } as never), /mmap options\.huge: unknown option; allowed: prot, shared, file, noreserve/],
      ['madvise', () => e.madvise(1, vpn, 1, 'MADV_FREE' as never), /madvise\.advice: "MADV_FREE" is not allowed; expected one of 'MADV_DONTNEED'/],
      ['pattern', () => e.touchPattern(1, vpn, 8, { kind: 'zigzag' } as never, 4), /touchPattern\.pattern\.kind: "zigzag" is not allowed/],
      ['spawn pid', () => e.spawn(2 ** 32), /spawn\.pid: 4294967296 is not allowed/],
      ['spawn comm', () => e.spawn(3, { comm: 5 as never }), /spawn\.comm: 5 is not allowed; expected a string/],
      ['spawn adj', () => e.spawn(3, { oomScoreAdj: 5000 }), /spawn\.oomScoreAdj: 5000 is not allowed; expected an integer -1000\.\.1000/],
      ['setSysctl', () => e.setSysctl('vm.overcommit_memory', NaN), /setSysctl\.value: NaN is not allowed/],
      ['writeOomScoreAdj', () => e.writeOomScoreAdj(1, Infinity), /writeOomScoreAdj\.value: Infinity is not allowed/],
      ['run', () => e.run(-1n), /run\.untilNs: -1n is not allowed; expected a bigint/],
      ['advance', () => e.advance('1s' as never), /advance\.ns: "1s" is not allowed/],
      ['fileCreate', () => e.fileCreate('f', 'ext4' as never), /fileCreate\.fs: "ext4" is not allowed; expected one of 'disk', 'tmpfs', 'hugetlbfs'/],
      ['fileCreate pages (trapped: eager 8 GB page-cache index)', () => e.fileCreate('f', 'tmpfs', 0x7fff_ffff), /file_create\.pages: 2147483647 is not allowed; expected 0\.\.=67108864 \(256 GiB\)/],
      ['swapon', () => e.swapon(16, 0, 'zram', 0.5), /swapon\.compressionRatio: 0\.5 is not allowed/],
      ['cgroupWrite', () => e.cgroupWrite('/', 'memory.max', 5 as never), /cgroupWrite\.value: 5 is not allowed; expected a string/],
      ['push op', () => e.push('poke' as never, 1), /push: unknown op "poke"; allowed: spawn, mmap_anon/],
      ['push arg', () => e.push('exit', 1.25), /exit\.pid: 1\.25 is not allowed/],
      ['constructor', () => new Engine({ totalramPages: 64, seed: -1 }), /seed: -1 is not allowed/],
      ['constructor options', () => new Engine(null as never), /Engine options: null is not allowed; expected an options object/],
    ];
    for (const [name, f, re] of bad) {
      const err = thrown(f);
      expect(err.code, name).toBe('E_ARG');
      expect(err.message, name).toMatch(re);
    }
    expect(state(e)).toBe(before);
    expect(e.isPoisoned).toBe(false);
    e.free();
  });

  it('a rejected push queues nothing; the queued commands still run', () => {
    const { e } = machine();
    e.push('spawn', 5);
    expect(() => e.push('mmap_anon', 5, -3)).toThrow(/mmap_anon\.pages: -3/);
    expect(e.submit()).toEqual([0n]);
    expect(e.tasks().map((t) => t.pid)).toEqual([1, 5]);
    e.free();
  });

  it('a batch with one malformed command runs none of it', () => {
    const { e } = machine();
    const before = state(e);
    // spawn 6 then an mmap with prot word 2 (not a code): the whole batch is refused
    e.push('spawn', 6).push('mmap', 6, 4, 2, 2, 0xffff_ffff);
    const err = thrown(() => e.submit());
    expect(err.message).toBe('E_ARG: command #1 at word 3: prot: 2 is not allowed; expected 0 (none), 1 (r), 3 (rw)');
    expect(state(e)).toBe(before);
    expect(e.isPoisoned).toBe(false);
    // raw words: a truncated second command leaves the first one unrun too
    const err2 = thrown(() => e.execWords((w) => (w.set([1, 1, 7, 2, 2, 7]), 6)));
    expect(err2.message).toMatch(/^E_CMD: command #1 at word 3: truncated: needs 2 argument words$/);
    expect(state(e)).toBe(before);
    e.free();
  });

  it('execWords with garbage is a typed error, never a TypeError', () => {
    const { e } = machine();
    const before = state(e);
    expect(thrown(() => e.execWords('fill' as never)).message).toMatch(/^E_ARG: execWords: "fill" is not allowed; expected a function/);
    expect(thrown(() => e.execWords((() => 'abc') as never)).message).toMatch(/execWords: the fill callback returned: "abc" is not allowed; expected an integer 0\.\.65536/);
    expect(thrown(() => e.execWords(() => 1e9)).code).toBe('E_ARG');
    expect(thrown(() => e.execWords(() => { throw new TypeError('boom'); })).message).toMatch(/the fill callback threw \(boom\); nothing ran/);
    expect(state(e)).toBe(before);
    expect(e.execWords((w) => (w.set([1, 1, 9]), 3))).toBe(1);
    e.free();
  });
});

describe('the bounds fit in wasm memory', () => {
  // The 10 M-input fuzz run's round 66 trapped at wasm's 4 GiB ceiling: a dozen fileCreate calls of the largest
  // allowed file each allocated a dense 256 MiB page-cache index, and one swapon of 2^29 pages (then allowed)
  // overflowed the allocator. Now the index is sparse and the swap bound is what fits.
  const mib = () => wasmMemory().buffer.byteLength / 2 ** 20;
  it('sixteen files of the largest size cost what they cache, not their size', () => {
    const e = new Engine({ totalramPages: 512, totalSwapPages: 64 });
    const before = mib();
    e.spawn(1);
    for (let k = 0; k < 16; k++) {
      const fid = e.fileCreate(`f${k}`, 'tmpfs', 2 ** 26);
      expect(fid, `file ${k}`).toBeGreaterThanOrEqual(0);
      // the last page of each file is cached: its index chunk is the only one allocated
      expect(e.fileWrite(1, fid, 2 ** 26 - 1, 1)).toBe(1);
    }
    expect(mib() - before).toBeLessThan(64);
    expect(e.isPoisoned).toBe(false);
    e.free();
  });
  it('swap beyond 2^26 pages in all is E_ARG, never a trap', () => {
    const e = new Engine({ totalramPages: 512, totalSwapPages: 64 });
    const err = thrown(() => e.swapon(2 ** 29, 0, 'ssd'));
    expect(err.code).toBe('E_ARG');
    expect(err.message).toMatch(/swapon\.pages: 536870912 is not allowed: 536870976 pages of swap in all; expected at most 67108864 \(256 GiB\)/);
    expect(thrown(() => e.swapon(2 ** 26 - 63, 0, 'ssd')).code).toBe('E_ARG');
    expect(e.isPoisoned).toBe(false);
    expect(e.swapon(16, 0, 'ssd')).toBe(1);
    e.free();
  });
});

describe('poisoning', () => {
  it('a trap poisons the handle: E_TRAP naming the panic, then E_POISONED on every call, reads included', () => {
    const { e } = machine();
    const err = thrown(() => e.debugTrap());
    expect(err.code).toBe('E_TRAP');
    expect(err.message).toMatch(/debug_trap\(\) trapped inside the engine \(panicked at engine\/wasm\/src\/lib\.rs:\d+:\d+: debug_trap called\)/);
    expect(e.isPoisoned).toBe(true);
    expect(e.poisonReason).toMatch(/^debug_trap\(\) trapped \(panicked at/);
    const calls: (() => unknown)[] = [
      () => e.meminfo(), () => e.vmstat(), () => e.vmstatRaw(), () => e.nowNs(), () => e.tasks(), () => e.drainEvents(),
      () => e.drainLog(), () => e.meminfoText(), () => e.oomExplain(), () => e.oomKillerDisabled, () => e.sysctl('vm.overcommit_memory'),
      () => e.spawn(9), () => e.touch(1, 0, 1), () => e.push('exit', 1), () => e.submit(), () => e.run(1n), () => e.execWords(() => 0),
      () => e.debugTrap(),
    ];
    for (const f of calls) {
      const x = thrown(f);
      expect(x.code).toBe('E_POISONED');
      expect(x.message).toMatch(/^E_POISONED: this engine handle is unusable since debug_trap\(\) trapped \(panicked at .*debug_trap called\); create a new Engine/);
    }
    e.free();
    e.free(); // idempotent on a poisoned handle too
    const other = new Engine({ totalramPages: 64 }); // other handles keep working
    other.spawn(1);
    expect(other.tasks()).toHaveLength(1);
    other.free();
  });
});

describe('freeing handles', () => {
  it('free() is idempotent; later calls are E_FREED', () => {
    const { e } = machine();
    e.free();
    e.free();
    expect(thrown(() => e.meminfo()).code).toBe('E_FREED');
    expect(thrown(() => e.push('exit', 1)).code).toBe('E_FREED');
  });

  it('Symbol.dispose frees, and `using` calls it', () => {
    const e = new Engine({ totalramPages: 64 });
    e[Symbol.dispose]();
    expect(thrown(() => e.tasks()).code).toBe('E_FREED');
    let kept: Engine | undefined;
    {
      using u = new Engine({ totalramPages: 64 });
      u.spawn(1);
      kept = u;
    }
    expect(thrown(() => kept.tasks()).code).toBe('E_FREED');
  });

  it('10,000 engines dropped without free() stay bounded in wasm memory (FinalizationRegistry)', () => {
    // A child process without --expose-gc: the collector runs on its own; each engine holds ~290 KiB of wasm
    // memory, so never reclaiming them would need ~2.9 GB.
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/unfreed-engines.ts', '10000'], { encoding: 'utf8', timeout: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { engines: number; peakBytes: number };
    console.log(`10,000 unfreed engines: peak wasm memory ${(out.peakBytes / 2 ** 20).toFixed(0)} MiB`);
    expect(out.engines).toBe(10000);
    expect(out.peakBytes).toBeLessThan(512 * 2 ** 20);
  }, 600_000);
});
