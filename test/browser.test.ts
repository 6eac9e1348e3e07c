// The playground (bindings/web, built by `npm run build:web`) in real headless Chromium (Debian's chromium +
// playwright-core), opened from file:// as a user would open the built file: presets run in the worker give the
// same results as `oomsim run` in Node; inline editor errors name the line and the allowed values; a share link
// reproduces the run; the policy bake-off prints `oomsim compare`'s table, with parameters; a run paused, stepped
// and resumed ends as `oomsim run` does; playback, cancel, the process table and the language switch work; no
// console errors.
import { mkdirSync, readFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { load, runScenarioFile, textSummary, formatLog, parseScenario } from '../bindings/src/index.js';
import { formatIssue, loadScenarioFileOrThrow } from '../bindings/src/scenario/load.js';
import { normalizeScenario } from '../bindings/src/scenario/normalize.js';
import { comparePolicies, compareTable } from '../bindings/src/policy/compare.js';
import { BUILTIN_POLICIES } from '../bindings/src/policy/index.js';

const DIST = new URL('../bindings/web/dist/', import.meta.url).pathname;
const PAGE = pathToFileURL(join(DIST, 'index.html')).href;
const SCENARIOS = new URL('../scenarios/', import.meta.url).pathname;
const OUT = new URL('./.output/', import.meta.url).pathname;
const CHROMIUM = process.env.OOMSIM_CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 180_000; // a wait on the page, not a speed check: the machine is shared

let browser: Browser;
/** Figures for the note (printed, never asserted: the machine is shared): first load, the largest preset's run. */
const timing: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST}index.html is missing: run npm run build:web (scripts/test.sh does)`);
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await load();
}, WAIT);

afterAll(async () => {
  await browser?.close();
  if (timing.length) {
    writeFileSync(join(OUT, 'playground-timing.txt'), timing.join('\n') + '\n');
    console.log(`playground (loaded machine): ${timing.join('; ')}`);
  }
});

async function open(url = PAGE, width = 1280, height = 800): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height } });
  // Playwright's own default (30 s for every goto, click, fill, textContent) is no bound on a shared machine.
  page.setDefaultTimeout(WAIT);
  page.setDefaultNavigationTimeout(WAIT);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url().slice(0, 80)}`));
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: WAIT });
  if (!timing.some((x) => x.startsWith('first load'))) {
    timing.push(`first load ${Date.now() - t0} ms (${Math.round(statSync(join(DIST, 'index.html')).size / 1024)} KiB index.html, from file://)`);
  }
  return { page, errors };
}

const finished = (page: Page) => page.waitForSelector('body[data-state="done"], body[data-state="error"]', { state: 'attached', timeout: WAIT });

async function runPreset(page: Page, name: string): Promise<void> {
  await page.selectOption('#preset', name);
  await page.click('#run');
  await finished(page);
  expect(await page.getAttribute('body', 'data-state'), await page.textContent('#errors') ?? '').toBe('done');
}

const pageKills = (page: Page) => page.$$eval('#kills li', (els) => els.map((e) => ({ pid: Number((e as HTMLElement).dataset.pid), comm: (e as HTMLElement).dataset.comm, tNs: (e as HTMLElement).dataset.tns })));

/** The share of drawn (not blank, not white) pixels of each chart canvas. */
const ink = (page: Page) =>
  page.$$eval('#charts .chart canvas', (cs) =>
    cs.map((c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] > 245 && d[i + 1] > 245 && d[i + 2] > 245)) n++;
      return n / (cv.width * cv.height);
    }),
  );

