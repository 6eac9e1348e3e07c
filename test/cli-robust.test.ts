import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main, packageVersion } from '../bindings/src/cli/main.js';
import { writeFileAtomic } from '../bindings/src/cli/atomic.js';

function capture<T>(f: () => T): { r: T; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const e = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const w = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    return { r: f(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    e.mockRestore();
    w.mockRestore();
  }
}

describe('oomsim --version', () => {
  it('prints the package.json version and exits 0', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(packageVersion()).toBe(pkg.version);
    const c = capture(() => main(['--version']));
    expect(c.r).toBe(0);
    expect(c.out.trim()).toBe(pkg.version);
  });
  it('the version follows semver and is at least 0.2.0', () => {
    const m = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$/.exec(packageVersion());
    expect(m).not.toBeNull();
    expect(Number(m![1]) * 1000 + Number(m![2])).toBeGreaterThanOrEqual(2);
  });
});

describe('oomsim suite on a missing folder', () => {
  it('says which folder and exits non-zero', () => {
    const c = capture(() => main(['suite', 'no/such/dir']));
    expect(c.r).toBe(1);
    expect(c.err).toMatch(/^oomsim suite: no\/such\/dir: no such directory/);
    expect(c.err).not.toMatch(/ENOENT/);
  });
  it('a file given as the folder is rejected too', () => {
    const c = capture(() => main(['suite', 'package.json']));
    expect(c.r).toBe(1);
    expect(c.err).toMatch(/package\.json: not a directory/);
  });
});

describe('atomic writes', () => {
  it('replaces the target whole and leaves no temporary file', () => {
    const d = mkdtempSync(join(tmpdir(), 'oomsim-atomic-'));
    try {
      const f = join(d, 'out.json');
      writeFileSync(f, 'old');
      writeFileAtomic(f, 'new contents');
      expect(readFileSync(f, 'utf8')).toBe('new contents');
      expect(readdirSync(d)).toEqual(['out.json']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('a failed write leaves the old file and no temporary file', () => {
    const d = mkdtempSync(join(tmpdir(), 'oomsim-atomic-'));
    try {
      const f = join(d, 'out.json');
      writeFileSync(f, 'old');
      const sub = join(d, 'dir');
      mkdirSync(join(sub, 'inner'), { recursive: true });
      expect(() => writeFileAtomic(sub, 'data')).toThrow();
      expect(readFileSync(f, 'utf8')).toBe('old');
      expect(readdirSync(d).sort()).toEqual(['dir', 'out.json']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('run --json writes the report through the atomic path', () => {
    const d = mkdtempSync(join(tmpdir(), 'oomsim-atomic-'));
    try {
      const f = join(d, 'r.json');
      const c = capture(() => main(['run', 'scenarios/global-oom-adj.yaml', '--json', f]));
      expect(c.r).toBe(0);
      expect(JSON.parse(readFileSync(f, 'utf8')).name).toBeTypeOf('string');
      expect(readdirSync(d)).toEqual(['r.json']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
