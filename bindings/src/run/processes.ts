/**
 * Processes: what user space does. Declared programs started and restarted by their supervisors, the children
 * their workloads fork, the syscalls their drivers make, each program's batch of commands per tick, and what the
 * engine's events (OOM kills, exits, panics, signals) do to them.
 */
import { resultName, type EngineEvent } from '../engine.js';
import { OPS } from '../generated/ops.js';
import { OomsimError } from '../errors.js';
import type { NormalizedProcess, NormalizedSupervisor, NormalizedWorkload } from '../scenario/normalize.js';
import { childDriver, driverFor, type ChildSpec, type Sys } from '../workload/drivers.js';
import { event, fmtSec, notSimulated, tally, type ProgramRef, type Proc, type RunState } from './state.js';
import { FORK_BOMB_RUNNER_CAP, type ProcessOutcome, type ProcessReport } from './types.js';

const OP_NAME_BY_CODE: Record<number, string> = Object.fromEntries(Object.entries(OPS).map(([k, v]) => [v.code, k]));

export function newProc(st: RunState, pid: number, comm: string, origin: Proc['origin'], decl: NormalizedProcess | null, family: string | null): Proc {
  const key = origin === 'workload_child' ? null : String(pid);
  const p: Proc = {
    pid, comm, key, origin, decl, family: family ?? String(pid), driver: null, program: null, alive: false, startNs: null,
    outcome: { kind: 'not_started' }, restarts: 0, restartTimes: [], peakRssKb: 0, children: 0, errors: new Map(), pendingExitHow: null, restartAt: null, backoffNs: 0n, blocked: [], stallBaseNs: 0n,
  };
  st.procs.set(pid, p);
  if (key !== null) st.tracked.push(p);
  return p;
}

/** The declared processes (not started yet) and the fork bombs' caps, with the runner-limit note. */
export function declareProcesses(st: RunState): void {
  for (const d of st.sc.processes) if (d.workload.kind === 'fork_bomb') st.bombCap.set(d.pid, d.workload.maxTasks ?? FORK_BOMB_RUNNER_CAP);
  if (st.sc.processes.some((d) => d.workload.kind === 'fork_bomb' && d.workload.maxTasks === null)) {
    notSimulated(st, `fork_bomb without max_tasks: the runner stops a bomb at ${FORK_BOMB_RUNNER_CAP} tasks (a runner limit; kernel.threads-max and pid_max are not simulated yet)`);
  }
  for (const d of st.sc.processes) newProc(st, d.pid, d.comm, 'scenario', d, null);
}

function allocPid(st: RunState): number {
  while (st.procs.get(st.nextPid)?.alive) st.nextPid++;
  return st.nextPid++;
}

/** The syscalls a workload driver makes; direct calls are tallied at once, queued ones when the batch returns. */
export function driverSys(st: RunState): Sys {
  const { e } = st;
  const direct = (pid: number, syscall: string, r: number) => {
    tally(st, pid, syscall, r);
    return r;
  };
  return {
    mmapAnon: (pid, pages) => direct(pid, 'mmap', e.mmapAnon(pid, pages)),
    mmapNone: (pid, pages) => direct(pid, 'mmap', e.mmap(pid, pages, { prot: 'none' })),
    mmapFile: (pid, file, pages) => direct(pid, 'mmap', e.mmap(pid, pages, { prot: 'r', file })),
    munmap: (pid, vpn, pages) => direct(pid, 'munmap', e.munmap(pid, vpn, pages)),
    mprotectRw: (pid, vpn, pages) => direct(pid, 'mprotect', e.mprotect(pid, vpn, pages, 'rw')),
    madviseDontneed: (pid, vpn, pages) => direct(pid, 'madvise', e.madvise(pid, vpn, pages, 'MADV_DONTNEED')),
    fileCreate: (name, pages) => e.fileCreate(name, 'disk', pages, false),
    queueTouch: (pid, vpn, pages, access) => {
      e.push('touch', pid, vpn % 0x1_0000_0000, Math.floor(vpn / 0x1_0000_0000), pages, access === 'write' ? 1 : 0);
      st.queued.push({ pid, what: 'page fault' });
    },
    queueTouchZipf: (pid, vpn, npages, count, access) => {
      e.push('touch_pattern', pid, vpn % 0x1_0000_0000, Math.floor(vpn / 0x1_0000_0000), npages, 2, 0, count, access === 'write' ? 1 : 0);
      st.queued.push({ pid, what: 'page fault' });
    },
    queueFileRead: (pid, file, first, count) => {
      e.push('file_read', pid, file, first, count);
      st.queued.push({ pid, what: 'read' });
    },
    forkChild: (parent, spec) => forkChild(st, parent, spec),
    exit: (pid) => exitProc(st, pid, 'exited (end of its lifetime)'),
    note: (pid, text) => event(st, 'note', pid, text),
  };
}

