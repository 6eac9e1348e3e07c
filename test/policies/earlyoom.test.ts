/**
 * earlyoom rules against rfjakob/earlyoom's own tests (v1.9.0-9-g5c3e3ea), restated: testsuite_unit_test.go
 * (TestParseTuple, Test_is_larger, Test_is_larger_by_rss) and testsuite_cli_test.go (TestCli: the option limits and
 * the startup lines), plus main.c/meminfo.c/kill.c rules.
 */
import { describe, expect, it } from 'vitest';
import {
  comm15, earlyoomLimits, earlyoomVictim, isLarger, killLine, lowMemLine, lowmemSig, memStatsLine, parseMeminfo, parseTermKillTuple, sleepTimeMs, startupLines,
} from '../../bindings/src/policy/builtin/earlyoom.js';
import { createPolicy, parsePolicyParams } from '../../bindings/src/policy/index.js';
import { task, view } from '../policy-helpers.js';

describe('parse_term_kill_tuple (testsuite_unit_test.go TestParseTuple)', () => {
  const ok: [string, number, number, number][] = [
    ['2,1', 100, 2, 1], ['20,10', 100, 20, 10], ['30', 100, 30, 15], ['5,0', 100, 5, 0], ['5,9', 100, 9, 9], ['0,5', 100, 5, 5], ['4,5', 100, 5, 5],
    ['4.0,2.0', 100, 4, 2], ['3.1415,2.7182', 100, 3.1415, 2.7182], ['3.1415', 100, 3.1415, 3.1415 / 2],
  ];
  it.each(ok)('%s (limit %d) -> term %d, kill %d', (arg, limit, term, kill) => {
    const t = parseTermKillTuple(arg, limit);
    expect([t.term, t.kill]).toEqual([term, kill]);
  });
  const bad: [string, number][] = [
    ['30', 20], ['22[,20]', 100], ['220[,160]', 300], ['180[,170]', 300], ['0', 100], ['0,0', 100], ['4,0,2,0', 100], ['1.' + '123'.repeat(100), 100],
    ['x1,x2', 100], ['1,x2', 100], ['1x,2x', 100], ['1.1.', 100], ['1,2..', 100],
  ];
  it.each(bad)('%s (limit %d) fails', (arg, limit) => expect(() => parseTermKillTuple(arg, limit)).toThrow());
  it('error texts are earlyoom\'s', () => {
    expect(() => parseTermKillTuple('30', 20)).toThrow('value 30.000000 exceeds limit 20');
    expect(() => parseTermKillTuple('1,-1', 99)).toThrow('value -1.000000 below zero');
    expect(() => parseTermKillTuple('1x', 99)).toThrow("trailing garbage 'x'");
    expect(() => parseTermKillTuple('0', 99)).toThrow('both SIGTERM and SIGKILL values are zero');
    expect(() => parseTermKillTuple('1'.repeat(300), 99)).toThrow('argument too long (300 bytes)');
    expect(parseTermKillTuple('4,5', 100).warning).toBe('warning: SIGTERM value 4.00 is below SIGKILL value 5.00, setting SIGTERM = SIGKILL = 5.00');
  });
});

