// `--policies` / `--set` parsing shared by compare, sweep and replay (bindings/src/cli/policy-specs.ts).
import { describe, expect, it } from 'vitest';
import { policySpecs } from '../bindings/src/cli/policy-specs.js';

describe('policySpecs', () => {
  it('splits and trims the list, reads --set values as JSON when they parse, else as strings', () => {
    expect(policySpecs(' kernel, earlyoom ,', ['earlyoom.m=40,20', 'earlyoom.sortByRss=true'])).toEqual([
      { name: 'kernel', params: {} },
      { name: 'earlyoom', params: { m: '40,20', sortByRss: true } },
    ]);
  });
  it('names the bad --set: malformed, a policy not listed, a parameter the policy lacks', () => {
    expect(() => policySpecs('earlyoom', ['earlyoom-m'])).toThrow(/--set earlyoom-m: expected policy\.param=value/);
    expect(() => policySpecs('earlyoom', ['nohang.x=1'])).toThrow(/policy nohang is not in --policies/);
    expect(() => policySpecs('earlyoom', ['earlyoom.zz=1'])).toThrow(/unknown parameter zz/);
  });
});
