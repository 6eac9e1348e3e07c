// The conformance runner, through the built CLI, on the public kernel vectors: no vector may fail, and every
// vector is reported (pass or unsupported with a reason), never skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const SHARED = join(ROOT, '../shared/spec/kernel-vectors.json');
const VECTORS = process.env.OOMSIM_VECTORS ?? (existsSync(SHARED) ? SHARED : join(ROOT, 'test/vectors/kernel-vectors.json'));
const CLI = join(ROOT, 'bindings/bin/oomsim.js');
// A synchronous spawn blocks the event loop, so vitest's own timeout cannot end a hung child: this does.
const CHILD_TIMEOUT = 240_000;

describe('oomsim conformance', () => {
  it('reports every public vector and fails none', () => {
    const r = spawnSync('node', [CLI, 'conformance', VECTORS], { encoding: 'utf8', timeout: CHILD_TIMEOUT });
    const lines = r.stdout.trim().split('\n');
    const total = JSON.parse(readFileSync(VECTORS, 'utf8')).length;
    const summary = lines.at(-1)!;
    const m = /^(\d+) passed, (\d+) failed, (\d+) unsupported/.exec(summary);
    expect(m, summary).not.toBeNull();
    const [, passed, failed, unsupported] = m!.map(Number);
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(failed).toBe(0);
    expect(passed + unsupported).toBe(total);
    expect(lines.length - 1).toBe(total);
    for (const l of lines.filter((x) => x.startsWith('UNSUPPORTED'))) expect(l).toMatch(/: .+/);
    expect(r.status).toBe(0);
  });

  it('exits non-zero on a failing vector and prints expected vs actual', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oomsim-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify([{ id: 'x', area: 'a', check: 'no_such_check', inputs: {}, expected: {}, source: '' }]));
    const out = execFileSync('node', [CLI, 'conformance', f], { encoding: 'utf8', timeout: CHILD_TIMEOUT });
    expect(out).toContain('UNSUPPORTED x [no_such_check]: check `no_such_check` is not implemented');
    const bad = spawnSync('node', [CLI, 'conformance', join(dir, 'missing.json')], { encoding: 'utf8', timeout: CHILD_TIMEOUT });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/missing.json: ENOENT/);
    writeFileSync(f, '{"not": "a list"}');
    const notList = spawnSync('node', [CLI, 'conformance', f], { encoding: 'utf8', timeout: CHILD_TIMEOUT });
    expect(notList.status).toBe(2);
    expect(notList.stderr).toMatch(/JSON array/);
  });
});
