/**
 * The kernel's OOM reports in its log (dmesg), as mm/oom_kill.c prints them: dump_tasks' "Tasks state" table
 * (pid, uid, tgid, total_vm, rss, rss_anon, rss_file, rss_shmem, pgtables_bytes, swapents, oom_score_adj, name;
 * memory in pages, pgtables in bytes), then the "oom-kill:constraint=..." line (dump_oom_victim) naming the OOM
 * memcg and the victim. Used to check a prediction against what the kernel saw at the OOM itself.
 */

export interface OomDumpTask {
  pid: number;
  uid: number;
  tgid: number;
  totalVm: number;
  rss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  pgtablesBytes: number;
  swapents: number;
  oomScoreAdj: number;
  name: string;
}

export interface OomReport {
  constraint: string;
  /** oom_memcg= (CONSTRAINT_MEMCG only). */
  oomMemcg: string | null;
  taskMemcg: string | null;
  victimPid: number;
  victimComm: string;
  /** The Tasks state table printed just before, in the kernel's order; [] when vm.oom_dump_tasks was 0. */
  tasks: OomDumpTask[];
}

const PREFIX = /^\s*(?:\[\s*[0-9.]+\]\s*)?/;
const ROW = /^\[\s*(\d+)\]\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(.*)$/;

/** Every OOM report in a kernel log text (dmesg output, with or without the [time] prefixes), oldest first. */
export function parseOomReports(log: string): OomReport[] {
  const out: OomReport[] = [];
  let table: OomDumpTask[] | null = null;
  for (const raw of log.split('\n')) {
    const line = raw.replace(PREFIX, '');
    if (line.startsWith('Tasks state (memory values in pages):')) {
      table = [];
      continue;
    }
    const m = ROW.exec(line);
    if (m && table !== null) {
      const n = m.slice(1, 12).map(Number);
      table.push({ pid: n[0]!, uid: n[1]!, tgid: n[2]!, totalVm: n[3]!, rss: n[4]!, rssAnon: n[5]!, rssFile: n[6]!, rssShmem: n[7]!, pgtablesBytes: n[8]!, swapents: n[9]!, oomScoreAdj: n[10]!, name: m[12]! });
      continue;
    }
    if (line.startsWith('oom-kill:')) {
      const kv = new Map<string, string>();
      for (const part of line.slice('oom-kill:'.length).split(',')) {
        const i = part.indexOf('=');
        if (i > 0) kv.set(part.slice(0, i), part.slice(i + 1));
      }
      out.push({
        constraint: kv.get('constraint') ?? '',
        oomMemcg: kv.get('oom_memcg') ?? null,
        taskMemcg: kv.get('task_memcg') ?? null,
        victimPid: Number(kv.get('pid') ?? -1),
        victimComm: kv.get('task') ?? '',
        tasks: table ?? [],
      });
      table = null;
    }
  }
  return out;
}

export interface ReportCheck {
  report: OomReport;
  /** The totalpages the kernel used: the global one, or the OOM memcg's from the capture; null if unknown. */
  totalpages: number | null;
  rows: { pid: number; name: string; oomScoreAdj: number; points: number }[];
  /** select_bad_process over the dumped tasks (ties to the later one); null without a table or totalpages. */
  predictedPid: number | null;
  agrees: boolean | null;
}

/**
 * Replays a kernel OOM report: oom_badness over the numbers the kernel dumped at that OOM, with its totalpages,
 * and the task select_bad_process would pick. `memcgTotalpages` maps an OOM memcg path to its totalpages (from a
 * capture of the same machine, mem_cgroup_get_max).
 */
export function checkReport(
  report: OomReport,
  globalTotalpages: number,
  memcgTotalpages: (path: string) => number | null,
  badness: (t: OomDumpTask, totalpages: number) => number | null,
): ReportCheck {
  const totalpages = report.constraint === 'CONSTRAINT_MEMCG' ? (report.oomMemcg === null ? null : memcgTotalpages(report.oomMemcg)) : globalTotalpages;
  if (totalpages === null || report.tasks.length === 0) return { report, totalpages, rows: [], predictedPid: null, agrees: null };
  const rows: ReportCheck['rows'] = [];
  let best: { pid: number; points: number } | null = null;
  for (const t of report.tasks) {
    const points = badness(t, totalpages);
    if (points === null) continue;
    rows.push({ pid: t.pid, name: t.name, oomScoreAdj: t.oomScoreAdj, points });
    if (best === null || points >= best.points) best = { pid: t.pid, points };
  }
  rows.sort((a, b) => b.points - a.points);
  const predictedPid = best?.pid ?? null;
  return { report, totalpages, rows, predictedPid, agrees: predictedPid === null ? null : predictedPid === report.victimPid };
}
