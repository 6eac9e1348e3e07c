/** Reports of a run: text summary, kernel log, JSON, standalone HTML, leak detection, the suite table. */
export { textSummary, outcomeLine, describeOutcome } from './text.js';
export { formatLog } from './log.js';
export { toJson, toJsonObject, bigintReplacer, JSON_REPORT_VERSION } from './json.js';
export { toHtml } from './html.js';
export { detectLeaks } from './leaks.js';
export type { LeakFinding } from './leaks.js';
export { dmesgTime } from './format.js';
