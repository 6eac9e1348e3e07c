// The snapshot file of `oomsim run --at T --snapshot F` / `run --from F` (cli/snapshot-file.ts,
// docs/snapshot-format.md): a corruption corpus with each message exact, and the CLI: a run split by --at/--from
// writes the plain run's JSON, foreign scenarios and --set keys that cannot change mid-run are refused.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { load } from '../bindings/src/index.js';
import { main } from '../bindings/src/cli/main.js';
import { RunStepper } from '../bindings/src/run/stepper.js';
import { decodePlain, decodeSnapshot, encodePlain, encodeSnapshot } from '../bindings/src/cli/snapshot-file.js';
import { scenario } from './policy-helpers.js';

const YAML = `
name: snap
duration: 20s
seed: 4
machine: { ram: 256M }
processes:
  - { comm: leaky, pid: 100, workload: { kind: leak, initial: 20M, rate: 20M/s } }
  - { comm: db, pid: 200, oom_score_adj: -500, workload: { kind: steady, working_set: 60M, ramp: 1s } }
actions:
  - { at: 2s, action: set_adj, target: 200, oom_score_adj: 100 }
  - { at: 12s, action: sysctl, set: { vm.overcommit_memory: 2 } }
`;

let dir: string;
beforeAll(async () => {
  await load();
  dir = mkdtempSync(join(tmpdir(), 'oomsim-snap-'));
  writeFileSync(join(dir, 'snap.yaml'), YAML);
  writeFileSync(join(dir, 'other.yaml'), YAML.replace('seed: 4', 'seed: 5'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const e = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    e.mockRestore();
  }
}
const p = (f: string) => join(dir, f);
const read = (f: string) => readFileSync(p(f), 'utf8');

/** A snapshot file of the YAML above at 5 s, with its section lengths. */
function snapshot(): { file: Uint8Array; e: number; r: number } {
  const sc = scenario(YAML);
  const s = new RunStepper(sc, { untilNs: 5_000_000_000n });
  try {
    s.step(Infinity);
    const { engine, state } = s.snapshot();
    const file = encodeSnapshot(engine, { scenario: sc, run: { tickNs: s.tickNs, explain: false, policies: [] }, atNs: s.reachedNs, state });
    return { file, e: engine.length, r: file.length - 28 - engine.length - 4 };
  } finally {
    s.free();
  }
}
/** The file format written out again by hand (docs/snapshot-format.md): header, sections, CRC-32. */
function reseal(engine: Uint8Array, runner: Uint8Array): Uint8Array {
  const h = new Uint8Array(28);
  const dv = new DataView(h.buffer);
  h.set(new TextEncoder().encode('OOMSIMRN'));
  dv.setUint16(8, 1, true);
  dv.setBigUint64(12, BigInt(engine.length), true);
  dv.setBigUint64(20, BigInt(runner.length), true);
  const c = new Uint8Array(4);
  new DataView(c.buffer).setUint32(0, crc32(runner, crc32(h)), true);
  return new Uint8Array([...h, ...engine, ...runner, ...c]);
}
const decodeMsg = (b: Uint8Array) => {
  try {
    decodeSnapshot(b);
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('snapshot file: corruption corpus', () => {
  it('the hand-written layout is the one written (so the corpus edits the fields it names)', () => {
    const { file, e } = snapshot();
    expect(reseal(file.subarray(28, 28 + e), file.subarray(28 + e, file.length - 4))).toEqual(file);
  });

  it('each header field, flipped bytes, trailing bytes: the exact message', () => {
    const { file, e, r } = snapshot();
    const L = file.length;
    const edit = (f: (b: Uint8Array, dv: DataView) => void) => {
      const b = file.slice();
      f(b, new DataView(b.buffer));
      return decodeMsg(b);
    };
    const M = 'E_SNAPSHOT: ';
    expect(decodeMsg(file)).toBe('ok');
    expect(edit((b) => (b[0] ^= 1))).toBe(`${M}not an oomsim run snapshot (it does not start with "OOMSIMRN")`);
    expect(decodeMsg(file.subarray(28, 28 + e))).toBe(`${M}not an oomsim run snapshot (it does not start with "OOMSIMRN")`); // the engine's own bytes
    expect(edit((_b, dv) => dv.setUint16(8, 2, true))).toBe(`${M}snapshot file format v2; this oomsim reads v1`);
    expect(edit((_b, dv) => dv.setUint16(10, 1, true))).toBe(`${M}unknown flags 0x1 (this oomsim writes and reads 0)`);
    expect(edit((_b, dv) => dv.setBigUint64(12, 1n << 40n, true))).toBe(`${M}truncated: ${L} bytes end inside the engine section (1099511627776 bytes from byte 28) (byte ${L} of the snapshot)`);
    expect(edit((_b, dv) => dv.setBigUint64(20, 1n << 40n, true))).toBe(`${M}truncated: ${L} bytes end inside the runner section (1099511627776 bytes from byte ${28 + e}) (byte ${L} of the snapshot)`);
    expect(edit((_b, dv) => dv.setBigUint64(12, BigInt(e + 1), true))).toBe(`${M}truncated: ${L} bytes end inside the checksum (byte ${L} of the snapshot)`);
    expect(edit((_b, dv) => dv.setBigUint64(12, BigInt(e - 1), true))).toBe(`${M}corrupted (checksum mismatch in the header or the runner section)`);
    expect(edit((_b, dv) => dv.setBigUint64(20, BigInt(r - 1), true))).toBe(`${M}corrupted (checksum mismatch in the header or the runner section)`);
    expect(edit((b) => (b[28 + e + Math.floor(r / 2)] ^= 0x20))).toBe(`${M}corrupted (checksum mismatch in the header or the runner section)`);
    expect(edit((b) => (b[L - 1] ^= 1))).toBe(`${M}corrupted (checksum mismatch in the header or the runner section)`);
    expect(decodeMsg(new Uint8Array([...file, 0]))).toBe(`${M}corrupted (1 extra bytes after the checksum)`);
  });

  it('truncation at and inside every section: the exact message', () => {
    const { file, e, r } = snapshot();
    const cases: [number, string][] = [
      [0, 'magic and format version'], [5, 'magic and format version'], [8, 'magic and format version'], [9, 'magic and format version'],
      [10, 'flags'], [11, 'flags'], [12, 'section lengths'], [20, 'section lengths'], [27, 'section lengths'],
      [28, 'engine section (' + e + ' bytes from byte 28)'], [28 + (e >> 1), 'engine section (' + e + ' bytes from byte 28)'],
      [28 + e, `runner section (${r} bytes from byte ${28 + e})`], [28 + e + (r >> 1), `runner section (${r} bytes from byte ${28 + e})`],
      [28 + e + r, 'checksum'], [28 + e + r + 3, 'checksum'],
    ];
    for (const [n, where] of cases) expect(decodeMsg(file.subarray(0, n)), `cut at ${n}`).toBe(`E_SNAPSHOT: truncated: ${n} bytes end inside the ${where} (byte ${n} of the snapshot)`);
  });

  it('resealed runner sections that are not what oomsim writes: the exact message', () => {
    const { file, e } = snapshot();
    const engine = file.subarray(28, 28 + e);
    const section = decodePlain(new TextDecoder().decode(file.subarray(28 + e, file.length - 4))) as Record<string, unknown> & { scenario: { seed: number } };
    const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : encodePlain(v));
    expect(decodeMsg(reseal(engine, enc('{"scenario": ')))).toBe('E_SNAPSHOT: corrupted (the runner section is not UTF-8 JSON)');
    expect(decodeMsg(reseal(engine, new Uint8Array([0x7b, 0xff, 0x7d])))).toBe('E_SNAPSHOT: corrupted (the runner section is not UTF-8 JSON)');
    const { state: _s, ...noState } = section;
    expect(decodeMsg(reseal(engine, enc(noState)))).toBe('E_SNAPSHOT: corrupted (the runner section lacks scenarioDigest, scenario, run or state)');
    const edited = structuredClone(section);
    edited.scenario.seed = 99;
    expect(decodeMsg(reseal(engine, enc(edited)))).toMatch(/^E_SNAPSHOT: corrupted \(the scenario in the runner section has digest [0-9a-f]{16}…, the section says [0-9a-f]{16}…\)$/);
  });

  it('a flipped engine-section byte is the engine\'s refusal; a driver state of another workload is refused', () => {
    const { file, e } = snapshot();
    const b = file.slice();
    b[28 + (e >> 1)] ^= 1;
    const { engine, section } = decodeSnapshot(b); // the engine section is the engine's to check
    expect(() => RunStepper.restore(section.scenario, engine, section.state)).toThrow('E_SNAPSHOT: engine section: corrupted (checksum mismatch)');
    const good = decodeSnapshot(file);
    const sc = structuredClone(good.section.scenario);
    sc.processes[0]!.workload = { kind: 'idle' };
    expect(() => RunStepper.restore(sc, good.engine, good.section.state)).toThrow('E_SNAPSHOT: runner state does not fit this scenario: pid 100: driver state of heap (pid 100, started 0 ns) does not fit idle (pid 100, started 0 ns)');
    expect(() => RunStepper.restore(good.section.scenario, good.engine, good.section.state, { tickNs: 50_000_000n })).toThrow("E_SNAPSHOT: the snapshot's run has a 100000000 ns tick; this run has 50000000 ns (give the same --tick)");
  });
});

describe('oomsim run --at --snapshot, then --from', () => {
  it('the split run writes the plain run\'s --json, with and without the scenario file, with policies', () => {
    expect(cli('run', p('snap.yaml'), '--json', p('a.json')).code).toBe(0);
    const at = cli('run', p('snap.yaml'), '--at', '5s', '--snapshot', p('s.bin'));
    expect(at.code).toBe(0);
    expect(at.out).toContain(`snapshot after the tick at 5s written to ${p('s.bin')}`);
    expect(at.out).toContain('run: 5s of 20s simulated');
    expect(cli('run', '--from', p('s.bin'), '--json', p('b.json')).code).toBe(0);
    expect(read('b.json')).toBe(read('a.json'));
    expect(cli('run', p('snap.yaml'), '--from', p('s.bin'), '--json', p('c.json')).code).toBe(0);
    expect(read('c.json')).toBe(read('a.json'));
    // chained: 5 s -> 9 s -> end
    expect(cli('run', '--from', p('s.bin'), '--at', '9s', '--snapshot', p('s9.bin')).code).toBe(0);
    expect(cli('run', '--from', p('s9.bin'), '--json', p('d.json')).code).toBe(0);
    expect(read('d.json')).toBe(read('a.json'));
    // with a policy: the JSON has its kills, and the snapshot carries it
    expect(cli('run', p('snap.yaml'), '--policies', 'earlyoom', '--json', p('pa.json')).code).toBe(0);
    expect(cli('run', p('snap.yaml'), '--policies', 'earlyoom', '--at', '4s', '--snapshot', p('ps.bin')).code).toBe(0);
    expect(cli('run', '--from', p('ps.bin'), '--json', p('pb.json')).code).toBe(0);
    expect(read('pb.json')).toBe(read('pa.json'));
    expect(read('pa.json')).toContain('earlyoom');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--at must name a tick inside the run; the options go together', () => {
    const err = (...a: string[]) => cli(...a).err;
    expect(err('run', p('snap.yaml'), '--at', '5.05s', '--snapshot', p('x.bin'))).toBe(`oomsim run: ${p('snap.yaml')}: --at 5.05s: not a tick of this run (ticks every 0.1s from 0s; the last one before the end (20s) is 19.9s)`);
    expect(err('run', p('snap.yaml'), '--at', '20s', '--snapshot', p('x.bin'))).toBe(`oomsim run: ${p('snap.yaml')}: --at 20s: not inside the run (ticks every 0.1s from 0s; the last one before the end (20s) is 19.9s)`);
    expect(err('run', '--from', p('s.bin'), '--at', '3s', '--snapshot', p('x.bin'))).toBe(`oomsim run: ${p('s.bin')}: --at 3s: the snapshot given to --from is already at 5s; give a later tick`);
    expect(existsSync(p('x.bin'))).toBe(false);
    expect(cli('run', p('snap.yaml'), '--at', '5s')).toMatchObject({ code: 2, err: 'oomsim run: --at needs --snapshot FILE (oomsim explain --at prints the OOM ranking at a time)' });
    expect(cli('run', p('snap.yaml'), '--snapshot', p('x.bin'))).toMatchObject({ code: 2, err: 'oomsim run: --snapshot needs --at TIME (the tick to save the run after)' });
    expect(cli('run')).toMatchObject({ code: 2, err: 'oomsim run: give scenario files, or --from SNAPSHOT to continue a saved run' });
    expect(cli('run', '--from', p('s.bin'), '--tick', '50ms')).toMatchObject({ code: 2, err: "oomsim run: --tick: a run from a snapshot keeps the snapshot's tick" });
    expect(cli('run', '--from', p('s.bin'), '--policies', 'nohang')).toMatchObject({ code: 2, err: "oomsim run: --policies: a run from a snapshot keeps the snapshot's policies; change their parameters with --set POLICY.PARAM=VALUE" });
  });

  it('another or an edited scenario is refused', () => {
    const r = cli('run', p('other.yaml'), '--from', p('s.bin'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^oomsim run: ${p('other.yaml')}: ${p('other.yaml')} is not the scenario this snapshot was taken of \\("snap", digest [0-9a-f]{16}…; this file's is [0-9a-f]{16}…\\): another or an edited scenario; run --from ${p('s.bin')} without a scenario file to continue the snapshot's own copy$`));
    writeFileSync(p('bad.bin'), 'OOMSIMSS not this');
    expect(cli('run', '--from', p('bad.bin')).err).toBe(`oomsim run: ${p('bad.bin')}: not an oomsim run snapshot (it does not start with "OOMSIMRN")`);
  });

  it('--set from a snapshot: what may change mid-run changes; the rest is refused naming the key', () => {
    const allowed = 'from a snapshot, --set may change sysctls (vm.NAME=N), memcg files (cgroup:/path/memory.FILE=VALUE), policy parameters (POLICY.PARAM=VALUE; this snapshot\'s policies: none) and actions not yet run (actions[i].at=TIME, i >= 1 in time order, TIME after 5s)';
    const refused = (kv: string) => cli('run', '--from', p('s.bin'), '--set', kv).err;
    const pre = `oomsim run: ${p('s.bin')}: --set`;
    expect(refused('machine.ram=1G')).toBe(`${pre} machine.ram=1G: machine.ram is fixed once the machine has booted (RAM, swap areas, oom_killer_disabled); ${allowed}`);
    expect(refused('processes[0].oom_score_adj=5')).toBe(`${pre} processes[0].oom_score_adj=5: processes[0] (pid 100, leaky) started at 0s, before the snapshot; ${allowed}`);
    expect(refused('seed=3')).toBe(`${pre} seed=3: seed is fixed in a snapshot; ${allowed}`);
    expect(refused('actions[0].at=10s')).toBe(`${pre} actions[0].at=10s: actions[0] (set_adj at 2s) already ran before the snapshot (5s); ${allowed}`);
    expect(refused('actions[1].at=4s')).toBe(`${pre} actions[1].at=4s: 4s is not after the snapshot (5s)`);
    expect(refused('vm.nope=1')).toMatch(/^.* vm.nope=1: vm.nope is not a sysctl the engine simulates \(known: vm\.overcommit_memory, /);
    expect(refused('earlyoom.mem_min=5')).toBe(`${pre} earlyoom.mem_min=5: earlyoom is neither a sysctl prefix nor a policy of this snapshot; ${allowed}`);
    expect(refused('vm.overcommit_memory=7')).toBe(`${pre} vm.overcommit_memory=7=7: the kernel rejected it (EINVAL)`.replace('=7=7', '=7'));

    // accepted: a sysctl written at the snapshot's time, and the later action moved
    expect(cli('run', '--from', p('s.bin'), '--set', 'vm.overcommit_ratio=80', 'actions[1].at=15s', '--json', p('w.json')).code).toBe(0);
    const j = JSON.parse(read('w.json')) as { events: { tNs: string; kind: string; text: string }[]; machine: { sysctl: Record<string, number> } };
    const sysEv = j.events.filter((x) => x.kind === 'action' && x.text.startsWith('sysctl'));
    expect(sysEv.map((x) => [x.tNs, x.text])).toEqual([['5100000000', 'sysctl vm.overcommit_ratio = 80: ok (--set)'], ['15000000000', 'sysctl vm.overcommit_memory = 2: ok']]);
    expect(j.machine.sysctl['vm.overcommit_ratio']).toBe(80);
  });

  it('a run that ends before --at writes no snapshot', () => {
    writeFileSync(p('panic.yaml'), YAML.replace('machine: { ram: 256M }', 'machine: { ram: 256M, sysctl: { vm.panic_on_oom: 1 } }'));
    const r = cli('run', p('panic.yaml'), '--at', '19s', '--snapshot', p('never.bin'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^oomsim run: .*panic\.yaml: the run ended at [\d.]+s \(kernel panic\), before --at 19s: nothing to continue, no snapshot written$/);
    expect(existsSync(p('never.bin'))).toBe(false);
  });
});
