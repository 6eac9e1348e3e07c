// normalizeScenario names a scenario without `name:` after its file, as node:path's posix basename(p, extname(p))
// does; it no longer imports node:path (so it runs in browsers), and this property pins it to Node's answer.
import fc from 'fast-check';
import { basename, extname } from 'node:path';
import { expect, it } from 'vitest';
import { fileStem } from '../bindings/src/scenario/normalize.js';

it('fileStem equals node:path basename(p, extname(p)) on random paths', () => {
  const path = fc.string({ unit: fc.constantFrom('a', 'b', '.', '/', ' '), maxLength: 10 });
  fc.assert(fc.property(path, (p) => { expect(fileStem(p), JSON.stringify(p)).toBe(basename(p, extname(p))); }), { seed: 7, numRuns: 20_000 });
  expect(['scenarios/global-oom-adj.yaml', 'x.tar.gz', '.hidden', '..', '...', 'dir/'].map(fileStem)).toEqual(['global-oom-adj', 'x.tar', '.hidden', '..', '..', 'dir']);
});
