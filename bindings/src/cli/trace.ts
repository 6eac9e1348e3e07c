/**
 * `oomsim record` and `oomsim replay` (docs/decisions/0016-replay.md, docs/trace-format.md).
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { OomsimError } from '../errors.js';
import { parseDuration, parseSize } from '../scenario/size.js';
import { Engine } from '../engine.js';
import { loadNodeSync } from '../loader-node.js';
import { PAGEREF_FORMATS, pageRefs, runPageRefs, type PagerefFormat, type PagerefResult } from '../trace/pageref.js';
import { recordMachine, type RecordProgress } from '../trace/record.js';
import { openTrace } from '../trace/reader.js';
import { replayTrace } from '../trace/replay.js';
import { replayJson, replayText } from '../trace/replay-report.js';
import { importTrace } from '../trace/import.js';
import { replayHtml } from '../trace/replay-html.js';
import { applyWhatIfs, buildScenario, simulate, simulateText, traceScenario } from '../trace/simulate.js';
import { parseSweep } from '../policy/sweep.js';
import type { PolicySpec } from '../policy/compare.js';
import { BUILTIN_POLICIES } from '../policy/index.js';
import { policySpecs } from './policy-specs.js';
import { writeFileAtomic } from './atomic.js';

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

function durationMs(opt: string, v: string): number {
  const r = parseDuration(v);
  if (!r.ok || r.value <= 0n) throw new OomsimError('E_ARG', `${opt} ${v}: ${r.ok ? 'must be > 0' : r.error}`);
  return Number(r.value / 1_000_000n);
}

export async function recordCommand(o: { interval: string; duration?: string; output?: string; kmsg?: boolean; maxCgroups?: string }, tool: string): Promise<number> {
  try {
    if (!o.output) throw new OomsimError('E_ARG', '-o <file> is required (name.jsonl or name.jsonl.gz)');
    const intervalMs = durationMs('-i', o.interval);
    if (intervalMs < 10) throw new OomsimError('E_ARG', `-i ${o.interval}: the interval must be at least 10ms`);
    const duration = o.duration === undefined ? null : durationMs('-d', o.duration);
    const ac = new AbortController();
    const onInt = () => ac.abort();
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onInt);
    const total = duration === null ? 0 : Math.floor(duration / intervalMs) + 1;
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `record ${total ? '[{bar}] ' : ''}{value}${total ? '/{total}' : ''} samples | {secs} s | {tasks} tasks | MemAvailable {avail} | {size} | kmsg {kmsg}`,
        hideCursor: true,
        clearOnComplete: true,
        noTTYOutput: true,
        notTTYSchedule: 10000,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { secs: 0, tasks: 0, avail: '-', size: '0', kmsg: 0 });
    const upd = (p: RecordProgress) => bar.update(p.samples, { secs: (p.tMs / 1000).toFixed(0), tasks: p.tasks, avail: mib(p.memAvailableKb * 1024), size: mib(p.textBytes), kmsg: p.kmsgLines });
    let r;
    try {
      r = await recordMachine({ output: o.output, intervalMs, durationMs: duration, signal: ac.signal, tool, kmsg: o.kmsg === false ? false : undefined, maxCgroups: o.maxCgroups ? Number(o.maxCgroups) : undefined, onSample: upd });
    } finally {
      bar.stop();
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onInt);
    }
    console.error(
      `oomsim record: wrote ${o.output}: ${r.samples} samples over ${(r.tMs / 1000).toFixed(1)} s (${r.reason}), ${mib(r.fileBytes)} on disk (${mib(r.textBytes)} of JSON); ` +
        `kernel log ${r.kmsg}, ${r.kmsgLines} OOM line(s)${r.droppedCgroups ? `; ${r.droppedCgroups} memcgs beyond --max-cgroups not recorded` : ''}`,
    );
    return 0;
  } catch (e) {
    console.error(e instanceof OomsimError ? e.message.replace(/^E_[A-Z]+: /, 'oomsim record: ') : `oomsim record: ${(e as Error).message}`);
    return 1;
  }
}

/** The userspace killers a replay runs by default: every built-in policy except `kernel` (no daemon). */
export const replayDefaultPolicies = () => Object.keys(BUILTIN_POLICIES).filter((n) => n !== 'kernel');

