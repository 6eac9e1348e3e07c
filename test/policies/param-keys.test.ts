/**
 * A parameter the policy does not have is an error that names it and lists the keys the policy does have
 * (issue #20 item 3: a `--set` key the real daemon has no setting for must not be silently accepted).
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_POLICIES, parsePolicyParams, policyParamKeys } from '../../bindings/src/policy/index.js';

describe('unknown policy parameters', () => {
  it('every built-in policy lists its keys', () => {
    for (const name of Object.keys(BUILTIN_POLICIES)) {
      if (name === 'kernel') continue;
      expect(policyParamKeys(name).length, name).toBeGreaterThan(0);
    }
    expect(policyParamKeys('earlyoom')).toEqual(expect.arrayContaining(['m', 's', 'M', 'S', 'prefer', 'avoid', 'ignore', 'sortByRss', 'ignoreRootUser', 'dryrun']));
  });
  it.each(Object.keys(BUILTIN_POLICIES))('%s: an unknown key names the key and lists the real ones', (name) => {
    let msg = '';
    try {
      parsePolicyParams(name, { noSuchKnob: 1 });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(new RegExp(`policy ${name}`));
    expect(msg).toMatch(/unknown parameter noSuchKnob/);
    for (const k of policyParamKeys(name)) expect(msg).toContain(k);
  });
  it('several unknown keys are named together; known keys still validate', () => {
    expect(() => parsePolicyParams('systemd-oomd', { a: 1, b: 2 })).toThrow(/unknown parameters a, b; systemd-oomd has: swapUsedLimit, defaultMemoryPressureLimit, /);
    expect(parsePolicyParams('earlyoom', { m: 20 }).m).toBe(20);
  });
  it('the kernel baseline has no parameters and says so', () => {
    expect(() => parsePolicyParams('kernel', { x: 1 })).toThrow(/unknown parameter x; kernel has: \(no parameters\)/);
  });
  it('a misspelt earlyoom option (the CLI flag name, not the key) is rejected', () => {
    expect(() => parsePolicyParams('earlyoom', { 'sort-by-rss': true })).toThrow(/unknown parameter sort-by-rss; earlyoom has: .*sortByRss/);
  });
});
