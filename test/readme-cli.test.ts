// The README's CLI section lists every subcommand and every option its --help lists (the section is the CLI's
// reference for users; it drifted twice before this test). Reads the built CLI's help, so it checks what ships.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bindings/bin/oomsim.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, `oomsim ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

/** Subcommand names from `oomsim --help`'s Commands: list. */
function commands(help: string): string[] {
  const part = help.slice(help.indexOf('Commands:'));
  return [...part.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

/** Each option of a --help text as its spellings (`-o, --output <file>` gives ['-o', '--output']). */
function options(help: string): string[][] {
  const part = help.slice(help.indexOf('Options:'));
  return [...part.matchAll(/^ {2}(-[\w-]+(?:, --[\w-]+)?)/gm)].map((m) => m[1]!.split(', ')).filter((o) => !o.includes('--help'));
}

/** The README's CLI code block, split into each subcommand's entry (all `oomsim <cmd>` lines and their follow-ups). */
function readmeEntries(): Map<string, string> {
  const md = readFileSync(`${ROOT}README.md`, 'utf8');
  const start = md.indexOf('## CLI');
  const block = md.slice(md.indexOf('```', start) + 3, md.indexOf('```', md.indexOf('```', start) + 3));
  const entries = new Map<string, string>();
  let cur = '';
  for (const line of block.split('\n')) {
    const m = /^oomsim ([a-z][a-z-]*)/.exec(line);
    if (m) cur = m[1]!;
    else if (/^oomsim --/.test(line)) cur = '';
    if (cur) entries.set(cur, `${entries.get(cur) ?? ''}\n${line}`);
  }
  return entries;
}

describe('README CLI section', () => {
  const top = cli('--help');
  const entries = readmeEntries();
  it('lists every subcommand, and the parser finds them', () => {
    const cmds = commands(top);
    expect(cmds).toEqual(expect.arrayContaining(['run', 'compare', 'replay', 'pagetrace', 'validate']));
    expect(cmds.filter((c) => !entries.has(c))).toEqual([]);
    expect([...entries.keys()].filter((c) => !cmds.includes(c)), 'README entries for commands that do not exist').toEqual([]);
  });
  it('names every option of every subcommand in its entry', () => {
    const missing: string[] = [];
    let seen = 0;
    for (const c of commands(top)) {
      const entry = entries.get(c) ?? '';
      for (const spellings of options(cli(c, '--help'))) {
        seen++;
        // an option counts as listed when any of its spellings is there as a whole word (not as a prefix of another)
        if (!spellings.some((s) => new RegExp(`(^|[\\s\\[|])${s}(?![\\w-])`).test(entry))) missing.push(`${c} ${spellings.join(', ')}`);
      }
    }
    expect(seen).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });
  it('the word check is not fooled by a longer option', () => {
    const re = (s: string) => new RegExp(`(^|[\\s\\[|])${s}(?![\\w-])`);
    expect(re('--log').test('[--log-level x]')).toBe(false);
    expect(re('--log').test('[--log] [--json f]')).toBe(true);
    expect(options('Options:\n  -o, --output <file>  x\n  --no-kmsg  y\n  -h, --help  z\n')).toEqual([['-o', '--output'], ['--no-kmsg']]);
  });
});