export function startProgram(st: RunState, p: Proc, w: NormalizedWorkload, program: ProgramRef): void {
  p.driver = driverFor(p.pid, st.now, w);
  p.program = program;
  p.stallBaseNs = st.e.taskStallNs(p.pid);
}

function spawnDeclared(st: RunState, d: NormalizedProcess, p: Proc): void {
  st.e.spawn(d.pid, { comm: d.comm, uid: d.uid, capSysAdmin: d.capSysAdmin, oomScoreAdj: d.oomScoreAdj, cgroup: d.cgroup });
  p.alive = true;
  p.startNs ??= st.now;
  p.outcome = { kind: 'running' };
  startProgram(st, p, d.workload, { from: 'process', index: st.sc.processes.indexOf(d) });
  event(st, 'start', d.pid, p.restarts > 0 ? `restarted by its supervisor (restart ${p.restarts})` : `started (${d.workload.kind})`);
}

/** Starts and supervisor restarts due by now, in declaration order. */
export function startDue(st: RunState): void {
  for (const d of st.sc.processes) {
    const p = st.procs.get(d.pid)!;
    if (p.alive) continue;
    if (p.outcome.kind === 'not_started' && d.startNs <= st.now) spawnDeclared(st, d, p);
    else if (p.restartAt !== null && p.restartAt <= st.now) {
      p.restartAt = null;
      p.restarts++;
      p.restartTimes.push(st.now);
      spawnDeclared(st, d, p);
    }
  }
}

function forkChild(st: RunState, parent: number, spec: ChildSpec): number {
  const { e } = st;
  const pp = st.procs.get(parent);
  if (!pp?.alive) return -3;
  if (spec.kind === 'fork_bomb_child') {
    const cap = st.bombCap.get(spec.root) ?? FORK_BOMB_RUNNER_CAP;
    const nTasks = st.bombTasks.get(spec.root) ?? 1;
    if (nTasks >= cap) return -11;
  }
  const child = allocPid(st);
  const r = e.fork(parent, child);
  tally(st, parent, 'fork', r);
  if (r < 0) return r;
  const family = pp.origin === 'workload_child' ? pp.family : String(parent);
  const c = newProc(st, child, pp.comm, 'workload_child', null, family);
  c.alive = true;
  c.startNs = st.now;
  c.outcome = { kind: 'running' };
  (st.procs.get(Number(family)) ?? pp).children++;
  if (spec.kind === 'fork_exec_child') {
    const x = e.exec(child, spec.comm);
    tally(st, child, 'execve', x);
    if (x >= 0) c.comm = spec.comm;
  } else {
    st.bombTasks.set(spec.root, (st.bombTasks.get(spec.root) ?? 1) + 1);
  }
  c.driver = childDriver(child, st.now, spec);
  c.program = { from: 'child', spec };
  c.stallBaseNs = e.taskStallNs(c.pid);
  return child;
}

/** Terminate a running process through exit (mm teardown); `how` is what its report says. */
export function exitProc(st: RunState, pid: number, how: string): void {
  const p = st.procs.get(pid);
  if (!p?.alive) return;
  p.pendingExitHow = how;
  st.e.exit(pid);
  handleEvents(st);
}

