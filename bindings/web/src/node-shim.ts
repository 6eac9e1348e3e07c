// The browser build's stand-ins for the two Node modules the scenario loader imports (vite.config.ts aliases
// node:fs and node:path here). The page never reads files: it parses the editor's text with parseScenario.
export function readFileSync(path: string): never {
  throw Object.assign(new Error(`cannot read ${path} in the browser`), { code: 'ENOTSUP' });
}
export function statSync(path: string): never {
  throw Object.assign(new Error(`cannot stat ${path} in the browser`), { code: 'ENOTSUP' });
}
export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i > 0 ? b.slice(i) : '';
}
export function basename(p: string, ext?: string): string {
  const b = p.replace(/\/+$/, '').split('/').pop() ?? '';
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b;
}
export function join(...parts: string[]): string {
  return parts.filter(Boolean).join('/').replace(/\/+/g, '/');
}
export default { readFileSync, statSync, extname, basename, join };
