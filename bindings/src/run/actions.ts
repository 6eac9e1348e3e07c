/** Actions: what the scenario's admin does at set times (fork, exec, kill, exit, oom_score_adj, sysctl and cgroup writes). */
import { resultName } from '../engine.js';
import type { NormalizedAction } from '../scenario/normalize.js';
import { exitProc, newProc, startProgram } from './processes.js';
import { event, notSimulated, tally, type RunState } from './state.js';

export function runAction(st: RunState, a: NormalizedAction): void {
  const { e } = st;
  switch (a.action) {
    case 'fork': {
      const pp = st.procs.get(a.pid);
      if (!pp?.alive) {
        event(st, 'action', a.pid, `fork skipped: pid ${a.pid} is not running`);
        return;
      }
      const r = e.fork(a.pid, a.child.pid);
      tally(st, a.pid, 'fork', r);
      const c = newProc(st, a.child.pid, a.child.comm, 'fork_action', null, null);
      if (r < 0) {
        c.outcome = { kind: 'fork_failed', atNs: st.now, errno: resultName(r) };
        event(st, 'action', a.pid, `fork() = ${resultName(r)}: child ${a.child.pid} not created`);
        return;
      }
      c.alive = true;
      c.startNs = st.now;
      c.outcome = { kind: 'running' };
      if (a.child.comm !== pp.comm) notSimulated(st, `a fork child's own comm (${a.child.comm}): the engine keeps the parent's comm until exec (no prctl(PR_SET_NAME) yet)`);
      startProgram(st, c, a.child.workload, { from: 'action', index: st.sc.actions.indexOf(a) });
      event(st, 'action', a.pid, `fork() = ${a.child.pid}`);
      return;
    }
    case 'exec': {
      const p = st.procs.get(a.pid);
      if (!p?.alive) {
        event(st, 'action', a.pid, `exec skipped: pid ${a.pid} is not running`);
        return;
      }
      const r = e.exec(a.pid, a.comm);
      tally(st, a.pid, 'execve', r);
      event(st, 'action', a.pid, `execve(${a.comm}) = ${resultName(r)}`);
      if (r >= 0) {
        p.comm = a.comm;
        startProgram(st, p, a.workload, { from: 'action', index: st.sc.actions.indexOf(a) });
      }
      return;
    }
    case 'kill': {
      // The engine has no signal delivery yet: the default action of both signals terminates the process,
      // which the engine performs as an exit (mm teardown). Recorded as killed by the signal.
      notSimulated(st, 'kill actions: the engine has no signal delivery yet; the process is terminated through exit (the default action of SIGKILL/SIGTERM)');
      if (st.procs.get(a.pid)?.alive) exitProc(st, a.pid, `killed (${a.signal}, action)`);
      return;
    }
    case 'exit':
      if (st.procs.get(a.pid)?.alive) exitProc(st, a.pid, `exited with code ${a.code} (action)`);
      return;
    case 'set_adj': {
      if (!st.procs.get(a.pid)?.alive) return;
      const r = e.setOomScoreAdj(a.pid, a.oomScoreAdj);
      tally(st, a.pid, 'write oom_score_adj', r);
      event(st, 'action', a.pid, `oom_score_adj = ${a.oomScoreAdj}: ${resultName(r)}`);
      return;
    }
    case 'sysctl':
      for (const w of a.writes) {
        const r = e.setSysctl(w.name, Number(w.value));
        event(st, 'action', 0, `sysctl ${w.name} = ${w.value}: ${resultName(r)}`);
      }
      return;
    case 'cgroup_write':
      for (const w of a.writes) {
        const r = e.cgroupWrite(a.cgroup, w.file, w.text);
        event(st, 'action', 0, `echo ${w.text} > ${a.cgroup === '/' ? '' : a.cgroup}/${w.file}: ${resultName(r)}`);
      }
      return;
  }
}
