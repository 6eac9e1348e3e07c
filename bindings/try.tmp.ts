import { load } from './src/index.js';
import { loadScenarioFileOrThrow, normalizeScenario } from './src/scenario/index.js';
import { runScenario } from './src/run.js';
await load();
for (const f of process.argv.slice(2)) {
  const t0 = Date.now();
  const s = loadScenarioFileOrThrow(f);
  const r = runScenario(normalizeScenario(s, { file: f }));
  const m = r.series.meminfo; const last = m.MemFree.length - 1;
  console.log(f, Date.now() - t0, 'ms', 'free', m.MemFree[last], 'anon', m.AnonPages[last], 'commit', m.Committed_AS[last], 'events', r.events.length, r.processes.map(p => `${p.comm}:${p.outcome.kind}:${p.peakRssKb}:${p.errors.map(e=>e.syscall+'/'+e.errno+'x'+e.count).join(',')}`).join(' '));
}
