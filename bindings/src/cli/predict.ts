/** `oomsim capture` and `oomsim predict`: a live machine as a scenario file, and the OOM victim it predicts. */
import { existsSync } from 'node:fs';
import { predictJson, predictText } from '../capture/format.js';
import { predict } from '../capture/predict.js';
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

export function predictCommand(o: { live?: boolean; json?: boolean; all?: boolean }, tool: string, snapshot?: string): number {
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
  if (o.json) process.stdout.write(predictJson(p));
  else for (const l of predictText(p, o.all ? Infinity : 20)) console.log(l);
  return 0;
}