export async function replayCommand(files: string | string[], o: { policies?: string; set?: string[]; sweep?: string[]; json?: string; html?: string; from?: string; interval?: string; simulate?: boolean }): Promise<number> {
  try {
    if (o.simulate) return await simulateCommand(files, o);
    const specs: PolicySpec[] = policySpecs(o.policies ?? replayDefaultPolicies().join(','), o.set ?? []).filter((s) => {
      if (s.name === 'kernel') console.error('oomsim replay: kernel is not a daemon; the kernel column shows what the kernel did in the recording');
      return s.name !== 'kernel';
    });
    let all = specs;
    for (const sw of o.sweep ?? []) {
      const sweep = parseSweep(sw);
      if (sweep.target === 'sysctl' || sweep.target === 'machine') throw new OomsimError('E_ARG', `--sweep ${sw}: a recording's machine is what it was; only policy parameters can be swept in a replay (policy.param=...)`);
      if (!all.some((s) => s.name === sweep.target)) throw new OomsimError('E_ARG', `--sweep ${sw}: policy ${sweep.target} is not in --policies`);
      all = all.flatMap((s) => (s.name !== sweep.target ? [s] : sweep.values.map((v) => ({ name: s.name, params: { ...s.params, [sweep.key]: v }, label: `${s.label ?? s.name} ${sweep.key}=${v}` }))));
    }
    for (const s of all) policySpecs(s.name, Object.entries(s.params ?? {}).map(([k, v]) => `${s.name}.${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`));
    const list = typeof files === 'string' ? [files] : files;
    if (!o.from && list.length !== 1) throw new OomsimError('E_ARG', `${list.length} files given; a replay reads one trace (only --from below merges several dumps)`);
    const file = list.join(' + ');
    const t = o.from ? importTrace(o.from, list, { intervalMs: o.interval ? durationMs('--interval', o.interval) : undefined, warn: (m) => console.error(`oomsim replay: warning: ${m}`) }) : await openTrace(list[0]);
    const r = await replayTrace(file, t.header, t.records, all);
    for (const l of replayText(r)) console.log(l);
    if (o.json) writeFileAtomic(o.json, replayJson(r));
    if (o.html) writeFileAtomic(o.html, replayHtml(r));
    // Exit 1 when no daemon could be replayed at all (every one lacks something the recording does not have).
    return r.rows.length && r.rows.every((x) => x.cannotReplay) ? 1 : 0;
  } catch (e) {
    console.error(e instanceof OomsimError ? e.message.replace(/^E_[A-Z]+: /, 'oomsim replay: ') : `oomsim replay: ${(e as Error).message}`);
    return 1;
  }
}

/** `replay --simulate`: the recording as a scenario through the engine, with machine what-ifs (trace/simulate.ts). */
async function simulateCommand(files: string | string[], o: { policies?: string; set?: string[]; sweep?: string[]; json?: string; html?: string; from?: string; interval?: string }): Promise<number> {
  const list = typeof files === 'string' ? [files] : files;
  if (o.sweep?.length || o.html) throw new OomsimError('E_ARG', '--simulate takes --set what-ifs, not --sweep or --html (run oomsim compare on the scenario for those)');
  if (!o.from && list.length !== 1) throw new OomsimError('E_ARG', `${list.length} files given; a replay reads one trace (only --from below merges several dumps)`);
  const t = o.from ? importTrace(o.from, list, { intervalMs: o.interval ? durationMs('--interval', o.interval) : undefined, warn: (m) => console.error(`oomsim replay: warning: ${m}`) }) : await openTrace(list[0]);
  const file = list.join(' + ');
  const input = await traceScenario(file, t.header, t.records);
  const policySets = applyWhatIfs(input.scenario, o.set ?? []);
  const sc = buildScenario(file, input.scenario);
  const specs = policySpecs(o.policies ?? replayDefaultPolicies().join(','), policySets);
  loadNodeSync();
  const r = simulate(sc, input, specs);
  for (const l of simulateText(r)) console.log(l);
  if (o.json) writeFileAtomic(o.json, JSON.stringify({ scenario: input.scenario, rows: r.compare.rows }, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2));
  return 0;
}

function sizePages(opt: string, v: string): number {
  const r = parseSize(v);
  if (!r.ok) throw new OomsimError('E_ARG', `${opt} ${v}: ${r.error}`);
  return Number(r.value / 4096n);
}

/** Builds the machine of `oomsim pagetrace` and runs a page-reference trace on it. */
export async function pagetraceRun(file: string, o: { format: string; ram: string; swap: string; maxPages: string; instr?: boolean }): Promise<PagerefResult> {
  if (!(PAGEREF_FORMATS as readonly string[]).includes(o.format)) throw new OomsimError('E_ARG', `--format ${o.format}: expected one of ${PAGEREF_FORMATS.join(', ')}`);
  const ram = sizePages('--ram', o.ram), swap = sizePages('--swap', o.swap), maxPages = Number(o.maxPages);
  if (ram < 1024) throw new OomsimError('E_ARG', `--ram ${o.ram}: at least 4M`);
  if (!Number.isSafeInteger(maxPages) || maxPages <= 0) throw new OomsimError('E_ARG', `--max-pages ${o.maxPages}: expected a page count > 0`);
  loadNodeSync();
  const e = new Engine({ totalramPages: ram, totalSwapPages: 0 });
  try {
    if (swap > 1) e.swapon(swap - 1, -2, 'disk');
    e.setSysctl('vm.overcommit_memory', 1); // the mapping is address space for the trace, not a commitment
    return await runPageRefs(e, pageRefs(file, o.format as PagerefFormat, { instr: o.instr }), { maxPages });
  } finally {
    e.free();
  }
}

