/** The pure-TypeScript reference engine (docs/reference-engine.md). */
export { ReferenceEngine } from './engine.js';
export { InvalidOp, type MachineConfig, type OpResult, type OomRecord, type FaultKind, type CowKind, type VmFlags } from './types.js';
export { runOps, applyOp, type Op, type OpsInputs, type Observation, type ObservationQuery, type RunOpsOutput, type PageRef, type TaskState, type CounterState } from './ops.js';
export { evalOps, evalVector, runVectorsText, type VectorReport, type Outcome } from './conformance.js';
export { parseLossless, matchValue, stringifyLossless, type Json, type JsonObject } from './json.js';
export { patternPages, zipfTable, zipfRank, type PatternSpec, type PatternKind } from './workload.js';
