/**
 * oomsim for Node: `import { load, Engine } from 'oomsim'`.
 * `await load()` once (idempotent), then create engines.
 */
export { load, loadNodeSync } from './loader-node.js';
export * from './api.js';
export { toHtml } from './report/html.js';
export { runScenarioFile, runSuite } from './suite.js';
export type { SuiteRow } from './suite.js';
// The scenario loader as the README documents it (Node entry: loadScenarioFile reads files with node:fs).
export { parseScenario, parseScenarioOrThrow, loadScenarioFile, loadScenarioFileOrThrow, formatIssue, ScenarioError } from './scenario/load.js';
export type { ScenarioIssue, ScenarioParseResult, ParseOptions } from './scenario/load.js';
export { normalizeScenario } from './scenario/normalize.js';
export type { NormalizedScenario } from './scenario/normalize.js';
export { defineScenario, ScenarioSchema } from './scenario/schema.js';
export type { Scenario, ScenarioInput } from './scenario/schema.js';
// Live capture and prediction (Node only: they read /proc and the memcg tree). docs/capture-format.md.
export { captureLive, snapshotOf, snapshotYaml } from './capture/snapshot.js';
export type { CaptureOptions, Snapshot } from './capture/snapshot.js';
export { predict } from './capture/predict.js';
export type { Prediction, Ranking, PredictRow } from './capture/predict.js';
export { predictText, predictJson } from './capture/format.js';
export { parseOomReports } from './capture/kmsg.js';
export type { OomReport, OomDumpTask } from './capture/kmsg.js';
export type { CaptureSection, CaptureTask } from './scenario/capture.js';