function markDead(st: RunState, p: Proc, outcome: ProcessOutcome): void {
  if (!p.alive) return;
  p.alive = false;
  p.driver = null;
  if (p.outcome.kind !== 'oom_killed') p.outcome = outcome;
  for (const [rootPid, nTasks] of st.bombTasks) if (p.family === String(rootPid) && p.origin === 'workload_child') st.bombTasks.set(rootPid, nTasks - 1);
  scheduleRestart(st, p);
}

/** The supervisor's decision after a death: systemd Restart= with its start limit, or a kubelet restartPolicy with backoff. */
function scheduleRestart(st: RunState, p: Proc): void {
  const now = st.now;
  const sup: NormalizedSupervisor | null = p.decl?.supervisor ?? null;
  if (!sup || p.outcome.kind === 'running' || p.outcome.kind === 'not_started') return;
  const killed = p.outcome.kind === 'oom_killed' || (p.outcome.kind === 'exited' && p.outcome.how.startsWith('killed'));
  const clean = p.outcome.kind === 'exited' && p.outcome.how.includes('code 0');
  if (sup.kind === 'systemd') {
    const wants =
      sup.restart === 'always' ||
      (sup.restart === 'on-success' && clean) ||
      (sup.restart === 'on-failure' && !clean) ||
      ((sup.restart === 'on-abnormal' || sup.restart === 'on-abort') && killed);
    if (!wants) return;
    const recent = p.restartTimes.filter((t) => now - t < sup.startLimitIntervalNs);
    if (recent.length >= sup.startLimitBurst) {
      event(st, 'supervisor', p.pid, `systemd: start request repeated too quickly (StartLimitBurst=${sup.startLimitBurst}); not restarting`);
      return;
    }
    p.restartAt = now + sup.restartSecNs;
  } else {
    const wants = sup.restartPolicy === 'Always' || (sup.restartPolicy === 'OnFailure' && !clean);
    if (!wants) return;
    p.backoffNs = p.backoffNs === 0n ? sup.backoffInitialNs : p.backoffNs * 2n > sup.backoffMaxNs ? sup.backoffMaxNs : p.backoffNs * 2n;
    p.restartAt = now + (p.restarts === 0 ? 0n : p.backoffNs);
  }
  event(st, 'supervisor', p.pid, `${sup.kind}: restart scheduled at ${fmtSec(p.restartAt)}`);
}

/** Drain the engine's events and log lines into the run. */
export function handleEvents(st: RunState): void {
  for (const ev of st.e.drainEvents()) onEngineEvent(st, ev);
  // --explain: the candidate table of each OOM kill as the OOM killer saw it, recorded by the engine before the
  // kill (a table built now would show the state after the victim died, and the next task on top)
  if (st.opts.explain) {
    for (const x of st.e.takeSelectionExplanations()) st.explanations.push({ tNs: x.timeNs > 0n ? x.timeNs : st.now, table: x.table });
  }
  for (const line of st.e.drainLog()) st.log.push({ tNs: st.now, line });
}

