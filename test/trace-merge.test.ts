/**
 * Recordings of one machine by several tools, merged by time (bindings/src/trace/merge.ts, open.ts): per-field
 * provenance, `lacks` as what no input records, the time range every input covers, and located errors for inputs
 * that cannot be one machine's view (other host, kernel, MemTotal, sysctl), share no time, or have no wall clock.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mainAsync } from '../bindings/src/cli/main.js';
import { openRecordings } from '../bindings/src/trace/open.js';
import { mergeTraces } from '../bindings/src/trace/merge.js';
import { replayTrace } from '../bindings/src/trace/replay.js';
import { TRACE_FORMAT, type TraceHeader, type TraceRecord, type TraceSample } from '../bindings/src/trace/format.js';
import type { LocatedRecord, TraceStream } from '../bindings/src/trace/reader.js';
import { failure, records, samples, tempDir } from './trace-helpers.js';

const F = 'test/fixtures/trace';
const REC = `${F}/record-vm.jsonl`, PSI = `${F}/psi2log-mode2-log.txt`, VM = `${F}/vmstat-t-vm.txt`;
const BELOW = [`${F}/below-system.csv`, `${F}/below-process.json`, `${F}/below-cgroup.csv`];
const d = tempDir('oomsim-merge-');
const open = (files: string[], from?: string) => openRecordings(files, from).then((r) => r.stream);
/** A copy of the record fixture with its header and samples changed. */
function recordVariant(name: string, h: (x: Record<string, unknown>) => void, s: (x: TraceSample) => void = () => {}): string {
  const [head, ...rest] = readFileSync(REC, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  h(head);
  for (const r of rest) if (r.type === 'sample') s(r);
  writeFileSync(`${d}/${name}`, [head, ...rest].map((x) => JSON.stringify(x)).join('\n') + '\n');
  return `${d}/${name}`;
}

describe('merging recordings of different tools', () => {
  it('record + psi2log + vmstat: one view over the time all three cover, each field from one input', async () => {
    const t = await open([VM, PSI, REC], 'vmstat,psi2log,trace');
    const h = t.header;
    expect(h.source).toBe('merge');
    expect(h.sources!.map((s) => s.source)).toEqual(['vmstat', 'psi2log', 'record']);
    expect(h.host).toBe('vm');
    const p = h.provenance!;
    // vmstat is first: the meminfo fields it has are its; the rest are the recorder's.
    expect([p['meminfo.MemFree'], p['meminfo.Active'], p['meminfo.MemTotal'], p['meminfo.MemAvailable'], p.tasks]).toEqual([0, 0, 2, 2, 2]);
    // psi2log mode 2 records avg10 and totals, lacks avg60/avg300: those come from the recording that has them.
    expect([p['pressure.some.avg10'], p['pressure.full.total'], p['pressure.some.avg60'], p['pressure.full.avg300']]).toEqual([1, 1, 2, 2]);
    expect(h.lacks).toEqual([]);
    const ss = await samples(t);
    // From the latest first sample (psi2log's, 09:50:02.005) to the earliest last one (psi2log's, 09:50:08.012).
    expect(h.started).toBe('2026-12-07T09:50:02.005Z');
    expect(ss[0].t_ms).toBe(0);
    expect(ss.at(-1)!.t_ms).toBe(6007);
    const times = ss.map((s) => s.t_ms);
    expect(times).toEqual([...new Set(times)].sort((a, b) => a - b));
    // a vmstat line (09:50:05) and a psi2log line (09:50:06.010) each make a merged sample
    expect(times).toEqual(expect.arrayContaining([2995, 4005]));
    const vm = await samples(await open([VM], 'vmstat'));
    const rec = await samples(await open([REC]));
    const at = ss.find((s) => s.t_ms === 2995)!; // 09:50:05: vmstat's 5th line, the recording's sample at 5 s
    expect(at.meminfo!.MemFree).toBe(vm[4].meminfo!.MemFree);
    expect(at.meminfo!.MemFree).not.toBe(rec[5].meminfo!.MemFree);
    expect(at.meminfo!.MemTotal).toBe(rec[5].meminfo!.MemTotal);
    expect(at.tasks).toEqual(rec[5].tasks);
    expect(at.pressure!.some!.avg10).toBe(10); // psi2log's line at 09:50:04.007
    expect(at.pressure!.some!.avg60).toBe(rec[5].pressure!.some!.avg60);
  });

  it('lacks: what some input lacks and no input records', async () => {
    const noPsi = recordVariant('nopsi.jsonl', () => {}, (s) => delete s.pressure);
    const t = await open([PSI, noPsi], 'psi2log,trace');
    expect(t.header.lacks).toEqual(['pressure.some.avg60', 'pressure.some.avg300', 'pressure.full.avg60', 'pressure.full.avg300']);
    const r = await replayTrace('m', t.header, t.records, [{ name: 'oomd' }, { name: 'lmkd' }, { name: 'earlyoom' }]);
    expect(r.rows[0].cannotReplay).toMatch(/^oomd needs \/proc\/pressure\/memory full avg60, \/proc\/pressure\/memory full avg300/);
    expect(r.rows[1].cannotReplay).toBeNull(); // lmkd: totals and full avg10 from psi2log, the process table from the recording
    expect(r.rows[1].polls).toBeGreaterThan(0);
    expect(r.rows[2].cannotReplay).toBeNull();
    // With the full recording in, nothing is lacked (it records avg60/avg300).
    expect((await open([PSI, REC], 'psi2log,trace')).header.lacks).toEqual([]);
  });

  it('the merged view is complete when every oomsim recording in it is; the replay says when one was cut', async () => {
    const all = await records(await open([REC, VM], 'trace,vmstat'));
    expect(all.at(-1)).toMatchObject({ type: 'end', reason: 'merged' });
    const cut = `${d}/cut.jsonl`;
    writeFileSync(cut, readFileSync(REC, 'utf8').trim().split('\n').slice(0, -1).join('\n') + '\n');
    const t = await open([cut, VM], 'trace,vmstat');
    expect((await replayTrace('m', t.header, t.records, [{ name: 'earlyoom' }])).complete).toBe(false);
  });

  it('errors: another machine, no common time, no wall clock, a malformed input, a bad --from list', async () => {
    expect(await failure(open([...BELOW, `${F}/kubelet-summary.jsonl`], 'below,below,below,kubelet'))).toMatch(/kubelet-summary\.jsonl: host "node-a", but .*below-system\.csv \+ .* says "web1": merged recordings must be of one machine/);
    // the same host by its short and full name is one machine
    expect((await open([REC, recordVariant('fq.jsonl', (h) => (h.host = 'VM.example.com'))])).header.host).toBe('vm');
    expect(await failure(open([REC, recordVariant('k.jsonl', (h) => (h.kernel = '6.1.0'))]))).toMatch(/k\.jsonl: kernel "6\.1\.0", but .*record-vm\.jsonl says "6\.18\.44"/);
    expect(await failure(open([REC, recordVariant('s.jsonl', (h) => ((h.sysctl as Record<string, number>)['vm.swappiness'] = 10))]))).toMatch(/s\.jsonl: vm\.swappiness "10", but .*record-vm\.jsonl says "60"/);
    const big = recordVariant('m.jsonl', (h) => (h.started = '2026-12-07T09:50:00.500Z'), (s) => (s.meminfo!.MemTotal *= 2));
    expect(await failure(samples(await open([REC, big])))).toMatch(/m\.jsonl: MemTotal 8388608 kB, but .*record-vm\.jsonl says 4194304 kB \(more than 1 % apart\)/);
    expect(await failure(samples(await open([`${F}/vmstat-a-t.txt`, PSI], 'vmstat,psi2log')))).toMatch(/vmstat-a-t\.txt: its samples end at 2026-12-07T09:48:51\.000Z, before .*psi2log-mode2-log\.txt starts at 2026-12-07T09:50:02\.005Z: the recordings have no time in common/);
    expect(await failure(open([REC, `${F}/vmstat-n-1.txt`], 'trace,vmstat'))).toMatch(/vmstat-n-1\.txt:3: this vmstat recording has no wall-clock time.*vmstat with -t/);
    // A line cut short after the merge has started: the error is at its line.
    const badVm = `${d}/bad-vm.txt`;
    writeFileSync(badVm, readFileSync(VM, 'utf8').split('\n').map((l, i) => (i === 5 ? l.replace(/ 0 +0 2026/, ' 2026') : l)).join('\n'));
    expect(await failure(samples(await open([REC, badVm], 'trace,vmstat')))).toMatch(/bad-vm\.txt:6: 17 fields; the header has 18 columns \(the timestamp is date and time\), so expected 19/);
    expect(await failure(open([REC, VM], 'trace,vmstat,psi2log'))).toMatch(/--from trace,vmstat,psi2log: 3 tools for 2 files/);
    expect(await failure(open([REC, VM], 'trace,vmstt'))).toMatch(/unknown tool "vmstt"; built in: trace, vmstat, psi2log, below, kubelet/);
    expect(await failure(open([REC, `${F}/bad-trace.jsonl`]))).toMatch(/bad-trace\.jsonl:\d+: /);
  });

  it('property: merged samples are at the union of input times in the common range, each field the owner\'s latest value', async () => {
    const stream = (host: string, startedMs: number, ts: number[], key: string, base: number): TraceStream => {
      const header: TraceHeader = { format: TRACE_FORMAT, version: 1, source: 'record', host, started: new Date(startedMs).toISOString() };
      async function* recs(): AsyncGenerator<LocatedRecord> {
        for (const [i, t] of ts.entries()) yield { record: { type: 'sample', t_ms: t, meminfo: { [key]: base + i, Shared: base * 10 + i } } as TraceRecord, line: i + 2 };
      }
      return { header, records: recs() };
    };
    const times = fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 12 }).map((a) => a.sort((x, y) => x - y));
    await fc.assert(
      fc.asyncProperty(times, times, fc.integer({ min: -3000, max: 3000 }), async (ta, tb, shift) => {
        const a0 = 1_800_000_000_000, b0 = a0 + shift;
        const absA = ta.map((t) => a0 + t), absB = tb.map((t) => b0 + t);
        const start = Math.max(absA[0], absB[0]), end = Math.min(absA.at(-1)!, absB.at(-1)!);
        const m = mergeTraces([{ file: 'a', stream: stream('h', a0, ta, 'A', 100) }, { file: 'b', stream: stream('h', b0, tb, 'B', 200) }]);
        if (start > end) {
          expect(await failure(m.then((t) => samples(t)))).toMatch(/the recordings have no time in common/);
          return;
        }
        const t = await m;
        expect(t.header.provenance).toEqual({ 'meminfo.A': 0, 'meminfo.Shared': 0, 'meminfo.B': 1 });
        const got = await samples(t);
        const want = [...new Set([...absA, ...absB])].filter((x) => x >= start && x <= end).sort((x, y) => x - y);
        expect(got.map((s) => s.t_ms + start)).toEqual(want);
        for (const s of got) {
          const at = s.t_ms + start;
          const ia = absA.filter((x) => x <= at).length - 1, ib = absB.filter((x) => x <= at).length - 1;
          expect(s.meminfo).toEqual({ A: 100 + ia, Shared: 1000 + ia, B: 200 + ib });
        }
      }),
      { numRuns: 200, seed: 1616 },
    );
  });

  it('oomsim replay: --from one tool per file, the JSON report carries sources and provenance; --simulate takes the merged view', async () => {
    const log = console.log, err = console.error;
    const out: string[] = [], errs: string[] = [];
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    console.error = (...a: unknown[]) => void errs.push(a.join(' '));
    let code: number, code2: number;
    try {
      code = await mainAsync(['replay', PSI, REC, '--from', 'psi2log,trace', '--policies', 'lmkd,earlyoom', '--json', `${d}/r.json`]);
      code2 = await mainAsync(['replay', PSI, REC, '--from', 'psi2log,trace', '--simulate', '--policies', 'earlyoom']);
    } finally {
      console.log = log;
      console.error = err;
    }
    expect(code, errs.join('\n')).toBe(0);
    expect(code2, errs.join('\n')).toBe(0);
    const j = JSON.parse(readFileSync(`${d}/r.json`, 'utf8'));
    expect(j.header.sources.map((s: { file: string }) => s.file)).toEqual([PSI, REC]);
    expect(j.header.provenance['pressure.some.total']).toBe(0);
    expect(out.join('\n')).toMatch(/merged by time from 2 recordings:\n {2}.*psi2log-mode2-log\.txt \(psi2log, from 2026-12-07T09:50:02\.005Z\): PSI some\.avg10 some\.total full\.avg10 full\.total/);
    expect(out.join('\n')).toMatch(/recording: \d+ samples/);
    expect(errs.join('\n')).toMatch(/warning: merged view ends at 2026-12-07T09:50:08\.012Z, where .*psi2log-mode2-log\.txt ends/);
  });
});
