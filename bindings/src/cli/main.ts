/**
 * The `oomsim` command line. Commands: `run <scenario...>`, `suite [dir]`, `explain <scenario> --at <time>`, `demo`,
 * `conformance <vectors.json...>`, `validate <scenario...>`, `schema`, `capture`, `predict`.
 */
import { Command } from 'commander';
import { explainTable } from '../report/explain.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseDuration } from '../scenario/size.js';
import { runScenarioFile, runSuite } from '../suite.js';
import { checkRunOptions, runCommand, runCommandAsync, type RunCommandOptions } from './run.js';
import { sec } from '../report/format.js';
import { loadNodeSync } from '../loader-node.js';
import { runDemo } from '../demo.js';
import { runConformance } from '../conformance.js';
import { formatIssue, loadScenarioFile } from '../scenario/load.js';
import { normalizeScenario } from '../scenario/normalize.js';
import { scenarioJsonSchemaText } from '../scenario/jsonschema.js';
import { compareCommand } from './compare.js';
import { registerSweepCommands } from './sweep.js';
import { captureCommand, predictCommand } from './predict.js';
import { registerTraceCommands } from './trace.js';

export async function mainAsync(argv: string[]): Promise<number> {
  return main(argv, true) as Promise<number>;
}

export function main(argv: string[]): number;
export function main(argv: string[], async: true): Promise<number>;
export function main(argv: string[], async = false): number | Promise<number> {
  let code = 0;
  const program = new Command()
    .name('oomsim')
    .description('Simulate Linux memory management and the OOM killer with the kernel\'s own semantics')
    .version(packageVersion(), '-V, --version', 'print the oomsim version')
    .exitOverride();
  program
    .command('demo')
    .description('run the built-in demo scenario and print its report')
    .action(() => {
      loadNodeSync();
      for (const l of runDemo().lines) console.log(l);
    });
  program
    .command('run')
    .description('run scenario files and print a summary of each (kills, OOM events, ENOMEMs, peaks, leaks)')
    .argument('[scenarios...]', 'scenario files (YAML or JSON); with --from, optional: the snapshot\'s scenario, checked against it')
    .option('--log', 'also print the kernel log (dmesg format)')
    .option('--json <file>', 'write the JSON report (with several scenarios: one file each, the name inserted before .json)')
    .option('--html <file>', 'write the standalone HTML report with charts (several scenarios: as --json)')
    .option('--explain', 'print each OOM kill\'s candidate ranking, as the OOM killer saw it before the kill')
    .option('--tick <duration>', 'simulated time per tick', '100ms')
    .option('--allow-long', 'allow a scenario duration above 30 simulated days')
    .option('--policies <list>', 'userspace OOM policies to run alongside the kernel, comma-separated (as in compare)')
    .option('--at <time>', 'with --snapshot: stop after the tick at this time and save the run there')
    .option('--snapshot <file>', 'write the snapshot of the run at --at to this file (docs/snapshot-format.md)')
    .option('--from <file>', 'continue the run a snapshot saved, to the end (or to a later --at)')
    .option('--set <key=value...>', 'policy parameters (POLICY.PARAM=VALUE); with --from also vm.NAME=N, cgroup:/path/memory.FILE=VALUE, actions[i].at=TIME')
    .action((files: string[], o: RunCommandOptions & { tick: string }, cmd: Command) => {
      loadNodeSync();
      const tickNs = durationOpt('--tick', o.tick);
      if (tickNs === null) return void (code = 2);
      o.tickGiven = cmd.getOptionValueSource('tick') === 'cli';
      const bad = checkRunOptions(files, o);
      if (bad !== null) {
        console.error(`oomsim run: ${bad}`);
        return void (code = 2);
      }
      if (o.from && files.length === 0) files = [o.from];
      if (!async) return void (code = runCommand(files, tickNs, o));
      return runCommandAsync(files, tickNs, o).then((c) => void (code = c));
    });
  program
    .command('suite')
    .description('run every scenario in a directory (default: scenarios/) and print one line per scenario')
    .argument('[dir]', 'directory', 'scenarios')
    .option('--tick <duration>', 'simulated time per tick', '100ms')
    .action((dir: string, o: { tick: string }) => {
      loadNodeSync();
      const tickNs = durationOpt('--tick', o.tick);
      if (tickNs === null) return void (code = 2);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        console.error(`oomsim suite: ${dir}: ${existsSync(dir) ? 'not a directory' : 'no such directory'} (give a directory of .yaml/.yml/.json scenario files)`);
        return void (code = 1);
      }
      const rows = runSuite(dir, { tickNs });
      const w = Math.max(8, ...rows.map((r) => r.name.length));
      console.log(`${'scenario'.padEnd(w)}  outcome`);
      for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.outcome}`);
      const bad = rows.filter((r) => !r.ok).length;
      console.log(`${rows.length} scenarios, ${bad} errors`);
      if (bad > 0) code = 1;
    });
  program
    .command('explain')
    .description('run a scenario to a time and print the OOM killer\'s candidate ranking there')
    .argument('<scenario>', 'scenario file')
    .requiredOption('--at <time>', 'simulated time, e.g. 30s')
    .option('--tick <duration>', 'simulated time per tick', '100ms')
    .action((f: string, o: { at: string; tick: string }) => {
      loadNodeSync();
      const at = durationOpt('--at', o.at);
      const tickNs = durationOpt('--tick', o.tick);
      if (at === null || tickNs === null) return void (code = 2);
      let r;
      try {
        r = runScenarioFile(f, { tickNs, untilNs: at, keepEngine: true });
      } catch (e) {
        console.error((e as Error).message.replace(/^E_SCENARIO: /, ''));
        return void (code = 1);
      }
      const e = r.engine!;
      try {
        console.log(`${r.name} at ${sec(r.endNs)}: if the kernel ran out of memory now, the OOM killer would rank`);
        for (const l of explainTable(e.oomExplain())) console.log(`  ${l}`);
      } finally {
        e.free();
      }
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
    .command('capture')
    .description('read this machine (/proc, the memcg tree) into a scenario file with a capture: section')
    .option('-o, --output <file>', 'write the snapshot here (default: standard output)')
    .option('--redact', 'replace comms, cgroup names and the host name with stable hashes')
    .action((o: { output?: string; redact?: boolean }) => {
      code = captureCommand(o, `oomsim ${packageVersion()}`);
    });
  program
    .command('predict')
    .description('rank the processes as the kernel\'s OOM killer would (global and per memcg), beside /proc/PID/oom_score')
    .argument('[snapshot]', 'a snapshot written by `oomsim capture`')
    .option('--live', 'read the live machine instead of a snapshot')
    .option('--json', 'print JSON')
    .option('--all', 'list every candidate, not the top 20')
    .option('--last-oom', 'also replay the kernel\'s last OOM report from dmesg and say whether oom_badness picks its victim')
    .action((f: string | undefined, o: { live?: boolean; json?: boolean; all?: boolean; lastOom?: boolean }) => {
      code = predictCommand(o, `oomsim ${packageVersion()}`, f);
    });
  program
    .command('validate')
    .description('check scenario files (YAML or JSON); prints OK or every error as file:line path: message')
    .argument('<scenarios...>', 'scenario files')
    .option('--normalized', 'also print the normalized scenario (pages, ns, defaults filled) as JSON')
    .option('--allow-long', 'allow a scenario duration above 30 simulated days')
    .action((files: string[], opts: { normalized?: boolean; allowLong?: boolean }) => {
      for (const f of files) {
        const r = loadScenarioFile(f, { allowLong: opts.allowLong });
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
    .command('compare')
    .description('run one scenario under several userspace OOM policies and compare them side by side')
    .argument('<scenario>', 'scenario file')
    .option('--policies <list>', 'comma-separated: earlyoom,nohang,systemd-oomd,oomd,lmkd,kubelet,kernel', 'kernel,earlyoom,nohang,systemd-oomd,oomd,lmkd,kubelet')
    .option('--set <policy.param=value...>', 'set a policy parameter (JSON value or string), e.g. earlyoom.prefer=^chrome$')
    .option('--sweep <spec>', 'sweep a parameter on worker threads: earlyoom.m=2..20:2, vm.overcommit_memory=0,1,2, machine.swap=0,2G,8G')
    .option('--culprit <comm...>', 'the process(es) causing the pressure (default: the leak detector on the kernel-only run)')
    .option('--protect <comm...>', 'services that must survive (default: processes with oom_score_adj < 0)')
    .option('--workers <n>', 'worker threads for --sweep (default: all cores)')
    .option('--html <file>', 'write the HTML report (charts on one time axis)')
    .option('--tick <duration>', 'simulated time per tick', '100ms')
    .action(async (f: string, o: Record<string, unknown>) => {
      code = await compareCommand(f, o);
    });
  registerSweepCommands(program, (c) => (code = c));
  registerTraceCommands(program, (c) => (code = c), `oomsim ${packageVersion()}`);
  program
    .command('schema')
    .description('print the JSON Schema of scenario files')
    .action(() => {
      process.stdout.write(scenarioJsonSchemaText());
    });
  if (async) {
    return program.parseAsync(argv, { from: 'user' }).then(
      () => code,
      (e) => {
        const ce = e as { exitCode?: number; code?: string };
        if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version') return 0;
        if (ce.exitCode === undefined) console.error((e as Error).message);
        return ce.exitCode ?? 2;
      },
    );
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const ce = e as { exitCode?: number; code?: string };
    if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version') return 0;
    return ce.exitCode ?? 2;
  }
  return code;
}

/** The package version, read from package.json (three levels up from both bindings/src/cli and bindings/dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function durationOpt(name: string, v: string): bigint | null {
  const r = parseDuration(v);
  if (!r.ok || r.value <= 0n) {
    console.error(`oomsim: ${name} ${v}: ${r.ok ? 'must be > 0' : r.error}`);
    return null;
  }
  return r.value;
}
