// The browser demo page: loads the wasm engine with the web loader and runs the same demo as `npm start`.
import { load, runDemo } from '../src/web.js';

const $ = (id: string) => document.getElementById(id)!;

async function main(): Promise<void> {
  await load();
  const r = runDemo();
  $('memtotal').textContent = String(r.memTotalKb);
  $('memfree').textContent = String(r.memFreeKb);
  $('pgfault').textContent = String(r.pgfault);
  $('report').textContent = r.lines.join('\n');
  $('status').textContent = 'done';
  document.body.dataset.ready = '1';
}

main().catch((e: Error) => {
  $('status').textContent = `error: ${e.message}`;
  $('status').className = 'error';
  document.body.dataset.ready = 'error';
});
