// The standalone HTML report in real headless Chromium (Debian's chromium + playwright-core, as browser.test.ts):
// it loads without errors or network, draws its charts full width and not blank, shows no empty swap chart on a
// machine without swap, no `--` legend values, no series hidden under an identical one, and wraps long log lines.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { load, runScenarioFile, toHtml } from '../bindings/src/index.js';

const CHROMIUM = process.env.OOMSIM_CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 180_000; // a wait on the page or the run, not a speed check: the machine is shared
const SCENARIOS = new URL('../scenarios/', import.meta.url).pathname;
let server: Server;
let base: string;
let browser: Browser;
const pages = new Map<string, string>();
const outDir = mkdtempSync(join(tmpdir(), 'oomsim-html-'));

beforeAll(async () => {
  await load();
  server = createServer((req, res) => {
    const body = pages.get(req.url ?? '');
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end(); // the browser asks for it by itself
      return;
    }
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, WAIT);

afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => server?.close(ok));
});

describe('HTML report', () => {
  for (const name of ['global-oom-adj', 'fork-overcommit-mode2', 'prevent-more-swap']) {
    // prevent-more-swap is the longest seed run (180 s simulated): with the render, well past a minute on a
    // loaded machine.
    it(`${name}: renders in Chromium with non-blank charts`, { timeout: WAIT * 2 }, async () => {
      const r = runScenarioFile(`${SCENARIOS}${name}.yaml`);
      const html = toHtml(r);
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // standalone: nothing fetched
      pages.set(`/${name}.html`, html);
      writeFileSync(join(outDir, `${name}.html`), html);
      const page = await browser.newPage({ viewport: { width: 1200, height: 1800 } });
      page.setDefaultTimeout(WAIT);
      page.setDefaultNavigationTimeout(WAIT);
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('request', (r) => !r.url().endsWith('/favicon.ico') && requests.push(r.url()));
      await page.goto(`${base}/${name}.html`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: WAIT });
      expect(errors).toEqual([]);
      expect(requests).toEqual([`${base}/${name}.html`]);
      const hasSwap = r.series.meminfo.SwapTotal.some((v) => v > 0);
      const ids = hasSwap ? ['mem', 'swap', 'commit', 'rss'] : ['mem', 'commit', 'rss'];
      expect(await page.$$eval('.chart', (els) => els.map((e) => e.id).filter((id) => id !== 'cgroups'))).toEqual(ids);
      expect((await page.$('#swap-none')) !== null).toBe(!hasSwap);
      // Each chart's canvas: the share of pixels that are drawn (not transparent and not white).
      const inked = await page.evaluate((ids) =>
        ids.map((id) => {
          const c = document.querySelector(`#${id} canvas`) as HTMLCanvasElement | null;
          if (!c) return -1;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] > 245 && d[i + 1] > 245 && d[i + 2] > 245)) n++;
          return n / (c.width * c.height);
        }), ids);
      for (const share of inked) expect(share).toBeGreaterThan(0.003);
      // Full width: every chart spans at least 90% of the page's content width.
      const widths = await page.evaluate(() => ({ body: document.body.clientWidth, charts: Array.from(document.querySelectorAll('.chart .uplot')).map((e) => (e as HTMLElement).offsetWidth) }));
      for (const w of widths.charts) expect(w).toBeGreaterThan(widths.body * 0.9);
      // Legends: no stray x-series entry and no `--` placeholder while the cursor is off the chart.
      const legends = await page.$$eval('.u-legend', (els) => els.map((e) => (e as HTMLElement).innerText));
      for (const l of legends) {
        expect(l).not.toMatch(/(^|\n)\s*s\b/);
        expect(l).not.toContain('--');
      }
      // A series with the same values as an earlier one is labelled so ("(= MemFree)") instead of hiding under it.
      const mi = r.series.meminfo;
      if (mi.MemFree.every((v, i) => v === mi.MemAvailable[i])) expect(legends[0]).toContain('MemAvailable (= MemFree)');
      // Long kernel-log lines wrap inside the page.
      const log = await page.evaluate(() => { const e = document.getElementById('log')!; return { sw: e.scrollWidth, cw: e.clientWidth }; });
      expect(log.sw).toBeLessThanOrEqual(log.cw + 1);
      const shot = await page.screenshot({ fullPage: true, path: join(outDir, `${name}.png`) });
      expect(shot.length).toBeGreaterThan(20_000);
      expect(await page.textContent('#summary')).toContain(`== ${name}`);
      await page.close();
    });
  }
});
