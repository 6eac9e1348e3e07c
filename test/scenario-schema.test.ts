import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../bindings/src/cli/main.js';
import {
  PAGE_COUNTER_MAX,
  ScenarioSchema,
  defineScenario,
  formatIssue,
  loadScenarioFile,
  normalizeScenario,
  parseScenario,
  parseScenarioOrThrow,
  ScenarioError,
  scenarioJsonSchemaText,
} from '../bindings/src/scenario/index.js';

const SCEN = 'scenarios';
const BROKEN = 'test/scenarios-broken';
const seedFiles = readdirSync(SCEN).filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'));

describe('seed scenarios', () => {
  it('exist', () => expect(seedFiles.length).toBeGreaterThanOrEqual(15));
  it.each(seedFiles)('%s validates and normalizes', (f) => {
    const r = loadScenarioFile(join(SCEN, f));
    if (!r.success) throw new Error(r.errors.map(formatIssue).join('\n'));
    const n = normalizeScenario(r.data, { file: f });
    expect(n.name).toBe(f.replace(/\.ya?ml$/, ''));
    expect(n.machine.totalramPages).toBeGreaterThan(0n);
  });
  it.each(seedFiles)('%s starts with a comment saying what it shows', (f) => {
    const text = readFileSync(join(SCEN, f), 'utf8');
    const comment = text.split('\n').filter((l) => l.startsWith('#'));
    expect(comment.length).toBeGreaterThan(4);
    expect(text).toMatch(/What (the kernel does|happens)/);
  });
});

