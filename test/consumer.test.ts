// The package as a user gets it (issue #19 item 6): `npm pack`, install the tarball into an empty project offline,
// run the README's Node example and `npx oomsim demo` from plain Node ESM, import `oomsim/reference`, and type-check a
// consumer file against the installed types with `tsc --strict` and no skipLibCheck (es2020 and es2022 targets).
// Offline: the temp project gets a lockfile built from ours (runtime packages only), so `npm ci --offline` takes
// every tarball from the npm cache that this checkout's own `npm ci` filled. Needs a build first (npm test does it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
});
