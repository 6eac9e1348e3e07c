/**
 * The snapshot file of `oomsim run --at T --snapshot FILE` and `oomsim run --from FILE` (docs/snapshot-format.md,
 * decision 0015 "Runner state"): a header, the engine's bytes exactly as Engine.snapshot() gives them (with their
 * own magic, build identity and CRC-32C), and the runner's section: UTF-8 JSON holding the scenario, its digest,
 * the run's options and RunStepper.runnerState(). All integers little-endian.
 *
 *   offset  size  field
 *   0       8     magic "OOMSIMRN"
 *   8       2     format version (1)
 *   10      2     flags (0; anything else is refused)
 *   12      8     engine section length E
 *   20      8     runner section length R
 *   28      E     engine section (Engine.snapshot() bytes)
 *   28+E    R     runner section (JSON, see RunnerSection)
 *   28+E+R  4     CRC-32 (zlib's, ISO-HDLC) of the header and the runner section (the engine section has its own)
 *
 * Bigints are written as {"$big":"123"}, non-finite numbers as {"$num":"-Infinity"} (JSON has neither).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { OomsimError } from '../errors.js';
import type { NormalizedScenario } from '../scenario/normalize.js';
import type { PolicySpec } from '../policy/compare.js';
import type { RunnerState } from '../run/stepper.js';

export const SNAPSHOT_MAGIC = 'OOMSIMRN';
export const SNAPSHOT_VERSION = 1;
const HEADER = 28;

/** What the runner section holds. */
export interface RunnerSection {
  /** sha256 of the scenario as the codec writes it (normalized: the file's formatting and comments do not count). */
  scenarioDigest: string;
  scenario: NormalizedScenario;
  /** The run's options: the tick, --explain and the policies (name and the parameters given). */
  run: { tickNs: bigint; explain: boolean; policies: PolicySpec[] };
  /** The tick the snapshot was taken after (the last tick run). */
  atNs: bigint;
  state: RunnerState;
}

const fail = (m: string) => new OomsimError('E_SNAPSHOT', m);

export function encodePlain(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? { $big: x.toString() } : typeof x === 'number' && !Number.isFinite(x) ? { $num: String(x) } : x));
}
export function decodePlain(text: string): unknown {
  return JSON.parse(text, (_k, x) => {
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const keys = Object.keys(x);
      if (keys.length === 1 && keys[0] === '$big' && typeof x.$big === 'string') return BigInt(x.$big);
      if (keys.length === 1 && keys[0] === '$num' && typeof x.$num === 'string') return Number(x.$num);
    }
    return x;
  });
}

export function scenarioDigest(sc: NormalizedScenario): string {
  return createHash('sha256').update(encodePlain(sc)).digest('hex');
}

export function encodeSnapshot(engine: Uint8Array, section: Omit<RunnerSection, 'scenarioDigest'>): Uint8Array {
  const runner = new TextEncoder().encode(encodePlain({ scenarioDigest: scenarioDigest(section.scenario), ...section }));
  const out = new Uint8Array(HEADER + engine.length + runner.length + 4);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SNAPSHOT_MAGIC), 0);
  dv.setUint16(8, SNAPSHOT_VERSION, true);
  dv.setUint16(10, 0, true);
  dv.setBigUint64(12, BigInt(engine.length), true);
  dv.setBigUint64(20, BigInt(runner.length), true);
  out.set(engine, HEADER);
  out.set(runner, HEADER + engine.length);
  dv.setUint32(HEADER + engine.length + runner.length, checksum(out, engine.length, runner.length), true);
  return out;
}

/** CRC-32 of the header and the runner section (not the engine section, which has its own CRC-32C). */
function checksum(b: Uint8Array, e: number, r: number): number {
  return crc32(b.subarray(HEADER + e, HEADER + e + r), crc32(b.subarray(0, HEADER)));
}

/**
 * Check and split a snapshot file, in this order: magic, version, flags, each section's length against the file,
 * the checksum, trailing bytes, the runner section's JSON and its digest. The engine section is checked by
 * Engine.restore when the run is restored.
 */
export function decodeSnapshot(b: Uint8Array): { engine: Uint8Array; section: RunnerSection } {
  const magic = new TextEncoder().encode(SNAPSHOT_MAGIC);
  const n = Math.min(b.length, 8);
  for (let i = 0; i < n; i++) if (b[i] !== magic[i]) throw fail(`not an oomsim run snapshot (it does not start with "${SNAPSHOT_MAGIC}")`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = (field: string, at: number) => fail(`truncated: ${b.length} bytes end inside the ${field} (byte ${at} of the snapshot)`);
  if (b.length < 10) throw end('magic and format version', b.length);
  const version = dv.getUint16(8, true);
  if (version !== SNAPSHOT_VERSION) throw fail(`snapshot file format v${version}; this oomsim reads v${SNAPSHOT_VERSION}`);
  if (b.length < 12) throw end('flags', b.length);
  const flags = dv.getUint16(10, true);
  if (flags !== 0) throw fail(`unknown flags 0x${flags.toString(16)} (this oomsim writes and reads 0)`);
  if (b.length < HEADER) throw end('section lengths', b.length);
  const e64 = dv.getBigUint64(12, true), r64 = dv.getBigUint64(20, true);
  const total = BigInt(HEADER) + e64 + r64 + 4n;
  if (BigInt(b.length) < BigInt(HEADER) + e64) throw end(`engine section (${e64} bytes from byte ${HEADER})`, b.length);
  const e = Number(e64);
  if (BigInt(b.length) < BigInt(HEADER + e) + r64) throw end(`runner section (${r64} bytes from byte ${HEADER + e})`, b.length);
  const r = Number(r64);
  if (BigInt(b.length) < total) throw end('checksum', b.length);
  if (dv.getUint32(HEADER + e + r, true) !== checksum(b, e, r)) throw fail('corrupted (checksum mismatch in the header or the runner section)');
  if (BigInt(b.length) > total) throw fail(`corrupted (${BigInt(b.length) - total} extra bytes after the checksum)`);
  let section: RunnerSection;
  try {
    section = decodePlain(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(HEADER + e, HEADER + e + r))) as RunnerSection;
  } catch {
    throw fail('corrupted (the runner section is not UTF-8 JSON)');
  }
  if (typeof section !== 'object' || section === null || typeof section.scenarioDigest !== 'string' || !section.scenario || !section.state || !section.run) {
    throw fail('corrupted (the runner section lacks scenarioDigest, scenario, run or state)');
  }
  const d = scenarioDigest(section.scenario);
  if (d !== section.scenarioDigest) throw fail(`corrupted (the scenario in the runner section has digest ${d.slice(0, 16)}…, the section says ${section.scenarioDigest.slice(0, 16)}…)`);
  return { engine: b.subarray(HEADER, HEADER + e), section };
}
