/**
 * The policy host: the part of the runner that polls policies in simulated time, builds their read-only views,
 * validates their actions, and carries the actions out with the daemon's delays. Used by runScenario
 * (`RunOptions.policies`); independent of the workload drivers.
 */
import { z } from 'zod';
import type { Engine } from '../engine.js';
import { OomsimError } from '../errors.js';
import { enginePsi, type PsiProvider } from './psi.js';
import type { PendingKill, Policy, PolicyAction, PolicyView, Signal, ViewTask } from './types.js';

/** A policy failed: it threw, returned something that is not a list of valid actions, or had bad parameters. */
export class PolicyError extends OomsimError {
  constructor(readonly policy: string, message: string, readonly atNs: bigint | null = null) {
    super('E_POLICY', `policy ${policy}${atNs === null ? '' : ` at ${fmtS(atNs)}`}: ${message}`);
  }
}
const fmtS = (ns: bigint) => `${(Number(ns) / 1e9).toFixed(3).replace(/\.?0+$/, '')}s`;

const signal = z.enum(['SIGTERM', 'SIGKILL']);
const ns = z.bigint().nonnegative();
const reason = z.string().optional();
const cgroupPath = z.string().regex(/^\/([^/\0]+(\/[^/\0]+)*)?$/, { message: 'expected an absolute cgroup path like /user.slice' });
export const actionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('kill'), pid: z.number().int().positive(), signal, graceNs: ns.optional(), reason }).strict(),
  z.object({ type: z.literal('kill_cgroup'), cgroup: cgroupPath, signal, graceNs: ns.optional(), reason }).strict(),
  z.object({ type: z.literal('set_oom_score_adj'), pid: z.number().int().positive(), value: z.number().int().min(-1000).max(1000), reason }).strict(),
  z.object({ type: z.literal('cgroup_write'), cgroup: cgroupPath, file: z.string().regex(/^[a-z_]+\.[a-z_.]+$/), value: z.string(), reason }).strict(),
  z.object({ type: z.literal('none'), reason }).strict(),
]);

/** Check a policy's answer; throws PolicyError naming the policy, the action index and the problem. */
export function validateActions(policy: string, out: unknown, atNs: bigint | null = null): PolicyAction[] {
  if (!Array.isArray(out)) throw new PolicyError(policy, `tick() returned ${out === null ? 'null' : typeof out}; expected an array of actions`, atNs);
  return out.map((a, i) => {
    const r = actionSchema.safeParse(a);
    if (!r.success) {
      const iss = r.error.issues[0];
      const path = iss.path.length ? `.${iss.path.join('.')}` : '';
      throw new PolicyError(policy, `action[${i}]${path}: ${iss.message} (got ${safeJson(a)})`, atNs);
    }
    return r.data as PolicyAction;
  });
}
const safeJson = (v: unknown) => {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    return String(v);
  }
};

export interface PolicyActionRecord {
  tNs: bigint;
  policy: string;
  action: PolicyAction;
  /** What the runner did: the pids signalled, or the errno of a write. */
  result: string;
  /** Pids signalled by this action. */
  pids: number[];
}
export interface PolicyRunInfo {
  names: string[];
  actions: PolicyActionRecord[];
  /** Policy kills that ended a process, in time order (pid exits). */
  kills: { tNs: bigint; policy: string; pid: number; comm: string; signal: Signal; rssKb: number }[];
  errors: { tNs: bigint; policy: string; message: string }[];
  /** Polls per policy (how often the daemon woke up). */
  polls: Record<string, number>;
  psiSimulated: boolean;
}

export interface HostDeps {
  engine: Engine;
  psi?: PsiProvider;
  /** Cgroup paths declared by the scenario. */
  cgroupPaths: string[];
  isAlive(pid: number): boolean;
  /** End a process now (the runner's exit path); `how` is recorded as its outcome. */
  exit(pid: number, how: string): void;
  event(kind: string, pid: number, text: string): void;
}
export interface HostOptions {
  /** How long a process takes to exit after SIGTERM when the action gives no graceNs (default 100 ms). */
  sigtermExitNs?: bigint;
  /** 'throw' (default): a policy error aborts the run with a PolicyError. 'disable': record it, stop polling that policy. */
  onError?: 'throw' | 'disable';
}