describe('playground from file://', () => {
  for (const name of ['global-oom-adj', 'cgroup-v1-limit-in-bytes', 'fork-overcommit-mode2']) {
    it(`${name}: the page's run equals oomsim run (summary, kills, dmesg)`, { timeout: WAIT * 2 }, async () => {
      const node = runScenarioFile(`${SCENARIOS}${name}.yaml`, { explain: true });
      const { page, errors } = await open();
      await runPreset(page, name);
      expect(await page.textContent('#summary')).toBe(textSummary(node, { explain: true }).join('\n'));
      expect(await pageKills(page)).toEqual(node.oomKills.map((k) => ({ pid: k.pid, comm: k.comm, tNs: String(k.tNs) })));
      const dmesg = (await page.textContent('#dmesg')) ?? '';
      expect(dmesg).toBe(formatLog(node).join('\n') || '(empty)');
      if (name !== 'fork-overcommit-mode2') expect(dmesg).toContain(`Killed process ${node.oomKills[0]!.pid} (${node.oomKills[0]!.comm})`);
      else expect(node.oomKills).toEqual([]);
      const inked = await ink(page);
      expect(inked.length).toBeGreaterThanOrEqual(3);
      for (const share of inked) expect(share).toBeGreaterThan(0.003);
      await page.screenshot({ path: join(OUT, `playground-${name}.png`), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('a global OOM and a memcg OOM are among the presets', () => {
    expect(runScenarioFile(`${SCENARIOS}global-oom-adj.yaml`).oomKills[0]?.constraint).toBe(0); // CONSTRAINT_NONE
    expect(runScenarioFile(`${SCENARIOS}cgroup-v1-limit-in-bytes.yaml`).oomKills[0]?.constraint).toBe(3); // CONSTRAINT_MEMCG
  });

  it('an error typed into the editor is shown inline with its line and the allowed values', { timeout: WAIT }, async () => {
    const { page, errors } = await open();
    await page.selectOption('#preset', 'global-oom-adj');
    await page.click('.cm-content');
    await page.keyboard.press('Control+Home');
    await page.keyboard.type('bogus_key: 1');
    await page.keyboard.press('Enter');
    const text = readFileSync(`${SCENARIOS}global-oom-adj.yaml`, 'utf8');
    const r = parseScenario(`bogus_key: 1\n${text}`, { file: 'global-oom-adj.yaml' });
    expect(r.success).toBe(false);
    const e = r.success ? null : r.errors[0]!;
    expect(formatIssue(e!)).toContain('allowed: $schema, name, description');
    await page.waitForFunction(() => (document.getElementById('errors')?.textContent ?? '').length > 0, undefined, { timeout: WAIT });
    expect(await page.textContent('#errors')).toBe(`line ${e!.line} ${e!.path}: ${e!.message}`);
    expect(e!.line).toBe(1);
    // the editor marks the range on line 1
    const marked = await page.$$eval('.cm-lintRange-error', (els) => els.map((x) => x.closest('.cm-line')?.textContent));
    expect(marked).toEqual(['bogus_key: 1']);
    // running it reports the same error instead of a result
    await page.click('#run');
    await finished(page);
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    expect(await page.textContent('#errors')).toContain('unknown key "bogus_key"');
    await page.screenshot({ path: join(OUT, 'playground-editor-error.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('completion and hover docs from the schema, in block style and inside flow mappings', { timeout: WAIT }, async () => {
    const { page, errors } = await open();
    await page.selectOption('#preset', 'global-oom-adj');
    const options = async () => {
      await page.waitForSelector('.cm-tooltip-autocomplete', { timeout: WAIT });
      return page.$$eval('.cm-tooltip-autocomplete li', (els) => els.map((e) => e.textContent ?? ''));
    };
    await page.click('.cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('dur');
    expect(await options()).toContain('duration');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Backspace');
    // inside a process's flow mapping: the process keys; inside its workload's: the workload keys
    // line 19 of the preset: `  - { comm: postgres, pid: 100, oom_score_adj: -500, workload: { ... } }`
    const line = page.locator('.cm-line', { hasText: 'comm: postgres' });
    await line.click();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft'); // before the closing `}`
    await page.keyboard.type(', su');
    expect(await options()).toEqual(expect.arrayContaining(['supervisor']));
    await page.keyboard.press('Escape');
    for (let i = 0; i < 4; i++) await page.keyboard.press('Backspace');
    await line.locator('span', { hasText: /^kind$/ }).first().click();
    await page.keyboard.press('Control+ArrowLeft');
    await page.keyboard.type('wo');
    const inWorkload = await options();
    expect(inWorkload).toContain('working_set');
    expect(inWorkload).not.toContain('comm');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    // hover a key inside the flow mapping: its description from the schema
    const key = line.locator('span', { hasText: /^oom_score_adj$/ }).first();
    await key.hover();
    await page.waitForSelector('.cm-hover-doc', { timeout: WAIT });
    expect(await page.textContent('.cm-hover-doc')).toMatch(/^oom_score_adj: .+/);
    await page.screenshot({ path: join(OUT, 'playground-editor-hover.png') });
    // a value the schema lists: hover says what it takes and what else is allowed; completion offers the values
    await page.mouse.move(0, 0);
    const line2 = page.locator('.cm-line', { hasText: 'comm: memcached' }); // its `kind: steady` is in view
    const at = await line2.evaluate((el) => {
      const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = w.nextNode(); n; n = w.nextNode()) {
        const i = n.textContent!.indexOf('steady');
        if (i < 0) continue;
        const r = document.createRange();
        r.setStart(n, i + 2);
        r.setEnd(n, i + 3);
        const b = r.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
      }
      return null;
    });
    expect(at).not.toBeNull();
    await page.mouse.move(at!.x, at!.y);
    await page.waitForFunction(() => /^kind: steady/.test(document.querySelector('.cm-hover-doc')?.textContent ?? ''), undefined, { timeout: WAIT });
    expect(await page.textContent('.cm-hover-doc')).toMatch(/^kind: steady \(with working_set, ramp\); one of idle, steady, leak, /);
    await page.mouse.dblclick(at!.x, at!.y); // select the word
    await page.keyboard.type('le');
    expect(await options()).toContain('leak');
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a share link opened in a new page reproduces the run', { timeout: WAIT * 2 }, async () => {
    const { page, errors } = await open();
    await runPreset(page, 'global-oom-adj');
    await page.fill('#tick', '50'); // a setting that changes the numbers travels in the link too
    await page.click('#run');
    await finished(page);
    const summary = await page.textContent('#summary');
    const kills = await pageKills(page);
    await page.click('#share');
    await page.waitForFunction(() => (document.getElementById('share-url') as HTMLInputElement).value.includes('#s='), undefined, { timeout: WAIT });
    const url = await page.inputValue('#share-url');
    expect(url.startsWith(PAGE)).toBe(true);
    const b = await open(url);
    await finished(b.page);
    expect(await b.page.getAttribute('body', 'data-state')).toBe('done');
    expect(await b.page.textContent('#summary')).toBe(summary);
    expect(await pageKills(b.page)).toEqual(kills);
    expect(await b.page.inputValue('#tick')).toBe('50');
    const node = runScenarioFile(`${SCENARIOS}global-oom-adj.yaml`, { explain: true, tickNs: 50_000_000n });
    expect(summary).toBe(textSummary(node, { explain: true }).join('\n'));
    // a damaged link says so instead of failing silently
    const c = await open(`${PAGE}#s=AAAA`);
    expect(await c.page.getAttribute('body', 'data-state')).toBe('error');
    expect(await c.page.textContent('#status')).toContain('share link is damaged');
    expect([...errors, ...b.errors, ...c.errors]).toEqual([]);
    await Promise.all([page.close(), b.page.close(), c.page.close()]);
  });

  it('playback, the process table with the oom_badness breakdown, cancel and the language switch', { timeout: WAIT * 2 }, async () => {
    const node = runScenarioFile(`${SCENARIOS}global-oom-adj.yaml`);
    const { page, errors } = await open();
    await runPreset(page, 'global-oom-adj');
    // seek to sample 100: the time label, and the dmesg pane holds only the lines logged by then
    await page.$eval('#cursor', (el) => {
      (el as HTMLInputElement).value = '100';
      el.dispatchEvent(new Event('input'));
    });
    const t100 = node.series.tNs[100]!;
    expect(await page.textContent('#time')).toBe(`time ${(Number(t100) / 1e9).toFixed(1)} s`);
    const shown = ((await page.textContent('#dmesg')) ?? '').split('\n').filter((l) => l && l !== '(empty)');
    expect(shown).toEqual(formatLog(node).filter((_, i) => node.log[i]!.tNs <= t100));
    expect(node.oomKills[0]!.tNs > t100).toBe(true); // before the first kill: no kill line yet
    // step one sample
    await page.click('#step');
    expect(await page.inputValue('#cursor')).toBe('101');
    // play, then pause: the time moved on
    await page.click('#play');
    await page.waitForFunction(() => Number((document.getElementById('cursor') as HTMLInputElement).value) > 105, undefined, { timeout: WAIT });
    await page.click('#play');
    const at = Number(await page.inputValue('#cursor'));
    expect(at).toBeGreaterThan(105);
    // click postgres: its badness sum at that time, from a snapshot of the same run
    await page.click('#procs tr[data-pid="100"]');
    await page.waitForFunction(() => (document.getElementById('why')?.textContent ?? '').includes('oom_badness ='), undefined, { timeout: WAIT });
    const why = (await page.textContent('#why')) ?? '';
    expect(why).toMatch(/postgres \(100\).*\n\s+oom_badness = rss \d+ \+ swapents \d+ \+ pgtables \d+ \+ adj -500 × \(1048576 \/ 1000 = 1048\) = -524000/);
    await page.screenshot({ path: join(OUT, 'playground-process-table.png'), fullPage: true });
    // cancel a long run; the page stays usable
    await page.selectOption('#preset', 'prevent-more-swap');
    await page.click('#run');
    await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value > 0, undefined, { timeout: WAIT });
    await page.click('#cancel');
    expect(await page.getAttribute('body', 'data-state')).toBe('cancelled');
    await runPreset(page, 'global-oom-adj');
    // Korean labels, and the article's correction next to an OOM preset
    await page.click('#lang');
    expect(await page.getAttribute('html', 'lang')).toBe('ko');
    expect(await page.textContent('h1')).toBe('oomsim 플레이그라운드');
    expect(await page.textContent('#correction')).toContain('vm.oom_kill이라는 sysctl은 없습니다');
    expect(await page.$$eval('.u-title', (els) => els.map((e) => e.textContent))).toContain('메모리 (MiB)');
    await page.setViewportSize({ width: 390, height: 800 });
    await page.screenshot({ path: join(OUT, 'playground-phone-ko.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(392);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the policy bake-off gives oomsim compare\'s table and one memory chart per policy', { timeout: WAIT * 2 }, async () => {
    const file = `${SCENARIOS}global-oom-adj.yaml`;
    const policies = ['kernel', 'earlyoom', 'nohang'];
    const node = comparePolicies(normalizeScenario(loadScenarioFileOrThrow(file), { file }), policies, { tickNs: 100_000_000n, keepRuns: false });
    const { page, errors } = await open();
    await page.selectOption('#preset', 'global-oom-adj');
    for (const p of policies) await page.check(`#policies input[value="${p}"]`);
    await page.click('#compare');
    await page.waitForSelector('body[data-bakeoff="done"], body[data-bakeoff="error"]', { state: 'attached', timeout: WAIT });
    expect(await page.getAttribute('body', 'data-bakeoff'), (await page.textContent('#compare-table')) ?? '').toBe('done');
    expect(await page.textContent('#compare-table')).toBe(compareTable(node).join('\n'));
    expect(await page.$$eval('.bake-col', (els) => els.map((e) => (e as HTMLElement).dataset.policy))).toEqual(policies);
    const inked = await page.$$eval('#compare-charts canvas', (cs) => cs.map((c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] > 245 && d[i + 1] > 245 && d[i + 2] > 245)) n++;
      return n / (cv.width * cv.height);
    }));
    expect(inked.length).toBe(policies.length);
    for (const share of inked) expect(share).toBeGreaterThan(0.003);
    await (await page.$('#compare-table'))!.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, 'playground-bakeoff.png'), fullPage: true });
    // another chart side by side, without running again
    await page.selectOption('#compare-chart', 'rss');
    expect(await page.$$eval('#compare-charts .u-title', (els) => els.map((e) => e.textContent))).toEqual(policies.map(() => 'Per-process RSS (MiB)'));
    expect(await page.textContent('#compare-table')).toBe(compareTable(node).join('\n'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a live run paused, stepped N ticks and resumed ends exactly as oomsim run', { timeout: WAIT * 3 }, async () => {
    const { page, errors } = await open();
    const timeText = () => page.textContent('#time');
    // start paused at t=0, step 25 ticks: the samples 0 .. 2.4 s, the engine's own task table at 2.4 s
    const a = runScenarioFile(`${SCENARIOS}global-oom-adj.yaml`, { explain: true });
    await page.selectOption('#preset', 'global-oom-adj');
    await page.check('#start-paused');
    await page.click('#run');
    await page.waitForSelector('body[data-state="paused"]', { state: 'attached', timeout: WAIT });
    await page.fill('#step-n', '25');
    await page.click('#step');
    await page.waitForFunction(() => document.getElementById('time')?.textContent === 'time 2.4 s', undefined, { timeout: WAIT });
    expect(await page.getAttribute('body', 'data-state')).toBe('paused');
    const rss = a.series.rssKb['100']![24];
    const row = await page.$$eval('#procs tr[data-pid="100"] td', (tds) => tds.map((td) => td.textContent));
    expect(row.slice(0, 3)).toEqual(['100', 'postgres', String(rss)]);
    expect(row[5]).toBe('-500'); // oom_score_adj from the paused engine, no re-run
    expect(row[6]).not.toBe('…');
    await page.click('#procs tr[data-pid="100"]');
    expect(await page.textContent('#why')).toMatch(/postgres \(100\) at 2\.4s.*\n\s+oom_badness = rss \d+ \+ swapents \d+ \+ pgtables \d+ \+ adj -500/);
    await page.click('#step');
    await page.waitForFunction(() => document.getElementById('time')?.textContent === 'time 4.9 s', undefined, { timeout: WAIT });
    // resume to the end: the same result as one uninterrupted run in Node
    await page.click('#play');
    await finished(page);
    expect(await page.getAttribute('body', 'data-state')).toBe('done');
    expect(await page.textContent('#summary')).toBe(textSummary(a, { explain: true }).join('\n'));
    expect(await pageKills(page)).toEqual(a.oomKills.map((k) => ({ pid: k.pid, comm: k.comm, tNs: String(k.tNs) })));
    expect(await page.textContent('#dmesg')).toBe(formatLog(a).join('\n'));

    // pause a run while it runs, step 10 ticks (1.0 s), resume: again the uninterrupted result; the live charts
    // include each memcg's limit and the PSI chart
    await page.uncheck('#start-paused');
    await page.selectOption('#preset', 'swap-zram-priority');
    await page.click('#run');
    await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value > 5, undefined, { timeout: WAIT });
    await page.click('#play');
    await page.waitForSelector('body[data-state="paused"]', { state: 'attached', timeout: WAIT });
    await page.waitForFunction(() => /^time \d+\.\d s$/.test(document.getElementById('time')?.textContent ?? ''), undefined, { timeout: WAIT });
    const at = Number(/time ([\d.]+) s/.exec((await timeText()) ?? '')![1]);
    expect(at).toBeLessThan(60);
    await page.fill('#step-n', '10');
    await page.click('#step');
    const want = `time ${(at + 1).toFixed(1)} s`;
    await page.waitForFunction((w) => document.getElementById('time')?.textContent === w, want, { timeout: WAIT });
    expect(await page.$$eval('.u-title', (els) => els.map((e) => e.textContent))).toContain('Memory pressure, /proc/pressure/memory (%)');
    await page.screenshot({ path: join(OUT, 'playground-live-paused.png'), fullPage: true });
    await page.click('#play');
    await finished(page);
    const b = runScenarioFile(`${SCENARIOS}swap-zram-priority.yaml`, { explain: true });
    expect(await page.textContent('#summary')).toBe(textSummary(b, { explain: true }).join('\n'));
    const inked = await ink(page);
    for (const share of inked) expect(share).toBeGreaterThan(0.003);
    // a memcg preset: its limit beside its charge
    await runPreset(page, 'cgroup-v1-limit-in-bytes');
    const titles = await page.$$eval('.u-title', (els) => els.map((e) => e.textContent));
    expect(titles).toContain('Memory charged per cgroup vs its limit (MiB)');
    expect(await page.$$eval('#cgroups .u-legend .u-series', (els) => els.map((e) => e.textContent ?? '').some((t) => / limit/.test(t)))).toBe(true);
    await page.screenshot({ path: join(OUT, 'playground-cgroup-limit.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the bake-off offers every registered policy with its parameters; a parameter set in the page is --set', { timeout: WAIT * 2 }, async () => {
    const { page, errors } = await open();
    expect(await page.$$eval('#policies .policy', (els) => els.map((e) => (e as HTMLElement).dataset.policy))).toEqual(['kernel', ...Object.keys(BUILTIN_POLICIES).filter((n) => n !== 'kernel')]);
    expect(await page.inputValue('#policies .policy[data-policy="lmkd"] input[name="psiCompleteStallMs"]')).toBe('700');
    // a default derived from other properties (ro.config.low_ram) shows as an empty field, not "null"
    expect(await page.inputValue('#policies .policy[data-policy="lmkd"] input[name="psiPartialStallMs"]')).toBe('');
    await page.selectOption('#preset', 'global-oom-adj');
    // a value the policy's schema refuses: its message, no run
    await page.check('#policies input[value="lmkd"]');
    await page.click('#policies .policy[data-policy="lmkd"] summary');
    await page.fill('#policies .policy[data-policy="lmkd"] input[name="killTimeoutMs"]', '-5');
    await page.click('#compare');
    expect(await page.getAttribute('body', 'data-bakeoff')).toBe('error');
    expect(await page.textContent('#compare-table')).toMatch(/lmkd.*killTimeoutMs/);
    await page.uncheck('#policies input[value="lmkd"]');
    // earlyoom with -m 40,20 (SIGTERM at 40% available): the table `oomsim compare --set earlyoom.m=40,20` prints
    await page.click('#policies .policy[data-policy="earlyoom"] summary');
    await page.fill('#policies .policy[data-policy="earlyoom"] input[name="m"]', '40,20');
    await page.click('#compare');
    await page.waitForSelector('body[data-bakeoff="done"], body[data-bakeoff="error"]', { state: 'attached', timeout: WAIT });
    expect(await page.getAttribute('body', 'data-bakeoff'), (await page.textContent('#compare-table')) ?? '').toBe('done');
    expect(await page.textContent('#compare-cmd')).toBe('oomsim compare global-oom-adj.yaml --policies kernel,earlyoom --set earlyoom.m=40,20');
    const file = `${SCENARIOS}global-oom-adj.yaml`;
    const sc = normalizeScenario(loadScenarioFileOrThrow(file), { file });
    const set = comparePolicies(sc, ['kernel', { name: 'earlyoom', params: { m: '40,20' } }], { tickNs: 100_000_000n, keepRuns: false });
    const plain = comparePolicies(sc, ['kernel', 'earlyoom'], { tickNs: 100_000_000n, keepRuns: false });
    expect(compareTable(set).join('\n')).not.toBe(compareTable(plain).join('\n')); // the parameter matters here
    expect(await page.textContent('#compare-table')).toBe(compareTable(set).join('\n'));
    // a share link made now carries the bake-off: opened, it compares the same policies with the same parameters
    await page.click('#share');
    await page.waitForFunction(() => (document.getElementById('share-url') as HTMLInputElement).value.includes('#s='), undefined, { timeout: WAIT });
    const b = await open(await page.inputValue('#share-url'));
    await b.page.waitForSelector('body[data-bakeoff="done"], body[data-bakeoff="error"]', { state: 'attached', timeout: WAIT });
    expect(await b.page.textContent('#compare-table')).toBe(compareTable(set).join('\n'));
    expect(await b.page.inputValue('#policies .policy[data-policy="earlyoom"] input[name="m"]')).toBe('40,20');
    await finished(b.page);
    expect(b.errors).toEqual([]);
    await b.page.close();
    // every registered policy runs in the page's workers without an error of its own (no Node-only API)
    await page.fill('#policies .policy[data-policy="lmkd"] input[name="killTimeoutMs"]', '100'); // the default again
    for (const p of Object.keys(BUILTIN_POLICIES)) await page.check(`#policies input[value="${p}"]`);
    await page.click('#compare');
    await page.waitForSelector('body[data-bakeoff="done"], body[data-bakeoff="error"]', { state: 'attached', timeout: WAIT });
    const all = (await page.textContent('#compare-table')) ?? '';
    expect(all).not.toMatch(/E_POLICY|threw/);
    expect(all.split('\n').length).toBe(3 + Object.keys(BUILTIN_POLICIES).length);
    await page.screenshot({ path: join(OUT, 'playground-bakeoff-params.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a live run paced at 1x simulated second per wall second; full speed then ends it as oomsim run', { timeout: WAIT * 2 }, async () => {
    const { page, errors } = await open();
    await page.selectOption('#preset', 'global-oom-adj');
    await page.selectOption('#live-speed', '1');
    const t0 = Date.now();
    await page.click('#run');
    await page.waitForFunction(() => /^time \d+\.\d s$/.test(document.getElementById('time')?.textContent ?? ''), undefined, { timeout: WAIT });
    await page.waitForTimeout(1500); // let it run a little: a wait, not a speed check
    const shown = Number(/time ([\d.]+) s/.exec((await page.textContent('#time')) ?? '')![1]);
    const wallS = (Date.now() - t0) / 1000;
    // pacing caps the simulated time at the wall time since the start (a slow machine only lowers it)
    expect(shown).toBeLessThanOrEqual(wallS + 0.1);
    expect(await page.getAttribute('body', 'data-state')).toBe('running');
    await page.selectOption('#live-speed', '0');
    await finished(page);
    const node = runScenarioFile(`${SCENARIOS}global-oom-adj.yaml`, { explain: true });
    expect(await page.textContent('#summary')).toBe(textSummary(node, { explain: true }).join('\n'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the largest preset runs to the end in the page as in oomsim run (its time printed, not asserted)', { timeout: WAIT * 3 }, async () => {
    const name = 'prevent-more-swap'; // the longest run of scenarios/: 180 s simulated, swap and reclaim
    const { page, errors } = await open();
    await runPreset(page, name);
    const status = (await page.textContent('#status')) ?? '';
    timing.push(`${name} in the page: ${/\(([\d.]+ s)\)/.exec(status)?.[1] ?? status}`);
    const t0 = Date.now();
    const node = runScenarioFile(`${SCENARIOS}${name}.yaml`, { explain: true });
    timing.push(`${name} in Node (same process, runScenario): ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    expect(await page.textContent('#summary')).toBe(textSummary(node, { explain: true }).join('\n'));
    expect(errors).toEqual([]);
    await page.close();
  });
});
