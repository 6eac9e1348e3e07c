import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'bindings/src/**/*.test.ts'],
    // Hang detectors, never speed checks: the machine has 2 cores shared by several builds and test runs, where a
    // whole-scenario run, a Chromium render or a CLI spawn takes many times its quiet-machine time.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
