/** The reports that work in the browser too (the HTML report reads files and is Node-only: report/html.ts). */
export { textSummary, outcomeLine, describeOutcome } from './text.js';
export { formatLog } from './log.js';
export { toJson, toJsonObject, bigintReplacer } from './json.js';
export { detectLeaks } from './leaks.js';
export type { LeakFinding } from './leaks.js';
