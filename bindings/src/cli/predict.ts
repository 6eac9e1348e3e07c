/** `oomsim capture` and `oomsim predict`: a live machine as a scenario file, and the OOM victim it predicts. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { oomBadness } from '../capture/badness.js';
import { checkReport, parseOomReports, type ReportCheck } from '../capture/kmsg.js';
import { predictJson, predictText } from '../capture/format.js';
import { predict, type Prediction } from '../capture/predict.js';
import { captureLive, snapshotOf, snapshotYaml } from '../capture/snapshot.js';
import type { CaptureSection } from '../scenario/capture.js';
import { formatIssue, loadScenarioFile } from '../scenario/load.js';
import { writeFileAtomic } from './atomic.js';

function live(tool: string, redact: boolean): CaptureSection | null {
  if (!existsSync('/proc/meminfo')) {
    console.error('oomsim: /proc/meminfo is not there: capture and predict --live read a Linux /proc');
    return null;
  }
  try {
    return captureLive({ redact, tool });
  } catch (e) {
    console.error(`oomsim: cannot read the live machine: ${(e as Error).message}`);
    return null;
  }
}

export function captureCommand(o: { output?: string; redact?: boolean }, tool: string): number {
  const c = live(tool, o.redact ?? false);
  if (c === null) return 1;
  const text = snapshotYaml(snapshotOf(c));
  if (o.output === undefined || o.output === '-') process.stdout.write(text);
  else {
    try {
      writeFileAtomic(o.output, text);
    } catch (e) {
      console.error(`oomsim capture: cannot write ${o.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return 1;
    }
    const s = c.skipped;
    console.error(`oomsim capture: wrote ${o.output}: ${c.tasks.length} processes, ${Object.keys(c.memcg?.groups ?? {}).length} memcgs (${c.memcg?.version ?? 'no memory controller'}); ` +
      `skipped ${s.kernel_threads} kernel threads, ${s.zombies} zombies, ${s.vanished} vanished, ${s.unreadable} unreadable, ${s.files.length} files`);
    for (const f of s.files.slice(0, 5)) console.error(`  not read: ${f.path} (${f.reason})`);
    if (s.files.length > 5) console.error(`  ... ${s.files.length - 5} more under capture.skipped.files`);
  }
  return 0;
}

/**
 * `--last-oom`: the kernel's last OOM report in its log, replayed: oom_badness over the numbers it dumped, with its
 * totalpages (a memcg's from this prediction's capture), and whether that picks the task the kernel killed.
 */
function lastOom(p: Prediction): { check: ReportCheck | null; error: string | null } {
  const r = spawnSync('dmesg', [], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error || r.status !== 0) return { check: null, error: `cannot read the kernel log with dmesg (${r.error ? (r.error as NodeJS.ErrnoException).code : (r.stderr || '').trim() || `exit ${r.status}`})` };
  const report = parseOomReports(r.stdout).at(-1);
  if (report === undefined) return { check: null, error: 'no OOM report in the kernel log (dmesg)' };
  const memcg = new Map(p.memcgs.map((m) => [m.domain, m.totalpages]));
  const check = checkReport(report, p.global.totalpages, (path) => memcg.get(path) ?? null, (t, totalpages) =>
    oomBadness({ rssPages: t.rss, swapPages: t.swapents, pgtablesBytes: t.pgtablesBytes, oomScoreAdj: t.oomScoreAdj, unkillable: false }, totalpages).points);
  return { check, error: null };
}

export function lastOomText(c: ReportCheck): string[] {
  const r = c.report;
  const where = r.constraint === 'CONSTRAINT_MEMCG' ? `${r.constraint} in ${r.oomMemcg}` : r.constraint;
  const out = [`the kernel's last OOM (${where}, from dmesg): it killed pid ${r.victimPid} (${r.victimComm})`];
  if (c.totalpages === null) out.push(`  not replayed: ${r.oomMemcg} is not a limited memcg of this capture (removed since?), so its totalpages is unknown`);
  else if (c.predictedPid === null) out.push('  not replayed: the report has no Tasks state table (vm.oom_dump_tasks=0)');
  else {
    out.push(`  oom_badness over the numbers it dumped (totalpages ${c.totalpages}) picks pid ${c.predictedPid}: ${c.agrees ? 'the same task' : 'a DIFFERENT task'}`);
    for (const row of c.rows.slice(0, 5)) out.push(`    ${String(row.pid).padStart(8)}  ${row.name.slice(0, 15).padEnd(15)} adj ${String(row.oomScoreAdj).padStart(5)}  ${row.points} points`);
  }
  return out;
}

export function predictCommand(o: { live?: boolean; json?: boolean; all?: boolean; lastOom?: boolean }, tool: string, snapshot?: string): number {
  if ((snapshot === undefined) === !o.live) {
    console.error('oomsim predict: give a snapshot file (written by `oomsim capture`) or --live, not both');
    return 2;
  }
  let c: CaptureSection | null;
  if (o.live) c = live(tool, false);
  else {
    const r = loadScenarioFile(snapshot!);
    if (!r.success) {
      for (const e of r.errors) console.error(formatIssue(e));
      return 1;
    }
    c = r.data.capture ?? null;
    if (c === null) {
      console.error(`${snapshot}: no capture: section: predict reads snapshots written by \`oomsim capture\` (for a hand-written scenario use \`oomsim explain\`)`);
      return 1;
    }
  }
  if (c === null) return 1;
  const p = predict(c);
  const last = o.lastOom ? lastOom(p) : null;
  if (o.json) {
    const j = JSON.parse(predictJson(p)) as Record<string, unknown>;
    if (last) j.last_oom = last.check ? { ...last.check, report: { ...last.check.report, tasks: undefined } } : { error: last.error };
    process.stdout.write(JSON.stringify(j, null, 2) + '\n');
  } else {
    for (const l of predictText(p, o.all ? Infinity : 20)) console.log(l);
    if (last) {
      console.log('');
      for (const l of last.check ? lastOomText(last.check) : [`last OOM: ${last.error}`]) console.log(l);
    }
  }
  return 0;
}