describe('option limits and merge (testsuite_cli_test.go TestCli, main.c)', () => {
  const mem = { MemTotalKiB: 8_000_000, SwapTotalKiB: 2_000_000 };
  const noswap = { MemTotalKiB: 8_000_000, SwapTotalKiB: 0 };
  it.each([
    [{ m: '0' }, /-m: both SIGTERM and SIGKILL values are zero/], [{ m: '-10' }, /-m: value -10.000000 below zero/], [{ m: '100' }, /-m: value 100.000000 exceeds limit 99/],
    [{ s: '101' }, /-s: .*exceeds limit 100/], [{ s: '0' }, /-s: both/], [{ s: '-10' }, /-s: .*below zero/], [{ M: '9999999999999999' }, /-M: .*exceeds limit 8080808/],
    [{ m: '1,-1' }, /-m: .*below zero/], [{ m: '1000,-1000' }, /-m: .*exceeds/], [{ M: '-1' }, /-M: .*below zero/], [{ M: '2147483648' }, /-M: .*exceeds/],
    [{ m: '4294967296' }, /-m: .*exceeds/], [{ S: '-1' }, /-S: .*below zero/], [{ S: '2147483648' }, /-S: .*exceeds/], [{ s: '4294967296' }, /-s: .*exceeds/],
  ])('%o is fatal', (p, re) => expect(() => earlyoomLimits(p, mem)).toThrow(re));
  it('-m 1 / -s 2 / -s 100 / -m 3.14 / -m 7,3.14 / -s 12.34 are accepted as given', () => {
    expect(earlyoomLimits({ m: '1' }, mem).memTermPercent).toBe(1);
    expect(earlyoomLimits({ s: '2' }, mem).swapTermPercent).toBe(2);
    expect(earlyoomLimits({ s: '100' }, mem).swapTermPercent).toBe(100);
    expect(startupLines(earlyoomLimits({ m: '3.14' }, mem))[0]).toContain('SIGTERM when mem avail <=  3.14%');
    expect(startupLines(earlyoomLimits({ m: '7,3.14' }, mem))[1]).toContain('SIGKILL when mem avail <=  3.14%');
    expect(startupLines(earlyoomLimits({ s: '12.34' }, mem))[0]).toContain('swap free <= 12.34%');
  });
  it('-m 2,1 and -s 2,1 print the startup line', () => {
    expect(startupLines(earlyoomLimits({ m: '2,1' }, mem))[0]).toBe('sending SIGTERM when mem avail <=  2.00% and swap free <= 10.00%,');
    expect(startupLines(earlyoomLimits({ s: '2,1' }, mem))[0]).toBe('sending SIGTERM when mem avail <= 10.00% and swap free <=  2.00%,');
  });
  it('-M SIZE is percent of MemTotal; with -m the lower wins (-m 10 -M 1%)', () => {
    const onePct = String(mem.MemTotalKiB / 100);
    expect(earlyoomLimits({ M: onePct }, mem)).toMatchObject({ memTermPercent: 1, memKillPercent: 0.5 });
    expect(startupLines(earlyoomLimits({ m: '10', M: onePct }, mem))[0]).toContain('SIGTERM when mem avail <=  1.00%');
  });
  it('-S SIZE (-S 2%: " 2.00%"; -s 10 -S 2%: kill " 1.00%"); without swap it is ignored with a warning', () => {
    const twoPct = String(mem.SwapTotalKiB * 0.02);
    expect(startupLines(earlyoomLimits({ S: twoPct }, mem))[0]).toContain('swap free <=  2.00%');
    expect(startupLines(earlyoomLimits({ s: '10', S: twoPct }, mem))[1]).toContain('swap free <=  1.00%');
    expect(() => earlyoomLimits({ S: '100' }, noswap)).toThrow(/-S: value 100.000000 exceeds limit 0/); // the tuple is checked first
    // With SwapTotal 0 the limit is 0, so only a value that passes parse_part's checks unharmed reaches the warning:
    // strtod's "nan" (neither above the limit nor below zero, nor zero).
    expect(earlyoomLimits({ S: 'nan' }, noswap).warnings).toContain('warning: -S: total swap is zero, using default percentages');
  });
  it('defaults: 10/5 and 10/5', () => {
    expect(earlyoomLimits({}, mem)).toMatchObject({ memTermPercent: 10, memKillPercent: 5, swapTermPercent: 10, swapKillPercent: 5 });
  });
  it('as policy parameters: numbers and option strings; the real options only', () => {
    expect(parsePolicyParams('earlyoom', { m: 15 }).m).toBe(15);
    expect(() => parsePolicyParams('earlyoom', { m: '100' })).toThrow(/parameter m: -m: value 100.000000 exceeds limit 99/);
    expect(() => parsePolicyParams('earlyoom', { mKill: 5 })).toThrow(/unknown parameter mKill; earlyoom has: m, s, M, S, prefer/);
  });
});