describe('docs examples', () => {
  const docs = ['docs/scenario-format.md', 'README.md'];
  for (const doc of docs) {
    const text = readFileSync(doc, 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    it(`${doc} has examples`, () => expect(blocks.length).toBeGreaterThan(0));
    blocks.forEach((b, i) => {
      it(`${doc} example ${i + 1} validates`, () => {
        const r = parseScenario(b, { file: `${doc}#${i + 1}` });
        if (!r.success) throw new Error(r.errors.map(formatIssue).join('\n'));
      });
    });
  }
});

describe('broken scenarios give the exact expected messages', () => {
  const files = readdirSync(BROKEN).filter((f) => /\.(ya?ml|json)$/.test(f));
  it.each(files)('%s', (f) => {
    const path = `${BROKEN}/${f}`;
    const r = loadScenarioFile(path);
    expect(r.success).toBe(false);
    const got = r.success ? [] : r.errors.map(formatIssue);
    const want = readFileSync(path.replace(/\.(ya?ml|json)$/, '.expected'), 'utf8').trimEnd().split('\n');
    expect(got).toEqual(want);
  });
});

describe('error reporting', () => {
  const text = [
    'machine:', //                                1
    '  ram: 4G', //                               2
    'processes:', //                              3
    '  - { comm: a, workload: { kind: idle } }', // 4
    '  - comm: b', //                             5
    '  - comm: c', //                             6
    '    workload:', //                           7
    '      kind: leak', //                        8
    '      rate: 50 MB per second', //            9
  ].join('\n');
  it('names the file, line, field path and the allowed values', () => {
    const r = parseScenario(text, { file: 'scenarios/x.yaml' });
    expect(r.success).toBe(false);
    expect(r.success ? [] : r.errors.map(formatIssue)).toEqual([
      'scenarios/x.yaml:9 processes[2].workload.rate: expected a size per second like 50M/s (or per ms, m, h: 1G/m)',
    ]);
  });
  it('reports all errors, in file order', () => {
    const r = parseScenario('machine: { ram: 1Q, swap: [ { size: 0 } ], sysctl: { vm.swappiness: 201 } }\nseed: -1\n', { file: 'f.yaml' });
    expect(r.success).toBe(false);
    const msgs = r.success ? [] : r.errors.map((e) => `${e.line} ${e.path}`);
    expect(msgs).toEqual(['1 machine.ram', '1 machine.swap[0].size', '1 machine.sysctl["vm.swappiness"]', '2 seed']);
  });
  it('a missing required key points at its parent', () => {
    const r = parseScenario('name: x\nmachine:\n  swap: []\n', { file: 'm.yaml' });
    expect(r.success ? [] : r.errors.map(formatIssue)).toEqual([
      'm.yaml:3 machine.ram: required: expected a size like 4G, 512M, 100k, 0x1000 or a plain number of bytes',
    ]);
  });
  it('YAML 1.2 would read 010 as ten; the kernel reads it as octal 8, and so do scenarios', () => {
    const s = parseScenarioOrThrow('machine: { ram: 4G, sysctl: { vm.swappiness: 010 } }\n');
    expect(normalizeScenario(s).machine.sysctl['vm.swappiness']).toBe(8n);
  });
  it('the throwing parse carries every error', () => {
    try {
      parseScenarioOrThrow('machine: { ram: x }\nseed: y\n', { file: 't.yaml' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      expect((e as ScenarioError).errors).toHaveLength(2);
      expect((e as Error).message.split('\n')[0]).toMatch(/^t\.yaml:1 machine\.ram: /);
    }
  });
  it('an empty document is an error', () => {
    const r = parseScenario('', { file: 'e.yaml' });
    expect(r.success).toBe(false);
  });
});

describe('normalize', () => {
  it('converts to pages and ns, fills defaults, resolves targets and orders cgroups', () => {
    const s = defineScenario({
      duration: '1m',
      machine: {
        ram: '7G',
        swap: [{ size: '1G' }, { size: '512M', type: 'zram' }, { size: '1G', priority: 5 }],
        sysctl: { 'vm.overcommit_memory': 2, 'vm.overcommit_kbytes': '0x10' },
      },
      cgroups: {
        version: 'v1',
        groups: { '/a/b': { 'memory.memsw.limit_in_bytes': '2G', 'memory.limit_in_bytes': 4097, 'memory.oom_control': { oom_kill_disable: 1 } } },
      },
      processes: [
        { comm: 'java', uid: 0, cgroup: '/a/b', workload: { kind: 'leak', rate: '1k/s' } },
        { comm: 'web', pid: 1000, workload: { kind: 'spike', size: 4097, at: '5s' } },
      ],
      actions: [
        { at: '10s', action: 'exec', target: 'kid', comm: 'sh' },
        { at: '5s', action: 'fork', target: 'java', child: { comm: 'kid' } },
        { at: '5s', action: 'cgroup_write', cgroup: '/a', set: { 'memory.limit_in_bytes': -1 } },
      ],
    });
    const r = ScenarioSchema.safeParse(s);
    if (!r.success) throw new Error(JSON.stringify(r.error.issues));
    const n = normalizeScenario(r.data);
    expect(n.durationNs).toBe(60_000_000_000n);
    expect(n.machine.totalramPages).toBe(1835008n);
    expect(n.machine.swap.map((d) => [d.pages, d.type, d.priority, d.compressionRatio])).toEqual([
      [262144n, 'ssd', -2, null],
      [131072n, 'zram', -3, 3],
      [262144n, 'ssd', 5, null],
    ]);
    expect(n.machine.totalSwapPages).toBe(655360n);
    expect(n.machine.sysctl['vm.overcommit_memory']).toBe(2n);
    expect(n.machine.sysctl['vm.overcommit_kbytes']).toBe(16n);
    expect(n.machine.sysctl['vm.overcommit_ratio']).toBe(50n);
    expect(n.machine.sysctl['vm.oom_dump_tasks']).toBe(1n);
    expect(n.machine.sysctl['vm.min_free_kbytes']).toBeNull();
    expect(n.cgroups.groups.map((g) => [g.path, g.parent, g.implicit])).toEqual([
      ['/', null, false],
      ['/a', '/', true],
      ['/a/b', '/a', false],
    ]);
    // limit before memsw, whatever the file order; limits in pages, floored.
    expect(n.cgroups.groups[2]!.files.map((w) => [w.file, w.value])).toEqual([
      ['memory.limit_in_bytes', 1n],
      ['memory.memsw.limit_in_bytes', 524288n],
      ['memory.oom_control', 1n],
    ]);
    // pid 1000 is taken, so java gets 1001 and the fork child 1002.
    expect(n.processes.map((p) => [p.pid, p.comm, p.capSysAdmin, p.uid])).toEqual([
      [1001, 'java', true, 0],
      [1000, 'web', false, 1000],
    ]);
    expect(n.processes[0]!.workload).toEqual({ kind: 'leak', rate: { bytes: 1024n, intervalNs: 1_000_000_000n }, initialPages: 0n, limitPages: null });
    // a touched size rounds up to whole pages; defaults filled
    expect(n.processes[1]!.workload).toEqual({ kind: 'spike', baselinePages: 0n, sizePages: 2n, atNs: 5_000_000_000n, durationNs: 1_000_000_000n });
    expect(n.actions.map((a) => [a.action, a.atNs])).toEqual([
      ['fork', 5_000_000_000n],
      ['cgroup_write', 5_000_000_000n],
      ['exec', 10_000_000_000n],
    ]);
    const fork = n.actions[0]!;
    expect(fork.action === 'fork' && [fork.pid, fork.child.pid, fork.child.comm]).toEqual([1001, 1002, 'kid']);
    const exec = n.actions[2]!;
    expect(exec.action === 'exec' && exec.pid).toBe(1002);
    const cw = n.actions[1]!;
    expect(cw.action === 'cgroup_write' && cw.writes[0]!.value).toBe(PAGE_COUNTER_MAX);
  });
});

describe('JSON Schema', () => {
  it('the committed scenarios/oomsim-scenario.schema.json is current (npm run scenario-schema)', () => {
    expect(readFileSync('scenarios/oomsim-scenario.schema.json', 'utf8')).toBe(scenarioJsonSchemaText());
  });
  it('carries real names, ranges and defaults for editors', () => {
    const js = JSON.parse(scenarioJsonSchemaText());
    const sysctl = js.properties.machine.properties.sysctl;
    expect(sysctl.additionalProperties).toBe(false);
    expect(sysctl.properties['vm.swappiness'].anyOf[0]).toMatchObject({ type: 'integer', minimum: 0, maximum: 200 });
    expect(sysctl.properties['vm.watermark_scale_factor'].anyOf[0]).toMatchObject({ minimum: 1, maximum: 3000 });
    expect(JSON.stringify(js)).toContain('memory.memsw.limit_in_bytes');
    expect(JSON.stringify(js)).not.toContain('vm.oom_kill"');
  });
});

describe('CLI', () => {
  it('validate prints OK and exits 0 for good files, the errors and 1 for bad ones', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(main(['validate', 'scenarios/global-oom-adj.yaml'])).toBe(0);
      expect(log).toHaveBeenCalledWith('OK scenarios/global-oom-adj.yaml');
      expect(main(['validate', 'scenarios/global-oom-adj.yaml', `${BROKEN}/vm-oom-kill.yaml`])).toBe(1);
      expect(err.mock.calls[0]![0]).toMatch(/^test\/scenarios-broken\/vm-oom-kill\.yaml:4 machine\.sysctl\["vm\.oom_kill"\]: vm\.oom_kill does not exist/);
      expect(main(['validate', 'no/such/file.yaml'])).toBe(1);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
  it('schema prints the JSON Schema', () => {
    const w = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(main(['schema'])).toBe(0);
      expect(JSON.parse(String(w.mock.calls[0]![0])).title).toBe('oomsim scenario');
    } finally {
      w.mockRestore();
    }
  });
});
