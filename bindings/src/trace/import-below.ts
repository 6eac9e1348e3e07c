/**
 * `--from below`: the output of Facebook below's `below dump system|process|cgroup`, in its CSV (`-O csv`, also
 * `-O tsv`) and JSON (`-O json`) forms, with or without `--raw`. One file per dump kind; several files (a system,
 * a process and a cgroup dump of the same time range) are merged by their `Timestamp`, since below samples every
 * kind at the same collection time. What below prints, as read from its source (below/dump/src/{print,tmain,
 * system,process,cgroup}.rs, below/render/src/default_configs.rs, below/model/src/{system,process,cgroup}.rs):
 *
 * - Columns are the fields' *titles* ("Total", "Swap Free", "RSS", "Mem Pressure"), not their ids.
 * - CSV: one title line (no quoting: a value with a comma is not escaped), every title and value followed by the
 *   separator; system dumps one row per sample, process and cgroup one row per process/cgroup and an empty line
 *   after each sample. JSON: `[` then one sample per line, each after the first led by `,`, then `]`; a system
 *   sample is an object, a process or cgroup sample an array of objects; every value is a string.
 * - Values: sizes in bytes, or (without `--raw`) rounded to one decimal of B/KB/MB/GB/TB (base 1024: "15.5 GB");
 *   percents with a `%` suffix; `?` where below had no value; cgroup limits `max`.
 * - Memory (system `Total` etc.) is /proc/meminfo's kB × 1024; `OOM Kills` is vmstat oom_kill (a counter); a
 *   process's `RSS` is stat's rss × page size, `Swap` is VmSwap; a cgroup's `Mem Total` is memory.current, and its
 *   pressure columns are memory.pressure's avg10 only (`Mem Some Pressure` some, `Mem Pressure` full). cgroup
 *   `Pgscan` and the other event columns are per-second rates, not counters.
 * - below runs on cgroup v2 only; the root cgroup's Name is `<root>` and its Full Path is empty. The root's
 *   memory.pressure is the system's (/proc/pressure/memory) on v2.
 *
 * What below does not record, each named by the replay when a daemon needs it: oom_score and oom_score_adj (so
 * earlyoom and nohang cannot replay), Inactive(file) (only Inactive and File = active + inactive; so the kubelet
 * cannot), PSI avg60/avg300 and the stall totals (so oomd and lmkd cannot).
 */
import { TRACE_FORMAT, TRACE_VERSION, type TraceHeader, type TraceSample } from './format.js';
import { readLines, TraceError } from './lines.js';
import type { LocatedRecord, TraceStream } from './reader.js';
import type { ImportOptions } from './import-options.js';

type Kind = 'system' | 'process' | 'cgroup';

