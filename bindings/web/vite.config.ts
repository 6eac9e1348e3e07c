import { defineConfig } from 'vite';

// The browser demo page. `npx vite build --config bindings/web/vite.config.ts` writes bindings/web/dist.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { fs: { allow: ['../..'] } },
});
