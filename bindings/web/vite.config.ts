import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

const here = new URL('.', import.meta.url).pathname;

/**
 * The playground works from file:// (Chromium neither fetches file:// URLs nor loads module scripts from them):
 * the build inlines the one JS chunk and the CSS into index.html. The worker is inlined by `?worker&inline` and the
 * wasm by `?inline` (the page posts its bytes to the worker).
 */
function inlineIntoHtml(): Plugin {
  let size = 0;
  return {
    name: 'oomsim-inline-into-html',
    enforce: 'post',
    generateBundle(_opts, bundle) {
      const html = bundle['index.html'];
      if (!html || html.type !== 'asset') return;
      let src = String(html.source);
      for (const [name, chunk] of Object.entries(bundle)) {
        if (chunk.type === 'chunk' && chunk.isEntry) {
          const tag = new RegExp(`<script type="module" crossorigin src="\\./${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"></script>`);
          if (!tag.test(src)) throw new Error(`inline: no script tag for ${name} in index.html`);
          src = src.replace(tag, () => `<script type="module">${chunk.code.replace(/<\/script/gi, '<\\/script')}</script>`);
          delete bundle[name];
        } else if (chunk.type === 'asset' && name.endsWith('.css')) {
          const tag = new RegExp(`<link rel="stylesheet" crossorigin href="\\./${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}">`);
          src = src.replace(tag, () => `<style>${String(chunk.source)}</style>`);
          delete bundle[name];
        }
      }
      html.source = src;
      size = Buffer.byteLength(src);
    },
    closeBundle() {
      if (size) console.log(`playground: bindings/web/dist/index.html ${(size / 1024).toFixed(0)} KiB (JS, CSS, worker and wasm inlined)`);
    },
  };
}

/** `import b64 from 'x.wasm?base64'`: the file's bytes as a base64 string (the wasm engine, inlined). */
function base64Import(): Plugin {
  return {
    name: 'oomsim-base64',
    enforce: 'pre',
    async resolveId(id, importer) {
      if (!id.endsWith('?base64')) return null;
      const r = await this.resolve(id.slice(0, -'?base64'.length), importer, { skipSelf: true });
      return r ? `\0base64:${r.id}` : null;
    },
    load(id) {
      if (!id.startsWith('\0base64:')) return null;
      const file = id.slice('\0base64:'.length);
      this.addWatchFile(file);
      return `export default ${JSON.stringify(readFileSync(file).toString('base64'))};`;
    },
  };
}

// `npm run build:web` (npx vite build --config bindings/web/vite.config.ts) writes bindings/web/dist/index.html.
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  resolve: { alias: { 'node:fs': `${here}src/node-shim.ts`, 'node:path': `${here}src/node-shim.ts` } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
    rollupOptions: {
      output: { inlineDynamicImports: true },
      // zod's sources carry /* @__PURE__ */ comments where Rollup cannot use them; harmless, and not ours to fix
      onwarn: (w, warn) => (w.code === 'INVALID_ANNOTATION' ? undefined : warn(w)),
    },
  },
  worker: { format: 'iife' },
  server: { fs: { allow: ['../..'] } },
  plugins: [base64Import(), inlineIntoHtml()],
});