/** system title -> /proc/meminfo key (bytes in the dump, kB in the trace). */
const SYSTEM_MEMINFO: Record<string, string> = {
  Total: 'MemTotal', Free: 'MemFree', Available: 'MemAvailable', Buffers: 'Buffers', Cached: 'Cached', 'Swap Cached': 'SwapCached',
  Active: 'Active', Inactive: 'Inactive', Unevictable: 'Unevictable', Mlocked: 'Mlocked', 'Swap Total': 'SwapTotal', 'Swap Free': 'SwapFree',
  Dirty: 'Dirty', Writeback: 'Writeback', 'Anon Pages': 'AnonPages', Mapped: 'Mapped', Shmem: 'Shmem', Kreclaimable: 'KReclaimable', Slab: 'Slab',
  'Slab Reclaimable': 'SReclaimable', 'Slab Unreclaimable': 'SUnreclaim', 'Kernel Stack': 'KernelStack', 'Page Tables': 'PageTables', Hugetlb: 'Hugetlb',
};
/** Titles below prints that no daemon reads (read and dropped without a warning). */
const SYSTEM_OTHER = new Set([
  'Hostname', 'Kernel Version', 'OS Release', 'OOM Kills', 'Anon', 'File', 'Anon Huge Pages', 'Shmem Huge Pages', 'File Huge Pages', 'Cma Total', 'Cma Free',
  'Vmalloc Total', 'Vmalloc Used', 'Vmalloc Chunk', 'Direct Map 4K', 'Direct Map 2M', 'Direct Map 1G', 'Usage', 'User', 'Idle', 'System', 'Nice', 'IOWait', 'Irq',
  'SoftIrq', 'Stolen', 'Guest', 'Guest Nice', 'Page In', 'Page Out', 'Swap In', 'Swap Out', 'Pgsteal Kswapd', 'Pgsteal Direct', 'Pgscan Kswapd', 'Pgscan Direct',
  'Total Interrupts', 'Context Switches', 'Boot Time Epoch', 'Total Procs', 'Running Procs', 'Blocked Procs',
]);
const PROCESS_USED = ['Pid', 'Ppid', 'Comm', 'State', 'RSS', 'Swap', 'Cgroup'];
const PROCESS_OTHER = new Set([
  'NStgid', 'PID NS', 'Uptime(sec)', 'Cmdline', 'Exe Path', 'Stack', 'CPU', 'CPU User', 'CPU System', 'User CPU', 'Sys CPU', 'Threads', 'Processor',
  'Reads', 'Writes', 'RW Total', 'RW', 'Minflt', 'Majflt', 'VM Size', 'Lock', 'Pin', 'Anon', 'File', 'Shmem', 'PTE', 'Huge TLB',
]);
/** cgroup title -> memcg file (bytes, or "max"). */
const CGROUP_FILES: Record<string, string> = {
  'Mem Total': 'memory.current', 'Mem Swap': 'memory.swap.current', 'Mem Min': 'memory.min', 'Mem Low': 'memory.low', 'Mem High': 'memory.high',
  'Mem Max': 'memory.max', 'Swap Max': 'memory.swap.max', 'OOM Group': 'memory.oom.group',
};
/** cgroup title -> memory.stat key. */
const CGROUP_STAT: Record<string, string> = {
  'Mem Anon': 'anon', 'Mem File': 'file', 'Mem Shmem': 'shmem', 'Active Anon': 'active_anon', 'Inactive Anon': 'inactive_anon', 'Active File': 'active_file', 'Inactive File': 'inactive_file',
};
const CGROUP_USED = new Set(['Name', 'Full Path', 'Mem Some Pressure', 'Mem Pressure', 'Pgscan', ...Object.keys(CGROUP_FILES), ...Object.keys(CGROUP_STAT)]);
/** The other cgroup titles below prints (cpu, io, network, events, the rest of memory.stat and of the properties). */
const CGROUP_OTHER = /^(Inode Number|CPU.*|I\/O.*|Throttled Pct|Nr .*|RBytes|WBytes|DBytes|[RWD] I\/O|RW Total|Cost .*|Tids .*|Mem (Slab|Sock|Zswap|Zswapped)|Kernel.*|Slab.*|Zswap.*|File .*|Anon THP|Shmem THP|Swap Cached|Unevictable|Hugetlb|Pg\w+|Workingset .*|WS .*|THP .*|Events .*|Controllers|SubtreeControl|Allowed .*|Effective .*|OOM Group|Zswap WB|Rx .*|Tx .*|Nr Descendants|Nr Dying Descendants)$/;
const COMMON = new Set(['Timestamp', 'Datetime']);

/** PSI fields below has no column for: its cgroup pressure columns are memory.pressure's avg10 (cgroup.rs CgroupPressureModel::new). */
const PSI_LACKS = ['some.avg60', 'some.avg300', 'some.total', 'full.avg60', 'full.avg300', 'full.total'].map((f) => `pressure.${f}`);
const STATE: Record<string, string> = { RUNNING: 'R', SLEEPING: 'S', UNINTERRUPTIBLE_SLEEP: 'D', STOPPED: 'T', TRACING_STOPPED: 't', ZOMBIE: 'Z', DEAD: 'X', IDLE: 'I', PARKED: 'P' };
const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** One below value as a number (bytes, percent, count), null for `?`, or the string `max`. */
export function belowValue(v: string): { n: number | null; max?: boolean; rounded?: boolean } | null {
  const t = v.trim();
  if (t === '?' || t === '') return { n: null };
  if (t === 'max') return { n: null, max: true };
  let m = /^(-?\d+(?:\.\d+)?)(%|\/s| pages\/s)?$/.exec(t);
  if (m) return { n: Number(m[1]) };
  m = /^(\d+(?:\.\d+)?) ([KMGTPE]?B)(\/s)?$/.exec(t);
  if (m) return { n: Math.round(Number(m[1]) * 1024 ** UNITS.indexOf(m[2])), rounded: m[2] !== 'B' };
  return null;
}

