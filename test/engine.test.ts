// The wasm engine through the TS wrapper: real numbers, typed errors, views across memory growth, events, and
// poisoning after a trap.
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, OomsimError, VMSTAT_NAMES, load, resultName, runDemo } from '../bindings/src/index.js';
import { wasmMemory } from '../bindings/src/wasm.js';

beforeAll(async () => {
  await load();
});

describe('engine basics', () => {
  it('counts frames and faults like the kernel (zero page on read, allocation on write)', () => {
    const e = new Engine({ totalramPages: 1024 });
    e.spawn(1);
    const r = e.mmapAnon(1, 100);
    expect(r).toBeGreaterThan(0);
    e.touch(1, r, 10, 'read');
    expect(e.meminfo()).toMatchObject({ MemTotal: 4096, MemFree: 4096, AnonPages: 0 });
    e.touch(1, r, 100, 'write');
    expect(e.meminfo()).toMatchObject({ MemFree: (1024 - 100) * 4, AnonPages: 400 });
    expect(e.procStatus(1)).toMatch(/^VmRSS:\s+400 kB$/m);
    expect(e.vmstat().pgfault).toBe(110n);
    e.exit(1);
    expect(e.meminfo().MemFree).toBe(4096);
    e.free();
  });

  it('runs the demo with the numbers the kernel would show', () => {
    const d = runDemo();
    expect(d.memTotalKb).toBe(1048576);
    expect(d.memFreeKb).toBe(1048576 - (32768 + 8192) * 4);
    expect(d.pgfault).toBe(32768n + 16384n + 8192n);
  });

  it('executes a batch from the command buffer with one result per command', () => {
    const e = new Engine({ totalramPages: 256, cmdCapacity: 16 });
    e.spawn(7);
    const vpn = e.mmapAnon(7, 64);
    const [lo, hi] = [vpn % 2 ** 32, Math.floor(vpn / 2 ** 32)]; // 64-bit page numbers travel as two u32 words
    e.push('touch', 7, lo, hi, 64, 1).push('touch', 7, lo, hi, 64, 1).push('munmap', 7, lo, hi, 32);
    // 3 commands of 7+7+6 = 20 words in a 16-word buffer: the writer flushed once on its own.
    expect(e.submit()).toEqual([64n, 64n, 0n]);
    expect(e.meminfo().AnonPages).toBe(32 * 4);
    expect(e.vmstat().pgfault).toBe(64n);
    e.free();
  });

  it('drains events in order, once', () => {
    const e = new Engine({ totalramPages: 4096 });
    e.spawn(1);
    e.setSysctl('vm.overcommit_memory', 2);
    expect(resultName(e.mmapAnon(1, 1 << 20))).toBe('ENOMEM'); // far above CommitLimit in strict mode
    const ev = e.drainEvents();
    expect(ev.map((x) => x.kind)).toEqual(['task_new', 'syscall_error']);
    expect(ev[1]).toMatchObject({ pid: 1, b: 12 /* ENOMEM */ });
    expect(e.drainEvents()).toEqual([]);
    e.free();
  });

  it('keeps views valid when wasm memory grows', () => {
    const e = new Engine({ totalramPages: 1 << 20 });
    e.spawn(1);
    const r = e.mmapAnon(1, 1 << 16);
    const before = e.vmstatRaw();
    const buf = wasmMemory().buffer;
    // A second large engine forces memory.grow, detaching the old buffer.
    const big = new Engine({ totalramPages: 1 << 22, cmdCapacity: 1 << 22 });
    expect(wasmMemory().buffer).not.toBe(buf);
    expect(before.length).toBe(0); // the stale view was detached by the growth
    e.touch(1, r, 1000, 'write');
    expect(e.vmstat().pgfault).toBe(1000n); // a rebuilt view reads the right numbers
    expect(e.vmstatRaw().length).toBe(VMSTAT_NAMES.length);
    big.free();
    e.free();
  });
});

describe('errors at the boundary', () => {
  it('turns bad input into typed errors, never traps', () => {
    const e = new Engine({ totalramPages: 16 });
    expect(() => e.mmapAnon(99, 1)).toThrow(OomsimError);
    try {
      e.mmapAnon(99, 1);
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_NOPID', errno: 'ESRCH' });
    }
    e.spawn(1);
    expect(() => e.spawn(1)).toThrow(/pid 1/);
    expect(() => e.push('touch', 1, 2)).toThrow(/touch takes 5 arguments \(pid, vpn_lo, vpn_hi, count, access\), got 2/);
    expect(() => e.sysctl('vm.oom_kill')).toThrow(/vm.oom_kill.*not a modelled sysctl/);
    expect(resultName(e.setSysctl('vm.overcommit_memory', 3))).toBe('EINVAL');
    expect(e.sysctl('vm.overcommit_memory')).toBe(0);
    expect(() => new Engine({ totalramPages: 0 })).toThrow(/totalRamPages|totalramPages: 0 is not allowed/);
    // 512 GiB: what fits in wasm32's 4 GiB (2^28 - 3 frames, the PTE's own limit, trapped while booting)
    expect(() => new Engine({ totalramPages: 2 ** 27 + 1 })).toThrow(/expected an integer 1\.\.134217728 \(512 GiB\)/);
    expect(() => new Engine({ totalramPages: 268435453 })).toThrow(/E_ARG: totalramPages/);
    expect(() => new Engine({ totalramPages: 64, totalSwapPages: 2 ** 26 + 1 })).toThrow(/E_ARG: totalSwapPages: 67108865 is not allowed; expected an integer 0\.\.67108864/);
    expect(() => e.execWords((w) => ((w[0] = 77), (w[1] = 0), 2))).toThrow(/E_CMD: command #0 at word 0: unknown op 77/);
    expect(e.isPoisoned).toBe(false);
    e.spawn(2); // still usable after errors
    e.free();
    expect(() => e.spawn(3)).toThrow(/E_FREED/);
  });

  it('poisons a handle that trapped, and says so on every later call', () => {
    const e = new Engine({ totalramPages: 16 });
    expect(() => e.debugTrap()).toThrow(/E_TRAP: debug_trap\(\) trapped/);
    expect(e.isPoisoned).toBe(true);
    expect(() => e.spawn(1)).toThrow(/E_POISONED: this engine handle is unusable since debug_trap\(\) trapped/);
    // Other handles stay usable.
    const f = new Engine({ totalramPages: 16 });
    f.spawn(1);
    f.free();
  });
});
