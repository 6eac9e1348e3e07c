/**
 * The `oomsim` command line. Commands: `demo`, `conformance <vectors.json...>`.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { loadNodeSync } from '../loader-node.js';
import { runDemo } from '../demo.js';
import { runConformance } from '../conformance.js';

export function main(argv: string[]): number {
  let code = 0;
  const program = new Command()
    .name('oomsim')
    .description('Simulate Linux memory management and the OOM killer with the kernel\'s own semantics')
    .exitOverride();
  program
    .command('demo')
    .description('run the built-in demo scenario and print its report')
    .action(() => {
      loadNodeSync();
      for (const l of runDemo().lines) console.log(l);
    });
  program
    .command('conformance')
    .description('evaluate kernel vector files (format: shared/spec/vectors-format.md) against the engine')
    .argument('<files...>', 'vector files (JSON arrays)')
    .option('-q, --quiet', 'print only failures and the summary')
    .action((files: string[], opts: { quiet?: boolean }) => {
      loadNodeSync();
      for (const f of files) {
        let text: string;
        try {
          text = readFileSync(f, 'utf8');
        } catch (e) {
          console.error(`oomsim conformance: ${f}: ${(e as Error).message}`);
          code = 2;
          continue;
        }
        const r = runConformance(text);
        if (!r.ok) {
          console.error(`oomsim conformance: ${f}: ${r.error}`);
          code = 2;
          continue;
        }
        for (const l of r.lines) if (!opts.quiet || !l.startsWith('PASS')) console.log(l);
        console.log(r.summary);
        if (r.failed > 0 && code === 0) code = 1;
      }
    });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const ce = e as { exitCode?: number; code?: string };
    if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version') return 0;
    return ce.exitCode ?? 2;
  }
  return code;
}