interface Group {
  ts: number;
  line: number;
  rows: Record<string, string>[];
}
interface BelowFile {
  file: string;
  kind: Kind;
  titles: string[];
  groups: AsyncGenerator<Group>;
}

function kindOf(file: string, line: number, titles: string[]): Kind {
  const has = (t: string) => titles.includes(t);
  if (has('Pid')) return 'process';
  if (has('Full Path') || has('Inode Number') || (has('Name') && titles.some((t) => t.startsWith('Mem ')))) return 'cgroup';
  if (Object.keys(SYSTEM_MEMINFO).some(has) || has('Hostname') || has('OOM Kills')) return 'system';
  throw new TraceError(file, line, `cannot tell which below dump this is from its titles (${titles.slice(0, 6).join(', ')}${titles.length > 6 ? ', ...' : ''}); expected \`below dump system\` (Total, Free, ...), \`process\` (Pid, ...) or \`cgroup\` (Name, Full Path, ...)`);
}

function checkTitles(file: string, line: number, kind: Kind, titles: string[], o: ImportOptions): void {
  if (!titles.includes('Timestamp') && !titles.includes('Datetime')) throw new TraceError(file, line, `the below ${kind} dump has no Timestamp or Datetime column; the samples need a time (dump with the default fields, or add -f timestamp)`);
  const known = (t: string) =>
    COMMON.has(t) || (kind === 'system' ? t in SYSTEM_MEMINFO || SYSTEM_OTHER.has(t) || /^CPU \d+ /.test(t) : kind === 'process' ? PROCESS_USED.includes(t) || PROCESS_OTHER.has(t) : CGROUP_USED.has(t) || CGROUP_OTHER.test(t));
  const unknown = titles.filter((t) => !known(t));
  if (unknown.length) o.warn?.(`${file}:${line}: below ${kind} columns ${unknown.join(', ')} are not ones this importer knows; ignored`);
  if (kind === 'process' && !titles.includes('RSS')) o.warn?.(`${file}:${line}: the below process dump has no RSS column (dump with -f mem or --detail); daemons that read a process's VmRSS cannot replay it`);
  if (kind === 'cgroup' && !titles.includes('Full Path')) o.warn?.(`${file}:${line}: the below cgroup dump has no Full Path column (add -f full_path): only the <root> row can be placed, as the system's PSI`);
}

const tsOf = (file: string, line: number, r: Record<string, string>): number => {
  if (r.Timestamp !== undefined) {
    if (!/^\d+$/.test(r.Timestamp.trim())) throw new TraceError(file, line, `Timestamp ${JSON.stringify(r.Timestamp)}: expected seconds since the epoch`);
    return Number(r.Timestamp);
  }
  const ms = Date.parse(`${(r.Datetime ?? '').trim().replace(' ', 'T')}Z`); // local time without a zone: only differences are used
  if (!Number.isFinite(ms)) throw new TraceError(file, line, `Datetime ${JSON.stringify(r.Datetime)}: expected YYYY-MM-DD hh:mm:ss`);
  return ms / 1000;
};

