/** `oomsim predict --live`: the kernel's global OOM ranking on this machine, checked against /proc/PID/oom_score. */
import { predictGlobal, predictText } from '../capture/predict.js';
import { readProc } from '../capture/proc.js';

export function predictCommand(o: { live?: boolean; json?: boolean; all?: boolean }, snapshot?: string): number {
  if (snapshot !== undefined || !o.live) {
    console.error('oomsim predict: only --live is implemented so far (reading a snapshot file needs `oomsim capture`, not built yet)');
    return 2;
  }
  let read;
  try {
    read = readProc('/proc');
  } catch (e) {
    console.error(`oomsim predict: cannot read /proc: ${(e as Error).message}`);
    return 1;
  }
  const p = predictGlobal(read);
  if (o.json) {
    console.log(JSON.stringify({
      totalpages: p.totalpages,
      skipped: p.skipped,
      victim: p.victim ? { pid: p.victim.task.pid, comm: p.victim.task.comm, points: p.victim.badness.points } : null,
      agreement: p.agreement,
      rows: p.rows.map((r) => ({ pid: r.task.pid, comm: r.task.comm, memcg: r.task.memcg, oomScoreAdj: r.task.oomScoreAdj,
        ...r.badness, oomsim: r.predictedOomScore, kernel: r.task.kernelOomScore, note: r.note })),
    }, null, 2));
  } else {
    for (const l of predictText(p, o.all ? Infinity : 20)) console.log(l);
  }
  return 0;
}
