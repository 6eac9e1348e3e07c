/** `oomsim sweep --report results.sqlite [--html f]`: the summary table, and the HTML report with a Pareto chart. */
import { basename } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { summarize, summaryTable, sweepHtml } from '../sweep/report.js';
import { openResults } from '../sweep/store.js';

export async function reportCommand(file: string, o: { html?: string }): Promise<number> {
  const store = await openResults(file);
  try {
    const cs = summarize(store.rows());
    for (const l of summaryTable(cs)) console.log(l);
    if (o.html) writeFileAtomic(o.html, sweepHtml(cs, `oomsim sweep: ${basename(file)}`));
    return 0;
  } finally {
    store.close();
  }
}
