/** Messages between the playground page and its run worker (worker.ts). BigInts travel as decimal strings. */
import type { OomExplanation, TaskRow } from '../../src/engine.js';
import type { CompareRow } from '../../src/policy/compare.js';

export interface RunRequest {
  type: 'run';
  id: number;
  text: string;
  file: string;
  tickMs: number;
  policies?: string[];
}
export interface SnapshotRequest {
  type: 'snapshot';
  id: number;
  text: string;
  file: string;
  tickMs: number;
  atNs: string;
}
export interface CompareRequest {
  type: 'compare';
  id: number;
  text: string;
  file: string;
  tickMs: number;
  policy: string;
}
export type ToWorker = { type: 'init'; wasm: ArrayBuffer } | RunRequest | SnapshotRequest | CompareRequest;

export interface RunDone {
  type: 'done';
  id: number;
  /** The JSON report object (report/json.ts), as the CLI's --json writes it. */
  report: any;
  /** textSummary lines, as `oomsim run` prints them. */
  summary: string[];
  /** Simulated time of each kernel-log line (same order as report.log). */
  logT: string[];
  ms: number;
}
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; nowNs: string; endNs: string }
  | RunDone
  | { type: 'snapshot'; id: number; atNs: string; tasks: TaskRow[]; explain: OomExplanation | null }
  | { type: 'compared'; id: number; policy: string; row: CompareRow; report: any; scenario: string; seed: number; culprits: string[]; protected: string[] }
  | { type: 'error'; id: number; message: string; issues?: { line: number; column: number; message: string }[] };
