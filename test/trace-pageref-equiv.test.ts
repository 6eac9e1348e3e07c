/**
 * The fast page-reference path (bytes scanned into packed batches, pageref-scan.ts; the loop over references in
 * the engine, engine/core/src/pageref.rs) against the reference path it replaced (readline lines through the
 * format's line parser, one `touch` command per reference with the slot map in JS, pageref-commands.ts): on
 * seeded random traces they must give the same references (or the same located error) and byte-identical results
 * through the engine, with reclaim and swap-in, with an OOM kill, and with too many distinct pages.
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../bindings/src/index.js';
import { Engine } from '../bindings/src/engine.js';
import { pageRefs, runPageRefs, type PagerefFormat, type PageRef } from '../bindings/src/trace/pageref.js';
import { pageRefsByLine, runPageRefsByCommand } from '../bindings/src/trace/pageref-commands.js';

const dir = mkdtempSync('/tmp/oomsim-pageref-equiv-');
beforeAll(async () => {
  await load();
});

type Read = { refs: PageRef[] } | { error: string };
async function read(gen: AsyncIterable<{ toArray(): PageRef[] }>): Promise<Read> {
  const refs: PageRef[] = [];
  try {
    for await (const b of gen) refs.push(...b.toArray());
  } catch (e) {
    return { error: (e as Error).message };
  }
  return { refs };
}

// --- random trace text --------------------------------------------------------------------------------------
/** An address in hex: mostly near a few bases (so pages repeat), sometimes at a page's end (crossing), sometimes any
 * 52-bit value, sometimes 14-16 digits (past 2^53 a double rounds, so the scanner leaves those to the line parser). */
const addr = fc.tuple(
  fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(0x10000, 0x7f00_0000_0000, 0x4000_0000), fc.nat(1 << 16)).map(([b, o]) => (b + o).toString(16)) },
    { weight: 2, arbitrary: fc.nat(1 << 12).map((k) => (k * 4096 + 4090).toString(16)) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((v) => (v * 2097152 + (v & 0x1fffff)).toString(16)) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: 14, maxLength: 16 }).map((d) => d.join('')) },
  ),
  fc.boolean(),
).map(([h, up]) => (up ? h.toUpperCase() : h));
const sep = fc.constantFrom(' ', ' ', ' ', '  ', '\t');
const eol = fc.constantFrom('\n', '\n', '\n', '\r\n', '\r');
const dinLine = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.integer({ min: 0, max: 4 }), sep, fc.constantFrom('', '', '0x', '0X'), addr, fc.option(fc.nat(9000), { nil: undefined })).map(([l, s, px, a, size]) => `${l}${s}${px}${a}${size === undefined ? '' : ` ${size}`}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '0 1000 ', ' 1 2000') },
);
const lackeyLine = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.constantFrom('I  ', ' L ', ' S ', ' M ', 'I ', ' L  '), addr, fc.nat(64)).map(([k, a, n]) => `${k}${a},${n}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '==123== Lackey, an example Valgrind tool', ' L 1000,8  ') },
);
const csvRow = fc.tuple(fc.nat(5000), fc.nat(20000), fc.constantFrom('get', 'set', 'read', 'write', 'GET')).map(([id, size, op]) => `1,${id},${size},${op}`);
const BAD: Record<PagerefFormat, string[]> = { din: ['7 2000', '0 zz'], lackey: [' L zz,8', ' Q 1000,8'], csv: ['1,x,10,get', '1,5,10,delete'] };

const traceArb = fc.constantFrom<PagerefFormat>('din', 'lackey', 'csv').chain((format) =>
  fc.record({
    format: fc.constant(format),
    lines: fc.array(format === 'din' ? dinLine : format === 'lackey' ? lackeyLine : csvRow, { minLength: 0, maxLength: 300, size: 'max' }),
    eols: fc.array(eol, { minLength: 300, maxLength: 300 }),
    bad: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.nat(300), fc.constantFrom(...BAD[format])) }),
    lastEol: fc.boolean(),
    gzip: fc.boolean(),
    chunk: fc.constantFrom(7, 61, 4096, 1 << 20),
    instr: fc.boolean(),
  }),
);