/** A CSV/TSV dump: the title line, then rows; a sample ends at an empty line or a new Timestamp. */
async function* csvGroups(file: string, lines: AsyncGenerator<{ text: string; no: number }>, titles: string[], sep: string): AsyncGenerator<Group> {
  let cur: Group | null = null;
  const cmd = titles.indexOf('Cmdline');
  for await (const l of lines) {
    if (l.text.trim() === '') {
      if (cur) yield cur;
      cur = null;
      continue;
    }
    let f = l.text.split(sep);
    if (f.at(-1) === '') f.pop(); // below ends every row with the separator
    if (f.length > titles.length && cmd >= 0) f = [...f.slice(0, cmd), f.slice(cmd, cmd + f.length - titles.length + 1).join(sep), ...f.slice(cmd + f.length - titles.length + 1)]; // an unquoted comma in a command line
    if (f.length !== titles.length) throw new TraceError(file, l.no, `${f.length} fields; the title line has ${titles.length} columns`);
    const r: Record<string, string> = {};
    titles.forEach((t, i) => (r[t] = f[i]));
    const ts = tsOf(file, l.no, r);
    if (cur && cur.ts !== ts) {
      yield cur;
      cur = null;
    }
    if (cur && cur.ts > ts) throw new TraceError(file, l.no, 'Timestamp goes back; below dumps are in time order');
    (cur ??= { ts, line: l.no, rows: [] }).rows.push(r);
  }
  if (cur) yield cur;
}

/** A JSON dump as below writes it: `[` + one sample per line (`,` before all but the first) + `]`. */
function jsonSample(file: string, no: number, text: string, first: boolean): Record<string, string>[] | null {
  let t = text.trim();
  if (first) t = t.replace(/^\[/, '');
  t = t.replace(/^,/, '').trim();
  if (t === '' || t === ']') return null;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    try {
      v = JSON.parse(t.replace(/\]$/, '')); // the last sample carries the closing bracket
    } catch (e) {
      throw new TraceError(file, no, `not a below dump JSON sample (${(e as Error).message}); below -O json writes one sample per line ([{...}, then ,{...}); re-compact a pretty-printed file with jq -c '.[]'`);
    }
  }
  const rows = Array.isArray(v) ? v : [v];
  for (const r of rows) {
    if (!r || typeof r !== 'object' || Array.isArray(r) || Object.values(r).some((x) => typeof x !== 'string')) throw new TraceError(file, no, 'a below dump JSON sample is an object (system) or an array of objects (process, cgroup) whose values are strings');
  }
  return rows as Record<string, string>[];
}

async function openBelow(file: string, o: ImportOptions): Promise<BelowFile> {
  const lines = readLines(file);
  let first = await lines.next();
  while (!first.done && first.value.text.trim() === '') first = await lines.next();
  if (first.done) throw new TraceError(file, 0, 'empty file; expected the output of below dump system|process|cgroup -O csv|json');
  const { text, no } = first.value;
  if (text.trimStart().startsWith('[')) {
    let rows = jsonSample(file, no, text, true);
    const titles = rows?.[0] ? Object.keys(rows[0]) : [];
    if (!titles.length) throw new TraceError(file, no, 'the first below JSON sample is empty');
    const kind = kindOf(file, no, titles);
    checkTitles(file, no, kind, titles, o);
    async function* groups(): AsyncGenerator<Group> {
      let line = no;
      let last = -Infinity;
      for (;;) {
        if (rows && rows.length) {
          const ts = tsOf(file, line, rows[0]);
          if (ts < last) throw new TraceError(file, line, 'Timestamp goes back; below dumps are in time order');
          last = ts;
          yield { ts, line, rows };
        }
        const n = await lines.next();
        if (n.done) return;
        line = n.value.no;
        rows = jsonSample(file, line, n.value.text, false);
      }
    }
    return { file, kind, titles, groups: groups() };
  }
  const sep = text.includes('\t') ? '\t' : ',';
  const titles = text.split(sep).map((t) => t.trim());
  if (titles.at(-1) === '') titles.pop();
  if (titles.some((t) => /^\d+$/.test(t)) || !titles.some((t) => COMMON.has(t) || /[A-Za-z]/.test(t))) throw new TraceError(file, no, 'the first line is data, not below\'s title line (dumped with --disable-title?); dump without it');
  const kind = kindOf(file, no, titles);
  checkTitles(file, no, kind, titles, o);
  return { file, kind, titles, groups: csvGroups(file, lines, titles, sep) };
}

/** The state that lasts across samples: the integrated pgscan counter of each memcg. */
interface Carry {
  pgscan: Map<string, number>;
  lastTs: number | null;
}