function onEngineEvent(st: RunState, ev: EngineEvent): void {
  const t = ev.timeNs > 0n ? ev.timeNs : st.now;
  const p = st.procs.get(ev.pid);
  switch (ev.kind) {
    case 'oom_kill': {
      st.oomKills.push({ tNs: t, pid: ev.pid, comm: p?.comm ?? '', constraint: ev.a, killedBy: ev.b, badness: ev.c });
      event(st, 'oom_kill', ev.pid, `OOM-killed (constraint ${ev.a}, killed by ${['the OOM killer', 'oom_kill_allocating_task', 'memory.oom.group'][ev.b] ?? ev.b}, badness ${ev.c})`, t);
      if (p) {
        p.outcome = { kind: 'oom_killed', atNs: t, constraint: ev.a, killedBy: ev.b, badness: ev.c };
        const open = p.blocked.at(-1);
        if (open && open.toNs === null) open.toNs = t;
      }
      break;
    }
    case 'task_exit': {
      if (p) {
        const how = p.pendingExitHow ?? (ev.a === 1 ? 'killed (SIGKILL)' : 'exited');
        p.pendingExitHow = null;
        if (p.origin !== 'workload_child') event(st, 'exit', ev.pid, how, t);
        markDead(st, p, { kind: 'exited', atNs: t, how });
      }
      break;
    }
    case 'panic':
      st.panic = { tNs: t, reason: ev.a };
      event(st, 'panic', ev.pid, `kernel panic (reason ${ev.a})`, t);
      break;
    case 'signal':
      event(st, 'signal', ev.pid, `signal ${ev.a === 11 ? 'SIGSEGV' : ev.a === 7 ? 'SIGBUS' : ev.a} at page ${ev.c}`, t);
      break;
    case 'syscall_error':
    case 'task_new':
      break; // syscall results are tallied from the results the program saw; children are created by the runner
    default:
      event(st, String(ev.kind), ev.pid, `engine event a=${ev.a} b=${ev.b} c=${ev.c} (${OP_NAME_BY_CODE[ev.a] ?? ''})`, t);
  }
}

/** Each running program's commands for this tick, one batch (one crossing) per program, flushed in pid order of creation. */
export function stepPrograms(st: RunState, sys: Sys): void {
  const { e, tickNs } = st;
  for (const p of [...st.procs.values()]) {
    if (st.panic !== null) break;
    if (!p.alive || !p.driver) continue;
    const now = st.now;
    // A task asleep in a v1 memcg OOM wait (mm/memcontrol-v1.c: mem_cgroup_oom_synchronize) does nothing
    // until the kernel wakes it (limit raised, memory freed in its memcg, oom_kill_disable written 0).
    if (e.taskBlocked(p.pid)) {
      if (p.outcome.kind !== 'blocked') {
        p.outcome = { kind: 'blocked', sinceNs: now };
        p.blocked.push({ fromNs: now, toNs: null });
        event(st, 'note', p.pid, 'blocked in a memcg OOM wait (oom_kill_disable=1): state D, under_oom=1, no kill');
      }
      continue;
    }
    if (p.outcome.kind === 'blocked') {
      event(st, 'note', p.pid, 'woken from the memcg OOM wait');
      p.blocked[p.blocked.length - 1].toNs = now;
      p.outcome = { kind: 'running' };
    }
    const d = p.driver;
    st.queued = [];
    try {
      // A program's own progress stops while it stalls in the kernel (direct reclaim, swap-in, memory.high
      // penalty sleeps): its driver runs on the time it was not stalled, so a throttled leak grows slower.
      const progressNs = now - (e.taskStallNs(p.pid) - p.stallBaseNs);
      d.step(sys, progressNs > d.startNs ? progressNs : d.startNs, tickNs);
      const res = e.submit().map(Number);
      const queued = st.queued;
      res.forEach((r, i) => tally(st, queued[i]?.pid ?? p.pid, queued[i]?.what ?? 'command', r));
      d.onResults(res);
    } catch (err) {
      // A program killed in the middle of its own batch (e.g. oom_kill_allocating_task): its later commands
      // name a dead pid; or one that went to sleep in a memcg OOM wait: its later commands are refused until
      // it is woken (the pending fault is retried by the kernel then). Anything else is a real error.
      if (!(err instanceof OomsimError && (err.code === 'E_NOPID' || err.code === 'E_BLOCKED'))) throw err;
      e.submit();
    }
    handleEvents(st);
  }
}

export function processReports(st: RunState): ProcessReport[] {
  return st.tracked.map((p) => ({
    key: p.key!,
    pid: p.pid,
    comm: p.comm,
    origin: p.origin === 'scenario' ? 'scenario' : 'fork_action',
    startNs: p.startNs,
    outcome: p.outcome,
    restarts: p.restarts,
    peakRssKb: p.peakRssKb,
    workloadChildren: p.children,
    errors: [...p.errors.values()],
    blocked: p.blocked,
  }));
}