interface Slot {
  policy: Policy;
  nextNs: bigint;
  disabled: boolean;
  pending: PendingKill[];
}
interface Exit {
  pid: number;
  atNs: bigint;
  signal: Signal;
  policy: string;
  seq: number;
}

/** PolicyHost.state(): plain data (bigints included; the snapshot file's codec writes them). */
export interface PolicyHostState {
  slots: { name: string; nextNs: bigint; disabled: boolean; pending: PendingKill[]; policy: unknown }[];
  exits: Exit[];
  seq: number;
  info: PolicyRunInfo;
}

export class PolicyHost {
  private readonly slots: Slot[];
  private exits: Exit[] = [];
  private seq = 0;
  private readonly psi: PsiProvider;
  readonly info: PolicyRunInfo;
  private readonly sigtermExitNs: bigint;
  private readonly onError: 'throw' | 'disable';

  constructor(policies: Policy[], private readonly d: HostDeps, o: HostOptions = {}) {
    const names = new Set<string>();
    for (const p of policies) {
      if (!p || typeof p.name !== 'string' || typeof p.tick !== 'function' || typeof p.intervalNs !== 'function') {
        throw new PolicyError(String((p as { name?: unknown })?.name ?? '?'), 'not a policy: expected { name, params, intervalNs(view), tick(view) }');
      }
      if (names.has(p.name)) throw new PolicyError(p.name, 'two policies have this name; give each a distinct name');
      names.add(p.name);
    }
    this.slots = policies.map((policy) => ({ policy, nextNs: 0n, disabled: false, pending: [] }));
    this.psi = d.psi ?? enginePsi(d.engine);
    this.sigtermExitNs = o.sigtermExitNs ?? 100_000_000n;
    this.onError = o.onError ?? 'throw';
    this.info = { names: policies.map((p) => p.name), actions: [], kills: [], errors: [], polls: Object.fromEntries(policies.map((p) => [p.name, 0])), psiSimulated: false };
  }

  /**
   * The host's state as plain data, for a snapshot: each policy's poll time, pending kills and own state
   * (`Policy.state()`), the exits in flight and what was recorded so far. Throws E_SNAPSHOT naming a policy
   * that has no `state()`.
   */
  state(): PolicyHostState {
    return {
      slots: this.slots.map((s) => {
        if (typeof s.policy.state !== 'function' || typeof s.policy.fromState !== 'function') {
          throw new OomsimError('E_SNAPSHOT', `policy ${s.policy.name} has no state()/fromState(): a run with it cannot be snapshotted`);
        }
        return { name: s.policy.name, nextNs: s.nextNs, disabled: s.disabled, pending: s.pending.map((p) => ({ ...p })), policy: s.policy.state() };
      }),
      exits: this.exits.map((x) => ({ ...x })),
      seq: this.seq,
      info: structuredClone(this.info),
    };
  }

  /** Load a state saved by `state()` into this host, whose policies are fresh instances with the same names. */
  fromState(h: PolicyHostState): void {
    const names = this.slots.map((s) => s.policy.name);
    if (h.slots.length !== names.length || h.slots.some((x, i) => x.name !== names[i])) {
      throw new OomsimError('E_SNAPSHOT', `the snapshot's policies are ${h.slots.map((x) => x.name).join(', ') || 'none'}; this run has ${names.join(', ') || 'none'}`);
    }
    h.slots.forEach((x, i) => {
      const s = this.slots[i];
      if (typeof s.policy.fromState !== 'function') throw new OomsimError('E_SNAPSHOT', `policy ${s.policy.name} has no fromState(): it cannot continue a snapshot`);
      s.nextNs = x.nextNs;
      s.disabled = x.disabled;
      s.pending = x.pending.map((p) => ({ ...p }));
      s.policy.fromState(x.policy);
    });
    this.exits = h.exits.map((x) => ({ ...x }));
    this.seq = h.seq;
    Object.assign(this.info, structuredClone(h.info));
  }