describe('meminfo (meminfo.c parse_meminfo)', () => {
  it('percent of MemAvailable + AnonPages; no swap: SwapFree% 0', () => {
    const m = parseMeminfo({ MemTotal: 16_000_000, MemAvailable: 1_000_000, AnonPages: 9_000_000, SwapTotal: 0, SwapFree: 0 });
    expect([m.userMemTotalKiB, m.memAvailablePercent, m.swapFreePercent]).toEqual([10_000_000, 10, 0]);
  });
  it('without MemAvailable: MemFree + Cached + Buffers - Shmem (available_guesstimate)', () => {
    const m = parseMeminfo({ MemTotal: 1000, MemFree: 100, Cached: 300, Buffers: 50, Shmem: 50, AnonPages: 600, SwapTotal: 100, SwapFree: 25 });
    expect([m.memAvailableKiB, m.userMemTotalKiB, m.swapFreePercent]).toEqual([400, 1000, 25]);
  });
  it('print_mem_stats line', () => {
    const m = parseMeminfo({ MemTotal: 8_000_000, MemAvailable: 1_048_576, AnonPages: 3_145_728, SwapTotal: 1_048_576, SwapFree: 524_288 });
    expect(memStatsLine(m)).toBe('mem avail:  1024 of  4096 MiB (25.00%), swap free:  512 of 1024 MiB (50.00%)');
  });
});

describe('lowmem_sig and sleep_time_ms (main.c)', () => {
  const L = earlyoomLimits({}, { MemTotalKiB: 1000, SwapTotalKiB: 0 });
  const m = (avail: number, anon: number, swapFree = 0, swapTotal = 0) => parseMeminfo({ MemAvailable: avail, AnonPages: anon, SwapFree: swapFree, SwapTotal: swapTotal });
  it('both memory and swap at or below the limits', () => {
    expect(lowmemSig(L, m(101, 899))).toBe(null);
    expect(lowmemSig(L, m(100, 900))).toBe('SIGTERM');
    expect(lowmemSig(L, m(50, 950))).toBe('SIGKILL');
    expect(lowmemSig(L, m(50, 950, 200, 1000))).toBe(null);
    expect(lowmemSig(earlyoomLimits({ s: '100' }, { MemTotalKiB: 1000, SwapTotalKiB: 1000 }), m(50, 950, 1000, 1000))).toBe('SIGTERM'); // -s 100 ignores swap for TERM
    expect(lowMemLine('SIGTERM', L)).toBe('low memory! at or below SIGTERM limits: mem 10.00%, swap 10.00%');
  });
  it('adaptive sleep: 100..1000 ms from headroom at 6000 kiB/ms RAM and 800 kiB/ms swap', () => {
    expect(sleepTimeMs(L, m(8_000_000, 0))).toBe(1000);
    expect(sleepTimeMs(L, m(1_000_000, 9_000_000))).toBe(100);
    expect(sleepTimeMs(L, m(4_000_000, 6_000_000))).toBe(500);
    expect(sleepTimeMs(L, m(1_000_000, 9_000_000, 400_000, 1_000_000))).toBe(375); // (40-10)% of 1e6 / 800
  });
});

