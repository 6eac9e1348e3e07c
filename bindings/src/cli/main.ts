/**
 * The `oomsim` command line. Commands: `demo`, `conformance <vectors.json...>`, `validate <scenario...>`, `schema`.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { loadNodeSync } from '../loader-node.js';
import { runDemo } from '../demo.js';
import { runConformance } from '../conformance.js';
import { formatIssue, loadScenarioFile } from '../scenario/load.js';
import { normalizeScenario } from '../scenario/normalize.js';
import { scenarioJsonSchemaText } from '../scenario/jsonschema.js';

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
  program
    .command('validate')
    .description('check scenario files (YAML or JSON); prints OK or every error as file:line path: message')
    .argument('<scenarios...>', 'scenario files')
    .option('--normalized', 'also print the normalized scenario (pages, ns, defaults filled) as JSON')
    .action((files: string[], opts: { normalized?: boolean }) => {
      for (const f of files) {
        const r = loadScenarioFile(f);
        if (!r.success) {
          for (const e of r.errors) console.error(formatIssue(e));
          code = 1;
          continue;
        }
        console.log(`OK ${f}`);
        if (opts.normalized) {
          const n = normalizeScenario(r.data, { file: f });
          console.log(JSON.stringify(n, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
        }
      }
    });
  program
    .command('schema')
    .description('print the JSON Schema of scenario files')
    .action(() => {
      process.stdout.write(scenarioJsonSchemaText());
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
