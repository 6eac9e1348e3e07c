// Share by URL: the scenario text and the run settings, deflated (the browser's CompressionStream, no library) and
// base64url-encoded into the hash: #s=<data>. Opening the link loads the same text and settings and runs it; the
// seed is in the scenario, so the numbers are the same.
export interface Shared {
  text: string;
  tickMs: number;
  preset?: string;
  lang?: string;
  /** The policies (and parameters set) of the bake-off shown when the link was made; compared again on open. */
  bakeoff?: { name: string; params: Record<string, unknown> }[];
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

const b64url = (b: Uint8Array) => {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const unb64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

export async function encodeShare(s: Shared): Promise<string> {
  return `s=${b64url(await pipe(new TextEncoder().encode(JSON.stringify(s)), new CompressionStream('deflate-raw')))}`;
}

/** The shared state in a hash, or null when there is none; a damaged link is an error that says so. */
export async function decodeShare(hash: string): Promise<Shared | null> {
  const m = /^#?s=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!m) return null;
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(await pipe(unb64url(m[1]!), new DecompressionStream('deflate-raw'))));
  } catch {
    throw new Error('the share link is damaged (cannot decompress its #s= data)');
  }
  const o = v as Shared;
  if (typeof o?.text !== 'string' || typeof o.tickMs !== 'number') throw new Error('the share link holds no scenario (expected text and tickMs)');
  if (o.bakeoff !== undefined && !(Array.isArray(o.bakeoff) && o.bakeoff.every((b) => typeof b?.name === 'string' && typeof b.params === 'object' && b.params !== null))) {
    throw new Error('the share link is damaged (its bake-off is not a list of { name, params })');
  }
  return o;
}