export function pagetraceText(file: string, r: PagerefResult): string[] {
  const c = r.counters;
  return [
    `${file}: ${r.references} references (${r.touches} touches after merging repeats), ${r.distinctPages} distinct pages (${(r.distinctPages * 4 / 1024).toFixed(1)} MiB)${r.oomKilled ? '; the process was OOM-killed, the rest of the trace was not run' : ''}`,
    `faults ${c.pgfault}, major faults ${c.pgmajfault}, reclaim: scanned ${c.pgscan}, stolen ${c.pgsteal}; swap in ${c.pswpin}, out ${c.pswpout}`,
    `refaults (workingset_refault_anon/file): ${c.workingset_refault_anon}/${c.workingset_refault_file} (the engine has no shadow entries yet, so these stay 0; a major fault on swap is the refault of an anon page)`,
  ];
}

export function registerTraceCommands(program: Command, setCode: (c: number) => void, tool: string): void {
  program
    .command('record')
    .description('sample this machine (meminfo, vmstat, PSI, processes, memcg files, OOM lines of the kernel log) into a trace file')
    .option('-i, --interval <duration>', 'time between samples', '1s')
    .option('-d, --duration <duration>', 'stop after this long (default: until Ctrl-C, which still leaves a complete file)')
    .option('-o, --output <file>', 'the trace: name.jsonl, or name.jsonl.gz for gzip')
    .option('--no-kmsg', 'do not read /dev/kmsg')
    .option('--max-cgroups <n>', 'record at most n memcgs per sample (parents first)', '1000')
    .action(async (o) => setCode(await recordCommand(o, tool)));
  program
    .command('replay')
    .description('replay a recording through userspace OOM daemons: when and whom each would have killed, beside what the kernel did')
    .argument('<trace...>', 'a trace written by oomsim record (.jsonl or .jsonl.gz), or with --from another tool\'s recording (below: one dump file per kind)')
    .option('--policies <list>', 'comma-separated daemons (default: every built-in one)')
    .option('--set <policy.param=value...>', 'set a policy parameter, as in compare')
    .option('--sweep <spec...>', 'replay each value of a policy parameter: earlyoom.m=2..20:2')
    .option('--json <file>', 'write the JSON report')
    .option('--html <file>', 'write the HTML report (MemAvailable and PSI over time; kernel and daemon kills as markers)')
    .option('--from <tool>', 'the file is another tool\'s recording: vmstat (vmstat -n 1 text), psi2log (nohang\'s psi2log output), below (below dump system|process|cgroup -O csv|json), kubelet (/stats/summary JSON, one per line)')
    .option('--simulate', 'run the recording through the engine instead: each process follows its recorded RSS; --set machine.swap=2G, vm.<sysctl>=N, cgroup:/path/memory.high=1G ask what-ifs')
    .option('--interval <duration>', 'with --from: the time between lines when the file has no timestamps (default: vmstat 1s, psi2log its header\'s, kubelet 10s)')
    .action(async (f: string[], o) => setCode(await replayCommand(f, o)));
  program
    .command('pagetrace')
    .description('run a page-reference trace (lackey, Dinero .din, libCacheSim csv; .gz ok) through the engine as one process')
    .argument('<trace>', 'the trace file')
    .requiredOption('--format <f>', 'lackey | din | csv')
    .option('--ram <size>', 'RAM of the machine', '64M')
    .option('--swap <size>', 'swap (disk)', '0')
    .option('--max-pages <n>', 'distinct pages the trace may touch (the size of the mapping)', '1048576')
    .option('--no-instr', 'skip instruction fetches (lackey I, din label 2)')
    .option('--json <file>', 'write the counters as JSON')
    .action(async (f: string, o) => {
      try {
        const r = await pagetraceRun(f, o);
        for (const l of pagetraceText(f, r)) console.log(l);
        if (o.json) writeFileAtomic(o.json, JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2));
        setCode(0);
      } catch (e) {
        console.error(e instanceof OomsimError ? e.message.replace(/^E_[A-Z]+: /, 'oomsim pagetrace: ') : `oomsim pagetrace: ${(e as Error).message}`);
        setCode(1);
      }
    });
}
