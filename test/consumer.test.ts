// The package as a user gets it (issue #19 item 6): `npm pack`, install the tarball into an empty project offline,
// run the README's Node example and `npx oomsim demo` from plain Node ESM, import `oomsim/reference`, and type-check a
// consumer file against the installed types with `tsc --strict` and no skipLibCheck (es2020 and es2022 targets),
// and build a tiny Vite app that imports `oomsim` (the browser entry) and runs a scenario in headless Chromium.
// Offline: the temp project gets a lockfile built from ours (runtime packages only), so `npm ci --offline` takes
// every tarball from the npm cache that this checkout's own `npm ci` filled. Needs a build first (npm test does it).
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';

const ROOT = resolve(__dirname, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let dir = '';
let pkg = '';
let tarball = '';

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** The README's "From TypeScript (Node)" example, verbatim (it is also valid JavaScript). */
function readmeExample(): string {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = md.indexOf('From TypeScript (Node):');
  const m = /```ts\n([\s\S]*?)```/.exec(md.slice(at));
  if (at < 0 || !m) throw new Error('README.md: the "From TypeScript (Node):" example is missing');
  return m[1];
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'oomsim-consumer-'));
  const name = sh('npm', ['pack', '--silent', '--pack-destination', dir], ROOT).trim().split('\n').pop()!;
  tarball = join(dir, name);
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { oomsim: `file:${name}` } },
    'node_modules/oomsim': { version: own.version, resolved: `file:${name}`, dependencies: own.dependencies, bin: { oomsim: 'bindings/bin/oomsim.js' } },
  };
  for (const [k, v] of Object.entries(lock.packages)) if (k.startsWith('node_modules/') && !v.dev) packages[k] = v;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { oomsim: `file:${name}` } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }));
  sh('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  pkg = join(dir, 'node_modules/oomsim');
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships no source maps, LICENSE and CHANGELOG, and reports its size', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p.slice(pkg.length + 1));
      }
    };
    walk(pkg);
    const size = statSync(tarball).size;
    console.log(`oomsim tarball: ${(size / 1024).toFixed(0)} KiB packed, ${files.length} files`);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.js') && /sourceMappingURL/.test(readFileSync(join(pkg, f), 'utf8')))).toEqual([]);
    expect(files).toContain('LICENSE');
    expect(files).toContain('CHANGELOG.md');
    expect(files).toContain('pkg/oomsim_wasm_bg.wasm');
  });

  it('runs the README example from plain Node ESM, with the numbers the README shows', () => {
    writeFileSync(join(dir, 'readme.mjs'), readmeExample());
    const out = sh(process.execPath, ['readme.mjs'], dir);
    expect(out).toMatch(/^946176 25600n$/m);
    expect(out).toMatch(/VmRSS:\s+102400 kB/);
  });

  it('npx oomsim demo and --version work from the installed bin', () => {
    expect(sh('npx', ['--offline', 'oomsim', '--version'], dir).trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(sh('npx', ['--offline', 'oomsim', 'demo'], dir)).toMatch(/MemTotal/);
  });

  it('oomsim/reference is a subpath export, and the default entry does not load it', () => {
    writeFileSync(join(dir, 'ref.mjs'), "import { ReferenceEngine } from 'oomsim/reference';\nconsole.log(typeof ReferenceEngine);\n");
    expect(sh(process.execPath, ['ref.mjs'], dir).trim()).toBe('function');
    // the static import graph of the Node entry
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'(\.[^']+)'/g)) visit(resolve(dirname(file), m[1]));
    };
    visit(join(pkg, 'bindings/dist/index.js'));
    expect(seen.size).toBeGreaterThan(20);
    expect([...seen].filter((f) => f.includes('/reference/'))).toEqual([]);
  });

  for (const target of ['es2020', 'es2022']) {
    it(`type-checks a consumer under tsc --strict without skipLibCheck (${target})`, () => {
      writeFileSync(
        join(dir, 'consumer.ts'),
        `import { load, Engine, OomsimError, parseScenario, normalizeScenario, type TaskRow, type ErrorCode } from 'oomsim';
import { ReferenceEngine } from 'oomsim/reference';
await load();
const e: Engine = new Engine({ totalramPages: 1024 });
const rows: TaskRow[] = e.tasks();
const vpn: number = e.mmapAnon(1, 4);
try { e.spawn(1); } catch (err) { if (err instanceof OomsimError) { const c: ErrorCode = err.code; console.log(c); } }
const r = parseScenario('name: x', { file: 'x.yaml' });
if (r.success) normalizeScenario(r.data);
e.free();
console.log(rows.length, vpn, typeof ReferenceEngine);
`,
      );
      writeFileSync(join(dir, `tsconfig.${target}.json`), JSON.stringify({
        compilerOptions: {
          target, module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false,
          lib: [target, 'dom'], types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }));
      let out = '';
      try {
        out = sh(process.execPath, [TSC, '-p', `tsconfig.${target}.json`], dir);
      } catch (e) {
        out = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(out).toBe('');
    });
  }

  it('a Vite app importing oomsim runs a scenario in Chromium, with the result Node gives', async () => {
    // The same code in the page and in Node: parse a scenario (browser entry: no file system), run it, summarize.
    const code = `import { load, Engine, parseScenario, normalizeScenario, runScenario, textSummary } from 'oomsim';
export async function main() {
  await load();
  const r = parseScenario(${JSON.stringify(BROWSER_SCENARIO)}, { file: 'leak.yaml' });
  if (!r.success) throw new Error(r.errors.map((e) => e.message).join('; '));
  const res = runScenario(normalizeScenario(r.data, { file: 'leak.yaml' }));
  const e = new Engine({ totalramPages: 1024 });
  e.spawn(1);
  const faults = e.touch(1, e.mmapAnon(1, 64), 64, 'write');
  e.free();
  return [...textSummary(res), 'faults ' + faults].join('\\n');
}
`;
    mkdirSync(join(dir, 'app'), { recursive: true });
    writeFileSync(join(dir, 'app', 'run.js'), code);
    writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module">import { main } from "./run.js"; main().then((t) => { window.__out = t; }, (e) => { window.__out = "ERROR " + e.message; });</script>');
    const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
    sh(process.execPath, [vite, 'build', 'app', '--outDir', 'dist', '--emptyOutDir', '--logLevel', 'error'], dir);
    const dist = join(dir, 'app', 'dist');
    const built = readdirSync(join(dist, 'assets'));
    console.log(`vite consumer build: ${built.map((f) => `${f} ${(statSync(join(dist, 'assets', f)).size / 1024).toFixed(0)} KiB`).join(', ')}`);
    expect(built.some((f) => f.endsWith('.wasm')), 'the wasm is emitted as an asset').toBe(true);

    // Node, from the installed package's Node entry
    writeFileSync(join(dir, 'node-run.mjs'), `${code}\nconsole.log(await main());\n`);
    const inNode = sh(process.execPath, ['node-run.mjs'], dir).trimEnd();
    expect(inNode).toMatch(/faults 64/);

    // the page, served over loopback (module scripts are not allowed from file://)
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
    const server: Server = createServer((req, res) => {
      const file = join(dist, decodeURIComponent((req.url ?? '/').split('?')[0]!) === '/' ? 'index.html' : decodeURIComponent(req.url!.split('?')[0]!));
      if (!file.startsWith(dist)) return void res.writeHead(403).end();
      try {
        const body = readFileSync(file);
        res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const browser = await chromium.launch({ executablePath: process.env.OOMSIM_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const port = (server.address() as { port: number }).port;
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { __out?: string }).__out !== undefined, undefined, { timeout: 120_000 });
      const inPage = await page.evaluate(() => (window as unknown as { __out: string }).__out);
      expect(inPage).toBe(inNode);
    } finally {
      await browser.close();
      server.close();
    }
  });
});

const BROWSER_SCENARIO = `name: leak
duration: 20s
machine: { ram: 64M }
processes:
  - { comm: leaky, pid: 100, workload: { kind: leak, initial: 4M, rate: 8M/s } }
  - { comm: steady, pid: 101, oom_score_adj: 100, workload: { kind: steady, working_set: 8M } }
`;
