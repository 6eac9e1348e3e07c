/** Text and JSON reports of a replay (trace/replay.ts). */
import type { KernelKill, ReplayDecision, ReplayResult, ReplayRow } from './replay.js';
import { provenanceText } from './merge.js';

const s1 = (tMs: number) => `${(tMs / 1000).toFixed(1)}s`;
const mib = (kb: number) => `${Math.round(kb / 1024)} MiB`;

function victimText(d: ReplayDecision): string {
  if (!d.victims.length) return `${d.text} (no live task)`;
  const sig = d.action.type === 'kill' || d.action.type === 'kill_cgroup' ? d.action.signal : '';
  const who = d.victims.slice(0, 3).map((v) => `${v.comm}(${v.pid}) ${mib(v.rssKb)}`).join(', ') + (d.victims.length > 3 ? ` +${d.victims.length - 3} more` : '');
  return d.action.type === 'kill_cgroup' ? `${sig} cgroup ${d.action.cgroup}: ${who}` : `${sig} ${who}`;
}

function kernelText(k: KernelKill): string {
  const who = k.pid !== null ? `${k.comm}(${k.pid})` : `${k.count} kill${k.count > 1 ? 's' : ''}`;
  const where = k.scope === 'memcg' ? `memcg OOM${k.memcg ? ` in ${k.memcg}` : ''}` : k.scope === 'global' ? 'global OOM' : 'OOM';
  const src = k.source === 'kmsg' ? 'kernel log' : k.source === 'vmstat' ? 'vmstat oom_kill' : 'memcg oom_kill counter';
  return `${who} at ${s1(k.tMs)} (${where}; ${src})`;
}

/** The row's verdict in a few words. */
export function verdict(r: ReplayRow): string {
  if (r.notStarted) return 'would not start';
  if (r.cannotReplay) return 'cannot replay';
  if (r.errors.length) return 'error';
  return r.kills.length ? 'would kill' : 'never acts';
}

export function replayText(r: ReplayResult): string[] {
  const h = r.header;
  const span = (r.lastMs - r.firstMs) / 1000;
  const out: string[] = [
    `replay of ${r.file}: ${h.source}${h.host ? ` on ${h.host}` : ''}${h.kernel ? ` (Linux ${h.kernel})` : ''}${h.started ? ` from ${h.started}` : ''}; ${r.samples} samples over ${span.toFixed(1)} s${h.interval_ms ? `, every ${h.interval_ms} ms` : ''}${r.complete ? '' : '; no end record: the recording was cut, replayed up to its last sample'}`,
  ];
  out.push(...provenanceText(h));
  const firstKernel = r.kernel[0] ?? null;
  if (r.kernel.length) out.push(`kernel: ${r.kernel.map(kernelText).join('; ')}`);
  else out.push(`kernel: no OOM kill in the recording${h.source === 'record' || r.oomKillCounter > 0 ? ` (vmstat oom_kill +${r.oomKillCounter})` : ''}`);
  const rows = r.rows.map((x) => {
    const k = x.kills[0];
    const vsKernel = !k || !firstKernel ? '-' : k.tMs <= firstKernel.tMs ? `${((firstKernel.tMs - k.tMs) / 1000).toFixed(1)}s before` : `${((k.tMs - firstKernel.tMs) / 1000).toFixed(1)}s after`;
    return [x.label, verdict(x), k ? s1(k.tMs) : '-', k ? victimText(k) : x.notStarted || x.cannotReplay ? '-' : 'none', vsKernel, String(x.kills.length), String(x.polls)];
  });
  const head = ['policy', 'verdict', 'first kill', 'victim', 'vs kernel', 'kills', 'polls'];
  const w = head.map((c, i) => Math.max(c.length, ...rows.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  out.push(line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line));
  for (const x of r.rows) {
    if (x.notStarted) out.push(`${x.label}: ${x.notStarted}`);
    if (x.cannotReplay) out.push(`${x.label}: error: ${x.cannotReplay}`);
    for (const e of x.errors) out.push(`${x.label}: error ${e}`);
    for (const d of x.kills.slice(1, 6)) out.push(`${x.label}: then at ${s1(d.tMs)}: ${victimText(d)}`);
    if (x.kills.length > 6) out.push(`${x.label}: ... ${x.kills.length - 6} more`);
    const other = Object.entries(x.otherActions);
    if (other.length) out.push(`${x.label}: also ${other.map(([k, n]) => `${k} x${n}`).join('; ')}`);
  }
  if (r.rows.some((x) => x.kills.length > 1)) out.push('(kills after the first read the recording as if the pressure had stayed: the victim leaves the task table, its memory does not)');
  return out;
}

/** JSON report (numbers as numbers; the policy actions as recorded). */
export function replayJson(r: ReplayResult): string {
  return JSON.stringify(
    {
      file: r.file,
      header: r.header,
      samples: r.samples,
      first_ms: r.firstMs,
      last_ms: r.lastMs,
      complete: r.complete,
      kernel: r.kernel,
      vmstat_oom_kill_delta: r.oomKillCounter,
      policies: r.rows.map((x) => ({ ...x, verdict: verdict(x), first_kill: x.kills[0] ?? null })),
      series: r.series,
    },
    (_k, v) => (typeof v === 'bigint' ? Number(v) : v),
    2,
  );
}
