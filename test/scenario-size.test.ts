import { describe, expect, it } from 'vitest';
import {
  PAGE_COUNTER_MAX,
  memparse,
  pageCounterMemparse,
  parseCgroupLimit,
  parseDuration,
  parseKernelInt,
  parseRate,
  parseSize,
  simpleStrtoull,
} from '../bindings/src/scenario/size.js';
import { editDistance, suggest } from '../bindings/src/scenario/suggest.js';

const G = 1n << 30n;

describe('memparse (lib/cmdline.c)', () => {
  const table: [string, bigint, number][] = [
    // input, value, end (index where parsing stopped)
    ['4G', 4n * G, 2],
    ['4g', 4n * G, 2],
    ['512M', 512n << 20n, 4],
    ['100k', 102400n, 4],
    ['100K', 102400n, 4],
    ['1T', 1n << 40n, 2],
    ['1P', 1n << 50n, 2],
    ['1E', 1n << 60n, 2],
    ['16E', 0n, 3], // u64 shift wraps, as in the kernel
    ['4096', 4096n, 4],
    ['0x1000', 4096n, 6],
    ['0X1000', 4096n, 6],
    ['0x1E', 30n, 4], // E is a hex digit here, not a suffix
    ['0x1g', G, 4],
    ['0x', 0n, 1], // no hex digit after x: octal 0, stops at x
    ['010', 8n, 3], // leading 0 is octal
    ['08', 0n, 1], // 8 is not an octal digit
    ['0', 0n, 1],
    ['1.5M', 1n, 1],
    ['-1', 0n, 0], // no sign in simple_strtoull
    [' 4G', 0n, 0], // no whitespace skipping
    ['4Gfoo', 4n * G, 2],
    ['4KB', 4096n, 2], // one suffix letter only
    ['abc', 0n, 0],
    ['18446744073709551615', (1n << 64n) - 1n, 20],
    ['18446744073709551616', 0n, 20], // wraps modulo 2^64
  ];
  it.each(table)('memparse(%j) = %s, end %i', (s, v, end) => {
    expect(memparse(s)).toEqual({ value: v, end });
  });
  it('simple_strtoull stops at the first non-digit of the base', () => {
    expect(simpleStrtoull('0x1fz')).toEqual({ value: 31n, end: 4 });
    expect(simpleStrtoull('0778')).toEqual({ value: 63n, end: 3 });
  });
});

describe('page_counter_memparse: cgroup v1 (measured-rules.md "Memory cgroup v1", vector v1-limit-rounding)', () => {
  const ok: [string, bigint][] = [
    ['4097', 1n], // reads back 4096
    ['1', 0n], // reads back 0, not 4096
    ['1k', 0n],
    ['4096', 1n],
    ['1G', 262144n],
    ['512M', 131072n],
    ['0x1000', 1n],
    ['-1', PAGE_COUNTER_MAX],
    [' 1G\n', 262144n], // strstrip
    ['9223372036854771712', PAGE_COUNTER_MAX], // what -1 reads back as
    ['9223372036854775807', PAGE_COUNTER_MAX], // clamped
    ['18446744073709551615', PAGE_COUNTER_MAX], // any huge value is unlimited
    ['8E', PAGE_COUNTER_MAX], // 2^63 bytes, clamped
  ];
  it.each(ok)('%j -> %s pages', (s, pages) => {
    const r = pageCounterMemparse(s, '-1');
    expect(r.ok && r.pages).toBe(pages);
  });
  it('reads back as the kernel prints it (pages * 4096)', () => {
    const rb = (s: string) => {
      const r = pageCounterMemparse(s, '-1');
      return r.ok ? String(r.pages * 4096n) : r.errno;
    };
    expect([rb('4097'), rb('1'), rb('-1'), rb('1G')]).toEqual(['4096', '0', '9223372036854771712', '1073741824']);
  });
  it.each(['max', '-2', '1.5M', 'abc', '4GB', '1 G', '08', '--1'])('%j is EINVAL', (s) => {
    const r = pageCounterMemparse(s, '-1');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errno).toBe('EINVAL');
  });
  it('16E wraps to 0 bytes like the kernel u64 (0 pages, not unlimited)', () => {
    const r = pageCounterMemparse('16E', '-1');
    expect(r.ok && r.pages).toBe(0n);
  });
});

describe('page_counter_memparse: cgroup v2 (vector v2-current-and-tunables)', () => {
  it('max is unlimited, -1 is EINVAL, floors to pages', () => {
    expect(pageCounterMemparse('max', 'max')).toEqual({ ok: true, pages: PAGE_COUNTER_MAX, unlimited: true });
    expect(pageCounterMemparse(' max\n', 'max').ok).toBe(true);
    expect(pageCounterMemparse('-1', 'max').ok).toBe(false);
    const r = pageCounterMemparse('104857601', 'max');
    expect(r.ok && r.pages * 4096n).toBe(104857600n);
    expect(pageCounterMemparse('MAX', 'max').ok).toBe(false); // strcmp is case-sensitive
  });
});