  /** Exits due by `now` (SIGTERM grace over, kill delay over), in due order. */
  runExits(now: bigint): void {
    const due = this.exits.filter((x) => x.atNs <= now).sort((a, b) => (a.atNs < b.atNs ? -1 : a.atNs > b.atNs ? 1 : a.seq - b.seq));
    if (due.length === 0) return;
    this.exits = this.exits.filter((x) => x.atNs > now);
    const rows = new Map(this.d.engine.tasks().map((t) => [t.pid, t]));
    for (const x of due) {
      if (!this.d.isAlive(x.pid)) continue;
      const t = rows.get(x.pid);
      this.info.kills.push({ tNs: now, policy: x.policy, pid: x.pid, comm: t?.comm ?? '', signal: x.signal, rssKb: t?.vm_rss_kb ?? 0 });
      this.d.exit(x.pid, `killed (${x.signal} by ${x.policy})`);
    }
    for (const s of this.slots) s.pending = s.pending.filter((p) => this.d.isAlive(p.pid));
  }

  /** Poll every policy due by `now`; apply their actions. */
  poll(now: bigint): void {
    for (const s of this.slots) s.pending = s.pending.filter((p) => this.d.isAlive(p.pid));
    const due = this.slots.filter((s) => !s.disabled && s.nextNs <= now);
    if (due.length === 0) return;
    const base = this.baseView(now);
    for (const s of due) {
      const name = s.policy.name;
      const view: PolicyView = Object.freeze({ ...base, pending: Object.freeze(s.pending.map((p) => Object.freeze({ ...p }))) });
      this.info.polls[name]++;
      let actions: PolicyAction[];
      let interval: bigint;
      try {
        let out: unknown;
        try {
          out = s.policy.tick(view);
        } catch (err) {
          throw new PolicyError(name, `tick() threw: ${(err as Error)?.message ?? String(err)}`, now);
        }
        actions = validateActions(name, out, now);
        let iv: unknown;
        try {
          iv = s.policy.intervalNs(view);
        } catch (err) {
          throw new PolicyError(name, `intervalNs() threw: ${(err as Error)?.message ?? String(err)}`, now);
        }
        if (typeof iv !== 'bigint' || iv <= 0n) throw new PolicyError(name, `intervalNs() returned ${safeJson(iv)}; expected a bigint > 0 (nanoseconds)`, now);
        interval = iv;
      } catch (err) {
        if (!(err instanceof PolicyError) || this.onError === 'throw') throw err;
        s.disabled = true;
        this.info.errors.push({ tNs: now, policy: name, message: err.message });
        this.d.event('policy_error', 0, err.message);
        continue;
      }
      for (const a of actions) this.apply(s, a, now);
      s.nextNs = now + interval;
    }
  }

  private baseView(now: bigint): Omit<PolicyView, 'pending'> {
    const e = this.d.engine;
    const rows = e.tasks();
    const tasks: ViewTask[] = rows.map((r) =>
      Object.freeze({
        pid: r.pid, ppid: r.ppid, comm: r.comm, cmdline: r.comm, uid: r.uid, oomScore: e.oomScore(r.pid), oomScoreAdj: r.oom_score_adj,
        vmRssKb: r.vm_rss_kb, vmSwapKb: r.vm_swap_kb, cgroup: r.cgroup, state: r.state,
      }),
    );
    const paths = new Set<string>(['/', ...this.d.cgroupPaths, ...tasks.map((t) => t.cgroup)]);
    const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
    const cgroups = [...paths].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    const psi = this.psi.system(now);
    if (psi.simulated) this.info.psiSimulated = true;
    const psiCache = new Map<string, ReturnType<PsiProvider['cgroup']>>();
    return {
      nowNs: now,
      meminfo: Object.freeze(e.meminfo()),
      vmstat: Object.freeze(e.vmstat() as Record<string, bigint>),
      zoneinfo: Object.freeze(e.watermarks()),
      psi,
      tasks: Object.freeze(tasks),
      cgroups: Object.freeze(cgroups),
      cgroupRead: (path: string, file: string) => {
        if (typeof path !== 'string' || typeof file !== 'string') return null;
        try {
          return e.cgroupRead(path, file);
        } catch {
          return null;
        }
      },
      cgroupPsi: (path: string) => {
        let r = psiCache.get(path);
        if (!r) psiCache.set(path, (r = this.psi.cgroup(path, now)));
        return r;
      },
    };
  }

