// A short seeded slice of the fuzz targets (test/fuzz/targets.ts); `npm run fuzz -- --inputs N` runs them long.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, load } from '../bindings/src/index.js';
import { TARGETS } from './fuzz/targets.js';

beforeAll(async () => {
  await load();
});

describe('fuzzing (seeded slice)', () => {
  it('raw command words: typed errors only, a rejected batch changes nothing', () => {
    fc.assert(TARGETS.commandBuffer, { seed: 19, numRuns: 300 });
  });
  it('random API call sequences: typed errors only, E_ARG changes nothing', () => {
    fc.assert(TARGETS.apiSequence, { seed: 19, numRuns: 200 });
  });
  it('scenario loader: never throws, issues in its own words', () => {
    fc.assert(TARGETS.scenarioLoader, { seed: 19, numRuns: 300 });
  });
  // Found by `npm run fuzz -- --seed 19` (the first long run): the target took every E_ARG of a batch for "nothing
  // ran", but a command refused for the state it finds stops the batch with the commands before it run.
  it('a batch refused at command #1 for the state it finds keeps command #0 (and a malformed one keeps nothing)', () => {
    const run = (words: number[]) => {
      const e = new Engine({ totalramPages: 512, cmdCapacity: 256 });
      e.spawn(1);
      let msg = '';
      try {
        e.execWords((w) => (w.set(words), words.length));
      } catch (err) {
        msg = (err as Error).message;
      }
      const anon = e.meminfo().AnonPages;
      const rss = e.tasks().find((t) => t.pid === 1);
      e.free();
      return { msg, anon, rss };
    };
    // mmap_anon(1, 1 page), then fork(1 -> child 1): pid 1 is in use; the mapping stays (mapped, not touched)
    const refused = run([2, 2, 1, 1, 5, 2, 1, 1]);
    expect(refused.msg).toBe('E_ARG (EINVAL): command #1 at word 4: fork.child: pid 1 is already in use');
    const prefix = run([2, 2, 1, 1]);
    expect(prefix.msg).toBe('');
    expect(refused.rss).toEqual(prefix.rss);
    // the same first command before a malformed one (prot 4): the whole batch is refused, nothing ran
    const malformed = run([2, 2, 1, 1, 8, 5, 1, 1, 4, 0, 0]);
    expect(malformed.msg).toMatch(/^E_ARG: command #1 at word 4: prot: 4 is not allowed/);
    expect(malformed.rss).toEqual(run([]).rss);
    expect(malformed.rss).not.toEqual(prefix.rss);
  });
});