describe('parseCgroupLimit (scenario values)', () => {
  it('numbers are written as decimal text', () => {
    expect(parseCgroupLimit(-1, 'v1')).toMatchObject({ ok: true, pages: PAGE_COUNTER_MAX });
    expect(parseCgroupLimit(4097, 'v2')).toMatchObject({ ok: true, pages: 1n });
    expect(parseCgroupLimit(-1, 'v2').ok).toBe(false);
  });
  it('explains the v1/v2 spelling of unlimited', () => {
    const v1 = parseCgroupLimit('max', 'v1');
    expect(!v1.ok && v1.error).toContain('write -1');
    const v2 = parseCgroupLimit('-1', 'v2');
    expect(!v2.ok && v2.error).toContain('write max');
  });
  it('an empty value is rejected (an empty write is a no-op on the kernel)', () => {
    const r = parseCgroupLimit('', 'v1');
    expect(!r.ok && r.error).toContain('no-op');
  });
});

describe('parseSize (scenario sizes: memparse, whole string)', () => {
  it('accepts admin spellings', () => {
    expect(parseSize('7G')).toEqual({ ok: true, value: 7n * G });
    expect(parseSize(' 4G ')).toEqual({ ok: true, value: 4n * G });
    expect(parseSize(4096)).toEqual({ ok: true, value: 4096n });
    expect(parseSize('0x1000')).toEqual({ ok: true, value: 4096n });
  });
  it.each([['4GB'], ['1.5G'], ['-1'], ['08'], ['']])('rejects %j', (s) => {
    expect(parseSize(s).ok).toBe(false);
  });
  it('rejects negative and non-integer numbers', () => {
    expect(parseSize(-5).ok).toBe(false);
    expect(parseSize(1.5).ok).toBe(false);
  });
  it('hints at the fix', () => {
    const a = parseSize('1.5G');
    expect(!a.ok && a.error).toContain('1536M');
    const b = parseSize('4GiB');
    expect(!b.ok && b.error).toContain('single letter');
  });
});

describe('durations and rates', () => {
  const d: [string | number, bigint][] = [
    ['30s', 30_000_000_000n],
    ['500ms', 500_000_000n],
    ['2m', 120_000_000_000n],
    ['2min', 120_000_000_000n],
    ['1h', 3_600_000_000_000n],
    ['1m30s', 90_000_000_000n],
    ['1.5s', 1_500_000_000n],
    ['250us', 250_000n],
    ['7ns', 7n],
    ['0', 0n],
    [0, 0n],
  ];
  it.each(d)('%j = %s ns', (s, v) => expect(parseDuration(s)).toEqual({ ok: true, value: v }));
  it.each([['10'], [10], ['1.5ns'], ['s'], ['3 parsecs'], ['-1s']])('rejects %j', (s) => expect(parseDuration(s).ok).toBe(false));
  it('rates are exact', () => {
    expect(parseRate('50M/s')).toEqual({ ok: true, value: { bytes: 50n << 20n, intervalNs: 1_000_000_000n } });
    expect(parseRate('1G/m')).toEqual({ ok: true, value: { bytes: G, intervalNs: 60_000_000_000n } });
    expect(parseRate('100M/10s')).toEqual({ ok: true, value: { bytes: 100n << 20n, intervalNs: 10_000_000_000n } });
    expect(parseRate('1k/ms').ok).toBe(true);
  });
  it.each([['50M'], ['50M/'], ['50M/0s'], ['5M/fortnight'], ['1.5M/s']])('rejects rate %j', (s) => expect(parseRate(s).ok).toBe(false));
});

describe('kernel integers (base 0, like proc_dointvec)', () => {
  it('parses', () => {
    expect(parseKernelInt('010')).toEqual({ ok: true, value: 8n });
    expect(parseKernelInt('0x10')).toEqual({ ok: true, value: 16n });
    expect(parseKernelInt('-5')).toEqual({ ok: true, value: -5n });
    expect(parseKernelInt(60)).toEqual({ ok: true, value: 60n });
    expect(parseKernelInt('sixty').ok).toBe(false);
    expect(parseKernelInt('1.5').ok).toBe(false);
  });
});

describe('suggestions', () => {
  it('finds near misses with transpositions', () => {
    expect(editDistance('memroy', 'memory')).toBe(1);
    expect(suggest('vm.overcommit_memroy', ['vm.overcommit_memory', 'vm.overcommit_ratio'])).toBe('vm.overcommit_memory');
    expect(suggest('overcommit_memory', ['vm.overcommit_memory', 'vm.overcommit_ratio'])).toBe('vm.overcommit_memory');
    expect(suggest('/db', ['/', '/web'])).toBeUndefined();
    expect(suggest('zzzzzz', ['memory.max'])).toBeUndefined();
  });
});
