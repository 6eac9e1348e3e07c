// The package as users import it: `import { … } from 'oomsim'` in Node ESM resolves through package.json
// `exports` to the built files, with types.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
// A synchronous spawn blocks the event loop, so vitest's own timeout cannot end a hung child: this does.
const CHILD_TIMEOUT = 240_000;

describe('Node ESM import', () => {
  it("import { load, Engine } from 'oomsim' works and runs", () => {
    const code = `
      import { load, Engine, runDemo } from 'oomsim';
      await load();
      const e = new Engine({ totalramPages: 2048 });
      e.spawn(1); const r = e.mmapAnon(1, 10); e.touch(1, r, 10, 'write');
      console.log(JSON.stringify({ free: e.meminfo().MemFree, demo: runDemo().memFreeKb }));`;
    const r = spawnSync('node', ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: CHILD_TIMEOUT });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ free: (2048 - 10) * 4, demo: 1048576 - 40960 * 4 });
  });

  it('exports the scenario loader the README documents (runtime and types)', () => {
    const code = `
      import { parseScenario, normalizeScenario, loadScenarioFile, defineScenario, ScenarioError } from 'oomsim';
      const f = loadScenarioFile('scenarios/global-oom-adj.yaml');
      const bad = parseScenario('machine: { ram: 7X }', { file: 'x.yaml' });
      const d = defineScenario({ machine: { ram: '1G' } });
      console.log(JSON.stringify({ ok: f.success, norm: f.success && typeof normalizeScenario(f.data).name,
        bad: bad.success ? null : bad.errors[0].line, d: d.machine.ram, err: typeof ScenarioError }));`;
    const r = spawnSync('node', ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: CHILD_TIMEOUT });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, norm: 'string', bad: 1, d: '1G', err: 'function' });
    const dts = readFileSync(`${ROOT}/bindings/dist/index.d.ts`, 'utf8');
    for (const n of ['parseScenario', 'normalizeScenario', 'loadScenarioFile', 'defineScenario']) expect(dts).toContain(n);
  });

  it('exports capture and predict (Node only) and they read this machine', () => {
    const code = `
      import { captureLive, predict, snapshotOf, snapshotYaml, parseScenario } from 'oomsim';
      const c = captureLive();
      const p = predict(c);
      const back = parseScenario(snapshotYaml(snapshotOf(c)));
      console.log(JSON.stringify({ n: p.global.rows.length === c.tasks.length, ok: back.success }));`;
    const r = spawnSync('node', ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: CHILD_TIMEOUT });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ n: true, ok: true });
  });

  it('ships type declarations for the entry points', () => {
    for (const f of ['bindings/dist/index.d.ts', 'bindings/dist/web.d.ts', 'pkg/oomsim_wasm.d.ts']) {
      expect(existsSync(`${ROOT}/${f}`), f).toBe(true);
    }
  });
});
