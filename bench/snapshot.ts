/**
 * Engine snapshots (issue #19 item 4): size and time of `snapshot()` and `Engine.restore()` for a machine of
 * `pages` frames (default 262144, 1 GiB) with one process holding 3/4 of RAM, half of it pushed to swap, and
 * `clone()` beside them as the in-process baseline. Checks before timing that restore -> snapshot gives the same
 * bytes and the same meminfo, and times `rounds` of each in the same run (ratios are same-run).
 *
 *   npx tsx bench/snapshot.ts [pages] [rounds]
 */
import { Engine, load } from '../bindings/src/index.js';

await load();
const pages = Number(process.argv[2] ?? 262144);
const rounds = Number(process.argv[3] ?? 10);
const e = new Engine({ totalramPages: pages, totalSwapPages: pages });
e.spawn(1);
const n = Math.floor((pages * 3) / 4);
const vpn = e.mmapAnon(1, n);
e.touch(1, vpn, n, 'write');
e.swapout(1, vpn, Math.floor(n / 2));

const bytes = e.snapshot();
const back = Engine.restore(bytes);
if (Buffer.compare(Buffer.from(back.snapshot()), Buffer.from(bytes)) !== 0 || back.meminfoText() !== e.meminfoText()) {
  throw new Error('restore -> snapshot differs');
}
back.free();

function time(label: string, f: () => void): number {
  const t = performance.now();
  for (let i = 0; i < rounds; i++) f();
  const ms = (performance.now() - t) / rounds;
  console.log(`${label.padEnd(9)} ${ms.toFixed(1).padStart(8)} ms`);
  return ms;
}
console.log(`${pages} frames, ${n} pages touched, ${Math.floor(n / 2)} swapped out: snapshot ${(bytes.length / 2 ** 20).toFixed(2)} MiB (${(bytes.length / pages).toFixed(1)} bytes/frame)`);
const s = time('snapshot', () => void e.snapshot());
const r = time('restore', () => Engine.restore(bytes).free());
const c = time('clone', () => e.clone().free());
console.log(`snapshot/clone ${(s / c).toFixed(1)}x, restore/clone ${(r / c).toFixed(1)}x`);
e.free();
