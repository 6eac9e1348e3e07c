// The import graph of bindings/src has no cycle (docs/decisions/0010-bindings-architecture.md: a module imports only
// from its own layer or below). Every static import, `import type`, re-export and dynamic import() between files of
// bindings/src is an edge; type-only imports count too, since they tie the modules together for a reader just as
// much. The imports are read with the TypeScript compiler's own pre-processor (ts.preProcessFile), no network.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(new URL('../bindings/src', import.meta.url).pathname);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The file a relative specifier names (`./x.js` is `./x.ts` in the source, `./dir` its index.ts), or null. */
function resolveSpecifier(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  for (const c of [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, join(base, 'index.ts')]) {
    if (existsSync(c) && statSync(c).isFile() && /\.(ts|tsx|mts)$/.test(c)) return c;
  }
  return null;
}

/** file -> the files of bindings/src it imports. */
function importGraph(files: string[]): Map<string, string[]> {
  const inside = new Set(files);
  const g = new Map<string, string[]>();
  for (const f of files) {
    const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
    const deps = new Set<string>();
    for (const imp of info.importedFiles) {
      const to = resolveSpecifier(f, imp.fileName);
      if (to && inside.has(to)) deps.add(to);
    }
    g.set(f, [...deps].sort());
  }
  return g;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** One concrete loop through a component, for the failure message: a > b > ... > a. */
function loopThrough(g: Map<string, string[]>, scc: string[]): string[] {
  const inScc = new Set(scc);
  const start = scc[0];
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of g.get(v) ?? []) {
      if (!inScc.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0])!);
        return [...path, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc;
}

describe('import graph of bindings/src', () => {
  const files = sourceFiles(ROOT);
  const g = importGraph(files);
  const rel = (f: string) => relative(ROOT, f);

  it('is read: every source file, and the edges a reader sees', () => {
    expect(files.length).toBeGreaterThan(50);
    const edges = [...g.values()].reduce((n, d) => n + d.length, 0);
    expect(edges).toBeGreaterThan(files.length);
    // a value import, a type-only import, a re-export and a dynamic import are all edges
    const has = (from: string, to: string) => expect(g.get(join(ROOT, from))).toContain(join(ROOT, to));
    has('run/stepper.ts', 'run/boot.ts');
    has('reference/vmscan.ts', 'reference/types.ts'); // import type
    has('api.ts', 'engine.ts'); // export ... from
    has('cli/sweep.ts', 'sweep/redis.ts'); // await import()
  });

  it('finds a cycle when there is one (the checker itself)', () => {
    const a = '/a.ts';
    const b = '/b.ts';
    const c = '/c.ts';
    expect(cycles(new Map([[a, [b]], [b, [c]], [c, []]]))).toEqual([]);
    expect(cycles(new Map([[a, [b]], [b, [c]], [c, [a]]]))).toEqual([[a, b, c]]);
    expect(cycles(new Map([[a, [a]]]))).toEqual([[a]]);
  });

  it('has no cycle', () => {
    const found = cycles(g).map((scc) => loopThrough(g, scc).map(rel).join(' > '));
    expect(found).toEqual([]);
  });
});
