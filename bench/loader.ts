/**
 * Scenario validation at scale (issue #19 item 2): a generated JSON scenario with N processes (default 1,000,000),
 * validated by parseScenario's JSON fast path, and a YAML file of N/100 processes through the located YAML path.
 * Checks that both paths agree on a shared size before timing. Reports seconds, processes/s and peak RSS.
 *
 *   npx tsx bench/loader.ts [processes]
 */
import { parseScenario } from '../bindings/src/scenario/load.js';

const n = Number(process.argv[2] ?? 1_000_000);
const proc = (i: number) => ({ comm: `p${i % 100000}`, pid: i + 10, workload: { kind: 'steady', working_set: '1M' } });
const jsonOf = (k: number) => JSON.stringify({ name: 'big', duration: '10s', machine: { ram: '64G' }, processes: Array.from({ length: k }, (_, i) => proc(i)) });
const yamlOf = (k: number) =>
  ['name: big', 'duration: 10s', 'machine: { ram: 64G }', 'processes:', ...Array.from({ length: k }, (_, i) => `  - { comm: p${i % 100000}, pid: ${i + 10}, workload: { kind: steady, working_set: 1M } }`)].join('\n');

// Same result on both paths (1,000 processes) before anything is timed.
const a = parseScenario(jsonOf(1000));
const b = parseScenario(yamlOf(1000));
if (!a.success || !b.success || JSON.stringify(a.data) !== JSON.stringify(b.data)) throw new Error('JSON and YAML paths disagree');

function time(label: string, text: string, k: number): number {
  const t = performance.now();
  const r = parseScenario(text);
  const s = (performance.now() - t) / 1000;
  if (!r.success || r.data.processes.length !== k) throw new Error(`${label}: did not validate`);
  console.log(`${label.padEnd(6)} ${String(k).padStart(9)} processes  ${(text.length / 1e6).toFixed(1).padStart(6)} MB  ${s.toFixed(2).padStart(6)} s  ${Math.round(k / s).toString().padStart(8)} processes/s  rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
  return s;
}
const sj = time('json', jsonOf(n), n);
const k = Math.max(1, Math.floor(n / 100));
const sy = time('yaml', yamlOf(k), k);
console.log(`per process, yaml/json: ${((sy / k) / (sj / n)).toFixed(1)}x`);
