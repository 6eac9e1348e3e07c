// The playground's Korean preset descriptions (bindings/web/src/presets-ko.ts): one for every scenario in
// scenarios/ and none for a scenario that is gone; where one names an overcommit mode, it is the mode the scenario
// sets (the kernel's numbering, not the seed article's).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DESCRIPTIONS_KO } from '../bindings/web/src/presets-ko.js';

const DIR = new URL('../scenarios/', import.meta.url).pathname;
const NAMES = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();

describe('Korean preset descriptions', () => {
  it('cover exactly the scenarios', () => {
    expect(Object.keys(DESCRIPTIONS_KO).sort()).toEqual(NAMES);
    for (const n of NAMES) expect(DESCRIPTIONS_KO[n]!.length, n).toBeGreaterThan(10);
  });

  it('name the overcommit mode each scenario sets', () => {
    let checked = 0;
    for (const n of NAMES) {
      const m = /모드 (\d)/.exec(DESCRIPTIONS_KO[n]!);
      if (!m) continue;
      const set = /vm\.overcommit_memory:\s*(\d)/.exec(readFileSync(`${DIR}${n}.yaml`, 'utf8'));
      expect(set?.[1], n).toBe(m[1]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('keep the kernel names the scenario uses', () => {
    for (const n of NAMES) {
      const en = /^description:\s*(.*)$/m.exec(readFileSync(`${DIR}${n}.yaml`, 'utf8'))?.[1] ?? '';
      for (const name of en.match(/\b(?:vm\.\w+|memory\.\w+|oom_\w+|adj -?\d+)/g) ?? []) expect(DESCRIPTIONS_KO[n], `${n}: ${name}`).toContain(name);
    }
  });
});