describe('the byte scanner reads what the line parsers read', () => {
  it('the same references or the same file:line error, on seeded random traces of each format', async () => {
    let errors = 0, compared = 0;
    await fc.assert(
      fc.asyncProperty(traceArb, async (t) => {
        const lines = [...t.lines];
        if (t.format === 'csv') lines.unshift('time,obj_id,obj_size,op');
        if (t.bad) lines.splice(Math.min(t.bad[0], lines.length), 0, t.bad[1]);
        let text = lines.map((l, i) => l + (i < lines.length - 1 || t.lastEol ? t.eols[i % 300] : '')).join('');
        if (t.format === 'csv') text = text.replace(/\r(?!\n)/g, '\n'); // a lone \r in csv would split the header from nothing useful
        const file = `${dir}/t.${t.format}${t.gzip ? '.gz' : ''}`;
        writeFileSync(file, t.gzip ? gzipSync(text) : text);
        const fast = await read(pageRefs(file, t.format, { instr: t.instr, chunk: t.chunk }));
        const slow = await read(pageRefsByLine(file, t.format, { instr: t.instr }));
        expect(fast).toEqual(slow);
        if ('error' in slow) errors++;
        else compared += slow.refs.length;
      }),
      // no shrinking: each run writes a file, and shrinking a 300-line trace on a loaded machine takes minutes
      { seed: 20261207, numRuns: 120, endOnFailure: true },
    );
    // the property saw both outcomes (a generator that only made errors, or none, would test little)
    expect(errors).toBeGreaterThan(5);
    expect(compared).toBeGreaterThan(5000);
  });
  it('a line longer than 16 MiB is an error at its line, not held whole', async () => {
    writeFileSync(`${dir}/long.din`, '0 1000\n' + '1'.repeat(17 << 20));
    expect(await read(pageRefs(`${dir}/long.din`, 'din'))).toEqual({ error: expect.stringMatching(/long\.din:2: a line longer than 16 MiB: not a din trace/) });
  });
  it('an address beyond 64 bits is an error at its line', async () => {
    writeFileSync(`${dir}/huge.lackey`, ' L 1000,8\n L 1ffffffffffffffff,8\n');
    expect(await read(pageRefs(`${dir}/huge.lackey`, 'lackey'))).toEqual({ error: expect.stringMatching(/huge\.lackey:2: address .* is beyond 64 bits/) });
  });
});

// --- through the engine ---------------------------------------------------------------------------------------
/** xorshift32 over a hot set and a cold range (writes one in four), as .din text. */
function dinTrace(seed: number, n: number, hot: number, cold: number): string {
  let x = seed >>> 0 || 1;
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = next();
    const page = r % 8 === 0 ? hot + (next() % cold) : next() % hot;
    out.push(`${(r & 0x30) === 0 ? 1 : 0} ${(0x7f0000000000 + page * 4096 + (r & 0xfff)).toString(16)} ${1 + (r % 16)}`);
  }
  return out.join('\n') + '\n';
}
async function both(file: string, ram: number, swap: number, maxPages: number) {
  const run = async (fast: boolean) => {
    const e = new Engine({ totalramPages: ram });
    try {
      if (swap > 0) e.swapon(swap, -2, 'disk');
      e.setSysctl('vm.overcommit_memory', 1);
      const r = fast ? await runPageRefs(e, pageRefs(file, 'din'), { maxPages }) : await runPageRefsByCommand(e, pageRefsByLine(file, 'din'), { maxPages });
      return JSON.stringify({ r, meminfo: e.meminfoText(), vmstat: e.vmstat() }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    } catch (err) {
      return `error: ${(err as Error).message}`;
    } finally {
      e.free();
    }
  };
  return { fast: await run(true), slow: await run(false) };
}

describe('the walk in the engine gives what one touch command per reference gives', () => {
  it.each([
    [1, 'with swap: reclaim and swap-in', 2048, 8192],
    [2, 'with swap, another seed and RAM', 1800, 4096],
    [3, 'without swap: the process is OOM-killed part way', 2048, 0],
  ])('seed %i, %s: byte-identical results, meminfo and vmstat', async (seed, _what, ram, swap) => {
    const file = `${dir}/run${seed}.din`;
    writeFileSync(file, dinTrace(seed, 40000, 1500, 4000));
    const { fast, slow } = await both(file, ram, swap, 8192);
    expect(fast).toBe(slow);
    const r = JSON.parse(fast).r;
    if (swap > 0) {
      expect(Number(r.counters.pgmajfault)).toBeGreaterThan(100); // the run did swap pages back in
      expect(r.oomKilled).toBe(false);
    } else {
      expect(r.oomKilled).toBe(true);
      expect(r.touches).toBeLessThan(40000);
      expect(r.references).toBeGreaterThanOrEqual(40000); // the whole trace is read and counted (one per page an access covers), not run
    }
  });
  it('too many distinct pages: the same error from both', async () => {
    const file = `${dir}/wide.din`;
    writeFileSync(file, dinTrace(4, 5000, 500, 4000));
    const { fast, slow } = await both(file, 4096, 0, 1000);
    expect(fast).toBe(slow);
    expect(fast).toMatch(/^error: .*the trace touches more than 1000 distinct pages; raise --max-pages/);
  });
});