function fill(s: TraceSample, h: TraceHeader, f: BelowFile, g: Group, carry: Carry, o: ImportOptions, warned: Set<string>): void {
  const num = (r: Record<string, string>, t: string): number | null | 'max' => {
    const v = belowValue(r[t]);
    if (v === null) throw new TraceError(f.file, g.line, `column ${t}: ${JSON.stringify(r[t])} is not a below value (a number, a size like 15.5 GB, a percent, ? or max)`);
    if (v.rounded && !warned.has(f.file)) {
      warned.add(f.file);
      o.warn?.(`${f.file}:${g.line}: sizes are below's rounded form (${r[t].trim()}), exact to 0.05 of the unit shown; dump with --raw for bytes`);
    }
    return v.max ? 'max' : v.n;
  };
  if (f.kind === 'system') {
    const r = g.rows[0];
    s.meminfo ??= {};
    for (const [t, k] of Object.entries(SYSTEM_MEMINFO)) {
      if (!(t in r)) continue;
      const v = num(r, t);
      if (typeof v === 'number') s.meminfo[k] = Math.round(v / 1024);
    }
    if ('OOM Kills' in r) {
      const v = num(r, 'OOM Kills');
      if (typeof v === 'number') (s.vmstat ??= {}).oom_kill = v;
    }
    if (r.Hostname && r.Hostname !== '?') h.host ??= r.Hostname.trim();
    if (r['Kernel Version'] && r['Kernel Version'] !== '?') h.kernel ??= r['Kernel Version'].trim();
    return;
  }
  if (f.kind === 'process') {
    const cols = h.task_columns!;
    s.tasks ??= [];
    for (const r of g.rows) {
      const pid = num(r, 'Pid');
      if (typeof pid !== 'number') continue;
      const row: (number | string)[] = [];
      for (const c of cols) {
        if (c === 'pid') row.push(pid);
        else if (c === 'ppid') row.push((num(r, 'Ppid') as number | null) ?? 0);
        else if (c === 'comm') row.push(r.Comm.trim());
        else if (c === 'state') row.push(STATE[r.State.trim()] ?? r.State.trim());
        else if (c === 'rss_kb') row.push(Math.round(((num(r, 'RSS') as number | null) ?? 0) / 1024));
        else if (c === 'swap_kb') row.push(Math.round(((num(r, 'Swap') as number | null) ?? 0) / 1024));
        else if (c === 'memcg') row.push(r.Cgroup.trim() === '?' || r.Cgroup.trim() === '' ? '/' : r.Cgroup.trim());
      }
      s.tasks.push(row);
    }
    return;
  }
  const dt = carry.lastTs === null ? 0 : g.ts - carry.lastTs;
  s.memcg ??= {};
  for (const r of g.rows) {
    const full = r['Full Path']?.trim();
    const path = full !== undefined ? (full === '' ? '/' : full) : r.Name?.trim() === '<root>' ? '/' : null;
    if (path === null) continue;
    const files: Record<string, string> = {};
    for (const [t, file] of Object.entries(CGROUP_FILES)) {
      if (!(t in r)) continue;
      const v = num(r, t);
      // Limits: `max` as rendered, -1 with --raw (below stores "max" as -1: MaxOrReadableSize).
      if (v !== null) files[file] = v === 'max' || (v === -1 && file !== 'memory.current' && file !== 'memory.swap.current') ? 'max' : String(Math.round(v));
    }
    const stat: string[] = [];
    for (const [t, k] of Object.entries(CGROUP_STAT)) {
      const v = t in r ? num(r, t) : null;
      if (typeof v === 'number') stat.push(`${k} ${Math.round(v)}`);
    }
    if ('Pgscan' in r) {
      // A rate in the dump (pages/s over the interval); memory.stat holds the counter: integrate rate × interval.
      const rate = num(r, 'Pgscan');
      if (typeof rate === 'number') {
        const c = (carry.pgscan.get(path) ?? 0) + Math.round(rate * dt);
        carry.pgscan.set(path, c);
        stat.push(`pgscan ${c}`);
      }
    }
    if (stat.length) files['memory.stat'] = stat.join('\n');
    const some = 'Mem Some Pressure' in r ? num(r, 'Mem Some Pressure') : null, fullP = 'Mem Pressure' in r ? num(r, 'Mem Pressure') : null;
    if (typeof some === 'number' || typeof fullP === 'number') {
      const a = (x: number | null | 'max') => (typeof x === 'number' ? x : 0);
      files['memory.pressure'] = `some avg10=${a(some).toFixed(2)} avg60=0.00 avg300=0.00 total=0\nfull avg10=${a(fullP).toFixed(2)} avg60=0.00 avg300=0.00 total=0`;
      if (path === '/') s.pressure = { some: { avg10: a(some), avg60: 0, avg300: 0, total: 0 }, full: { avg10: a(fullP), avg60: 0, avg300: 0, total: 0 } };
    }
    s.memcg[path] = files;
  }
  carry.lastTs = g.ts;
}

