/** The environment-independent public surface, shared by the Node and browser entry points. */
export { Engine, MEMINFO_NAMES, SYSCTL_NAMES, EVENT_KINDS, ERRNO, resultName } from './engine.js';
export type { EngineOptions, EngineEvent, EventKindName, MeminfoName, SysctlName, StopReasonName, SysResult, Prot, MmapOptions, Access, Pattern, FileSystem, SpawnOptions, TaskRow, OomCandidate, OomExplanation } from './engine.js';
export { OomsimError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { VMSTAT_NAMES } from './generated/vmstat.js';
export type { VmstatName } from './generated/vmstat.js';
export { OPS } from './generated/ops.js';
export type { OpName } from './generated/ops.js';
export { runDemo, DEMO_MACHINE_PAGES } from './demo.js';
export type { DemoResult } from './demo.js';
export { isLoaded } from './wasm.js';
export { runScenario, RunStepper, ScenarioRunError, DEFAULT_TICK_NS, SAMPLED_MEMINFO, SAMPLED_VMSTAT } from './run.js';
export type { RunOptions, RunResult, RunInterruption, RunEvent, ProcessReport, ProcessOutcome, Series, EngineFeatures } from './run.js';
export { textSummary, outcomeLine, formatLog, toJson, toJsonObject, detectLeaks } from './report/browser.js';
export type { LeakFinding } from './report/browser.js';
export { explainTable } from './report/explain.js';