  private record(s: Slot, a: PolicyAction, now: bigint, result: string, pids: number[] = []) {
    this.info.actions.push({ tNs: now, policy: s.policy.name, action: a, result, pids });
    if (a.type !== 'none') this.d.event('policy', pids[0] ?? 0, `${s.policy.name}: ${describe(a)}: ${result}`);
  }

  private signal(s: Slot, pid: number, sig: Signal, graceNs: bigint | undefined, now: bigint): void {
    const exitAt = sig === 'SIGKILL' ? now : now + (graceNs ?? this.sigtermExitNs);
    const prev = this.exits.find((x) => x.pid === pid);
    if (prev && prev.atNs <= exitAt) return; // already exiting sooner
    this.exits = this.exits.filter((x) => x.pid !== pid);
    this.exits.push({ pid, atNs: exitAt, signal: sig, policy: s.policy.name, seq: this.seq++ });
    const p = s.pending.find((x) => x.pid === pid);
    if (p) Object.assign(p, { signal: sig, exitAtNs: exitAt });
    else s.pending.push({ pid, signal: sig, sinceNs: now, exitAtNs: exitAt });
  }

  private apply(s: Slot, a: PolicyAction, now: bigint): void {
    const e = this.d.engine;
    switch (a.type) {
      case 'none':
        this.record(s, a, now, 'ok');
        return;
      case 'kill': {
        if (!this.d.isAlive(a.pid)) return this.record(s, a, now, 'ESRCH');
        this.signal(s, a.pid, a.signal, a.graceNs, now);
        this.record(s, a, now, 'sent', [a.pid]);
        break;
      }
      case 'kill_cgroup': {
        const inside = (c: string) => a.cgroup === '/' || c === a.cgroup || c.startsWith(a.cgroup + '/');
        const pids = e.tasks().filter((t) => inside(t.cgroup) && this.d.isAlive(t.pid)).map((t) => t.pid);
        for (const pid of pids) this.signal(s, pid, a.signal, a.graceNs, now);
        this.record(s, a, now, pids.length ? `sent to ${pids.length} task(s)` : 'no tasks', pids);
        break;
      }
      case 'set_oom_score_adj': {
        if (!this.d.isAlive(a.pid)) return this.record(s, a, now, 'ESRCH');
        const r = e.writeOomScoreAdj(a.pid, a.value);
        this.record(s, a, now, r < 0 ? `errno ${-r}` : 'ok', [a.pid]);
        return;
      }
      case 'cgroup_write': {
        const r = e.cgroupWrite(a.cgroup, a.file, a.value);
        this.record(s, a, now, r < 0 ? `errno ${-r}` : 'ok');
        return;
      }
    }
    this.runExits(now); // SIGKILL with no delay takes effect at once
  }
}

export function describe(a: PolicyAction): string {
  const why = a.reason ? ` (${a.reason})` : '';
  switch (a.type) {
    case 'kill':
      return `${a.signal} pid ${a.pid}${why}`;
    case 'kill_cgroup':
      return `${a.signal} cgroup ${a.cgroup}${why}`;
    case 'set_oom_score_adj':
      return `oom_score_adj ${a.pid} = ${a.value}${why}`;
    case 'cgroup_write':
      return `echo ${a.value} > ${a.cgroup}/${a.file}${why}`;
    case 'none':
      return `nothing${why}`;
  }
}