/** Reads one or more below dumps (one per kind) into one trace stream, samples merged by Timestamp. */
export function importBelow(files: string[], o: ImportOptions = {}): TraceStream {
  const h: TraceHeader = { format: TRACE_FORMAT, version: TRACE_VERSION, source: 'below', tool: 'below dump', memcg: { version: 'v2', mount: '/sys/fs/cgroup' }, lacks: [] };
  async function* records(): AsyncGenerator<LocatedRecord> {
    const opened: BelowFile[] = [];
    for (const f of files) {
      const b = await openBelow(f, o);
      const other = opened.find((x) => x.kind === b.kind);
      if (other) throw new TraceError(f, 0, `a second below ${b.kind} dump (the first is ${other.file}); give at most one file per kind`);
      opened.push(b);
    }
    const lacks = new Set<string>();
    const proc = opened.find((b) => b.kind === 'process');
    if (proc) {
      const map: [string, string][] = [['Pid', 'pid'], ['Ppid', 'ppid'], ['Comm', 'comm'], ['State', 'state'], ['RSS', 'rss_kb'], ['Swap', 'swap_kb'], ['Cgroup', 'memcg']];
      h.task_columns = map.filter(([t]) => proc.titles.includes(t)).map(([, c]) => c);
    }
    const cg = opened.find((b) => b.kind === 'cgroup');
    if (cg) {
      PSI_LACKS.forEach((x) => lacks.add(x));
      if (!cg.titles.includes('Mem Some Pressure')) lacks.add('pressure.some.avg10');
      if (!cg.titles.includes('Mem Pressure')) lacks.add('pressure.full.avg10');
      if (!cg.titles.includes('Pgscan')) lacks.add('memcg.pgscan');
    }
    h.lacks = [...lacks];
    const heads = await Promise.all(opened.map((b) => b.groups.next()));
    const carry: Carry = { pgscan: new Map(), lastTs: null };
    const warned = new Set<string>();
    let t0: number | null = null, prevTs: number | null = null, n = 0;
    for (;;) {
      const live = heads.map((x, i) => ({ x, i })).filter((e) => !e.x.done);
      if (!live.length) break;
      const ts = Math.min(...live.map((e) => (e.x.value as Group).ts));
      const s: TraceSample = { type: 'sample', t_ms: 0 };
      let line = 0, at = '';
      for (const e of live) {
        const g = e.x.value as Group;
        if (g.ts !== ts) continue;
        if (!line) (line = g.line), (at = opened[e.i].file);
        fill(s, h, opened[e.i], g, carry, o, warned);
        heads[e.i] = await opened[e.i].groups.next();
      }
      t0 ??= ts;
      if (prevTs !== null && h.interval_ms === undefined) h.interval_ms = Math.round((ts - prevTs) * 1000);
      prevTs = ts;
      s.t_ms = Math.round((ts - t0) * 1000);
      n++;
      yield { record: s, line, file: at };
    }
    if (n === 0) throw new TraceError(files[0], 0, 'no below samples; expected the output of below dump system|process|cgroup -O csv|json');
  }
  return { header: h, records: records() };
}
