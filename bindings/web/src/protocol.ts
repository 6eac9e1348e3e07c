/** Messages between the playground page and its run worker (worker.ts). BigInts travel as decimal strings. */
import type { OomExplanation, TaskRow } from '../../src/engine.js';
import type { CompareRow } from '../../src/policy/compare.js';

export interface RunRequest {
  type: 'run';
  id: number;
  text: string;
  file: string;
  tickMs: number;
  /** Start paused at t=0 (the page then steps or resumes). */
  paused?: boolean;
  /** Simulated seconds per wall second; 0 or absent: as fast as the machine goes. Pacing never changes results. */
  speed?: number;
}
/** Live control of the run in progress (id = its RunRequest's id): stop between ticks, run N ticks, go on. */
export type ControlRequest =
  | { type: 'pause'; id: number }
  | { type: 'resume'; id: number }
  | { type: 'step'; id: number; ticks: number }
  | { type: 'speed'; id: number; speed: number };
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
  /** The policy's parameters (as `oomsim compare --set` takes them); validated by the policy's schema. */
  params?: Record<string, unknown>;
}
export type ToWorker = { type: 'init'; wasm: ArrayBuffer } | RunRequest | ControlRequest | SnapshotRequest | CompareRequest;

export interface RunDone {
  type: 'done';
  id: number;
  /** The JSON report object (report/json.ts), as the CLI's --json writes it, plus the extra samples (stepper.ts). */
  report: any;
  /** textSummary lines, as `oomsim run` prints them. */
  summary: string[];
  /** Simulated time of each kernel-log line (same order as report.log). */
  logT: string[];
  ms: number;
}
/**
 * The run so far: sent every half second of wall time while running, and at each pause and step. While paused it
 * also carries the live task table and OOM candidate ranking (read from the running engine, no re-run).
 */
export interface RunLive {
  type: 'live';
  id: number;
  paused: boolean;
  nowNs: string;
  endNs: string;
  report: any;
  logT: string[];
  tasks?: TaskRow[];
  explain?: OomExplanation | null;
}
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; nowNs: string; endNs: string }
  | RunDone
  | RunLive
  | { type: 'snapshot'; id: number; atNs: string; tasks: TaskRow[]; explain: OomExplanation | null }
  | { type: 'compared'; id: number; policy: string; row: CompareRow; report: any; scenario: string; seed: number; culprits: string[]; protected: string[] }
  | { type: 'error'; id: number; message: string; issues?: { line: number; column: number; message: string }[] };
