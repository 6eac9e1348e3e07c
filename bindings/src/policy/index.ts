/** The policy API and the built-in policies. */
import type { z } from 'zod';
import { PolicyError } from './host.js';
import type { Policy, PolicyDefinition } from './types.js';
import { earlyoom } from './builtin/earlyoom.js';
import { nohang } from './builtin/nohang.js';
import { systemdOomd } from './builtin/systemd-oomd.js';
import { oomd } from './builtin/oomd.js';
import { lmkd } from './builtin/lmkd.js';
import { kubelet } from './builtin/kubelet.js';
import { kernel } from './builtin/kernel.js';

export * from './types.js';
export { PolicyError, PolicyHost, validateActions, describe, type PolicyRunInfo, type PolicyActionRecord } from './host.js';
export { parsePsi, enginePsi, PSI_NOT_SIMULATED, type PsiReading, type PsiProvider, type PsiLine } from './psi.js';

export const BUILTIN_POLICIES: Record<string, PolicyDefinition> = Object.fromEntries(
  [earlyoom, nohang, systemdOomd, oomd, lmkd, kubelet, kernel].map((d) => [d.name, d as unknown as PolicyDefinition]),
);

/**
 * The parameter names a built-in policy accepts (its schema's keys, in declaration order). A key outside this list
 * is not a setting of the real daemon, so `--set` and scenario files reject it with this list in the message.
 */
export function policyParamKeys(name: string): string[] {
  const def = BUILTIN_POLICIES[name];
  if (!def) throw new PolicyError(name, `unknown policy; built-in: ${Object.keys(BUILTIN_POLICIES).join(', ')}`);
  const shape = (def.params as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Validate parameters (defaults filled) with the policy's schema; errors name the policy and the parameter. */
export function parsePolicyParams(name: string, params: Record<string, unknown> = {}): Record<string, unknown> {
  const def = BUILTIN_POLICIES[name];
  if (!def) throw new PolicyError(name, `unknown policy; built-in: ${Object.keys(BUILTIN_POLICIES).join(', ')}`);
  const r = (def.params as z.ZodType).safeParse(params);
  if (!r.success) {
    const msgs = r.error.issues.map((i) =>
      i.code === 'unrecognized_keys' && i.path.length === 0
        ? `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}; ${name} has: ${policyParamKeys(name).join(', ') || '(no parameters)'}`
        : `parameter ${i.path.join('.') || '(params)'}: ${i.message}`,
    );
    throw new PolicyError(name, msgs.join('; '));
  }
  return r.data as Record<string, unknown>;
}

/** A fresh instance of a built-in policy (each run needs its own: policies keep state between polls). */
export function createPolicy(name: string, params: Record<string, unknown> = {}): Policy {
  const p = parsePolicyParams(name, params);
  return BUILTIN_POLICIES[name].create(p as never) as Policy;
}
