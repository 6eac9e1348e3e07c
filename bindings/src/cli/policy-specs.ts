// `--policies` and `--set` as compare, sweep and replay read them.
import { OomsimError } from '../errors.js';
import type { PolicySpec } from '../policy/compare.js';
import { parsePolicyParams } from '../policy/index.js';

/** `--policies a,b --set a.k=v`: the policy specs, every parameter checked. */
export function policySpecs(list: string, sets: string[] = []): PolicySpec[] {
  const specs: PolicySpec[] = list.split(',').map((s) => s.trim()).filter(Boolean).map((name) => ({ name, params: {} }));
  for (const kv of sets) {
    const m = /^([\w-]+)\.(\w+)=(.*)$/.exec(kv);
    if (!m) throw new OomsimError('E_ARG', `--set ${kv}: expected policy.param=value`);
    const spec = specs.find((s) => s.name === m[1]);
    if (!spec) throw new OomsimError('E_ARG', `--set ${kv}: policy ${m[1]} is not in --policies`);
    let v: unknown = m[3];
    try {
      v = JSON.parse(m[3]);
    } catch {
      /* a plain string */
    }
    spec.params![m[2]] = v;
  }
  for (const s of specs) parsePolicyParams(s.name, s.params);
  return specs;
}