describe('victim choice (testsuite_unit_test.go Test_is_larger / Test_is_larger_by_rss, kill.c)', () => {
  const permute = (sortByRss: boolean, procs: { score: number; rss: number }[]) => {
    for (let i = 0; i < procs.length; i++) for (let j = 0; j < procs.length; j++) expect(isLarger(sortByRss, procs[i], procs[j]), `${j} larger than ${i}`).toBe(j > i);
  };
  it('Test_is_larger: by oom_score, ties by RSS, a zombie (rss 0) included', () => {
    permute(false, [{ score: 100, rss: 1234 }, { score: 100, rss: 1238 }, { score: 101, rss: 4 }, { score: 102, rss: 4 }, { score: 103, rss: 0 }]);
  });
  it('Test_is_larger_by_rss: by RSS, ties by oom_score; rss 0 falls back to oom_score', () => {
    permute(true, [{ score: 100, rss: 4 }, { score: 100, rss: 8 }, { score: 101, rss: 8 }, { score: 99, rss: 12 }, { score: 102, rss: 0 }, { score: 102, rss: 12 }]);
  });
  it('skips pid <= 2, kernel threads, root with --ignore-root-user, --ignore; adj -1000 never wins', () => {
    const ts = [task(1, { oomScore: 999 }), task(2, { oomScore: 999 }), task(13, { oomScore: 999, ppid: 2 }), task(10, { oomScore: 500, vmRssKb: 10 }), task(11, { oomScore: 500, vmRssKb: 20, uid: 0 }), task(12, { oomScore: 900, oomScoreAdj: -1000 })];
    expect(earlyoomVictim({}, ts)?.pid).toBe(11);
    expect(earlyoomVictim({ ignoreRootUser: true }, ts)?.pid).toBe(10);
    expect(earlyoomVictim({ ignore: '^p11$' }, ts)?.pid).toBe(10);
    expect(earlyoomVictim({}, [task(12, { oomScore: 900, oomScoreAdj: -1000 })])).toBe(null);
  });
  it('--prefer/--avoid: +-300 on oom_score, or +-3145728 kiB on VmRSS with --sort-by-rss; regexes see the 15-byte comm', () => {
    const ts = [task(10, { comm: 'big', oomScore: 600, vmRssKb: 600 }), task(11, { comm: 'chrome', oomScore: 400, vmRssKb: 400 })];
    expect(earlyoomVictim({}, ts)?.pid).toBe(10);
    expect(earlyoomVictim({ prefer: '^chrome$' }, ts)).toMatchObject({ pid: 11, score: 700 });
    expect(earlyoomVictim({ avoid: '^big$' }, ts)).toMatchObject({ pid: 11 });
    expect(earlyoomVictim({ sortByRss: true, prefer: '^chrome$' }, ts)).toMatchObject({ pid: 11, rss: 400 + 3145728 });
    const long = [task(10, { comm: 'web-content-process', oomScore: 100 }), task(11, { oomScore: 200 })];
    expect(comm15('web-content-process')).toBe('web-content-pro');
    expect(comm15('ä'.repeat(8))).toBe('ä'.repeat(7)); // 16 bytes: the cut half character is dropped
    expect(earlyoomVictim({ prefer: 'process$' }, long)?.pid).toBe(11); // "process" is cut off in comm
    expect(earlyoomVictim({ prefer: 'pro$' }, long)?.pid).toBe(10);
  });
  it('kill message (kill.c kill_process)', () => {
    const v = { ...task(42, { comm: 'hog', uid: 1000, oomScoreAdj: 0, vmRssKb: 2_097_152 }), score: 812 };
    expect(killLine('SIGTERM', v)).toBe('sending SIGTERM to process 42 uid 1000 "hog": oom_score 812, oom_score_adj 0, VmRSS 2048 MiB, cmdline "p42"');
  });
});

describe('the daemon loop', () => {
  const low = { MemTotal: 1000, MemAvailable: 90, AnonPages: 910 };
  it('SIGTERM at the term limit with the kill message as reason; --dryrun sends nothing', () => {
    const v = view({ meminfo: low, tasks: [task(10, { oomScore: 500 })] });
    expect(createPolicy('earlyoom').tick(v)).toMatchObject([{ type: 'kill', pid: 10, signal: 'SIGTERM', reason: expect.stringContaining('sending SIGTERM to process 10') }]);
    expect(createPolicy('earlyoom', { dryrun: true }).tick(v)).toMatchObject([{ type: 'none', reason: expect.stringContaining('dryrun') }]);
  });
  it('-M resolved against MemTotal at startup, as earlyoom reads meminfo before its options', () => {
    const pol = createPolicy('earlyoom', { M: '100' }); // 100 KiB of 1000 = 10 %
    expect(pol.tick(view({ meminfo: low, tasks: [task(10, { oomScore: 1 })] }))).toMatchObject([{ signal: 'SIGTERM' }]);
    expect(() => createPolicy('earlyoom', { M: '5000' }).tick(view({ meminfo: low }))).toThrow(/-M: value 5000.000000 exceeds limit 1010/);
  });
});
